import { PemPair, createCa, issueLeaf } from '../../../lib/tls/pki';
import { Manifest } from '../../support/synth';

/** The files of a Secret, by key. */
export type SecretFiles = { [key: string]: string };

/** Go duration (as cert-manager writes them, e.g. `2160h`) in whole days, at least one. */
function daysOf(duration: string | undefined, fallbackDays: number): number {
  if (!duration) return fallbackDays;
  const m = /^(\d+)(h|m|s)$/.exec(duration);
  if (!m) throw new Error(`harness: unsupported duration ${duration}`);
  const seconds = Number(m[1]) * { h: 3600, m: 60, s: 1 }[m[2] as 'h' | 'm' | 's'];
  return Math.max(1, Math.ceil(seconds / 86400));
}

/**
 * Act as cert-manager: issue every Certificate exactly as its spec says (commonName, dnsNames,
 * ipAddresses, usages, isCA, issuer chain) and return the Secrets it would write.
 * Supports the issuer types this library emits: selfSigned and ca.
 */
export function issueCertificates(manifests: Manifest[]): Map<string, SecretFiles> {
  const issuers = new Map(manifests.filter((m) => m.kind === 'Issuer').map((m) => [m.metadata.name, m.spec]));
  const pending = manifests.filter((m) => m.kind === 'Certificate');
  const secrets = new Map<string, SecretFiles>();
  const keyPairs = new Map<string, PemPair>();

  while (pending.length > 0) {
    const ready = pending.findIndex((c) => {
      const issuer = issuers.get(c.spec.issuerRef.name);
      return issuer?.selfSigned !== undefined || (issuer?.ca && keyPairs.has(issuer.ca.secretName));
    });
    if (ready < 0) {
      throw new Error(`harness: cannot issue ${pending.map((c) => c.metadata.name).join(', ')}: their issuers are missing or never ready`);
    }
    const [cert] = pending.splice(ready, 1);
    const spec = cert.spec;
    if ((spec.issuerRef.kind ?? 'Issuer') !== 'Issuer') throw new Error(`harness: unsupported issuer kind ${spec.issuerRef.kind}`);
    const issuer = issuers.get(spec.issuerRef.name)!;
    const days = daysOf(spec.duration, 90);
    let pair: PemPair;
    let caPem: string;
    if (issuer.selfSigned !== undefined) {
      if (!spec.isCA) throw new Error(`harness: self-signed leaf ${cert.metadata.name} is not supported`);
      pair = createCa(spec.commonName, days);
      caPem = pair.certPem;
    } else {
      const ca = keyPairs.get(issuer.ca.secretName)!;
      if (spec.isCA) throw new Error(`harness: intermediate CA ${cert.metadata.name} is not supported`);
      const usages: string[] = spec.usages ?? [];
      pair = issueLeaf(ca, {
        commonName: spec.commonName,
        dnsNames: spec.dnsNames,
        ipAddresses: spec.ipAddresses,
        serverAuth: usages.includes('server auth'),
        clientAuth: usages.includes('client auth'),
        validityDays: days,
      });
      caPem = ca.certPem;
    }
    keyPairs.set(spec.secretName, pair);
    secrets.set(spec.secretName, { 'tls.crt': pair.certPem, 'tls.key': pair.keyPem, 'ca.crt': caPem });
  }
  return secrets;
}

/** Secrets that are part of the manifests themselves (EtcdTls.generate()). */
export function secretsInManifests(manifests: Manifest[]): Map<string, SecretFiles> {
  const secrets = new Map<string, SecretFiles>();
  for (const m of manifests.filter((o) => o.kind === 'Secret')) {
    const files: SecretFiles = {};
    for (const [key, value] of Object.entries((m.data ?? {}) as { [k: string]: string })) files[key] = Buffer.from(value, 'base64').toString('utf8');
    for (const [key, value] of Object.entries((m.stringData ?? {}) as { [k: string]: string })) files[key] = value;
    secrets.set(m.metadata.name, files);
  }
  return secrets;
}

/** ConfigMaps that are part of the manifests (the members list), as files by key. */
export function configMapsInManifests(manifests: Manifest[]): Map<string, SecretFiles> {
  return new Map(manifests.filter((o) => o.kind === 'ConfigMap').map((m) => [m.metadata.name, { ...(m.data ?? {}) }]));
}
