import { ApiObject, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { goDuration } from '../shared/duration';
import { EtcdConfigError } from '../shared/errors';
import { validateDnsSubdomain } from '../shared/validate';
import { TlsBindContext, TlsSecrets } from './tls-secrets';

/** A cert-manager Issuer or ClusterIssuer that signs the etcd certificates. */
export interface EtcdCertManagerIssuer {
  /** Name of the issuer. */
  readonly name: string;
  /**
   * `Issuer` (in the cluster's namespace) or `ClusterIssuer`.
   * @default 'Issuer'
   */
  readonly kind?: string;
  /**
   * API group of the issuer, for external issuers.
   * @default 'cert-manager.io'
   */
  readonly group?: string;
}

/**
 * A running cluster's way to a peer CA of its own (`separatePeerCa`), in two steps before the last: etcd reads its
 * trusted CAs only at start, so every member must trust the new CA before any presents a certificate from it, and
 * present one before any stops trusting the old. Apply each step and let it roll through every member (all healthy)
 * before the next; the last step is `separatePeerCa` without `peerCaMigration`.
 */
export enum EtcdPeerCaMigration {
  /** Step 1: members present the peer certificate of the cluster's one CA, and trust both CAs on the peer port. */
  TRUST_BOTH = 'TrustBoth',
  /** Step 2: members present the peer certificate of the peer CA, and still trust both. */
  PRESENT_PEER_CA = 'PresentPeerCa',
}

/** Options for certificates issued by cert-manager. */
export interface EtcdCertManagerOptions {
  /**
   * The issuer to use. It must publish the CA in each Secret's `ca.crt` (CA and Vault issuers do),
   * because etcd verifies peers and clients against it.
   * @default - the construct creates its own chain: a self-signed root, a CA Certificate
   *   (`<name>-ca`) and a CA Issuer, so the CA is unique to this cluster
   */
  readonly issuer?: EtcdCertManagerIssuer;
  /**
   * Lifetime of the server, peer and client certificates. etcd reloads certificates on every new
   * connection, so renewals need no restart.
   * @default Duration.days(90)
   */
  readonly duration?: Duration;
  /**
   * How long before expiry cert-manager renews them.
   * @default Duration.days(30)
   */
  readonly renewBefore?: Duration;
  /**
   * Lifetime of the CAs the construct creates (the cluster's without `issuer`, the peer plane's with `separatePeerCa`
   * and no `peerIssuer`). The CA keys are kept on renewal, so certificates they signed stay trusted.
   * @default Duration.days(3650)
   */
  readonly caDuration?: Duration;
  /**
   * Sign the peer certificates with a CA of their own, which only the members trust (`--peer-trusted-ca-file`),
   * so that no client certificate, whatever its names, is a peer. With `peerIssuer` that issuer signs them;
   * without, the construct creates a second chain (`<name>-peer-ca`) beside the client one. The peer
   * certificate then goes to the Secret `<name>-peer-isolated`.
   *
   * For a new cluster, or a running one through `peerCaMigration`. Turned on in one step, a running cluster's
   * rolling update stalls at its first member: etcd reads its trusted CA once at start, so a member on the new peer
   * CA and one on the old do not trust each other (the other members keep quorum). The peer port refuses client
   * certificates already through `peerCertAllowedHostname`.
   * @default false - one CA signs both planes, as before (and as kubeadm does)
   */
  readonly separatePeerCa?: boolean;
  /**
   * The step a running cluster is at on its way to `separatePeerCa` (see EtcdPeerCaMigration).
   * @default - none: `separatePeerCa` takes effect at once, as a new cluster needs
   */
  readonly peerCaMigration?: EtcdPeerCaMigration;
  /**
   * The issuer of the peer certificates, with `separatePeerCa`. It must publish its CA in `ca.crt`, and should
   * sign nothing but etcd peers: whatever it signs can join the peer plane. It may not be `issuer`.
   * @default - the construct's own peer chain (`<name>-peer-ca`)
   */
  readonly peerIssuer?: EtcdCertManagerIssuer;
}

/** The lifetimes of the certificates and of the CAs the construct creates. */
export interface CertManagerLifetimes {
  readonly duration: Duration;
  readonly renewBefore: Duration;
  readonly caDuration: Duration;
}

type IssuerRef = { name: string; kind: string; group: string };

/** The Certificates (and, without an issuer, the chains) cert-manager issues the Secrets from. */
export function issueWithCertManager(scope: Construct, ctx: TlsBindContext, options: EtcdCertManagerOptions, lifetimes: CertManagerLifetimes): TlsSecrets {
  const metadata = (name: string) => ({ name, namespace: ctx.namespace, labels: ctx.labels });
  const refTo = (issuer: EtcdCertManagerIssuer): IssuerRef => ({ name: issuer.name, kind: issuer.kind ?? 'Issuer', group: issuer.group ?? 'cert-manager.io' });

  /** A CA unique to this cluster: a CA Certificate signed by the self-signed Issuer, and a CA Issuer over it. */
  const selfSigned = `${ctx.name}-selfsigned`;
  let selfSignedIssuer = false;
  const ownChain = (idPrefix: string, ca: string): IssuerRef => {
    if (!selfSignedIssuer) {
      new ApiObject(scope, 'SelfSignedIssuer', {
        apiVersion: 'cert-manager.io/v1', kind: 'Issuer', metadata: metadata(selfSigned),
        spec: { selfSigned: {} },
      });
      selfSignedIssuer = true;
    }
    new ApiObject(scope, `${idPrefix}CaCertificate`, {
      apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: metadata(ca),
      spec: {
        isCA: true,
        commonName: ca,
        secretName: ca,
        duration: certManagerDuration(lifetimes.caDuration),
        renewBefore: certManagerDuration(Duration.seconds(Math.floor(lifetimes.caDuration.toSeconds({ integral: false }) / 3))),
        // Keep the key on renewal so every certificate it signed stays trusted.
        privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Never' },
        issuerRef: { name: selfSigned, kind: 'Issuer', group: 'cert-manager.io' },
      },
    });
    new ApiObject(scope, `${idPrefix}CaIssuer`, {
      apiVersion: 'cert-manager.io/v1', kind: 'Issuer', metadata: metadata(ca),
      spec: { ca: { secretName: ca } },
    });
    return { name: ca, kind: 'Issuer', group: 'cert-manager.io' };
  };

  const issuerRef = options.issuer ? refTo(options.issuer) : ownChain('', `${ctx.name}-ca`);
  const certificate = (id: string, secretName: string, usages: string[], withSans: boolean, signer: IssuerRef) => {
    new ApiObject(scope, id, {
      apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: metadata(secretName),
      spec: {
        secretName,
        commonName: withSans ? ctx.name : secretName,
        dnsNames: withSans ? ctx.dnsNames : undefined,
        ipAddresses: withSans ? ctx.ipAddresses : undefined,
        usages,
        duration: certManagerDuration(lifetimes.duration),
        renewBefore: certManagerDuration(lifetimes.renewBefore),
        privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
        issuerRef: signer,
      },
    });
    return secretName;
  };
  // etcd's server and peer listeners also act as clients (peers dial each other; the gateway dials the server).
  // ECDSA keys only sign: 'key encipherment' is an RSA key-exchange usage (RFC 5480 forbids it for EC keys).
  const bothWays = ['digital signature', 'server auth', 'client auth'];
  const server = certificate('ServerCertificate', `${ctx.name}-server`, bothWays, true, issuerRef);
  const peers = peerCertificates(options, () => certificate('PeerCertificate', `${ctx.name}-peer`, bothWays, true, issuerRef),
    // A separate peer certificate goes to a Secret of its own name, so that turning the separation on changes the
    // pod template (a rolling update that stalls at its first member) instead of every member's certificate at once.
    () => certificate('IsolatedPeerCertificate', `${ctx.name}-peer-isolated`, bothWays, true,
      options.peerIssuer ? refTo(options.peerIssuer) : ownChain('Peer', `${ctx.name}-peer-ca`)));
  const client = certificate('ClientCertificate', `${ctx.name}-client`, ['digital signature', 'client auth'], false, issuerRef);
  return { server, ...peers, client };
}

/** The peer Secret the members present, and the one whose CA they trust too while migrating. */
function peerCertificates(options: EtcdCertManagerOptions, shared: () => string, isolated: () => string): { peer: string; peerAlsoTrusted?: string } {
  if (!options.separatePeerCa) return { peer: shared() };
  switch (options.peerCaMigration) {
    case EtcdPeerCaMigration.TRUST_BOTH: return { peer: shared(), peerAlsoTrusted: isolated() };
    case EtcdPeerCaMigration.PRESENT_PEER_CA: return { peerAlsoTrusted: shared(), peer: isolated() };
    default: return { peer: isolated() };
  }
}

/** Apply the defaults and refuse what cannot work, naming the property, the value and what is allowed. */
export function resolveCertManagerOptions(options: EtcdCertManagerOptions): CertManagerLifetimes {
  const duration = options.duration ?? Duration.days(90);
  const renewBefore = options.renewBefore ?? Duration.days(30);
  const caDuration = options.caDuration ?? Duration.days(3650);
  validateLifetime('tls.duration', 'tls.renewBefore', duration, renewBefore);
  if (options.peerCaMigration !== undefined) {
    if (!Object.values(EtcdPeerCaMigration).includes(options.peerCaMigration)) {
      throw new EtcdConfigError(`tls.peerCaMigration must be one of ${Object.keys(EtcdPeerCaMigration).map((k) => `EtcdPeerCaMigration.${k}`).join(', ')} (got '${options.peerCaMigration}')`);
    }
    if (!options.separatePeerCa) throw new EtcdConfigError(`tls.peerCaMigration '${options.peerCaMigration}' needs tls.separatePeerCa: true (got ${options.separatePeerCa}): it is a step on the way there`);
  }
  if (options.peerIssuer) {
    if (!options.separatePeerCa) throw new EtcdConfigError(`tls.peerIssuer '${options.peerIssuer.name}' needs tls.separatePeerCa: true (got ${options.separatePeerCa}): it signs only the peer certificates of a separate peer CA`);
    validateIssuer('tls.peerIssuer', options.peerIssuer);
    if (options.issuer && sameIssuer(options.issuer, options.peerIssuer)) {
      throw new EtcdConfigError(`tls.peerIssuer must not be tls.issuer ('${options.peerIssuer.name}'): the peer plane would trust every client certificate that issuer signs`);
    }
  }
  if (options.issuer) validateIssuer('tls.issuer', options.issuer);
  const createsCa = !options.issuer || (options.separatePeerCa && !options.peerIssuer);
  if (createsCa && !(caDuration.toSeconds({ integral: false }) > duration.toSeconds({ integral: false }))) {
    throw new EtcdConfigError(`tls.caDuration must be longer than tls.duration (${duration.toHumanString()}): a certificate cannot outlive the CA that signed it (got ${caDuration.toHumanString()})`);
  }
  return { duration, renewBefore, caDuration };
}

function validateLifetime(durationName: string, renewName: string, duration: Duration, renewBefore: Duration): void {
  const d = duration.toSeconds({ integral: false });
  const r = renewBefore.toSeconds({ integral: false });
  if (!(d >= 3600)) {
    throw new EtcdConfigError(`${durationName} must be at least 1 hour, cert-manager's minimum (got ${duration.toHumanString()})`);
  }
  if (!(r >= 300) || r >= d) {
    throw new EtcdConfigError(`${renewName} must be at least 5 minutes and shorter than ${durationName} (${duration.toHumanString()}), or certificates expire before they are renewed (got ${renewBefore.toHumanString()})`);
  }
}

/** Whether two issuer references name the same issuer, with their defaults applied. */
function sameIssuer(a: EtcdCertManagerIssuer, b: EtcdCertManagerIssuer): boolean {
  return a.name === b.name && (a.kind ?? 'Issuer') === (b.kind ?? 'Issuer') && (a.group ?? 'cert-manager.io') === (b.group ?? 'cert-manager.io');
}

function validateIssuer(property: string, issuer: EtcdCertManagerIssuer): void {
  validateDnsSubdomain(`${property}.name`, issuer.name);
  if (issuer.group === undefined || issuer.group === 'cert-manager.io') {
    const kind = issuer.kind ?? 'Issuer';
    if (kind !== 'Issuer' && kind !== 'ClusterIssuer') {
      throw new EtcdConfigError(`${property}.kind must be 'Issuer' or 'ClusterIssuer' for cert-manager.io issuers (got '${kind}')`);
    }
  } else {
    validateDnsSubdomain(`${property}.group`, issuer.group);
    if (!issuer.kind) throw new EtcdConfigError(`${property}.kind is required for the external issuer group '${issuer.group}'`);
  }
}

/** A cdk8s Duration as cert-manager's Go duration string. */
function certManagerDuration(d: Duration): string {
  return goDuration(Math.round(d.toSeconds({ integral: false })));
}
