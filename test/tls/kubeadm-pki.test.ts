import { X509Certificate, createPrivateKey } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Duration, Testing } from 'cdk8s';
import { EtcdStaticPodCluster } from '../../lib';
import { createCa } from '../../lib/tls/pki';
import { etcdContainer, flagsOf, synth } from '../support/synth';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const nodes = [{ name: 'cp-1', ip: '10.0.0.11' }, { name: 'cp-2', ip: '10.0.0.12' }, { name: 'cp-3', ip: 'fd00::13' }];

describe("kubeadm's etcd PKI", () => {
  const app = Testing.app();
  const etcd = new EtcdStaticPodCluster(app, 'etcd', { nodes });
  const pki = etcd.generatePki();
  const cert = (node: string, file: string) => new X509Certificate(pki.filesFor(node)[file]);
  const ca = new X509Certificate(pki.caCertificatePem);

  test("kubeadm's files, at kubeadm's paths, for every node", () => {
    expect(pki.nodeNames).toEqual(['cp-1', 'cp-2', 'cp-3']);
    expect(Object.keys(pki.filesFor('cp-1')).sort()).toEqual([
      '/etc/kubernetes/pki/apiserver-etcd-client.crt', '/etc/kubernetes/pki/apiserver-etcd-client.key',
      '/etc/kubernetes/pki/etcd/ca.crt', '/etc/kubernetes/pki/etcd/ca.key',
      '/etc/kubernetes/pki/etcd/healthcheck-client.crt', '/etc/kubernetes/pki/etcd/healthcheck-client.key',
      '/etc/kubernetes/pki/etcd/peer.crt', '/etc/kubernetes/pki/etcd/peer.key',
      '/etc/kubernetes/pki/etcd/server.crt', '/etc/kubernetes/pki/etcd/server.key',
    ]);
  });

  test('the paths are the ones the manifests and kube-apiserver flags use', () => {
    const flagFiles = etcd.kubeApiServerFlags().slice(1).map((f) => f.split('=')[1]);
    for (const f of flagFiles) expect(Object.keys(pki.filesFor('cp-1'))).toContain(f);
  });

  test.each(nodes)('server and peer certificates of $name: CN, SANs, both usages', ({ name, ip }) => {
    for (const file of ['server', 'peer']) {
      const c = cert(name, `/etc/kubernetes/pki/etcd/${file}.crt`);
      expect(c.subject).toBe(`CN=${name}`);
      const sans = (c.subjectAltName ?? '').split(', ');
      expect(sans).toEqual(expect.arrayContaining([`DNS:${name}`, 'DNS:localhost', 'IP Address:127.0.0.1']));
      expect(c.checkIP(ip)).toBe(ip);
      expect(c.checkIP('::1')).toBe('::1');
      expect(c.keyUsage).toEqual(expect.arrayContaining([SERVER_AUTH, CLIENT_AUTH]));
    }
  });

  test('client certificates: healthcheck and apiserver, client auth only', () => {
    const health = cert('cp-1', '/etc/kubernetes/pki/etcd/healthcheck-client.crt');
    expect(health.subject).toBe('CN=kube-etcd-healthcheck-client');
    expect(health.keyUsage).toEqual([CLIENT_AUTH]);
    const api = cert('cp-2', '/etc/kubernetes/pki/apiserver-etcd-client.crt');
    expect(api.subject).toBe('CN=kube-apiserver-etcd-client');
    expect(api.keyUsage).toEqual([CLIENT_AUTH]);
  });

  test('every certificate chains to the one CA and matches its key', () => {
    for (const node of pki.nodeNames) {
      const files = pki.filesFor(node);
      expect(files['/etc/kubernetes/pki/etcd/ca.crt']).toBe(pki.caCertificatePem);
      for (const [file, pem] of Object.entries(files)) {
        if (!file.endsWith('.crt') || file.endsWith('/ca.crt')) continue;
        const c = new X509Certificate(pem);
        expect({ file, issued: c.checkIssued(ca) && c.verify(ca.publicKey) }).toEqual({ file, issued: true });
        expect(c.checkPrivateKey(createPrivateKey(files[file.replace(/\.crt$/, '.key')]))).toBe(true);
      }
    }
    expect(ca.ca).toBe(true);
    expect(ca.checkPrivateKey(createPrivateKey(pki.filesFor('cp-1')['/etc/kubernetes/pki/etcd/ca.key']))).toBe(true);
  });

  test('is never part of the manifests', () => {
    for (const node of etcd.nodeNames) {
      const text = JSON.stringify(synth(etcd.chartFor(node)));
      expect(text).not.toMatch(/BEGIN|PRIVATE KEY|Secret/);
    }
  });

  test('writeTo lays the files out per node, keys readable by the owner only', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pki-'));
    const written = pki.writeTo(dir);
    expect(written).toHaveLength(30);
    const key = path.join(dir, 'cp-1', 'etc/kubernetes/pki/etcd/server.key');
    const crt = path.join(dir, 'cp-1', 'etc/kubernetes/pki/etcd/server.crt');
    expect(fs.statSync(key).mode & 0o777).toBe(0o600);
    expect(fs.statSync(crt).mode & 0o777).toBe(0o644);
    expect(fs.readFileSync(crt, 'utf8')).toBe(pki.filesFor('cp-1')['/etc/kubernetes/pki/etcd/server.crt']);
  });
});

