import * as path from 'path';
import { Chart, Duration, Testing } from 'cdk8s';
import { EtcdCluster, EtcdClusterProps, EtcdPeerCaMigration, EtcdTls, EtcdUpdateStrategy } from '../../lib';
import { peerTrustBundleScript } from '../../lib/membership/member-steps';
import { warningsOf } from '../../lib/shared/warnings';
import { Manifest, etcdContainer, flagsOf, only, synth } from '../support/synth';

function cluster(props: EtcdClusterProps = {}) {
  const chart = new Chart(Testing.app(), 'test', { namespace: 'db' });
  const etcd = new EtcdCluster(chart, 'etcd', props);
  const manifests = synth(chart);
  const sts = only(manifests, 'StatefulSet');
  const container = etcdContainer(sts);
  return { etcd, manifests, sts, container, flags: flagsOf(container.args) };
}

const TLS_FILE_FLAGS = ['cert-file', 'key-file', 'trusted-ca-file', 'peer-cert-file', 'peer-key-file', 'peer-trusted-ca-file'];

/**
 * Follow every TLS file flag to the Secret volume that provides it; returns flag -> Secret name.
 * Fails when a file is not under a mounted Secret, or names a key a kubernetes.io/tls Secret lacks.
 */
function secretBehindEachTlsFlag(sts: Manifest): Map<string, string> {
  const container = etcdContainer(sts);
  const flags = flagsOf(container.args);
  const volumes: { name: string; secret?: { secretName: string } }[] = sts.spec.template.spec.volumes ?? [];
  const result = new Map<string, string>();
  for (const flag of TLS_FILE_FLAGS) {
    const file = flags.get(flag);
    expect(file).toBeDefined();
    const mount = container.volumeMounts.find((m: { mountPath: string }) => m.mountPath === path.dirname(file!));
    expect(mount).toBeDefined();
    expect(mount.readOnly).toBe(true);
    const volume = volumes.find((v) => v.name === mount.name);
    expect(volume?.secret).toBeDefined();
    expect(['tls.crt', 'tls.key', 'ca.crt']).toContain(path.basename(file!));
    result.set(flag, volume!.secret!.secretName);
  }
  // A certificate and its key come from the same Secret, per plane.
  expect(result.get('cert-file')).toBe(result.get('key-file'));
  expect(result.get('peer-cert-file')).toBe(result.get('peer-key-file'));
  return result;
}

