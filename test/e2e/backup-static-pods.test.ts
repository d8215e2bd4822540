import { Chart } from 'cdk8s';
import { only, synth } from '../support/synth';
import { backupOptions, describeBackup } from './backup-scenario';
import { StaticPodSetup, loopbackNodes } from './harness/static-pods';

describeBackup('EtcdBackup of a 3-node EtcdStaticPodCluster, with the kubeadm PKI', 12, (line, ipPrefix, s3Endpoint) => {
  const setup = new StaticPodSetup(line.version, loopbackNodes(3, ipPrefix));
  const backup = setup.etcd.addBackup('backup', backupOptions(s3Endpoint));
  // The job runs on the first node, with that node's files (its PKI) and its member on "127.0.0.1".
  const node = setup.nodes[0];
  return {
    h: setup.harness(),
    cronJob: only(synth(Chart.of(backup)), 'CronJob'),
    cluster: 'etcd',
    node: { ip: node.ip, files: setup.pki.filesFor(node.name) },
  };
});
