import * as fs from 'fs';
import * as path from 'path';
import { Chart } from 'cdk8s';
import { EtcdSnapshotSource } from '../../lib';
import { only, synth } from '../support/synth';
import { BackupRecord, BackupWorld, PASSPHRASE, backupOptions, backupToolsMissing, runReadmeDecryption, sha256 } from './backup-scenario';
import { describeEachLine, ipPrefix } from './harness/environment';
import { EtcdHarness } from './harness/etcd-harness';
import { S3Server } from './harness/s3-server';
import { StaticPodSetup, loopbackNodes } from './harness/static-pods';
import { RESTORE_KEYS, clusterStatus, expectedKeys, hashKvAt, readKeys, restoredRevision, wipeAndRestart } from './restore-scenario';

const SNAPSHOT_DIR = '/var/lib/etcd-snapshot';
const RESTORED_DATA_DIR = '/var/lib/etcd-restored';

describeEachLine('Restore of a 3-node EtcdStaticPodCluster, with the kubeadm PKI, on the same nodes', (line) => {
  if (backupToolsMissing()) return;
  const nodes = loopbackNodes(3, ipPrefix(line, 17));
  let original: StaticPodSetup;
  let originalHarness: EtcdHarness;
  let restoredHarness: EtcdHarness | undefined;
  let restored: StaticPodSetup;
  let s3: S3Server;
  let world: BackupWorld;
  let stem: string;
  let record: BackupRecord;
  let snapshotFile: string;
  /** A newer snapshot, copied to the third node only (as a user copying files node by node might leave it). */
  let newer: { stem: string; file: string };

  beforeAll(async () => {
    original = new StaticPodSetup(line.version, nodes);
    const backup = original.etcd.addBackup('backup', backupOptions(`http://${ipPrefix(line, 17)}.250:7070`));
    originalHarness = original.harness();
    s3 = await S3Server.start(`${originalHarness.workDir}/s3`, `${ipPrefix(line, 17)}.250`);
    await originalHarness.startAllAndWait(60000);
    world = new BackupWorld(line, originalHarness, s3, only(synth(Chart.of(backup)), 'CronJob'), 'etcd',
      { ip: nodes[0].ip, files: original.pki.filesFor(nodes[0].name) }, false);
    ({ stem, record } = world.backUp(RESTORE_KEYS));
    // The runbook's first step, on one machine: decrypt the newest snapshot with the README's block.
    const decrypted = runReadmeDecryption(world, stem, PASSPHRASE.trim());
    if (decrypted.status !== 0) throw new Error(decrypted.output);
    snapshotFile = decrypted.file;
    expect(originalHarness.etcdctl(['put', '/e2e/backup/landed-later', 'x']).status).toBe(0);
    const later = world.backUp(RESTORE_KEYS);
    const laterFile = runReadmeDecryption(world, later.stem, PASSPHRASE.trim());
    if (laterFile.status !== 0) throw new Error(laterFile.output);
    newer = { stem: later.stem, file: laterFile.file };
  }, 180000);

  afterAll(async () => {
    await s3?.stop();
    await restoredHarness?.dispose();
    await originalHarness?.dispose();
  }, 60000);

  test(`every node restores the same snapshot into a new data directory, even one that holds a newer snapshot: all ${RESTORE_KEYS} keys, a new cluster ID, the revision moved forward, the old data untouched`, async () => {
    expect(sha256(snapshotFile)).toBe(record.sha256);
    const oldClusterId = clusterStatus(originalHarness).clusterId;
    // The guide's order: stop the API servers (none here), stop etcd on every node, restore, start etcd.
    await originalHarness.stopAll();
    restored = new StaticPodSetup(line.version, nodes, {}, {
      dataDir: RESTORED_DATA_DIR,
      initialClusterToken: 'etcd-restored-1',
      restoreFrom: EtcdSnapshotSource.hostPath({ directory: SNAPSHOT_DIR, clusterName: 'etcd' }),
    }, original.pki);
    restoredHarness = restored.harness();
    for (let i = 0; i < nodes.length; i++) {
      // Copy the snapshot and its record, as the README's block left them, to every node.
      const dir = restoredHarness.volumeDir(i, 'snapshot-source');
      fs.mkdirSync(dir, { recursive: true });
      fs.copyFileSync(snapshotFile, path.join(dir, `${stem}.db`));
      fs.copyFileSync(snapshotFile.replace(/\.db$/, '.json'), path.join(dir, `${stem}.json`));
      if (i === 2) {
        fs.copyFileSync(newer.file, path.join(dir, `${newer.stem}.db`));
        fs.copyFileSync(newer.file.replace(/\.db$/, '.json'), path.join(dir, `${newer.stem}.json`));
      }
    }
    restoredHarness.startAll();
    await restoredHarness.waitHealthy([0, 1, 2], 180000);

    // cp-3 saw the newer snapshot, but took cp-1's pick: every member holds the same data.
    expect(restoredHarness.log(2)).toContain(`candidate ${newer.stem}`);
    expect(readKeys(restoredHarness)).toEqual(expectedKeys());
    expect(new Set(hashKvAt(restoredHarness, clusterStatus(restoredHarness).revision)).size).toBe(1);
    expect(clusterStatus(restoredHarness).clusterId).not.toBe(oldClusterId);
    expect(clusterStatus(restoredHarness).revision).toBe(restoredRevision(line.version, record.revision));
    for (let i = 0; i < nodes.length; i++) {
      expect(restoredHarness.log(i)).toContain(`restored ${stem} into ${RESTORED_DATA_DIR}`);
      expect(fs.existsSync(path.join(restoredHarness.volumeDir(i, 'etcd-data'), 'member'))).toBe(true);
      // The old member's data directory is as etcd left it.
      expect(fs.existsSync(path.join(originalHarness.volumeDir(i, 'etcd-data'), 'member', 'snap', 'db'))).toBe(true);
    }
    const members = restoredHarness.etcdctl(['member', 'list']).stdout.trim().split('\n').map((l) => l.split(', ')[2]).sort();
    expect(members).toEqual(nodes.map((n) => n.name));
  }, 240000);

  test('after the snapshot directory is removed, a rebooted node starts from its data; the manifests without restoreFrom then roll node by node', async () => {
    const h = restoredHarness!;
    // The runbook's cleanup, then a reboot: the kubelet mounts the (re-created, empty) directory; nothing reads it.
    await h.stop(0);
    fs.rmSync(h.volumeDir(0, 'snapshot-source'), { recursive: true, force: true });
    h.start(0);
    await h.waitHealthy([0], 60000);
    expect(h.log(0)).toContain("holds this member's data: starting from it; the snapshot is not used");
    // The runbook's second manifest: restoreFrom removed, dataDir and token kept; one node at a time, healthy before the next.
    const after = new StaticPodSetup(line.version, nodes, {}, { dataDir: RESTORED_DATA_DIR, initialClusterToken: 'etcd-restored-1' }, original.pki);
    for (let i = 0; i < nodes.length; i++) {
      const member = after.member(nodes[i].name);
      expect(member.workload.spec.initContainers).toBeUndefined();
      await h.stop(i);
      h.replaceMember(i, member);
      h.start(i);
      await h.waitHealthy([i], 60000);
    }
    expect(readKeys(h)).toEqual(expectedKeys());
    expect(new Set(hashKvAt(h, clusterStatus(h).revision)).size).toBe(1);
  }, 240000);

  test('a node whose new data directory is wiped after the cluster formed refuses to restore', async () => {
    const h = restoredHarness!;
    // Its manifest with restoreFrom again (the guard is what is under test).
    await h.stop(2);
    h.replaceMember(2, restored.member(nodes[2].name));
    const data = await wipeAndRestart(h, 2, 'etcd-data');
    expect(h.isRunning(2)).toBe(false);
    expect(h.log(2)).toMatch(/restore: REFUSED: cp-3 has no data, but the running cluster \(https:\/\/\S+:2379\) lists it as started/);
    expect(fs.readdirSync(data)).toEqual([]);
    expect(readKeys(h, [h.clientUrl(0), h.clientUrl(1)])).toEqual(expectedKeys());
  }, 90000);
});
