// The public API: everything else in lib/ is internal. Grouped as lib/ is (see the README's "Layout").

// shared/: what every construct reports
export type { EtcdRequiredSecret, EtcdSecretKey } from './shared/required-secrets';

// release/: etcd versions, their advisories and capabilities
export { EtcdVersion } from './release/version';

// member/: the member model's tunables
export { AutoCompaction } from './member/auto-compaction';
export type { EtcdTuning } from './member/tuning';
export { EtcdResources } from './member/resources';
export type { EtcdResourcesProps, EtcdResourcePresetOptions } from './member/resources';

// tls/: certificates for members and clients
export { EtcdTls } from './tls/tls';
export type { EtcdTlsSecretsOptions } from './tls/tls';
export { EtcdPeerCaMigration } from './tls/cert-manager';
export type { EtcdCertManagerIssuer, EtcdCertManagerOptions } from './tls/cert-manager';
export type { EtcdGeneratedTlsOptions } from './tls/generated';
export { EtcdKubeadmPki } from './tls/kubeadm-pki';
export type { EtcdKubeadmPkiOptions } from './tls/kubeadm-pki';

// jobs/: the cluster as jobs see it, and the backup
export { EtcdBackup, EtcdDefrag } from './jobs/cluster-jobs';
export type { IEtcdCluster, EtcdBackupProps, EtcdDefragProps } from './jobs/cluster-jobs';
export { EtcdDefragRule } from './jobs/defrag/defrag-rule';
export type { EtcdDefragOptions } from './jobs/defrag/defrag-options';
export type { EtcdBackupOptions } from './jobs/backup/backup-options';
export { EtcdBackupDestination } from './jobs/storage/backup-destination';
export type { EtcdBackupVolumeOptions, EtcdBackupObjectStoreOptions } from './jobs/storage/backup-destination';
export { EtcdBackupEncryption } from './jobs/storage/backup-encryption';
export type { EtcdBackupRcloneCryptOptions } from './jobs/storage/backup-encryption';

// monitoring/: scrape configuration, alerts and a dashboard
export { EtcdMonitoring } from './monitoring/etcd-monitoring';
export type { EtcdMonitoringProps } from './monitoring/etcd-monitoring';
export type { EtcdMonitoringOptions, EtcdAlertOptions } from './monitoring/monitoring-options';

// restore/: starting a cluster from a snapshot
export { EtcdSnapshotSource } from './restore/snapshot-source';
export type { EtcdSnapshotRestoreOptions, EtcdSnapshotObjectStoreOptions, EtcdSnapshotVolumeOptions, EtcdSnapshotHostPathOptions } from './restore/snapshot-source';

// statefulset/: EtcdCluster and its parts
export { EtcdCluster } from './statefulset/cluster';
export type { EtcdClusterProps } from './statefulset/cluster-props';
export { EtcdNetworkPeer } from './statefulset/network-peer';
export type { EtcdPodPeerOptions } from './statefulset/network-peer';
export { EtcdPodAntiAffinity } from './statefulset/scheduling';
export { EtcdUpdateStrategy } from './statefulset/update-strategy';
export type { EtcdRollingUpdateOptions } from './statefulset/update-strategy';

// static-pod/: EtcdStaticPodCluster
export { EtcdStaticPodCluster } from './static-pod/static-pod-cluster';
export type { EtcdStaticPodClusterProps, EtcdStaticPodNode } from './static-pod/static-pod-cluster';
