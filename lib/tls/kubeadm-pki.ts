import * as fs from 'fs';
import * as path from 'path';
import { Duration } from 'cdk8s';
import { EtcdConfigError } from '../shared/errors';
import { PemPair, createCa, issueLeaf, resolveSigning } from './pki';

/** Options for kubeadm's etcd PKI. */
export interface EtcdKubeadmPkiOptions {
  /**
   * PEM certificate of the etcd CA to sign with (give `caPrivateKeyPem` too): needed to add or
   * replace a node of a running cluster, whose members trust only their CA.
   * @default - a new CA
   */
  readonly caCertificatePem?: string;
  /**
   * Unencrypted PEM RSA private key of `caCertificatePem`.
   * @default - a new CA
   */
  readonly caPrivateKeyPem?: string;
  /**
   * Validity of the leaf certificates. kubeadm uses one year.
   * @default Duration.days(365)
   */
  readonly validity?: Duration;
  /**
   * PEM certificate of the peer CA to sign the peer certificates with (give `peerCaPrivateKeyPem` too), for a cluster
   * with `separatePeerCa`: needed to add or replace a node of a running one.
   * @default - a new peer CA
   */
  readonly peerCaCertificatePem?: string;
  /**
   * Unencrypted PEM RSA private key of `peerCaCertificatePem`.
   * @default - a new peer CA
   */
  readonly peerCaPrivateKeyPem?: string;
}

/** A member's peer certificate, key and trusted CA in the PKI directory, as the flags and the generated PKI name them. */
export interface KubeadmPeerFiles {
  readonly cert: string;
  readonly key: string;
  readonly trustedCa: string;
}

/**
 * kubeadm's `peer.crt` and `ca.crt`, or with a peer CA of its own `peer-isolated.crt` (`kubeadm certs renew` re-signs
 * `peer.crt` with `ca.crt`) and `peer-ca.crt`.
 */
export function kubeadmPeerFiles(pkiDir: string, separatePeerCa: boolean): KubeadmPeerFiles {
  const leaf = separatePeerCa ? 'peer-isolated' : 'peer';
  return { cert: `${pkiDir}/${leaf}.crt`, key: `${pkiDir}/${leaf}.key`, trustedCa: `${pkiDir}/${separatePeerCa ? 'peer-ca' : 'ca'}.crt` };
}

/** The nodes a PKI is generated for. */
interface PkiNode {
  readonly name: string;
  readonly ip: string;
}

/**
 * kubeadm's etcd certificates for every node, as files by absolute path. Contains private keys:
 * keep it out of manifests and version control, and write it only to the node it belongs to.
 */
export class EtcdKubeadmPki {
  /** @internal */
  public static _create(caCertificatePem: string, files: Map<string, Map<string, string>>, peerCa?: PemPair): EtcdKubeadmPki {
    return new EtcdKubeadmPki(caCertificatePem, files, peerCa);
  }

  /**
   * The peer CA's certificate (PEM), with `separatePeerCa`. It is also every node's `peer-ca.crt`.
   * @default - none: kubeadm's single CA signs the peer certificates
   */
  public readonly peerCaCertificatePem?: string;
  /**
   * The peer CA's private key (PEM), with `separatePeerCa`. No node needs it, so it is not among their files: keep it
   * where you keep secrets, to sign the peer certificates of renewals and new nodes.
   * @default - none: kubeadm's single CA signs the peer certificates
   */
  public readonly peerCaPrivateKeyPem?: string;

  private constructor(
    /** The etcd CA certificate (PEM), shared by every node. */
    public readonly caCertificatePem: string,
    private readonly files: Map<string, Map<string, string>>,
    peerCa?: PemPair,
  ) {
    this.peerCaCertificatePem = peerCa?.certPem;
    this.peerCaPrivateKeyPem = peerCa?.keyPem;
  }

  /** Node names, in the cluster's order. */
  public get nodeNames(): string[] {
    return [...this.files.keys()];
  }

  /** One node's files: absolute path on the node → PEM content. */
  public filesFor(nodeName: string): { [path: string]: string } {
    const files = this.files.get(nodeName);
    if (!files) throw new EtcdConfigError(`nodeName must be one of ${this.nodeNames.join(', ')} (got '${nodeName}')`);
    return Object.fromEntries(files);
  }

