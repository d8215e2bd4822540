import { Chart, Testing } from 'cdk8s';
import { EtcdCluster, EtcdVersion } from '../../lib';
import { only, synth } from '../support/synth';
import { backupOptions, describeBackup } from './backup-scenario';
import { EtcdHarness } from './harness/etcd-harness';

describeBackup('EtcdBackup of a 3-member EtcdCluster', 11, (line, ipPrefix, s3Endpoint) => {
  const chart = new Chart(Testing.app(), 'etcd', { namespace: 'etcd' });
  const etcd = new EtcdCluster(chart, 'etcd', { members: 3, version: EtcdVersion.of(line.version) });
  etcd.addBackup('backup', backupOptions(s3Endpoint));
  const manifests = synth(chart);
  return {
    h: EtcdHarness.forStatefulSet(manifests, { ipPrefix, clientSecretName: etcd.clientSecretName }),
    cronJob: only(manifests, 'CronJob'),
    cluster: etcd.name,
  };
});
