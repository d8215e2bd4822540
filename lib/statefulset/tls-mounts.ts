import { k8s } from 'cdk8s-plus-28';
import { TlsFiles } from '../member/model';
import { TlsSecrets } from '../tls/tls-secrets';
import { secretVolume } from './secret-volume';

/** Where the members' TLS Secrets are mounted. */
const TLS_DIR = '/etc/etcd/tls';

/** How a member's pod reaches its TLS Secrets: the files etcd reads, the volumes and who mounts what. */
export interface TlsMounts {
  /** The files etcd reads (the peer name pin aside, which the cluster decides). */
  readonly files: Omit<TlsFiles, 'peerAllowedHostname'>;
  readonly volumes: k8s.Volume[];
  /** The etcd container's mounts: both planes, and while migrating the other peer CA and the bundle's volume. */
  readonly etcdMounts: k8s.VolumeMount[];
  /** The start, sidecar and restore steps are clients of the members: they never see the peer certificate's key. */
  readonly clientPlaneMounts: k8s.VolumeMount[];
  /** While moving to a peer CA of its own: the CA files the etcd container bundles at start, and where. */
  readonly peerTrustBundle?: { readonly from: string[]; readonly to: string };
}

/** The mounts of a TLS source's Secrets. */
export function tlsMounts(secrets: TlsSecrets): TlsMounts {
  const server: k8s.VolumeMount = { name: 'tls-server', mountPath: `${TLS_DIR}/server`, readOnly: true };
  const peer: k8s.VolumeMount = { name: 'tls-peer', mountPath: `${TLS_DIR}/peer`, readOnly: true };
  const files = {
    certFile: `${TLS_DIR}/server/tls.crt`,
    keyFile: `${TLS_DIR}/server/tls.key`,
    trustedCaFile: `${TLS_DIR}/server/ca.crt`,
    peerCertFile: `${TLS_DIR}/peer/tls.crt`,
    peerKeyFile: `${TLS_DIR}/peer/tls.key`,
    peerTrustedCaFile: `${TLS_DIR}/peer/ca.crt`,
  };
  const volumes = [secretVolume('tls-server', secrets.server), secretVolume('tls-peer', secrets.peer)];
  if (!secrets.peerAlsoTrusted) return { files, volumes, etcdMounts: [server, peer], clientPlaneMounts: [server] };

  // While moving to a peer CA of its own, the peer port trusts both: a bundle the etcd container writes at start.
  // Only the other Secret's CA certificate is mounted, never its key.
  const bundle = `${TLS_DIR}/peer-trust/ca.crt`;
  return {
    files: { ...files, peerTrustedCaFile: bundle },
    volumes: [
      ...volumes,
      secretVolume('tls-peer-also-trusted', secrets.peerAlsoTrusted, ['ca.crt']),
      { name: 'tls-peer-trust', emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString('1Mi') } },
    ],
    etcdMounts: [
      server, peer,
      { name: 'tls-peer-also-trusted', mountPath: `${TLS_DIR}/peer-also-trusted`, readOnly: true },
      { name: 'tls-peer-trust', mountPath: `${TLS_DIR}/peer-trust` },
    ],
    clientPlaneMounts: [server],
    peerTrustBundle: { from: [files.peerTrustedCaFile, `${TLS_DIR}/peer-also-trusted/ca.crt`], to: bundle },
  };
}
