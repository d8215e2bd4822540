import { App, Chart, Size } from 'cdk8s';
import { EtcdCluster, EtcdNetworkPeer, EtcdResources } from '../lib';

/**
 * A three-member etcd for a hosted control plane: members spread over nodes and zones,
 * only the API server pods admitted to the client port, Prometheus to the metrics port.
 */
export function buildApp(app: App): Chart {
  const chart = new Chart(app, 'etcd', { namespace: 'control-plane' });
  const etcd = new EtcdCluster(chart, 'etcd', {
    members: 3,
    storageSize: Size.gibibytes(20),
    storageClassName: 'fast-ssd',
    resources: EtcdResources.small({ guaranteed: true }),
    spreadAcrossZones: true,
    priorityClassName: 'system-cluster-critical',
    clients: [EtcdNetworkPeer.pods({ labels: { app: 'kube-apiserver' } })],
    monitoring: [EtcdNetworkPeer.namespace('monitoring')],
  });
  // What the kube-apiserver needs: --etcd-servers=<this>
  chart.node.addMetadata('etcd-servers', etcd.etcdServers);
  return chart;
}

if (require.main === module) {
  const app = new App();
  buildApp(app);
  app.synth();
}
