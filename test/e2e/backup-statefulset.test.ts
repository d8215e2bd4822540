import { Chart, Testing } from 'cdk8s';
import { EtcdCluster, EtcdVersion } from '../../lib';
import { only, synth } from '../support/synth';
import { BackupWorld, backupOptions, backupSkipReason, backupTests } from './backup-scenario';
import { describeEachLine, ipPrefix } from './harness/environment';
import { EtcdHarness } from './harness/etcd-harness';
import { S3Server } from './harness/s3-server';

const SUBNET = 11;

describeEachLine('EtcdBackup of a 3-member EtcdCluster', (line) => {
  const skip = backupSkipReason();
  if (skip) {
    if (process.env.CI === 'true') test('the backup tools are available', () => { throw new Error(skip); });
    else test.skip(`backup tools missing: ${skip}`, () => undefined);
    return;
  }
  let world: BackupWorld;
  let s3: S3Server | undefined;
  let h: EtcdHarness | undefined;

  beforeAll(async () => {
    const prefix = ipPrefix(line, SUBNET);
    const s3Host = `${prefix}.250`;
    const chart = new Chart(Testing.app(), 'etcd', { namespace: 'etcd' });
    const etcd = new EtcdCluster(chart, 'etcd', { members: 3, version: EtcdVersion.of(line.version) });
    etcd.addBackup('backup', backupOptions(`http://${s3Host}:7070`));
    const manifests = synth(chart);
    h = EtcdHarness.forStatefulSet(manifests, { ipPrefix: prefix, clientSecretName: etcd.clientSecretName });
    s3 = await S3Server.start(`${h.workDir}/s3`, s3Host);
    world = new BackupWorld(line, h, s3, only(manifests, 'CronJob'), etcd.name);
    await h.startAllAndWait(60000);
  }, 90000);

  afterAll(async () => {
    await s3?.stop();
    await h?.dispose();
  }, 30000);

  backupTests(() => world);
});
