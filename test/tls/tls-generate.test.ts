import { X509Certificate, createPrivateKey } from 'crypto';
import * as net from 'net';
import * as tls from 'tls';
import { Chart, Duration, Testing } from 'cdk8s';
import { EtcdCluster, EtcdTls } from '../../lib';
import { createCa, issueLeaf } from '../../lib/tls/pki';
import { warningsOf } from '../../lib/shared/warnings';
import { Manifest, etcdContainer, flagsOf, only, synth } from '../support/synth';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

interface Pem { crt: string; key: string; ca: string }
const pemOf = (secret: Manifest): Pem => ({
  crt: Buffer.from(secret.data['tls.crt'], 'base64').toString(),
  key: Buffer.from(secret.data['tls.key'], 'base64').toString(),
  ca: Buffer.from(secret.data['ca.crt'], 'base64').toString(),
});

function generated(tlsSource: EtcdTls, members = 3) {
  const chart = new Chart(Testing.app(), 'test', { namespace: 'db' });
  const etcd = new EtcdCluster(chart, 'etcd', { members, tls: tlsSource });
  const manifests = synth(chart);
  // The peer Secret is `etcd-peer-isolated` when a CA of its own signs it.
  const peerSecret = manifests.find((m) => m.kind === 'Secret' && ['etcd-peer', 'etcd-peer-isolated'].includes(m.metadata.name))!;
  const secrets: { [role: string]: Pem } = { server: pemOf(only(manifests, 'Secret', 'etcd-server')), peer: pemOf(peerSecret), client: pemOf(only(manifests, 'Secret', 'etcd-client')) };
  const peerSecretName: string = peerSecret.metadata.name;
  return { etcd, manifests, secrets, peerSecretName };
}

/** SAN entries of a certificate, e.g. ['DNS:etcd', 'IP Address:127.0.0.1']. */
const sansOf = (cert: X509Certificate) => (cert.subjectAltName ?? '').split(', ').filter(Boolean);

describe('EtcdTls.generate', () => {
  // Key generation is the slow part: share one cluster across the checks.
  const { etcd, manifests, secrets } = generated(EtcdTls.generate());

  test('writes kubernetes.io/tls Secrets that the StatefulSet mounts', () => {
    for (const name of ['etcd-server', 'etcd-peer-isolated', 'etcd-client']) {
      const secret = only(manifests, 'Secret', name);
      expect(secret.type).toBe('kubernetes.io/tls');
      expect(Object.keys(secret.data).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
    }
    const volumes = only(manifests, 'StatefulSet').spec.template.spec.volumes.filter((v: { secret?: object }) => v.secret);
    expect(volumes.map((v: { secret: { secretName: string } }) => v.secret.secretName)).toEqual(['etcd-server', 'etcd-peer-isolated']);
    expect(etcd.clientSecretName).toBe('etcd-client');
  });

  test.each(['server', 'peer'])('the %s certificate holds every member name and both usages', (role) => {
    const cert = new X509Certificate(secrets[role].crt);
    const sans = sansOf(cert);
    for (const dns of etcd.certificateDnsNames) expect(sans).toContain(`DNS:${dns}`);
    expect(sans).toContain('IP Address:127.0.0.1');
    expect(sans.some((s) => /^IP Address:0?:?0?:?0?:?0?:?0?:?0?:?0?:?0?:?:?1$|^IP Address:::1$/.test(s))).toBe(true);
    expect(cert.keyUsage).toEqual(expect.arrayContaining([SERVER_AUTH, CLIENT_AUTH]));
    expect(cert.ca).toBe(false);
  });

  test('the client certificate is for client authentication only', () => {
    const cert = new X509Certificate(secrets.client.crt);
    expect(cert.keyUsage).toEqual([CLIENT_AUTH]);
    expect(cert.subject).toBe('CN=etcd-client');
  });

  test.each(['server', 'peer', 'client'])('the %s certificate chains to the CA in ca.crt and matches its key', (role) => {
    const ca = new X509Certificate(secrets[role].ca);
    const cert = new X509Certificate(secrets[role].crt);
    expect(ca.ca).toBe(true);
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(secrets[role].key))).toBe(true);
    expect(new Date(cert.validFrom).getTime()).toBeLessThanOrEqual(Date.now());
  });

  test('the peer plane has a CA of its own: the client certificate does not chain to it, a peer certificate does not chain to the client CA', () => {
    expect(secrets.server.ca).toBe(secrets.client.ca);
    expect(secrets.peer.ca).not.toBe(secrets.server.ca);
    const peerCa = new X509Certificate(secrets.peer.ca);
    const clientCa = new X509Certificate(secrets.server.ca);
    expect(peerCa.subject).toBe('CN=etcd-peer-ca');
    expect(new X509Certificate(secrets.client.crt).verify(peerCa.publicKey)).toBe(false);
    expect(new X509Certificate(secrets.peer.crt).verify(clientCa.publicKey)).toBe(false);
  });

  test('a real mutual-TLS handshake verifies every member FQDN, and refuses a client from another CA', async () => {
    const hostnames = etcd.clientEndpoints.map((u) => new URL(u).hostname);
    // The server reports its verdict on the client certificate instead of just dropping the connection.
    const server = tls.createServer({ cert: secrets.server.crt, key: secrets.server.key, ca: secrets.server.ca, requestCert: true, rejectUnauthorized: false },
      (socket) => socket.end(socket.authorized ? 'ok' : `refused: ${socket.authorizationError}`));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const connect = (servername: string, client: { crt: string; key: string }) => new Promise<string>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, servername, ca: secrets.client.ca, cert: client.crt, key: client.key }, () => undefined);
      let data = '';
      socket.setTimeout(5000, () => socket.destroy(new Error('timeout')));
      socket.on('data', (d) => { data += d; });
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    try {
      for (const host of hostnames) await expect(connect(host, secrets.client)).resolves.toBe('ok');
      await expect(connect('not-a-member.example', secrets.client)).rejects.toThrow(/altnames|Hostname/i);
      const strangerCa = createCa('stranger', 1);
      const stranger = issueLeaf(strangerCa, { commonName: 'x', serverAuth: false, clientAuth: true, validityDays: 1 });
      await expect(connect(hostnames[0], { crt: stranger.certPem, key: stranger.keyPem })).resolves.toMatch(/^refused: .*(SIGNATURE|ISSUER|CERT)/);
      await expect(connect(hostnames[0], { crt: '', key: '' })).resolves.toMatch(/^refused: /);
    } finally {
      server.close();
    }
  });

  test('warns that keys are in the manifests', () => {
    expect(warningsOf(etcd)).toContainEqual(expect.stringContaining('private keys are written into the manifests'));
  });

  test('the flags point at the mounted files', () => {
    const flags = flagsOf(etcdContainer(only(manifests, 'StatefulSet')).args);
    expect(flags.get('cert-file')).toBe('/etc/etcd/tls/server/tls.crt');
    expect(flags.get('peer-trusted-ca-file')).toBe('/etc/etcd/tls/peer/ca.crt');
  });
});

