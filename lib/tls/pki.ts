import { KeyObject, X509Certificate, createPrivateKey, generateKeyPairSync, randomBytes, sign } from 'crypto';
import { Duration } from 'cdk8s';
import * as forge from 'node-forge';
import { EtcdConfigError } from '../shared/errors';

/** A PEM certificate with its PEM private key. */
export interface PemPair {
  readonly certPem: string;
  readonly keyPem: string;
}

/** What a leaf certificate must contain. */
export interface LeafSpec {
  readonly commonName: string;
  readonly dnsNames?: string[];
  readonly ipAddresses?: string[];
  readonly serverAuth: boolean;
  readonly clientAuth: boolean;
  readonly validityDays: number;
}

/** Allow for clock skew between the machine that synthesizes and the nodes. */
const BACKDATE_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Keys come from Node's native generator and certificates are signed natively: node-forge only lays out the
 * certificates (ASN.1), synchronously, as constructs require. Its pure-JS RSA signing took about 50 ms a
 * certificate here.
 */
interface NewKey {
  readonly privateKey: KeyObject;
  readonly keyPem: string;
  readonly forgePublic: forge.pki.rsa.PublicKey;
}

function newRsaKey(): NewKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' });
  return {
    privateKey,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    forgePublic: forge.pki.setRsaPublicKey(bigInteger(jwk.n!), bigInteger(jwk.e!)),
  };
}

function bigInteger(base64url: string): forge.jsbn.BigInteger {
  return new forge.jsbn.BigInteger(Buffer.from(base64url, 'base64url').toString('hex'), 16);
}

/** What `forge`'s `cert.sign(key, sha256)` does, with the RSA signature (PKCS#1 v1.5, SHA-256) made by Node. */
function signCertificate(cert: forge.pki.Certificate, signer: KeyObject): string {
  cert.signatureOid = cert.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption;
  // Not in @types/node-forge, but public in node-forge: the TBSCertificate that `cert.sign()` signs.
  const tbs = (forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(cert);
  (cert as unknown as { tbsCertificate: forge.asn1.Asn1 }).tbsCertificate = tbs;
  cert.signature = sign('sha256', Buffer.from(forge.asn1.toDer(tbs).getBytes(), 'binary'), signer).toString('binary');
  return forge.pki.certificateToPem(cert);
}

function newCertificate(publicKey: forge.pki.rsa.PublicKey, validityDays: number): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // A positive 128-bit serial: the high bit of the first byte clear.
  cert.serialNumber = (randomBytes(16)[0] & 0x7f).toString(16).padStart(2, '0') + randomBytes(15).toString('hex');
  const now = Date.now();
  cert.validity.notBefore = new Date(now - BACKDATE_MS);
  cert.validity.notAfter = new Date(now + validityDays * DAY_MS);
  return cert;
}

/** What every generated PKI is configured with: optionally the CA to sign with, and the leaf validity. */
export interface SigningOptions {
  readonly caCertificatePem?: string;
  readonly caPrivateKeyPem?: string;
  readonly validity?: Duration;
}

/**
 * Validate signing options: validity in whole days (default 365), and a supplied CA given as a
 * complete, usable pair.
 * @param property prefix for messages (`tls`, `pki`)
 * @param field the props' stem: `ca` for `caCertificatePem`, `peerCa` for `peerCaCertificatePem`
 */
export function resolveSigning(property: string, options: SigningOptions, field = 'ca'): { validityDays: number; ca?: PemPair } {
  const validity = options.validity ?? Duration.days(365);
  const validityDays = validity.toDays({ integral: false });
  if (!Number.isInteger(validityDays) || validityDays < 1) {
    throw new EtcdConfigError(`${property}.validity must be a whole number of days, at least 1 (got ${validity.toHumanString()})`);
  }
  if ((options.caCertificatePem === undefined) !== (options.caPrivateKeyPem === undefined)) {
    throw new EtcdConfigError(`${property}.${field}CertificatePem and ${property}.${field}PrivateKeyPem must be given together (got only one)`);
  }
  const ca = options.caCertificatePem !== undefined ? loadCa(`${property}.${field}`, options.caCertificatePem, options.caPrivateKeyPem!) : undefined;
  return { validityDays, ca };
}

/** A self-signed CA. */
export function createCa(commonName: string, validityDays: number): PemPair {
  const key = newRsaKey();
  const cert = newCertificate(key.forgePublic, validityDays);
  const subject = [{ name: 'commonName', value: commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  return { certPem: signCertificate(cert, key.privateKey), keyPem: key.keyPem };
}

/**
 * Check a supplied CA: both PEMs parse, the certificate is a CA, the key is its key and is RSA.
 * @param prop the props' prefix for messages (`tls.ca` names `tls.caCertificatePem` and `tls.caPrivateKeyPem`)
 */
export function loadCa(prop: string, certPem: string, keyPem: string): PemPair {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch (e) {
    throw new EtcdConfigError(`${prop}CertificatePem must be a PEM certificate (${(e as Error).message})`);
  }
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch (e) {
    throw new EtcdConfigError(`${prop}PrivateKeyPem must be an unencrypted PEM private key (${(e as Error).message})`);
  }
  if (!cert.ca) throw new EtcdConfigError(`${prop}CertificatePem must be a CA certificate (basicConstraints CA:TRUE) (got subject '${cert.subject}')`);
  if (!cert.checkPrivateKey(key)) throw new EtcdConfigError(`${prop}PrivateKeyPem must be the private key of ${prop.split('.').pop()}CertificatePem (subject '${cert.subject}')`);
  if (key.asymmetricKeyType !== 'rsa') throw new EtcdConfigError(`${prop}PrivateKeyPem must be an RSA key (got ${key.asymmetricKeyType})`);
  if (new Date(cert.validTo).getTime() <= Date.now()) throw new EtcdConfigError(`${prop}CertificatePem has expired (valid to ${cert.validTo})`);
  return { certPem, keyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** A leaf certificate signed by `ca`. */
export function issueLeaf(ca: PemPair, spec: LeafSpec): PemPair {
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const key = newRsaKey();
  const cert = newCertificate(key.forgePublic, spec.validityDays);
  cert.setSubject([{ name: 'commonName', value: spec.commonName }]);
  cert.setIssuer(caCert.subject.attributes);
  const altNames = [
    ...(spec.dnsNames ?? []).map((value) => ({ type: 2, value })),
    ...(spec.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
  ];
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: spec.serverAuth, clientAuth: spec.clientAuth },
    ...(altNames.length > 0 ? [{ name: 'subjectAltName', altNames }] : []),
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  return { certPem: signCertificate(cert, createPrivateKey(ca.keyPem)), keyPem: key.keyPem };
}
