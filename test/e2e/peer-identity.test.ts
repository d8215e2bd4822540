import * as https from 'https';
import { EtcdPeerCaMigration, EtcdTls } from '../../lib';
import { createCa, issueLeaf } from '../../lib/tls/pki';
import { etcdContainer, flagsOf, only } from '../support/synth';
import { describeEachLine, ipPrefix } from './harness/environment';
import { issueCertificates } from './harness/certificates';
import { EtcdHarness } from './harness/etcd-harness';
import { StaticPodSetup, loopbackNodes } from './harness/static-pods';
import { synthesizeForHarness } from './harness/synthesize';
import { startWriter, stopAllWriters } from './harness/writer';

/**
 * GET /members on a member's peer port with a client certificate, from 127.0.0.1: the HTTP status, or the TLS error.
 * etcd also checks a peer certificate's IP and DNS names against the address it comes from (a certificate with none
 * passes that check), so the certificates the tests make that carry names carry 127.0.0.1 too.
 */
function askPeerPort(host: string, serverCa: string, cert: string, key: string): Promise<string> {
  return new Promise((resolve) => {
    const req = https.request({
      host, port: 2380, path: '/members', method: 'GET', cert, key, ca: serverCa, localAddress: '127.0.0.1',
      checkServerIdentity: () => undefined, timeout: 5000,
    }, (res) => { res.resume(); resolve(`HTTP ${res.statusCode}`); });
    req.on('error', (e: NodeJS.ErrnoException) => resolve(`refused: ${e.code ?? e.message}`));
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/** Kill member `index`, write through the others, restart it: it must serve the write it missed. */
async function killAndCatchUp(h: EtcdHarness, endpoints: string[], index: number, key: string): Promise<void> {
  const others = endpoints.filter((_, i) => i !== index);
  await h.stop(index, 0); // SIGKILL right after SIGTERM
  // If it led, the others elect a new leader first: a put may fail for that second.
  const deadline = Date.now() + 15000;
  while (h.etcdctl(['put', key, 'while-down'], { endpoints: others }).status !== 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
  }
  expect(h.etcdctl(['get', key, '--print-value-only'], { endpoints: others }).stdout.trim()).toBe('while-down');
  h.start(index);
  await h.waitHealthy(endpoints.map((_, i) => i), 90000);
  expect(h.etcdctl(['get', key, '--print-value-only', '--consistency=s'], { endpoints: [endpoints[index]] }).stdout.trim()).toBe('while-down');
}

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

  // The certificates below that carry names carry 127.0.0.1 too (see askPeerPort): only the pin tells them apart.
  const peerPort = (cert: string, key: string, harness: EtcdHarness = h) => askPeerPort(harness.member(0).podIp, ca.certPem, cert, key);
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
    await killAndCatchUp(h, [0, 1, 2].map((i) => h.clientUrl(i)), 2, '/peer-identity');
  }, 120000);
});

/**
 * A CA of the peer plane's own, with the pin turned off so that the CA alone keeps clients out: cert-manager's second
 * chain on a StatefulSet, and `separatePeerCa` with generatePki() on static pods. Each cluster forms, refuses its own
 * client certificate on the peer port (a client certificate with no names, which the address check lets through), and
 * survives a member's kill.
 */
