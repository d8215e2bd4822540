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
import { RESTORE_KEYS, clusterStatus, expectedKeys, readKeys, restoredRevision, wipeAndRestart } from './restore-scenario';

const SNAPSHOT_DIR = '/var/lib/etcd-snapshot';
const RESTORED_DATA_DIR = '/var/lib/etcd-restored';

describeEachLine('Restore of a 3-node EtcdStaticPodCluster, with the kubeadm PKI, on the same nodes', (line) => {
  if (backupToolsMissing()) return;
  const nodes = loopbackNodes(3, ipPrefix(line, 17));
  let original: StaticPodSetup;
  let originalHarness: EtcdHarness;
  let restoredHarness: EtcdHarness | undefined;
  let s3: S3Server;
  let world: BackupWorld;
  let stem: string;
  let record: BackupRecord;
  let snapshotFile: string;

  beforeAll(async () => {
    original = new StaticPodSetup(line.version, nodes);
    const backup = original.etcd.addBackup('backup', backupOptions(`http://${ipPrefix(line, 17)}.250:7070`));
    originalHarness = original.harness();
    s3 = await S3Server.start(`${originalHarness.workDir}/s3`, `${ipPrefix(line, 17)}.250`);
    world = new BackupWorld(line, originalHarness, s3, only(synth(Chart.of(backup)), 'CronJob'), 'etcd',
      { ip: nodes[0].ip, files: original.pki.filesFor(nodes[0].name) });
    await originalHarness.startAllAndWait(60000);
    ({ stem, record } = world.backUp(RESTORE_KEYS));
    // The runbook's first step, on one machine: decrypt the newest snapshot with the README's block.
    const decrypted = runReadmeDecryption(world, stem, PASSPHRASE.trim());
    if (decrypted.status !== 0) throw new Error(decrypted.output);
    snapshotFile = decrypted.file;
  }, 120000);

  afterAll(async () => {
    await s3?.stop();
    await restoredHarness?.dispose();
    await originalHarness?.dispose();
  }, 60000);

  test(`every node restores the same snapshot into a new data directory: all ${RESTORE_KEYS} keys, a new cluster ID, the revision moved forward, the old data untouched`, async () => {
    expect(sha256(snapshotFile)).toBe(record.sha256);
    const oldClusterId = clusterStatus(originalHarness).clusterId;
    // The guide's order: stop the API servers (none here), stop etcd on every node, restore, start etcd.
    await originalHarness.stopAll();
    const restored = new StaticPodSetup(line.version, nodes, {}, {
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
    }
    restoredHarness.startAll();
    await restoredHarness.waitHealthy([0, 1, 2], 180000);

    expect(readKeys(restoredHarness)).toEqual(expectedKeys());
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

  test('a node whose new data directory is wiped after the cluster formed refuses to restore', async () => {
    const h = restoredHarness!;
    const data = await wipeAndRestart(h, 2, 'etcd-data');
    expect(h.isRunning(2)).toBe(false);
    expect(h.log(2)).toMatch(/restore: REFUSED: cp-3 has no data, but the running cluster \(https:\/\/\S+:2379\) lists it as started/);
    expect(fs.readdirSync(data)).toEqual([]);
    expect(readKeys(h, [h.clientUrl(0), h.clientUrl(1)])).toEqual(expectedKeys());
  }, 90000);
});
