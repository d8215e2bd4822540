import { ApiObject, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { addWarning } from '../shared/warnings';
import { PemPair, createCa, issueLeaf } from './pki';
import { TlsBindContext, TlsSecrets } from './tls-secrets';

/** Options for certificates generated at synthesis. */
export interface EtcdGeneratedTlsOptions {
  /**
   * PEM certificate of an existing CA to sign with (give `caPrivateKeyPem` too). Supplying one keeps
   * trust stable across syntheses: clients configured with this CA keep working.
   * @default - a new CA is generated on every synthesis
   */
  readonly caCertificatePem?: string;
  /**
   * Unencrypted PEM RSA private key of `caCertificatePem`.
   * @default - a new CA is generated on every synthesis
   */
  readonly caPrivateKeyPem?: string;
  /**
   * Validity of the generated server, peer and client certificates.
   * @default Duration.days(365)
   */
  readonly validity?: Duration;
  /**
   * PEM certificate of an existing CA for the peer certificates (give `peerCaPrivateKeyPem` too): only the
   * members trust it, so no client certificate is a peer.
   * @default - a second generated CA, unless `caCertificatePem` is given: then that CA signs the peer
   *   certificates too, because a peer CA new on every synthesis would break a running cluster's peer trust
   */
  readonly peerCaCertificatePem?: string;
  /**
   * Unencrypted PEM RSA private key of `peerCaCertificatePem`.
   * @default - as `peerCaCertificatePem`
   */
  readonly peerCaPrivateKeyPem?: string;
}

/** The CA(s) and the three certificates, written into kubernetes.io/tls Secrets. */
export function writeGeneratedSecrets(scope: Construct, ctx: TlsBindContext, suppliedCa: PemPair | undefined, suppliedPeerCa: PemPair | undefined, validityDays: number): TlsSecrets {
  addWarning(scope, 'tls is EtcdTls.generate(): private keys are written into the manifests and nothing renews the certificates; use it for development and tests only');
  const ca = suppliedCa ?? createCa(`${ctx.name}-ca`, Math.max(validityDays, 3650));
  // A supplied CA without a peer CA keeps signing both planes: a peer CA new on every synthesis would break trust.
  const peerCa = suppliedPeerCa ?? (suppliedCa ? ca : createCa(`${ctx.name}-peer-ca`, Math.max(validityDays, 3650)));
  const secret = (id: string, role: string, leaf: PemPair, signer: PemPair) => {
    const name = `${ctx.name}-${role}`;
    new ApiObject(scope, id, {
      apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls',
      metadata: { name, namespace: ctx.namespace, labels: ctx.labels },
      data: {
        'tls.crt': base64(leaf.certPem),
        'tls.key': base64(leaf.keyPem),
        'ca.crt': base64(signer.certPem),
      },
    });
    return name;
  };
  const serving = { commonName: ctx.name, dnsNames: ctx.dnsNames, ipAddresses: ctx.ipAddresses, serverAuth: true, clientAuth: true, validityDays };
  return {
    server: secret('ServerSecret', 'server', issueLeaf(ca, serving), ca),
    // A peer CA of its own goes to a Secret of its own name, as with cert-manager: switching to it (a peer CA supplied
    // later) then changes the pod template, a rollout that stalls at one member, not every member's files at once.
    peer: secret('PeerSecret', peerCa === ca ? 'peer' : 'peer-isolated', issueLeaf(peerCa, serving), peerCa),
    client: secret('ClientSecret', 'client', issueLeaf(ca, { commonName: `${ctx.name}-client`, serverAuth: false, clientAuth: true, validityDays }), ca),
  };
}

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}
