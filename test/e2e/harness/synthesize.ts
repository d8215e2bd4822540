import { Chart, Testing } from 'cdk8s';
import { EtcdCluster, EtcdClusterProps, EtcdVersion } from '../../../lib';
import { synth } from '../../support/synth';

/** Synthesize an EtcdCluster (schema-validated) for the etcd version the harness runs. */
export function synthesizeForHarness(etcdVersion: string, members: number, props: EtcdClusterProps = {}) {
  const chart = new Chart(Testing.app(), 'e2e', { namespace: 'db' });
  const etcd = new EtcdCluster(chart, 'etcd', { members, version: EtcdVersion.of(etcdVersion), ...props });
  return { etcd, manifests: synth(chart) };
}