describe('EtcdTls.generate with a supplied CA', () => {
  const ca = createCa('corp-etcd-ca', 30);

  test('signs with it, so trust survives re-synthesis', () => {
    const { secrets } = generated(EtcdTls.generate({ caCertificatePem: ca.certPem, caPrivateKeyPem: ca.keyPem, validity: Duration.days(7) }), 1);
    const caCert = new X509Certificate(ca.certPem);
    expect(secrets.server.ca).toBe(ca.certPem);
    const leaf = new X509Certificate(secrets.server.crt);
    expect(leaf.verify(caCert.publicKey)).toBe(true);
    const days = (new Date(leaf.validTo).getTime() - Date.now()) / 86400000;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThan(7.1);
  });

  test('without a peer CA, the supplied CA signs the peer certificates too (a new peer CA on every synthesis would break trust)', () => {
    const { secrets, peerSecretName } = generated(EtcdTls.generate({ caCertificatePem: ca.certPem, caPrivateKeyPem: ca.keyPem }), 1);
    expect(secrets.peer.ca).toBe(ca.certPem);
    expect(peerSecretName).toBe('etcd-peer');
  });

  test('a supplied peer CA signs the peer certificates only', () => {
    const peerCa = createCa('corp-etcd-peer-ca', 30);
    const { secrets } = generated(EtcdTls.generate({ caCertificatePem: ca.certPem, caPrivateKeyPem: ca.keyPem, peerCaCertificatePem: peerCa.certPem, peerCaPrivateKeyPem: peerCa.keyPem }), 1);
    expect([secrets.server.ca, secrets.peer.ca, secrets.client.ca]).toEqual([ca.certPem, peerCa.certPem, ca.certPem]);
    expect(new X509Certificate(secrets.peer.crt).verify(new X509Certificate(peerCa.certPem).publicKey)).toBe(true);
  });

  test.each([
    [() => EtcdTls.generate({ caCertificatePem: ca.certPem }), 'tls.caCertificatePem and tls.caPrivateKeyPem must be given together (got only one)'],
    [() => EtcdTls.generate({ peerCaPrivateKeyPem: ca.keyPem }), 'tls.peerCaCertificatePem and tls.peerCaPrivateKeyPem must be given together (got only one)'],
    [() => EtcdTls.generate({ peerCaCertificatePem: ca.certPem, peerCaPrivateKeyPem: 'nope' }), 'tls.peerCaPrivateKeyPem must be an unencrypted PEM private key'],
    [() => EtcdTls.generate({ caCertificatePem: 'nope', caPrivateKeyPem: ca.keyPem }), 'tls.caCertificatePem must be a PEM certificate'],
    [() => EtcdTls.generate({ caCertificatePem: ca.certPem, caPrivateKeyPem: 'nope' }), 'tls.caPrivateKeyPem must be an unencrypted PEM private key'],
    [() => EtcdTls.generate({ caCertificatePem: ca.certPem, caPrivateKeyPem: createCa('other', 1).keyPem }), "tls.caPrivateKeyPem must be the private key of caCertificatePem (subject 'CN=corp-etcd-ca')"],
    [() => EtcdTls.generate({ validity: Duration.hours(36) }), 'tls.validity must be a whole number of days, at least 1 (got 1 day 12 hours)'],
  ])('refuses %#', (make, message) => {
    expect(make).toThrow(message);
  });

  test('refuses a leaf certificate as CA', () => {
    const leaf = issueLeaf(ca, { commonName: 'leaf', serverAuth: true, clientAuth: true, validityDays: 1 });
    expect(() => EtcdTls.generate({ caCertificatePem: leaf.certPem, caPrivateKeyPem: leaf.keyPem }))
      .toThrow("tls.caCertificatePem must be a CA certificate (basicConstraints CA:TRUE) (got subject 'CN=leaf')");
  });
});
