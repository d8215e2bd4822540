import * as https from 'https';
import { EtcdTls } from '../../lib';
import { createCa, issueLeaf } from '../../lib/tls/pki';
import { etcdContainer, flagsOf, only } from '../support/synth';
import { describeEachLine, ipPrefix } from './harness/environment';
import { EtcdHarness } from './harness/etcd-harness';
import { synthesizeForHarness } from './harness/synthesize';

/**
 * The pinned peer identity (`--peer-cert-allowed-hostname`) on real etcd: one CA signs the members' certificates and
 * the clients' (as kubeadm's does), and the peer port still refuses a client certificate (which a cluster without the
 * pin accepts), and a certificate from that CA that lacks the pinned name; it accepts a peer's. The cluster forms with
 * the pin and survives a member's kill.
 */
describeEachLine('the peer port admits peers only', (line) => {
  // The test keeps the CA's key, so that it can sign certificates of its own with the cluster's CA.
  const ca = createCa('e2e-ca', 30);
  const { etcd, manifests } = synthesizeForHarness(line.version, 3, { tls: EtcdTls.generate({ caCertificatePem: ca.certPem, caPrivateKeyPem: ca.keyPem }) });
  const pin = flagsOf(etcdContainer(only(manifests, 'StatefulSet')).args).get('peer-cert-allowed-hostname')!;
  let h: EtcdHarness;

  beforeAll(async () => {
    h = EtcdHarness.forStatefulSet(manifests, { ipPrefix: ipPrefix(line, 49), clientSecretName: etcd.clientSecretName });
    await h.startAllAndWait(90000);
  }, 120000);
  afterAll(async () => { await h?.dispose(2000); }, 30000);

  /**
   * GET /members on a member's peer port with a client certificate, from 127.0.0.1: the HTTP status, or the TLS error.
   * etcd also checks a peer certificate's IP and DNS names against the address it comes from (a certificate with none
   * passes that check), so the certificates below that carry names carry 127.0.0.1 too: only the pin tells them apart.
   */
  const peerPort = (cert: string, key: string, harness: EtcdHarness = h): Promise<string> => new Promise((resolve) => {
    const req = https.request({
      host: harness.member(0).podIp, port: 2380, path: '/members', method: 'GET', cert, key, ca: ca.certPem, localAddress: '127.0.0.1',
      checkServerIdentity: () => undefined, timeout: 5000,
    }, (res) => { res.resume(); resolve(`HTTP ${res.statusCode}`); });
    req.on('error', (e: NodeJS.ErrnoException) => resolve(`refused: ${e.code ?? e.message}`));
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
  const secret = (name: string) => h.secretFiles().get(name)!;

  test('the cluster formed with the pin; a peer certificate is accepted on the peer port', async () => {
    expect(pin).toBe('etcd-0.etcd-peer.db.svc.cluster.local');
    expect(h.etcdctl(['put', '/peer-identity', 'formed']).status).toBe(0);
    const peer = secret('etcd-peer');
    expect(await peerPort(peer['tls.crt'], peer['tls.key'])).toBe('HTTP 200');
  });

  test('the client certificate, signed by the same CA, is refused on the peer port (and works on the client port)', async () => {
    const client = secret(etcd.clientSecretName!);
    expect(await peerPort(client['tls.crt'], client['tls.key'])).toMatch(/^refused: /);
    expect(h.etcdctl(['get', '/peer-identity', '--print-value-only']).stdout.trim()).toBe('formed');
  });

  test('without the pin (peerCertAllowedHostname: \'\'), the same client certificate is accepted on the peer port', async () => {
    const open = synthesizeForHarness(line.version, 1, { tls: EtcdTls.generate({ caCertificatePem: ca.certPem, caPrivateKeyPem: ca.keyPem }), peerCertAllowedHostname: '' });
    expect(flagsOf(etcdContainer(only(open.manifests, 'StatefulSet')).args).has('peer-cert-allowed-hostname')).toBe(false);
    const unpinned = EtcdHarness.forStatefulSet(open.manifests, { ipPrefix: ipPrefix(line, 50), clientSecretName: open.etcd.clientSecretName });
    try {
      await unpinned.startAllAndWait(60000);
      const client = unpinned.secretFiles().get(open.etcd.clientSecretName!)!;
      expect(await peerPort(client['tls.crt'], client['tls.key'], unpinned)).toBe('HTTP 200');
    } finally {
      await unpinned.dispose(2000);
    }
  }, 90000);

  test('certificates from the right CA, alike but for one name: without the pinned name refused, with it accepted', async () => {
    const alike = { ipAddresses: ['127.0.0.1'], serverAuth: true, clientAuth: true, validityDays: 1 };
    const wrong = issueLeaf(ca, { commonName: 'intruder', dnsNames: ['intruder.example.com'], ...alike });
    expect(await peerPort(wrong.certPem, wrong.keyPem)).toMatch(/^refused: /);
    const right = issueLeaf(ca, { commonName: 'another-peer', dnsNames: [pin], ...alike });
    expect(await peerPort(right.certPem, right.keyPem)).toBe('HTTP 200');
  });

  test('a member killed comes back and catches up with the writes it missed', async () => {
    await h.stop(2, 0); // SIGKILL right after SIGTERM
    // If it led, the others elect a new leader first: a put may fail for that second.
    const deadline = Date.now() + 15000;
    while (h.etcdctl(['put', '/peer-identity', 'while-down'], { endpoints: [h.clientUrl(0), h.clientUrl(1)] }).status !== 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(h.etcdctl(['get', '/peer-identity', '--print-value-only'], { endpoints: [h.clientUrl(0), h.clientUrl(1)] }).stdout.trim()).toBe('while-down');
    h.start(2);
    await h.waitHealthy([0, 1, 2], 90000);
    expect(h.etcdctl(['get', '/peer-identity', '--print-value-only', '--consistency=s'], { endpoints: [h.clientUrl(2)] }).stdout.trim()).toBe('while-down');
  }, 120000);
});