  /**
   * Write every node's files under `directory/<node>/<absolute path>` (keys mode 0600,
   * certificates 0644), ready to copy to each node's root. Returns the paths written.
   *
   * It never replaces a certificate or key that is already there: a new CA would break trust with
   * every running member and client. Files identical to the existing ones are left alone; if any
   * existing file differs, nothing is written and it throws. To add nodes to an existing PKI, pass
   * the existing CA (`caCertificatePem`, `caPrivateKeyPem`) to `generatePki()` and write to a new directory.
   */
  public writeTo(directory: string): string[] {
    const targets = [...this.files].flatMap(([node, files]) => [...files].map(([file, content]) => ({ file, content, target: path.join(directory, node, file) })));
    const differing = targets.filter((t) => fs.existsSync(t.target) && fs.readFileSync(t.target, 'utf8') !== t.content);
    if (differing.length > 0) {
      const ca = differing.find((t) => t.file.endsWith('/ca.crt'));
      const keep = ca ? ` To sign with the existing CA, pass generatePki({ caCertificatePem, caPrivateKeyPem }) the contents of ${ca.target} and ${ca.target.replace(/\.crt$/, '.key')}${this.peerCaCertificatePem ? ', and peerCaCertificatePem, peerCaPrivateKeyPem the peer CA you kept' : ''}.` : '';
      throw new EtcdConfigError(`writeTo would replace ${differing.length} existing file(s) under ${directory}, such as ${differing[0].target}: it never overwrites certificates or keys. `
        + `Write to a new directory, or remove the old files yourself if you mean to start a new PKI.${keep}`);
    }
    const written: string[] = [];
    for (const { file, content, target } of targets) {
      if (fs.existsSync(target)) continue;
      fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
      fs.writeFileSync(target, content, { mode: file.endsWith('.key') ? 0o600 : 0o644, flag: 'wx' });
      written.push(target);
    }
    return written;
  }
}

/**
 * kubeadm's layout: `etcd/ca`, per node `etcd/server` and `etcd/peer` (CN the node name,
 * serverAuth and clientAuth, SANs node name, localhost, node IP, 127.0.0.1, ::1),
 * `etcd/healthcheck-client` and `apiserver-etcd-client` (clientAuth). With `separatePeerCa`, `etcd/peer-ca.crt`
 * and `etcd/peer-isolated`, which it signs, take the place of `etcd/peer`; the peer CA's key stays off the nodes.
 */
export function generateKubeadmPki(nodes: PkiNode[], pkiDir: string, apiServerPkiDir: string, separatePeerCa: boolean, options: EtcdKubeadmPkiOptions): EtcdKubeadmPki {
  const signing = resolveSigning('generatePki options', options);
  const validityDays = signing.validityDays;
  const ca: PemPair = signing.ca ?? createCa('etcd-ca', 3650);
  const peerSigning = resolveSigning('generatePki options', { caCertificatePem: options.peerCaCertificatePem, caPrivateKeyPem: options.peerCaPrivateKeyPem }, 'peerCa');
  if (peerSigning.ca && !separatePeerCa) {
    throw new EtcdConfigError('generatePki options.peerCaCertificatePem needs separatePeerCa: true on the cluster (got false): without it the members trust only ca.crt on the peer port');
  }
  const peerCa: PemPair | undefined = separatePeerCa ? peerSigning.ca ?? createCa('etcd-peer-ca', 3650) : undefined;
  const peerFiles = kubeadmPeerFiles(pkiDir, separatePeerCa);

  const all = new Map<string, Map<string, string>>();
  for (const node of nodes) {
    const files = new Map<string, string>();
    const put = (dir: string, base: string, pair: PemPair) => {
      files.set(`${dir}/${base}.crt`, pair.certPem);
      files.set(`${dir}/${base}.key`, pair.keyPem);
    };
    put(pkiDir, 'ca', ca);
    if (peerCa) files.set(peerFiles.trustedCa, peerCa.certPem);
    const serving = { commonName: node.name, dnsNames: [node.name, 'localhost'], ipAddresses: [node.ip, '127.0.0.1', '::1'], serverAuth: true, clientAuth: true, validityDays };
    put(pkiDir, 'server', issueLeaf(ca, serving));
    const peer = issueLeaf(peerCa ?? ca, serving);
    files.set(peerFiles.cert, peer.certPem);
    files.set(peerFiles.key, peer.keyPem);
    put(pkiDir, 'healthcheck-client', issueLeaf(ca, { commonName: 'kube-etcd-healthcheck-client', serverAuth: false, clientAuth: true, validityDays }));
    put(apiServerPkiDir, 'apiserver-etcd-client', issueLeaf(ca, { commonName: 'kube-apiserver-etcd-client', serverAuth: false, clientAuth: true, validityDays }));
    all.set(node.name, files);
  }
  return EtcdKubeadmPki._create(ca.certPem, all, peerCa);
}