describeEachLine('a peer CA of its own', (line) => {
  test('StatefulSet, cert-manager separatePeerCa: forms, refuses the client certificate on the peer port, survives a kill', async () => {
    const { etcd, manifests } = synthesizeForHarness(line.version, 3, { tls: EtcdTls.certManager({ separatePeerCa: true }), peerCertAllowedHostname: '' });
    const flags = flagsOf(etcdContainer(only(manifests, 'StatefulSet')).args);
    expect(flags.has('peer-cert-allowed-hostname')).toBe(false);
    expect(flags.get('peer-trusted-ca-file')).toBe('/etc/etcd/tls/peer/ca.crt');
    const h = EtcdHarness.forStatefulSet(manifests, { ipPrefix: ipPrefix(line, 51), clientSecretName: etcd.clientSecretName });
    try {
      await h.startAllAndWait(90000);
      expect(h.etcdctl(['put', '/peer-ca', 'formed']).status).toBe(0);
      const peer = h.secretFiles().get('etcd-peer-isolated')!;
      const client = h.secretFiles().get(etcd.clientSecretName!)!;
      expect(peer['ca.crt']).not.toBe(client['ca.crt']);
      expect(await askPeerPort(h.member(0).podIp, peer['ca.crt'], peer['tls.crt'], peer['tls.key'])).toBe('HTTP 200');
      expect(await askPeerPort(h.member(0).podIp, peer['ca.crt'], client['tls.crt'], client['tls.key'])).toMatch(/^refused: /);
      await killAndCatchUp(h, [0, 1, 2].map((i) => h.clientUrl(i)), 1, '/peer-ca');
    } finally {
      await h.dispose(2000);
    }
  }, 240000);

  // What the README says of turning it on for a running cluster: the first member rolled cannot rejoin (it trusts
  // only the new peer CA and presents its certificate; the others trust only the old), the others keep quorum, and
  // switching back recovers it. The data directory is never touched.
  test('switched on for a running cluster: the first member rolled stays out, the others keep quorum, switching back recovers', async () => {
    const shared = synthesizeForHarness(line.version, 3, { tls: EtcdTls.certManager() });
    const separate = synthesizeForHarness(line.version, 3, { tls: EtcdTls.certManager({ separatePeerCa: true }) });
    const h = EtcdHarness.forStatefulSet(shared.manifests, { ipPrefix: ipPrefix(line, 53), clientSecretName: shared.etcd.clientSecretName });
    const endpoints = [0, 1, 2].map((i) => h.clientUrl(i));
    const sharedSpec = h.memberSpec(2);
    try {
      await h.startAllAndWait(90000);
      expect(h.etcdctl(['put', '/switch', 'before']).status).toBe(0);
      // As cert-manager would: the new chain's peer certificate in its new Secret; the client CA and Secrets stay.
      h.addSecrets(new Map([['etcd-peer-isolated', issueCertificates(separate.manifests).get('etcd-peer-isolated')!]]));
      await h.stop(2);
      h.replaceMember(2, { ...sharedSpec, workload: only(separate.manifests, 'StatefulSet') });
      h.start(2);
      await new Promise((r) => setTimeout(r, 20000));
      expect(h.etcdctl(['endpoint', 'health'], { endpoints: [endpoints[2]], timeoutMs: 10000 }).status).not.toBe(0);
      // Kept out by trust, each side refusing the other's CA.
      expect(h.log(2)).toMatch(/certificate signed by unknown authority|bad certificate/);
      expect(h.etcdctl(['put', '/switch', 'during'], { endpoints: endpoints.slice(0, 2) }).status).toBe(0);
      await h.stop(2);
      h.replaceMember(2, sharedSpec);
      h.start(2);
      await h.waitHealthy([0, 1, 2], 90000);
      expect(h.etcdctl(['get', '/switch', '--print-value-only', '--consistency=s'], { endpoints: [endpoints[2]] }).stdout.trim()).toBe('during');
    } finally {
      await h.dispose(2000);
    }
  }, 240000);

  // The way a running cluster takes instead: peerCaMigration TRUST_BOTH, then PRESENT_PEER_CA, then separatePeerCa
  // alone, each rolled through every member, with a write every second all along.
  test('moved through peerCaMigration: every step rolls with every member in, no write fails, and the old CA is refused at the end', async () => {
    const stepManifests = (peerCaMigration?: EtcdPeerCaMigration) => synthesizeForHarness(line.version, 3, { tls: EtcdTls.certManager({ separatePeerCa: true, peerCaMigration }) }).manifests;
    const start = synthesizeForHarness(line.version, 3, { tls: EtcdTls.certManager() });
    const h = EtcdHarness.forStatefulSet(start.manifests, { ipPrefix: ipPrefix(line, 54), clientSecretName: start.etcd.clientSecretName });
    const sharedPeer = h.secretFiles().get('etcd-peer')!;
    let writer: ReturnType<typeof startWriter> | undefined;
    try {
      await h.startAllAndWait(90000);
      for (let k = 0; k < 20; k++) expect(h.etcdctl(['put', `/migration/${k}`, `v${k}`]).status).toBe(0);
      // As cert-manager would: the peer chain's certificate, issued once; the cluster's CA and other Secrets stay.
      const trustBoth = stepManifests(EtcdPeerCaMigration.TRUST_BOTH);
      const isolated = issueCertificates(trustBoth).get('etcd-peer-isolated')!;
      h.addSecrets(new Map([['etcd-peer-isolated', isolated]]));
      writer = startWriter(h, 'migration');
      for (const manifests of [trustBoth, stepManifests(EtcdPeerCaMigration.PRESENT_PEER_CA), stepManifests()]) {
        const sts = only(manifests, 'StatefulSet');
        for (const i of [2, 1, 0]) {
          await h.stop(i);
          h.replaceMember(i, { ...h.memberSpec(i), workload: sts });
          h.start(i);
          await h.waitHealthy([0, 1, 2], 90000);
        }
      }
      const writes = await writer.stop();
      writer = undefined;
      console.log(`${line.version}: moved to a peer CA of its own in 9 restarts; ${writes.ok} writes, ${writes.failed.length} failed, the slowest ${writes.slowestMs} ms`);
      expect(writes.failed).toEqual([]);
      expect(writes.ok).toBeGreaterThan(10);
      expect(h.etcdctl(['get', '/migration/', '--prefix', '--keys-only']).stdout.trim().split('\n').filter(Boolean)).toHaveLength(20);
      // The end: the peer port trusts the peer CA alone. The old peer certificate (the pinned name, the old CA) is
      // refused; the new one is accepted.
      expect(await askPeerPort(h.member(0).podIp, isolated['ca.crt'], sharedPeer['tls.crt'], sharedPeer['tls.key'])).toMatch(/^refused: /);
      expect(await askPeerPort(h.member(0).podIp, isolated['ca.crt'], isolated['tls.crt'], isolated['tls.key'])).toBe('HTTP 200');
    } finally {
      if (writer) await writer.stop();
      stopAllWriters();
      await h.dispose(2000);
    }
  }, 420000);

  test('static pods, separatePeerCa: forms, refuses kube-apiserver\'s and the health check\'s certificates on the peer port, survives a kill', async () => {
    const setup = new StaticPodSetup(line.version, loopbackNodes(3, ipPrefix(line, 52)), {}, { separatePeerCa: true, peerCertAllowedHostname: '' });
    const h = setup.harness();
    try {
      await h.startAllAndWait(90000);
      expect(h.etcdctl(['put', '/peer-ca', 'formed']).status).toBe(0);
      const files = setup.pki.filesFor('cp-1');
      const at = (f: string) => files[`${setup.etcd.pkiDir}/${f}`];
      const peerCa = at('peer-ca.crt');
      const api = setup.apiServerIdentity();
      expect(await askPeerPort(setup.nodes[1].ip, peerCa, at('peer-isolated.crt'), at('peer-isolated.key'))).toBe('HTTP 200');
      expect(await askPeerPort(setup.nodes[1].ip, peerCa, at('healthcheck-client.crt'), at('healthcheck-client.key'))).toMatch(/^refused: /);
      expect(await askPeerPort(setup.nodes[1].ip, peerCa, api.cert, api.key)).toMatch(/^refused: /);
      await killAndCatchUp(h, setup.etcd.clientEndpoints, 0, '/peer-ca');
    } finally {
      await h.dispose(2000);
    }
  }, 240000);
});
