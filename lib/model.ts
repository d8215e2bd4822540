import { ResolvedTuning } from './tuning';
import { formatUrl } from './url';
import { EtcdVersion } from './version';

/** etcd's well-known ports, as kubeadm uses them. */
export const CLIENT_PORT = 2379;
export const PEER_PORT = 2380;
export const METRICS_PORT = 2381;

/** Certificate files as the etcd container sees them; present when TLS is on. */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly trustedCaFile: string;
  readonly peerCertFile: string;
  readonly peerKeyFile: string;
  readonly peerTrustedCaFile: string;
}

/** Where one member listens and what it tells others. */
export interface MemberModel {
  /** `--name`; also the key in `--initial-cluster`. */
  readonly name: string;
  /** `--initial-advertise-peer-urls`; must equal this member's `--initial-cluster` entry. */
  readonly peerUrl: string;
  /** `--advertise-client-urls`. */
  readonly clientUrl: string;
  readonly listenPeerUrls: string[];
  readonly listenClientUrls: string[];
}

/**
 * The resolved cluster: everything every renderer (StatefulSet, static pods, jobs)
 * needs, validated once. No renderer computes a flag, URL or path of its own.
 */
export interface ClusterModel {
  readonly version: EtcdVersion;
  readonly members: MemberModel[];
  readonly initialClusterToken: string;
  readonly initialClusterState: 'new' | 'existing';
  readonly dataDir: string;
  /** `--listen-metrics-urls`: plain http, serving /metrics and the health endpoints, never keys. */
  readonly metricsUrl: string;
  readonly tuning: ResolvedTuning;
  readonly tls?: TlsFiles;
}

/** `https` when TLS is on, `http` otherwise. */
export function schemeOf(tls: TlsFiles | undefined): string {
  return tls ? 'https' : 'http';
}

/**
 * A member addressed by a DNS name (a StatefulSet pod) listening on every interface.
 * @param name the member name, or a `$(POD_NAME)` reference inside a pod template
 * @param host the member's DNS name (built from `name`)
 */
export function dnsMember(name: string, host: string, tls: TlsFiles | undefined): MemberModel {
  const scheme = schemeOf(tls);
  return {
    name,
    peerUrl: formatUrl(scheme, host, PEER_PORT),
    clientUrl: formatUrl(scheme, host, CLIENT_PORT),
    listenPeerUrls: [formatUrl(scheme, '0.0.0.0', PEER_PORT)],
    listenClientUrls: [formatUrl(scheme, '0.0.0.0', CLIENT_PORT)],
  };
}

/** `name=peerURL,...` for every member, in member order. */
export function initialClusterOf(members: MemberModel[]): string {
  return members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
}
