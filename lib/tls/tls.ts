import { Construct } from 'constructs';
import { EtcdConfigError } from '../shared/errors';
import { validateDnsSubdomain } from '../shared/validate';
import { EtcdCertManagerOptions, issueWithCertManager, resolveCertManagerOptions } from './cert-manager';
import { EtcdGeneratedTlsOptions, writeGeneratedSecrets } from './generated';
import { resolveSigning } from './pki';
import { TlsBindContext, TlsSecrets } from './tls-secrets';

/** Secrets that already hold the certificates. */
export interface EtcdTlsSecretsOptions {
  /**
   * Secret (type kubernetes.io/tls) with the server certificate presented to clients: keys `tls.crt`,
   * `tls.key`, and `ca.crt`, the CA that client certificates must chain to. Needs every member's
   * DNS name (see `EtcdCluster.certificateDnsNames`) and the serverAuth and clientAuth usages.
   */
  readonly serverSecretName: string;
  /**
   * Secret (type kubernetes.io/tls) with the peer certificate, same keys; `ca.crt` is the CA peers
   * must chain to. Needs every member's DNS name and the serverAuth and clientAuth usages. A peer certificate
   * from a CA of its own, which signs nothing else, keeps every client certificate off the peer plane.
   */
  readonly peerSecretName: string;
  /**
   * Secret (type kubernetes.io/tls) with a client certificate (clientAuth) for kube-apiserver and
   * maintenance jobs.
   * @default - no client identity is known to the construct
   */
  readonly clientSecretName?: string;
}

type Binder = (scope: Construct, ctx: TlsBindContext) => TlsSecrets;

/**
 * Transport security for the client and peer planes.
 *
 * Every source except `disabled()` gives mutual TLS on both planes: https URLs,
 * `--client-cert-auth`, `--peer-client-cert-auth` and a trusted CA for each.
 */
export class EtcdTls {
  /** Certificates issued by cert-manager (the default). */
  public static certManager(options: EtcdCertManagerOptions = {}): EtcdTls {
    const lifetimes = resolveCertManagerOptions(options);
    return new EtcdTls(true, (scope, ctx) => issueWithCertManager(scope, ctx, options, lifetimes));
  }

  /** Certificates from Secrets you manage yourself. */
  public static fromSecrets(options: EtcdTlsSecretsOptions): EtcdTls {
    validateDnsSubdomain('tls.serverSecretName', options.serverSecretName);
    validateDnsSubdomain('tls.peerSecretName', options.peerSecretName);
    if (options.clientSecretName !== undefined) validateDnsSubdomain('tls.clientSecretName', options.clientSecretName);
    return new EtcdTls(true, () => ({ server: options.serverSecretName, peer: options.peerSecretName, client: options.clientSecretName, userProvided: true }));
  }

  /**
   * Certificates generated at synthesis and written into kubernetes.io/tls Secrets
   * (`<name>-server`, `<name>-peer`, `<name>-client`).
   *
   * For development and tests only: the private keys are in the synthesized YAML, and nothing
   * renews the certificates. A warning is printed at synthesis. Keys and serials are new on every
   * synthesis; snapshot tests should mask Secret `data` (see the README).
   */
  public static generate(options: EtcdGeneratedTlsOptions = {}): EtcdTls {
    const { validityDays, ca } = resolveSigning('tls', options);
    const peer = resolveSigning('tls', { caCertificatePem: options.peerCaCertificatePem, caPrivateKeyPem: options.peerCaPrivateKeyPem }, 'peerCa');
    return new EtcdTls(true, (scope, ctx) => writeGeneratedSecrets(scope, ctx, ca, peer.ca, validityDays));
  }

  /**
   * Plain http on both planes. Anyone who reaches the client port can read and write
   * everything; a warning is printed at synthesis.
   */
  public static disabled(): EtcdTls {
    return new EtcdTls(false, undefined);
  }

  private constructor(
    /** Whether TLS is on. */
    public readonly enabled: boolean,
    private readonly binder: Binder | undefined,
  ) {}

  /** @internal Create whatever the source needs under `scope` and name the Secrets to mount. */
  public _bind(scope: Construct, ctx: TlsBindContext): TlsSecrets | undefined {
    return this.binder?.(scope, ctx);
  }
}

/**
 * The `--peer-cert-allowed-hostname` of a cluster: the default, the name given, or none for an empty string.
 * @param property the prop, for messages
 */
export function peerAllowedHostname(property: string, given: string | undefined, fallback: string): string | undefined {
  if (given === '') return undefined;
  const name = given ?? fallback;
  if (!/^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/.test(name)) {
    throw new EtcdConfigError(`${property} must be a DNS name a peer certificate carries, such as 'etcd-0.etcd-peer.db.svc.cluster.local', or '' to turn the check off (got '${name}')`);
  }
  return name;
}
