import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { EtcdBackupEncryption, EtcdCluster, EtcdSnapshotSource, EtcdVersion } from '../../lib';
import { only, synth } from '../support/synth';
import { BUCKET, BackupRecord, BackupWorld, CLAIM, PASSPHRASE, PREFIX, SALT, backupOptions, backupToolsMissing } from './backup-scenario';
import { SecretFiles } from './harness/certificates';
import { describeEachLine, ipPrefix } from './harness/environment';
import { EtcdHarness } from './harness/etcd-harness';
import { S3Server } from './harness/s3-server';
import { RESTORE_KEYS, clusterStatus, expectedKeys, hashKvAt, readKeys, restoreWorkFile, restoredRevision, waitFor, wipeAndRestart } from './restore-scenario';

const FORM_MS = 180000;

describeEachLine('Restore of a 3-member EtcdCluster from its backup', (line) => {
  if (backupToolsMissing()) return;
  const version = EtcdVersion.of(line.version);
  let world: BackupWorld;
  let original: EtcdHarness;
  let s3: S3Server;
  let stem: string;
  let record: BackupRecord;
  let restored: EtcdHarness;
  const harnesses: EtcdHarness[] = [];

  /** Secrets in the restored cluster's namespace: the backup's passphrase (or another) and the S3 keys. */
  const secrets = (passphrase: string) => new Map<string, SecretFiles>([
    ['backup-key', { passphrase, salt: SALT }],
    ['s3-credentials', { AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey }],
  ]);

  /** A new cluster, exactly as synthesized, that restores from `source`; its members on `127.<line>.<subnet>.x`. */
  const restoredCluster = (name: string, subnet: number, source: EtcdSnapshotSource, passphrase = PASSPHRASE): EtcdHarness => {
    const chart = new Chart(Testing.app(), name, { namespace: 'etcd' });
    const etcd = new EtcdCluster(chart, name, { version, restoreFrom: source });
    const h = EtcdHarness.forStatefulSet(synth(chart), { ipPrefix: ipPrefix(line, subnet), clientSecretName: etcd.clientSecretName });
    h.addSecrets(secrets(passphrase));
    harnesses.push(h);
    return h;
  };
  const fromBucket = () => EtcdSnapshotSource.objectStore({
    clusterName: 'etcd',
    endpoint: s3.endpoint,
    bucket: BUCKET,
    prefix: PREFIX,
    credentialsSecretName: 's3-credentials',
    encryption: EtcdBackupEncryption.rcloneCrypt({ secretName: 'backup-key' }),
  });

  beforeAll(async () => {
    const prefix = ipPrefix(line, 13);
    const chart = new Chart(Testing.app(), 'etcd', { namespace: 'etcd' });
    const etcd = new EtcdCluster(chart, 'etcd', { version });
    etcd.addBackup('backup', backupOptions(`http://${prefix}.250:7070`));
    const manifests = synth(chart);
    original = EtcdHarness.forStatefulSet(manifests, { ipPrefix: prefix, clientSecretName: etcd.clientSecretName });
    harnesses.push(original);
    s3 = await S3Server.start(`${original.workDir}/s3`, `${prefix}.250`);
    await original.startAllAndWait(60000);
    world = new BackupWorld(line, original, s3, only(manifests, 'CronJob'), 'etcd', undefined, false);
    ({ stem, record } = world.backUp(RESTORE_KEYS));
  }, 120000);

  afterAll(async () => {
    await s3?.stop();
    await Promise.all(harnesses.map((h) => h.dispose()));
  }, 60000);

  test(`a new 3-member cluster restores the newest snapshot from the bucket: all ${RESTORE_KEYS} keys, a new cluster ID, the revision moved forward`, async () => {
    restored = restoredCluster('etcd-restored', 14, fromBucket());
    restored.startAll();
    await restored.waitHealthy([0, 1, 2], FORM_MS);

    expect(readKeys(restored)).toEqual(expectedKeys());
    expect(clusterStatus(restored).clusterId).not.toBe(clusterStatus(original).clusterId);
    // A write after the restore lands above the restored revision.
    const before = clusterStatus(restored).revision;
    expect(before).toBe(restoredRevision(line.version, record.revision));
    for (let i = 0; i < restored.size; i++) {
      const log = restored.log(i);
      expect(log).toContain('every member is accounted for');
      expect(log).toContain(`fetched ${stem} from s3://${BUCKET}/${PREFIX}/`);
      expect(log).toContain(`restored ${stem} into /var/lib/etcd/data`);
    }
    if (version.restoreCanBumpRevision) {
      // --mark-compacted: the old revisions cannot be read (or watched) any more.
      const old = restored.etcdctl(['get', '/e2e/backup/0', `--rev=${record.revision}`]);
      expect(old.status).not.toBe(0);
      expect(old.stderr).toContain('compacted');
    }
    const members = restored.etcdctl(['member', 'list']).stdout.trim().split('\n').map((l) => l.split(', ')[2]).sort();
    expect(members).toEqual(['etcd-restored-0', 'etcd-restored-1', 'etcd-restored-2']);
  }, FORM_MS + 30000);

  test('a member restarted with its data starts from it and never touches the snapshot', async () => {
    await restored.stop(2);
    restored.start(2);
    await restored.waitHealthy([2], 60000);
    expect(restored.log(2)).toContain("holds this member's data: starting from it; the snapshot is not used");
    expect(readKeys(restored).size).toBe(RESTORE_KEYS);
  }, 90000);

  test('a member whose volume is wiped after the cluster formed restores nothing: member-start replaces it under a new ID, and the cluster keeps quorum and data', async () => {
    const oldId = restored.etcdctl(['member', 'list', '-w', 'simple']).stdout.split('\n').find((l) => l.includes(', etcd-restored-1, '))!.split(', ')[0];
    const logged = restored.log(1).length;
    await wipeAndRestart(restored, 1, 'data');
    const log = restored.log(1).slice(logged);
    expect(log).toMatch(/restore: etcd-restored-1 has no data, but the running cluster \(https:\/\/etcd-restored-[02]\.\S+\) lists it as started/);
    expect(log).toContain('it restores nothing, and the member-start step replaces it under a new member ID');
    expect(log).not.toContain('restored etcd');
    expect(log).toContain(`member-start: lost volume: /var/lib/etcd/data is empty, and the cluster`);
    await restored.waitHealthy([0, 1, 2], 120000).catch((e: Error) => { throw new Error(`${e.message}\n${restored.sidecarLog(1).split('\n').slice(-20).join('\n')}`); });
    const deadline = Date.now() + 60000;
    const voter = () => restored.etcdctl(['member', 'list', '-w', 'simple']).stdout.split('\n').find((l) => l.includes(', etcd-restored-1, ') && l.endsWith(', false'));
    while (!voter() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1000));
    expect(voter()).toBeDefined();
    expect(voter()!.split(', ')[0]).not.toBe(oldId);
    // Its new data came from the leader: every key, read from etcd-restored-1 alone.
    const endpoints = [restored.clientUrl(1)];
    expect(readKeys(restored, endpoints)).toEqual(expectedKeys());
  }, 180000);

  test('the wrong passphrase, a snapshot whose sha256 differs from its record, or one larger than the quota, is refused before any data directory is written', async () => {
    // A copy of the backup volume whose record names another sha256.
    const tampered = path.join(original.workDir, 'tampered-claim');
    // cp -a: the same owner, group and mode as the volume the backup wrote (the pods' fsGroup).
    expect(spawnSync('cp', ['-a', world.claimDir, tampered]).status).toBe(0);
    const recordFile = path.join(tampered, `${stem}.json`);
    fs.writeFileSync(recordFile, fs.readFileSync(recordFile, 'utf8').replace(record.sha256, 'ab'.repeat(32)));
    const wrongKey = restoredCluster('etcd-wrong-key', 15, fromBucket(), 'not the passphrase');
    const badSha = restoredCluster('etcd-bad-sha', 16, EtcdSnapshotSource.volume({
      clusterName: 'etcd',
      claimName: CLAIM,
      encryption: EtcdBackupEncryption.rcloneCrypt({ secretName: 'backup-key' }),
    }));
    badSha.claims.set(CLAIM, tampered);
    // A copy whose record says the snapshot is 100 GiB: more than the new cluster's quota.
    const huge = path.join(original.workDir, 'huge-claim');
    expect(spawnSync('cp', ['-a', world.claimDir, huge]).status).toBe(0);
    const hugeRecord = path.join(huge, `${stem}.json`);
    fs.writeFileSync(hugeRecord, fs.readFileSync(hugeRecord, 'utf8').replace(/"sizeBytes":\d+/, `"sizeBytes":${100 * 1024 ** 3}`));
    const tooBig = restoredCluster('etcd-too-big', 19, EtcdSnapshotSource.volume({
      clusterName: 'etcd',
      claimName: CLAIM,
      encryption: EtcdBackupEncryption.rcloneCrypt({ secretName: 'backup-key' }),
    }));
    tooBig.claims.set(CLAIM, huge);
    for (const h of [wrongKey, badSha, tooBig]) h.startAll();
    await Promise.all([wrongKey, badSha, tooBig].flatMap((h) => [0, 1, 2].map((i) => h.initDone(i))));
    for (let i = 0; i < 3; i++) {
      expect(wrongKey.isRunning(i)).toBe(false);
      expect(wrongKey.log(i)).toMatch(/--- init restore-fetch \(exit 1\)[\s\S]*(failed to authenticate decrypted block|bad password)/);
      expect(wrongKey.log(i)).toContain(`could not read ${stem}.db.rclone from s3://${BUCKET}/${PREFIX}/`);
      expect(fs.readdirSync(wrongKey.volumeDir(i, 'data'))).toEqual([]);
      expect(badSha.isRunning(i)).toBe(false);
      expect(badSha.log(i)).toContain(`restore: REFUSED: ${stem}.db has sha256 ${record.sha256}, but its record says ${'ab'.repeat(32)}`);
      expect(fs.readdirSync(badSha.volumeDir(i, 'data'))).toEqual([]);
      expect(tooBig.isRunning(i)).toBe(false);
      expect(tooBig.log(i)).toMatch(/--- init restore-pick \(exit 1\)[\s\S]*is 107374182400 bytes, and this cluster's quota is \d+ bytes: restored, it would raise NOSPACE/);
      expect(fs.readdirSync(tooBig.volumeDir(i, 'data'))).toEqual([]);
    }
  }, FORM_MS);

  test('a snapshot that lands while members wait is not restored: every member restores the first member\'s pick, one deleted before its etcd started joins the others, and all hold identical data', async () => {
    const h = restoredCluster('etcd-agreed', 18, fromBucket());
    h.start(0);
    h.start(2);
    // Both have picked the newest snapshot, and wait for etcd-agreed-1.
    for (const i of [0, 2]) expect(await waitFor(`${h.podName(i)}'s pick`, () => restoreWorkFile(h, i, 'candidate'), 60000)).toBe(`${stem} ${record.sha256}`);
    // The old cluster goes on, and its backup lands a newer snapshot.
    expect(original.etcdctl(['put', '/e2e/backup/landed-later', 'x']).status).toBe(0);
    const newer = world.backUp(RESTORE_KEYS);
    expect(newer.stem > stem).toBe(true);
    h.start(1);
    expect(await waitFor('etcd-agreed-1\'s pick', () => restoreWorkFile(h, 1, 'candidate'), 60000)).toBe(`${newer.stem} ${newer.record.sha256}`);
    // Every member decides to restore; etcd-agreed-1 is then deleted (as an eviction would) before it restores.
    for (const i of [0, 1, 2]) await waitFor(`${h.podName(i)}'s decision`, () => (restoreWorkFile(h, i, 'decision') === 'restore' ? true : undefined), 90000);
    await h.stop(1);
    await h.waitHealthy([0, 2], FORM_MS);
    // Its new pod finds the restored cluster with a quorum, and joins it with an empty data directory.
    h.start(1);
    await h.waitHealthy([1], 90000);

    for (const i of [0, 2]) {
      expect(h.log(i)).toMatch(new RegExp(`(taking etcd-agreed-0's pick|adopting the snapshot the other members chose): ${stem}`));
      expect(h.log(i)).toContain(`restored ${stem} into /var/lib/etcd/data`);
      expect(h.log(i)).not.toContain(`fetched ${newer.stem}`);
    }
    expect(h.log(1)).toContain(`candidate ${newer.stem}`);
    expect(h.log(1)).toContain(`etcd-agreed-1 restores ${stem}`);
    expect(h.log(1)).toContain('it joins with an empty data directory and gets the data from the leader');
    expect(h.log(1)).not.toContain('restored etcd-');
    expect(readKeys(h)).toEqual(expectedKeys());
    const hashes = hashKvAt(h, clusterStatus(h).revision);
    expect(new Set(hashes).size).toBe(1);
    const members = h.etcdctl(['member', 'list']).stdout.trim().split('\n').map((l) => l.split(', ').slice(1, 3).join(' ')).sort();
    expect(members).toEqual(['started etcd-agreed-0', 'started etcd-agreed-1', 'started etcd-agreed-2']);

    // After the restore: the same cluster without restoreFrom rolls one member at a time; each starts from its data.
    const chart = new Chart(Testing.app(), 'etcd-agreed', { namespace: 'etcd' });
    new EtcdCluster(chart, 'etcd-agreed', { version });
    const sts = only(synth(chart), 'StatefulSet');
    expect(sts.spec.template.spec.initContainers.map((c: { name: string }) => c.name)).toEqual(['member-tools', 'member-start']);
    for (let i = 0; i < 3; i++) {
      await h.stop(i);
      h.replaceMember(i, { podName: h.podName(i), podIp: h.member(i).podIp, loopbackIp: h.member(i).loopbackIp, workload: sts });
      h.start(i);
      await h.waitHealthy([i], 60000);
    }
    expect(readKeys(h)).toEqual(expectedKeys());
    expect(new Set(hashKvAt(h, clusterStatus(h).revision)).size).toBe(1);
  }, FORM_MS + 300000);
});
