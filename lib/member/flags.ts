import { ClusterModel, MemberModel, initialClusterFor } from './model';

/**
 * etcd's command-line flags for one member, sorted by name as kubeadm writes them.
 * The single place where flag names and values are decided.
 * @param startDecidedAtRuntime leave out `--initial-cluster` and `--initial-cluster-state`: a StatefulSet member's start
 *   step decides them per pod, from the same model (see `membership/`)
 */
export function renderEtcdFlags(cluster: ClusterModel, member: MemberModel, startDecidedAtRuntime: boolean = false): string[] {
  const { tuning, version, tls } = cluster;
  const flags: { [flag: string]: string } = {
    'name': member.name,
    'data-dir': cluster.dataDir,
    'listen-peer-urls': member.listenPeerUrls.join(','),
    'listen-client-urls': member.listenClientUrls.join(','),
    'initial-advertise-peer-urls': member.peerUrl,
    'advertise-client-urls': member.clientUrl,
    'initial-cluster': initialClusterFor(cluster.members, member),
    'initial-cluster-token': cluster.initialClusterToken,
    'initial-cluster-state': member.joining || cluster.restored ? 'existing' : 'new',
    'listen-metrics-urls': member.listenMetricsUrls.join(','),
    'heartbeat-interval': String(tuning.heartbeatMillis),
    'election-timeout': String(tuning.electionMillis),
    'snapshot-count': String(tuning.snapshotCount),
  };
  if (startDecidedAtRuntime) {
    delete flags['initial-cluster'];
    delete flags['initial-cluster-state'];
  }
  if (tuning.extensiveMetrics) flags.metrics = 'extensive';
  if (tuning.quotaBackendBytes !== undefined) flags['quota-backend-bytes'] = String(tuning.quotaBackendBytes);
  if (tuning.autoCompaction.mode !== undefined) {
    flags['auto-compaction-mode'] = tuning.autoCompaction.mode;
    flags['auto-compaction-retention'] = tuning.autoCompaction.retention!;
  }
  // Kubernetes relies on progress notifications for consistent reads from its watch cache.
  if (version.usesFeatureGates) {
    flags['watch-progress-notify-interval'] = '5s';
    const gates = [
      ...(tuning.initialCorruptCheck ? ['InitialCorruptCheck=true'] : []),
      ...(tuning.stopGrpcServiceOnDefrag ? ['StopGRPCServiceOnDefrag=true'] : []),
    ];
    if (gates.length > 0) flags['feature-gates'] = gates.join(',');
  } else {
    flags['experimental-watch-progress-notify-interval'] = '5s';
    if (tuning.initialCorruptCheck) flags['experimental-initial-corrupt-check'] = 'true';
  }
  // 3.4 still defaults to the deprecated capnslog logger; zap is the default from 3.5.
  if (!version.isAtLeast(3, 5, 0)) flags.logger = 'zap';
  if (tls) {
    Object.assign(flags, {
      'cert-file': tls.certFile,
      'key-file': tls.keyFile,
      'trusted-ca-file': tls.trustedCaFile,
      'client-cert-auth': 'true',
      'peer-cert-file': tls.peerCertFile,
      'peer-key-file': tls.peerKeyFile,
      'peer-trusted-ca-file': tls.peerTrustedCaFile,
      'peer-client-cert-auth': 'true',
    });
    if (tls.peerAllowedHostname !== undefined) flags['peer-cert-allowed-hostname'] = tls.peerAllowedHostname;
  }
  return Object.keys(flags).sort().map((flag) => `--${flag}=${flags[flag]}`);
}