describe('PKI options', () => {
  const ca = createCa('existing-etcd-ca', 30);

  test('signs with a supplied CA, as adding a node to a running cluster needs', () => {
    const etcd = new EtcdStaticPodCluster(Testing.app(), 'etcd', { nodes: nodes.slice(0, 1) });
    const pki = etcd.generatePki({ caCertificatePem: ca.certPem, caPrivateKeyPem: ca.keyPem, validity: Duration.days(30) });
    expect(pki.caCertificatePem).toBe(ca.certPem);
    const server = new X509Certificate(pki.filesFor('cp-1')['/etc/kubernetes/pki/etcd/server.crt']);
    expect(server.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
  });

  test.each([
    [{ caCertificatePem: ca.certPem }, 'generatePki options.caCertificatePem and generatePki options.caPrivateKeyPem must be given together (got only one)'],
    [{ validity: Duration.hours(12) }, 'generatePki options.validity must be a whole number of days, at least 1 (got 12 hours)'],
    [{ caCertificatePem: 'x', caPrivateKeyPem: ca.keyPem }, 'generatePki options.caCertificatePem must be a PEM certificate'],
  ])('refuses %#', (options, message) => {
    const etcd = new EtcdStaticPodCluster(Testing.app(), 'etcd', { nodes: nodes.slice(0, 1) });
    expect(() => etcd.generatePki(options)).toThrow(message);
  });

  test('filesFor refuses unknown nodes', () => {
    const etcd = new EtcdStaticPodCluster(Testing.app(), 'etcd', { nodes: nodes.slice(0, 1) });
    expect(() => etcd.generatePki().filesFor('cp-9')).toThrow("nodeName must be one of cp-1 (got 'cp-9')");
  });
});

describe('the pinned peer name (--peer-cert-allowed-hostname=localhost) against the generated PKI', () => {
  const etcd = new EtcdStaticPodCluster(Testing.app(), 'etcd', { nodes });
  const pki = etcd.generatePki();
  const pin = flagsOf(etcdContainer(synth(etcd.chartFor('cp-1'))[0]).command.slice(1)).get('peer-cert-allowed-hostname');

  test.each(nodes)("every node's peer certificate is valid for the pin, and no client certificate is ($name)", ({ name }) => {
    expect(pin).toBe('localhost');
    const cert = (file: string) => new X509Certificate(pki.filesFor(name)[file]);
    expect(cert('/etc/kubernetes/pki/etcd/peer.crt').checkHost(pin!)).toBe(pin);
    expect(cert('/etc/kubernetes/pki/etcd/healthcheck-client.crt').checkHost(pin!)).toBeUndefined();
    expect(cert('/etc/kubernetes/pki/apiserver-etcd-client.crt').checkHost(pin!)).toBeUndefined();
  });
});

describe("separatePeerCa: a CA of the peer plane's own on static pods", () => {
  const etcd = new EtcdStaticPodCluster(Testing.app(), 'etcd', { nodes, separatePeerCa: true });
  const pki = etcd.generatePki();
  const flags = flagsOf(etcdContainer(synth(etcd.chartFor('cp-1'))[0]).command.slice(1));
  const file = (node: string, f: string) => pki.filesFor(node)[`/etc/kubernetes/pki/etcd/${f}`];

  test('the peer port trusts peer-ca.crt, the client port ca.crt', () => {
    expect(flags.get('peer-trusted-ca-file')).toBe('/etc/kubernetes/pki/etcd/peer-ca.crt');
    expect(flags.get('trusted-ca-file')).toBe('/etc/kubernetes/pki/etcd/ca.crt');
    expect(flags.get('peer-cert-file')).toBe('/etc/kubernetes/pki/etcd/peer-isolated.crt');
    expect(flags.get('peer-key-file')).toBe('/etc/kubernetes/pki/etcd/peer-isolated.key');
    const files = Object.keys(pki.filesFor('cp-2'));
    expect(files).toEqual(expect.arrayContaining(['/etc/kubernetes/pki/etcd/peer-ca.crt', '/etc/kubernetes/pki/etcd/peer-isolated.crt', '/etc/kubernetes/pki/etcd/peer-isolated.key']));
    // kubeadm's `certs renew` re-signs peer.crt with ca.crt: the members read another file, and no node holds the
    // peer CA's key (the PKI object hands it over for safekeeping).
    expect(files).not.toContain('/etc/kubernetes/pki/etcd/peer.crt');
    expect(files).not.toContain('/etc/kubernetes/pki/etcd/peer-ca.key');
    expect(pki.peerCaCertificatePem).toBe(pki.filesFor('cp-2')['/etc/kubernetes/pki/etcd/peer-ca.crt']);
    expect(new X509Certificate(pki.peerCaCertificatePem!).checkPrivateKey(createPrivateKey(pki.peerCaPrivateKeyPem!))).toBe(true);
  });

  test.each(nodes)('peer certificates chain to the peer CA only, client certificates to ca.crt only ($name)', ({ name }) => {
    const peerCa = new X509Certificate(file(name, 'peer-ca.crt')).publicKey;
    const ca = new X509Certificate(file(name, 'ca.crt')).publicKey;
    expect(new X509Certificate(file(name, 'peer-isolated.crt')).verify(peerCa)).toBe(true);
    expect(new X509Certificate(file(name, 'peer-isolated.crt')).verify(ca)).toBe(false);
    expect(new X509Certificate(file(name, 'server.crt')).verify(ca)).toBe(true);
    expect(new X509Certificate(file(name, 'healthcheck-client.crt')).verify(peerCa)).toBe(false);
    expect(new X509Certificate(pki.filesFor(name)['/etc/kubernetes/pki/apiserver-etcd-client.crt']).verify(peerCa)).toBe(false);
  });

  test('a supplied peer CA signs the peer certificates, as adding a node to a running cluster needs', () => {
    const peerCa = createCa('existing-peer-ca', 30);
    const one = new EtcdStaticPodCluster(Testing.app(), 'etcd', { nodes: nodes.slice(0, 1), separatePeerCa: true });
    const files = one.generatePki({ peerCaCertificatePem: peerCa.certPem, peerCaPrivateKeyPem: peerCa.keyPem }).filesFor('cp-1');
    expect(files['/etc/kubernetes/pki/etcd/peer-ca.crt']).toBe(peerCa.certPem);
    expect(new X509Certificate(files['/etc/kubernetes/pki/etcd/peer-isolated.crt']).verify(new X509Certificate(peerCa.certPem).publicKey)).toBe(true);
  });

  test("by default kubeadm's single CA: no peer-ca files, and a supplied peer CA is refused", () => {
    const single = new EtcdStaticPodCluster(Testing.app(), 'etcd', { nodes: nodes.slice(0, 1) });
    const peerCa = createCa('stray-peer-ca', 30);
    expect(Object.keys(single.generatePki().filesFor('cp-1')).some((f) => f.includes('peer-ca') || f.includes('peer-isolated'))).toBe(false);
    expect(single.generatePki().peerCaCertificatePem).toBeUndefined();
    expect(() => single.generatePki({ peerCaCertificatePem: peerCa.certPem, peerCaPrivateKeyPem: peerCa.keyPem }))
      .toThrow('generatePki options.peerCaCertificatePem needs separatePeerCa: true on the cluster (got false)');
  });
});
