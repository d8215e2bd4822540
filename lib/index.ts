// The public API: everything else in lib/ is internal.
export { EtcdVersion } from './version';
export { AutoCompaction } from './auto-compaction';
export type { EtcdTuning } from './tuning';
export { EtcdResources } from './resources';
export type { EtcdResourcesProps, EtcdResourcePresetOptions } from './resources';
export { EtcdNetworkPeer } from './network-peer';
export type { EtcdPodPeerOptions } from './network-peer';
export { EtcdTls } from './tls';
export type { EtcdCertManagerIssuer, EtcdCertManagerOptions, EtcdTlsSecretsOptions, EtcdGeneratedTlsOptions } from './tls';
export { EtcdCluster } from './cluster';
export { EtcdPodAntiAffinity } from './scheduling';
export { EtcdUpdateStrategy } from './update-strategy';
export type { EtcdRollingUpdateOptions } from './update-strategy';
export type { EtcdClusterProps } from './cluster';
export { EtcdStaticPodCluster } from './static-pod-cluster';
export type { EtcdStaticPodClusterProps, EtcdStaticPodNode } from './static-pod-cluster';
export { EtcdKubeadmPki } from './kubeadm-pki';
export type { EtcdKubeadmPkiOptions } from './kubeadm-pki';
