import { EtcdVersion } from '../release/version';
import { formatUrl } from '../shared/url';
import { ResolvedTuning } from './tuning';

/** etcd's well-known ports, as kubeadm uses them. */
export const CLIENT_PORT = 2379;
export const PEER_PORT = 2380;
export const METRICS_PORT = 2381;
/** Where a StatefulSet member answers how it stands (waiting, forming, formed), so that an empty member never bootstraps beside a cluster. */
export const MEMBER_STATE_PORT = 2382;

/** Certificate files as the etcd container sees them; present when TLS is on. */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly trustedCaFile: string;
  readonly peerCertFile: string;
  readonly peerKeyFile: string;
  readonly peerTrustedCaFile: string;
  /**
   * `--peer-cert-allowed-hostname`: a peer must present a certificate valid for this name. Client certificates carry
   * no such name, so one signed by the same CA is still refused on the peer port. Undefined: any certificate the peer
   * CA signed is a peer (kubeadm's behaviour).
   */
  readonly peerAllowedHostname?: string;
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
  /** `--listen-metrics-urls`: plain http, serving /metrics and the health endpoints, never keys. */
  readonly listenMetricsUrls: string[];
  /**
   * Joins a running cluster (after `etcdctl member add`): `--initial-cluster-state=existing` and an
   * `--initial-cluster` of the members that are not joining, plus itself.
   */
  readonly joining?: boolean;
}

/**
 * The resolved cluster: everything every renderer (StatefulSet, static pods, jobs)
 * needs, validated once. No renderer computes a flag, URL or path of its own.
 */
export interface ClusterModel {
  readonly version: EtcdVersion;
  readonly members: MemberModel[];
  readonly initialClusterToken: string;
  readonly dataDir: string;
  readonly tuning: ResolvedTuning;
  readonly tls?: TlsFiles;
  /**
   * Formed from a snapshot: every member restores it, or joins the members that did with an empty data
   * directory, so the flags say `--initial-cluster-state=existing` (a restored member has a WAL and ignores it).
   */
  readonly restored?: boolean;
}

/** Every member's client URL, in member order (`--etcd-servers` and the jobs' endpoints). */
export function clientEndpointsOf(model: ClusterModel): string[] {
  return model.members.map((m) => m.clientUrl);
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
    listenMetricsUrls: [formatUrl('http', '0.0.0.0', METRICS_PORT)],
  };
}

/**
 * A member addressed by its node IP (a kubeadm-style static pod on the host network): peers on the
 * node IP, clients on loopback and the node IP, metrics on loopback only.
 */
/**
 * A static pod's member on the node's IP, its client port also on loopback for jobs on the node.
 * @param metricsOnNodeIp serve /metrics on the node's IP as well as on loopback, for a scraper off the node
 */
export function hostMember(name: string, ip: string, loopback: string, tls: TlsFiles | undefined, joining: boolean, metricsOnNodeIp: boolean = false): MemberModel {
  const scheme = schemeOf(tls);
  return {
    name,
    peerUrl: formatUrl(scheme, ip, PEER_PORT),
    clientUrl: formatUrl(scheme, ip, CLIENT_PORT),
    listenPeerUrls: [formatUrl(scheme, ip, PEER_PORT)],
    listenClientUrls: [formatUrl(scheme, loopback, CLIENT_PORT), formatUrl(scheme, ip, CLIENT_PORT)],
    listenMetricsUrls: [formatUrl('http', loopback, METRICS_PORT), ...(metricsOnNodeIp ? [formatUrl('http', ip, METRICS_PORT)] : [])],
    joining,
  };
}

/**
 * `--initial-cluster` for one member, in member order: every member that is not joining, plus the
 * member itself when it joins (the cluster as it will be once its `member add` is done).
 */
export function initialClusterFor(members: MemberModel[], member: MemberModel): string {
  return members
    .filter((m) => !m.joining || m.name === member.name)
    .map((m) => `${m.name}=${m.peerUrl}`)
    .join(',');
}
