import { App, Chart, Size } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { EtcdBackupDestination, EtcdBackupEncryption, EtcdCluster, EtcdNetworkPeer, EtcdResources } from '../lib';

const API_SERVER_LABELS = { app: 'kube-apiserver' };
const ETCD_CLIENT_CERT_DIR = '/etc/kubernetes/pki/etcd-client';

/**
 * A three-member etcd for a hosted control plane, with mutual TLS from cert-manager (the
 * default): members spread over nodes and zones, only the API server admitted to the client
 * port, Prometheus to the metrics port; backups, defragmentation and monitoring.
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
    clients: [EtcdNetworkPeer.pods({ labels: API_SERVER_LABELS })],
    monitoring: [EtcdNetworkPeer.namespace('monitoring')],
  });

  // Hourly snapshots, verified and encrypted, on a volume of their own; the passphrase Secret is yours to create.
  // 48 snapshots as large as the 8 GiB quota would take 392 GiB; a real database is far smaller, so size it.
  etcd.addBackup('backup', {
    destinations: [EtcdBackupDestination.volume({ storageClassName: 'fast-ssd', size: Size.gibibytes(64) })],
    encryption: EtcdBackupEncryption.rcloneCrypt({ secretName: 'etcd-backup-key' }),
    keepLast: 48,
  });

  // Nightly defragmentation by etcd-defrag's recommended rule, and monitoring: a PodMonitor, the alerts (the backup's
  // and the defragmentation's included) and a Grafana dashboard, labelled for kube-prometheus-stack to pick up.
  etcd.addDefrag('defrag');
  etcd.addMonitoring({ labels: { release: 'kube-prometheus-stack' } });

  // The kube-apiserver side of the wiring: mount the client identity where the flags point.
  // Only the etcd flags are shown; a real API server needs its other flags (service accounts,
  // serving certificates, ...) and its own image version.
  new k8s.KubeDeployment(chart, 'kube-apiserver', {
    metadata: { name: 'kube-apiserver', namespace: etcd.namespace },
    spec: {
      replicas: 2,
      selector: { matchLabels: API_SERVER_LABELS },
      template: {
        metadata: { labels: API_SERVER_LABELS },
        spec: {
          containers: [{
            name: 'kube-apiserver',
            image: 'registry.k8s.io/kube-apiserver:v1.34.2',
            command: ['kube-apiserver', ...etcd.kubeApiServerFlags(ETCD_CLIENT_CERT_DIR)],
            volumeMounts: [{ name: 'etcd-client', mountPath: ETCD_CLIENT_CERT_DIR, readOnly: true }],
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true },
          }],
          // Pod Security "restricted", as the etcd pods are.
          securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } },
          volumes: [{ name: 'etcd-client', secret: { secretName: etcd.clientSecretName!, defaultMode: 0o440 } }],
        },
      },
    },
  });
  return chart;
}

if (require.main === module) {
  const app = new App();
  buildApp(app);
  app.synth();
}