describe('mutual TLS by default (cert-manager)', () => {
  test('https everywhere, client-certificate auth on both planes', () => {
    const { flags, etcd, manifests } = cluster();
    expect(etcd.tlsEnabled).toBe(true);
    for (const f of ['listen-client-urls', 'listen-peer-urls', 'advertise-client-urls', 'initial-advertise-peer-urls']) {
      expect(flags.get(f)).toMatch(/^https:\/\//);
    }
    only(manifests, 'ConfigMap', 'etcd-members').data.members.trim().split('\n').forEach((line: string) => expect(line).toMatch(/^etcd-\d https:\/\/\S+ https:\/\/\S+ http:\/\/\S+:2382$/));
    expect(flags.get('client-cert-auth')).toBe('true');
    expect(flags.get('peer-client-cert-auth')).toBe('true');
    etcd.clientEndpoints.forEach((url) => expect(url).toMatch(/^https:\/\//));
  });

  test('every TLS file etcd reads comes from a mounted Secret that a Certificate issues', () => {
    const { sts, manifests } = cluster();
    const certificates = manifests.filter((m) => m.kind === 'Certificate');
    const issued = new Set(certificates.map((c) => c.spec.secretName));
    const bySecret = secretBehindEachTlsFlag(sts);
    for (const [flag, secret] of bySecret) expect({ flag, issued: issued.has(secret) }).toEqual({ flag, issued: true });
    expect(bySecret.get('cert-file')).toBe('etcd-server');
    expect(bySecret.get('peer-cert-file')).toBe('etcd-peer');
  });

  test('every server or peer certificate issued is mounted (none issued for nothing)', () => {
    const { sts, manifests } = cluster();
    const mountedSecrets = new Set(secretBehindEachTlsFlag(sts).values());
    const serving = manifests.filter((m) => m.kind === 'Certificate' && (m.spec.usages ?? []).includes('server auth'));
    expect(serving.map((c) => c.spec.secretName).sort()).toEqual(['etcd-peer', 'etcd-server']);
    serving.forEach((c) => expect(mountedSecrets.has(c.spec.secretName)).toBe(true));
  });

  test('secrets are mounted read-only, readable by owner and group only', () => {
    const { sts } = cluster();
    const secrets = sts.spec.template.spec.volumes.filter((v: { secret?: object }) => v.secret);
    expect(secrets).toHaveLength(2);
    for (const v of secrets) expect(v.secret.defaultMode).toBe(0o440);
    expect(sts.spec.template.spec.securityContext.fsGroup).toBe(sts.spec.template.spec.securityContext.runAsUser);
  });

  test('server and peer certificates carry every name a member or client uses', () => {
    const { manifests, etcd } = cluster({ members: 3, clusterDomain: 'k8s.test' });
    const expectedDns = [
      'etcd-0.etcd-peer.db.svc', 'etcd-0.etcd-peer.db.svc.k8s.test',
      'etcd-1.etcd-peer.db.svc', 'etcd-1.etcd-peer.db.svc.k8s.test',
      'etcd-2.etcd-peer.db.svc', 'etcd-2.etcd-peer.db.svc.k8s.test',
      '*.etcd-peer.db.svc', '*.etcd-peer.db.svc.k8s.test',
      'etcd', 'etcd.db', 'etcd.db.svc', 'etcd.db.svc.k8s.test',
      'localhost',
    ];
    expect(etcd.certificateDnsNames).toEqual(expectedDns);
    for (const name of ['etcd-server', 'etcd-peer']) {
      const cert = only(manifests, 'Certificate', name);
      expect(cert.spec.dnsNames).toEqual(expectedDns);
      expect(cert.spec.ipAddresses).toEqual(['127.0.0.1', '::1']);
      expect(cert.spec.usages).toEqual(expect.arrayContaining(['server auth', 'client auth']));
    }
    // Every advertised host is covered by a SAN.
    const hosts = etcd.clientEndpoints.map((u) => new URL(u).hostname);
    hosts.forEach((h) => expect(expectedDns).toContain(h));
  });

  test('the client certificate is for client authentication only', () => {
    const { manifests, etcd } = cluster();
    const client = only(manifests, 'Certificate', 'etcd-client');
    expect(client.spec.usages).toContain('client auth');
    expect(client.spec.usages).not.toContain('server auth');
    expect(client.spec.dnsNames).toBeUndefined();
    expect(etcd.clientSecretName).toBe('etcd-client');
  });

  test('its own chain: self-signed root, CA certificate, CA issuer, leaves from the CA issuer', () => {
    const { manifests } = cluster();
    const selfSigned = only(manifests, 'Issuer', 'etcd-selfsigned');
    expect(selfSigned.spec).toEqual({ selfSigned: {} });
    const ca = only(manifests, 'Certificate', 'etcd-ca');
    expect(ca.spec.isCA).toBe(true);
    expect(ca.spec.issuerRef).toEqual({ name: 'etcd-selfsigned', kind: 'Issuer', group: 'cert-manager.io' });
    expect(ca.spec.privateKey.rotationPolicy).toBe('Never');
    const caIssuer = only(manifests, 'Issuer', 'etcd-ca');
    expect(caIssuer.spec).toEqual({ ca: { secretName: ca.spec.secretName } });
    for (const name of ['etcd-server', 'etcd-peer', 'etcd-client']) {
      expect(only(manifests, 'Certificate', name).spec.issuerRef).toEqual({ name: 'etcd-ca', kind: 'Issuer', group: 'cert-manager.io' });
    }
  });

  test('default lifetimes: 90 days renewed 30 days ahead, CA ten years renewed a third ahead', () => {
    const { manifests } = cluster();
    const server = only(manifests, 'Certificate', 'etcd-server');
    expect([server.spec.duration, server.spec.renewBefore]).toEqual(['2160h', '720h']);
    expect(server.spec.privateKey.rotationPolicy).toBe('Always');
    const ca = only(manifests, 'Certificate', 'etcd-ca');
    expect([ca.spec.duration, ca.spec.renewBefore]).toEqual(['87600h', '29200h']);
  });

  test('custom lifetimes', () => {
    const { manifests } = cluster({ tls: EtcdTls.certManager({ duration: Duration.days(30), renewBefore: Duration.days(10), caDuration: Duration.days(365) }) });
    const server = only(manifests, 'Certificate', 'etcd-server');
    expect([server.spec.duration, server.spec.renewBefore]).toEqual(['720h', '240h']);
    expect(only(manifests, 'Certificate', 'etcd-ca').spec.duration).toBe('8760h');
  });

  test('a given issuer is used and no chain is created', () => {
    const { manifests } = cluster({ tls: EtcdTls.certManager({ issuer: { name: 'corp-ca', kind: 'ClusterIssuer' } }) });
    expect(manifests.filter((m) => m.kind === 'Issuer')).toEqual([]);
    const certs = manifests.filter((m) => m.kind === 'Certificate');
    expect(certs.map((c) => c.metadata.name).sort()).toEqual(['etcd-client', 'etcd-peer', 'etcd-server']);
    certs.forEach((c) => expect(c.spec.issuerRef).toEqual({ name: 'corp-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' }));
  });

  test('separatePeerCa: a second chain signs the peer certificate, into a Secret of its own name, which alone the peer plane trusts', () => {
    const { manifests, sts } = cluster({ tls: EtcdTls.certManager({ separatePeerCa: true }) });
    expect(manifests.filter((m) => m.kind === 'Issuer').map((m) => m.metadata.name).sort()).toEqual(['etcd-ca', 'etcd-peer-ca', 'etcd-selfsigned']);
    const peerCa = only(manifests, 'Certificate', 'etcd-peer-ca');
    expect(peerCa.spec).toMatchObject({ isCA: true, secretName: 'etcd-peer-ca', issuerRef: { name: 'etcd-selfsigned' }, privateKey: { rotationPolicy: 'Never' } });
    expect(only(manifests, 'Issuer', 'etcd-peer-ca').spec).toEqual({ ca: { secretName: 'etcd-peer-ca' } });
    expect(manifests.some((m) => m.kind === 'Certificate' && m.metadata.name === 'etcd-peer')).toBe(false);
    expect(only(manifests, 'Certificate', 'etcd-peer-isolated').spec.issuerRef.name).toBe('etcd-peer-ca');
    for (const name of ['etcd-server', 'etcd-client']) expect(only(manifests, 'Certificate', name).spec.issuerRef.name).toBe('etcd-ca');
    const secrets = secretBehindEachTlsFlag(sts);
    expect(secrets.get('peer-trusted-ca-file')).toBe('etcd-peer-isolated');
    expect(secrets.get('trusted-ca-file')).toBe('etcd-server');
  });

  test('separatePeerCa with a peerIssuer: that issuer signs the peer certificate only, beside a given issuer', () => {
    const { manifests } = cluster({ tls: EtcdTls.certManager({ issuer: { name: 'corp-ca', kind: 'ClusterIssuer' }, separatePeerCa: true, peerIssuer: { name: 'etcd-peers' } }) });
    expect(manifests.filter((m) => m.kind === 'Issuer')).toEqual([]);
    expect(only(manifests, 'Certificate', 'etcd-peer-isolated').spec.issuerRef).toEqual({ name: 'etcd-peers', kind: 'Issuer', group: 'cert-manager.io' });
    expect(only(manifests, 'Certificate', 'etcd-server').spec.issuerRef.name).toBe('corp-ca');
  });

  test.each([
    [EtcdPeerCaMigration.TRUST_BOTH, 'etcd-peer', 'etcd-peer-isolated'],
    [EtcdPeerCaMigration.PRESENT_PEER_CA, 'etcd-peer-isolated', 'etcd-peer'],
  ])('peerCaMigration %s: presents %s, trusts its CA and the CA of %s (only its ca.crt mounted), bundled at start', (step, presented, alsoTrusted) => {
    const { manifests, sts, container, flags } = cluster({ tls: EtcdTls.certManager({ separatePeerCa: true, peerCaMigration: step }) });
    expect(only(manifests, 'Certificate', 'etcd-peer').spec.issuerRef.name).toBe('etcd-ca');
    expect(only(manifests, 'Certificate', 'etcd-peer-isolated').spec.issuerRef.name).toBe('etcd-peer-ca');
    const volumes: { name: string; secret?: { secretName: string; items?: object[] }; emptyDir?: object }[] = sts.spec.template.spec.volumes;
    expect(volumes.find((v) => v.name === 'tls-peer')!.secret!.secretName).toBe(presented);
    expect(volumes.find((v) => v.name === 'tls-peer-also-trusted')!.secret).toEqual({ secretName: alsoTrusted, defaultMode: 0o440, items: [{ key: 'ca.crt', path: 'ca.crt' }] });
    expect(volumes.find((v) => v.name === 'tls-peer-trust')!.emptyDir).toBeDefined();
    expect(flags.get('peer-cert-file')).toBe('/etc/etcd/tls/peer/tls.crt');
    expect(flags.get('peer-trusted-ca-file')).toBe('/etc/etcd/tls/peer-trust/ca.crt');
    // The bundle's script (test/membership/member-steps-bundle.test.ts runs it) comes before etcd.
    const bundle = peerTrustBundleScript({ from: ['/etc/etcd/tls/peer/ca.crt', '/etc/etcd/tls/peer-also-trusted/ca.crt'], to: '/etc/etcd/tls/peer-trust/ca.crt' });
    expect(container.command[2].startsWith(`${bundle}; set -a`)).toBe(true);
    expect(container.volumeMounts).toContainEqual({ name: 'tls-peer-trust', mountPath: '/etc/etcd/tls/peer-trust' });
    // The client plane is untouched.
    expect(flags.get('trusted-ca-file')).toBe('/etc/etcd/tls/server/ca.crt');
  });

  test('without peerCaMigration no bundle: the peer plane trusts the mounted peer Secret alone', () => {
    const { sts, container, flags } = cluster({ tls: EtcdTls.certManager() });
    expect(flags.get('peer-trusted-ca-file')).toBe('/etc/etcd/tls/peer/ca.crt');
    expect(container.command[2]).toMatch(/^set -a/);
    expect(sts.spec.template.spec.volumes.map((v: { name: string }) => v.name)).not.toContain('tls-peer-trust');
  });

  test('an external issuer group is passed through', () => {
    const { manifests } = cluster({ tls: EtcdTls.certManager({ issuer: { name: 'vault', kind: 'VaultIssuer', group: 'vault.example.com' } }) });
    expect(only(manifests, 'Certificate', 'etcd-server').spec.issuerRef).toEqual({ name: 'vault', kind: 'VaultIssuer', group: 'vault.example.com' });
  });

  test('probes stay on the plain-http metrics listener, which serves no keys', () => {
    const { container, flags } = cluster();
    expect(flags.get('listen-metrics-urls')).toBe('http://0.0.0.0:2381');
    for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) {
      expect(probe.httpGet).toMatchObject({ port: 'metrics', scheme: 'HTTP' });
    }
  });
});

describe('EtcdTls.fromSecrets', () => {
  test('mounts the named Secrets and creates no certificates', () => {
    const { sts, manifests, etcd } = cluster({ tls: EtcdTls.fromSecrets({ serverSecretName: 'my-server', peerSecretName: 'my-peer', clientSecretName: 'my-client' }) });
    expect(manifests.filter((m) => m.kind === 'Certificate' || m.kind === 'Issuer')).toEqual([]);
    const bySecret = secretBehindEachTlsFlag(sts);
    expect(Object.fromEntries(bySecret)).toEqual({
      'cert-file': 'my-server', 'key-file': 'my-server', 'trusted-ca-file': 'my-server',
      'peer-cert-file': 'my-peer', 'peer-key-file': 'my-peer', 'peer-trusted-ca-file': 'my-peer',
    });
    expect(etcd.clientSecretName).toBe('my-client');
  });

  test('uses the kubernetes.io/tls key names', () => {
    const { flags } = cluster({ tls: EtcdTls.fromSecrets({ serverSecretName: 's', peerSecretName: 'p' }) });
    expect(path.basename(flags.get('cert-file')!)).toBe('tls.crt');
    expect(path.basename(flags.get('key-file')!)).toBe('tls.key');
    expect(path.basename(flags.get('trusted-ca-file')!)).toBe('ca.crt');
  });
});

describe('EtcdTls.disabled', () => {
  test('plain http, no TLS flags, no secrets, and a warning', () => {
    const { flags, sts, manifests, etcd } = cluster({ tls: EtcdTls.disabled() });
    expect(flags.get('listen-client-urls')).toBe('http://0.0.0.0:2379');
    expect(flags.get('initial-advertise-peer-urls')).toMatch(/^http:\/\//);
    for (const f of [...TLS_FILE_FLAGS, 'client-cert-auth', 'peer-client-cert-auth']) expect(flags.has(f)).toBe(false);
    expect(sts.spec.template.spec.volumes.filter((v: { secret?: object }) => v.secret)).toEqual([]);
    expect(manifests.filter((m) => m.apiVersion.startsWith('cert-manager.io'))).toEqual([]);
    expect(etcd.tlsEnabled).toBe(false);
    expect(etcd.clientSecretName).toBeUndefined();
    expect(warningsOf(etcd)).toContainEqual(expect.stringContaining('tls is disabled'));
  });
});

describe('kube-apiserver wiring', () => {
  test('flags for the client identity', () => {
    const { etcd } = cluster();
    expect(etcd.kubeApiServerFlags()).toEqual([
      `--etcd-servers=${etcd.etcdServers}`,
      '--etcd-cafile=/etc/kubernetes/pki/etcd-client/ca.crt',
      '--etcd-certfile=/etc/kubernetes/pki/etcd-client/tls.crt',
      '--etcd-keyfile=/etc/kubernetes/pki/etcd-client/tls.key',
    ]);
    expect(etcd.kubeApiServerFlags('/srv/etcd/')).toContain('--etcd-keyfile=/srv/etcd/tls.key');
  });

  test.each([
    [{ tls: EtcdTls.disabled() }, undefined, 'kubeApiServerFlags needs a client certificate, but tls is disabled'],
    [{ tls: EtcdTls.fromSecrets({ serverSecretName: 's', peerSecretName: 'p' }) }, undefined, 'kubeApiServerFlags needs a client certificate, but EtcdTls.fromSecrets() was given no clientSecretName'],
    [{}, 'relative/dir', "certDir must be an absolute path without spaces, '.', '..', '//' or a trailing '/' (got 'relative/dir')"],
    [{}, '/etc/../x', "certDir must be an absolute path without spaces, '.', '..', '//' or a trailing '/' (got '/etc/../x')"],
  ])('refuses %#', (props, certDir, message) => {
    const { etcd } = cluster(props as EtcdClusterProps);
    expect(() => etcd.kubeApiServerFlags(certDir)).toThrow(message);
  });
});

describe('bad TLS input', () => {
  test.each([
    [() => EtcdTls.fromSecrets({ serverSecretName: '', peerSecretName: 'p' }), "tls.serverSecretName must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters (got '')"],
    [() => EtcdTls.fromSecrets({ serverSecretName: 's', peerSecretName: 'Peer_Secret' }), "tls.peerSecretName must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters (got 'Peer_Secret')"],
    [() => EtcdTls.fromSecrets({ serverSecretName: 's', peerSecretName: 'p', clientSecretName: ' ' }), "tls.clientSecretName must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters (got ' ')"],
    [() => EtcdTls.certManager({ duration: Duration.days(30), renewBefore: Duration.days(30) }), 'tls.renewBefore must be at least 5 minutes and shorter than tls.duration (30 days), or certificates expire before they are renewed (got 30 days)'],
    [() => EtcdTls.certManager({ renewBefore: Duration.days(100) }), 'tls.renewBefore must be at least 5 minutes and shorter than tls.duration (90 days)'],
    [() => EtcdTls.certManager({ renewBefore: Duration.minutes(1) }), 'tls.renewBefore must be at least 5 minutes'],
    [() => EtcdTls.certManager({ duration: Duration.minutes(30), renewBefore: Duration.minutes(10) }), "tls.duration must be at least 1 hour, cert-manager's minimum (got 30 minutes)"],
    [() => EtcdTls.certManager({ caDuration: Duration.days(60) }), 'tls.caDuration must be longer than tls.duration (90 days): a certificate cannot outlive the CA that signed it (got 60 days)'],
    [() => EtcdTls.certManager({ issuer: { name: 'x', kind: 'Vault' } }), "tls.issuer.kind must be 'Issuer' or 'ClusterIssuer' for cert-manager.io issuers (got 'Vault')"],
    [() => EtcdTls.certManager({ issuer: { name: '' } }), "tls.issuer.name must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters (got '')"],
    [() => EtcdTls.certManager({ issuer: { name: 'v', group: 'vault.example.com' } }), "tls.issuer.kind is required for the external issuer group 'vault.example.com'"],
    [() => EtcdTls.certManager({ peerIssuer: { name: 'etcd-peers' } }), "tls.peerIssuer 'etcd-peers' needs tls.separatePeerCa: true (got undefined)"],
    [() => EtcdTls.certManager({ peerCaMigration: EtcdPeerCaMigration.TRUST_BOTH }), "tls.peerCaMigration 'TrustBoth' needs tls.separatePeerCa: true (got undefined): it is a step on the way there"],
    [() => EtcdTls.certManager({ separatePeerCa: true, peerCaMigration: 'Later' as EtcdPeerCaMigration }), "tls.peerCaMigration must be one of EtcdPeerCaMigration.TRUST_BOTH, EtcdPeerCaMigration.PRESENT_PEER_CA (got 'Later')"],
    [() => EtcdTls.certManager({ issuer: { name: 'corp', kind: 'ClusterIssuer' }, separatePeerCa: true, peerIssuer: { name: 'corp', kind: 'ClusterIssuer' } }), "tls.peerIssuer must not be tls.issuer ('corp'): the peer plane would trust every client certificate that issuer signs"],
    // With an issuer, the construct still creates the peer chain: its CA must outlive the certificates it signs.
    [() => EtcdTls.certManager({ issuer: { name: 'corp' }, separatePeerCa: true, caDuration: Duration.days(60) }), 'tls.caDuration must be longer than tls.duration (90 days)'],
    [() => EtcdTls.certManager({ separatePeerCa: true, peerIssuer: { name: 'p', kind: 'Vault' } }), "tls.peerIssuer.kind must be 'Issuer' or 'ClusterIssuer' for cert-manager.io issuers (got 'Vault')"],
  ])('refuses %#', (make, message) => {
    expect(make).toThrow(message);
  });
});

describe('peerCaMigration with an update strategy that does not roll every member', () => {
  test.each([
    ['a partition', EtcdUpdateStrategy.rollingUpdate({ partition: 1 })],
    ['OnDelete', EtcdUpdateStrategy.onDelete()],
  ])('%s: a warning says that rollout status is not every member', (_, updateStrategy) => {
    const { etcd } = cluster({ updateStrategy, tls: EtcdTls.certManager({ separatePeerCa: true, peerCaMigration: EtcdPeerCaMigration.TRUST_BOTH }) });
    expect(warningsOf(etcd)).toContainEqual(expect.stringContaining('tls.peerCaMigration with updateStrategy OnDelete or a partition'));
    const plain = cluster({ tls: EtcdTls.certManager({ separatePeerCa: true, peerCaMigration: EtcdPeerCaMigration.TRUST_BOTH }) });
    expect(warningsOf(plain.etcd).filter((w) => w.includes('peerCaMigration'))).toEqual([]);
  });
});
