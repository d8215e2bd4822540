import { Chart } from 'cdk8s';
import { only, synth } from '../support/synth';
import { BackupWorld, backupOptions, backupSkipReason, backupTests } from './backup-scenario';
import { describeEachLine, ipPrefix } from './harness/environment';
import { EtcdHarness } from './harness/etcd-harness';
import { S3Server } from './harness/s3-server';
import { StaticPodSetup, loopbackNodes } from './harness/static-pods';

const SUBNET = 12;

describeEachLine('EtcdBackup of a 3-node EtcdStaticPodCluster, with the kubeadm PKI', (line) => {
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
    const setup = new StaticPodSetup(line.version, loopbackNodes(3, prefix));
    const backup = setup.etcd.addBackup('backup', backupOptions(`http://${s3Host}:7070`));
    const manifests = synth(Chart.of(backup));
    h = setup.harness();
    s3 = await S3Server.start(`${h.workDir}/s3`, s3Host);
    // The job runs on the first node, with that node's files (its PKI) and its member on "127.0.0.1".
    const node = setup.nodes[0];
    world = new BackupWorld(line, h, s3, only(manifests, 'CronJob'), 'etcd', { ip: node.ip, files: setup.pki.filesFor(node.name) });
    await h.startAllAndWait(60000);
  }, 90000);

  afterAll(async () => {
    await s3?.stop();
    await h?.dispose();
  }, 30000);

  backupTests(() => world);
});
