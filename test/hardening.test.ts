import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Chart, Duration, Size, Testing } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import {
  EtcdCluster, EtcdClusterProps, EtcdNetworkPeer, EtcdResources, EtcdStaticPodCluster,
  EtcdStaticPodClusterProps, EtcdTls, EtcdUpdateStrategy,
} from '../lib';
import { warningsOf } from '../lib/shared/warnings';
import { etcdContainer, flagsOf, only, synth } from './support/synth';

const nodes3 = [{ name: 'cp-1', ip: '10.0.0.11' }, { name: 'cp-2', ip: '10.0.0.12' }, { name: 'cp-3', ip: '10.0.0.13' }];

function cluster(props: EtcdClusterProps = {}) {
  const chart = new Chart(Testing.app(), 'test');
  const etcd = new EtcdCluster(chart, 'etcd', { clients: [EtcdNetworkPeer.namespace('apps')], ...props });
  const manifests = synth(chart);
  return { chart, etcd, manifests, sts: only(manifests, 'StatefulSet') };
}

// Untyped JavaScript and the other jsii languages can pass anything: these casts stand in for them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const untyped = (value: unknown) => value as any;

describe('objects that would collide anywhere in the App are refused, naming both constructs', () => {
  const synthAll = (app: App) => () => app.synth();

  test('the same name twice in one namespace (two charts)', () => {
    const app = Testing.app();
    new EtcdCluster(new Chart(app, 'a'), 'etcd', { clients: [] });
    new EtcdCluster(new Chart(app, 'b'), 'etcd', { clients: [] });
    expect(synthAll(app)).toThrow("two objects would be apps/v1 StatefulSet default/etcd: one made by 'a/etcd/Resource', one by 'b/etcd/Resource'. Give the clusters (or their Secrets and Certificates) different names or namespaces");
  });

  test("'etcd' next to 'etcd-peer': both would render Service/etcd-peer", () => {
    const app = Testing.app();
    const chart = new Chart(app, 'c');
    new EtcdCluster(chart, 'etcd', { clients: [] });
    new EtcdCluster(chart, 'etcd-peer', { clients: [] });
    expect(synthAll(app)).toThrow("two objects would be v1 Service default/etcd-peer: one made by 'c/etcd/PeerService', one by 'c/etcd-peer/ClientService'");
  });

  test("a cluster's Secret clashing with another construct's object of the same kind and name", () => {
    const app = Testing.app();
    const chart = new Chart(app, 'c');
    new EtcdCluster(chart, 'etcd', { clients: [], tls: EtcdTls.generate() });
    new k8s.KubeSecret(chart, 'mine', { metadata: { name: 'etcd-client', namespace: 'default' } });
    expect(synthAll(app)).toThrow("two objects would be v1 Secret default/etcd-client: one made by 'c/etcd/ClientSecret', one by 'c/mine'");
  });

  test('the same name in two namespaces is fine', () => {
    const app = Testing.app();
    new EtcdCluster(new Chart(app, 'a', { namespace: 'one' }), 'etcd', { clients: [] });
    new EtcdCluster(new Chart(app, 'b', { namespace: 'two' }), 'etcd', { clients: [] });
    expect(synthAll(app)).not.toThrow();
  });

  test("static-pod manifests of different nodes are all kube-system/etcd, and that is no collision", () => {
    const app = Testing.app();
    new EtcdStaticPodCluster(app, 'etcd', { nodes: nodes3 });
    expect(synthAll(app)).not.toThrow();
  });
});

describe('bad input is refused at synth time with a message that names the prop, the value and what is allowed', () => {
  test.each<[string, EtcdClusterProps, string]>([
    ['networkPolicy off with clients', { networkPolicy: false, clients: [EtcdNetworkPeer.namespace('apps')] },
      'clients and monitoring need the NetworkPolicy, but networkPolicy is false (got namespace apps): without it every source reaches etcd; remove them, or drop networkPolicy: false'],
    ['networkPolicy off with monitoring', { networkPolicy: false, clients: [], monitoring: [EtcdNetworkPeer.namespace('monitoring')] },
      'clients and monitoring need the NetworkPolicy, but networkPolicy is false (got namespace monitoring)'],
    ['a node selector key Kubernetes rejects', { nodeSelector: { 'bad key!': 'x' } },
      "nodeSelector key must be a Kubernetes label key: an optional DNS-subdomain prefix and '/', then at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit (got 'bad key!')"],
    ['a node selector value Kubernetes rejects', { nodeSelector: { disk: 'fast ssd' } },
      "nodeSelector 'disk' value must be a Kubernetes label value: empty, or at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit (got 'fast ssd')"],
    ['a node selector key with a bad prefix', { nodeSelector: { 'Example.com/role': 'etcd' } }, "nodeSelector key must be a Kubernetes label key"],
    ['a toleration operator', { tolerations: [{ key: 'dedicated', operator: 'Sometimes' }] }, "tolerations[0].operator must be one of Equal, Exists (got 'Sometimes')"],
    ['a toleration value with Exists', { tolerations: [{ key: 'dedicated', operator: 'Exists', value: 'etcd' }] }, "tolerations[0].value must be empty when operator is 'Exists' (got 'etcd')"],
    ['a toleration effect', { tolerations: [{ key: 'dedicated', value: 'etcd', effect: 'NoRun' }] }, "tolerations[0].effect must be one of NoSchedule, PreferNoSchedule, NoExecute, or empty for all (got 'NoRun')"],
    ['a toleration key', { tolerations: [{ key: 'app name', operator: 'Exists' }] }, "tolerations[0].key key must be a Kubernetes label key"],
    ['an empty toleration key with Equal', { tolerations: [{ value: 'x' }] }, "tolerations[0].operator must be 'Exists' when key is empty (got 'Equal'): an empty key with Exists tolerates every taint"],
    ['tolerationSeconds without NoExecute', { tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 30 }] },
      "tolerations[0].tolerationSeconds needs effect 'NoExecute' (got effect 'NoSchedule'): only NoExecute taints evict"],
    ['an enum value outside the enum (untyped JavaScript)', { podAntiAffinity: untyped('required') }, 'podAntiAffinity must be one of REQUIRED, PREFERRED, NONE (got "required")'],
    ['members as a string (untyped JavaScript)', { members: untyped('3') }, 'members must be a number (got string "3")'],
    ['a cluster domain that contains svc', { clusterDomain: 'svc.cluster.local' },
      "clusterDomain must be the domain after '.svc.' in a Service name, such as 'cluster.local' (got 'svc.cluster.local'): member names would end in '.svc.svc.cluster.local'"],
    ['a zero storage size (cdk8s itself refuses negative sizes when they are created)', { storageSize: Size.gibibytes(0) },
      'storageSize must be at least 640 MiB to hold the WAL reserve (512 MiB) and a useful database (got 0 bytes)'],
    ['a zero heartbeat (cdk8s itself refuses negative durations when they are created)', { tuning: { heartbeatInterval: Duration.millis(0) } },
      'tuning.heartbeatInterval must be a whole number of milliseconds, at least 1ms (got 0 millis)'],
    ['an update partition above the member count', { updateStrategy: EtcdUpdateStrategy.rollingUpdate({ partition: 4 }) }, 'updateStrategy.partition must be a whole number between 0 and 3 (got 4)'],
    ['a cluster token with spaces', { initialClusterToken: 'my token' }, "initialClusterToken must be up to 128 letters, digits, '.', '_' and '-', starting with a letter or digit (got 'my token')"],
  ])('EtcdCluster: %s', (_case, props, message) => {
    expect(() => cluster(props)).toThrow(message);
  });

  test.each<[string, () => unknown, string]>([
    ['EtcdNetworkPeer.pods() label key', () => EtcdNetworkPeer.pods({ labels: { 'app name': 'api' } }), "EtcdNetworkPeer.pods() labels key must be a Kubernetes label key"],
    ['pods() label value', () => EtcdNetworkPeer.pods({ labels: { app: 'bad value!' } }), "EtcdNetworkPeer.pods() labels 'app' value must be a Kubernetes label value"],
    ['pods() namespace label key', () => EtcdNetworkPeer.pods({ labels: { app: 'api' }, namespaceLabels: { 'bad key!': 'x' } }), 'EtcdNetworkPeer.pods() namespaceLabels key must be a Kubernetes label key'],
    ['pods() empty namespace labels', () => EtcdNetworkPeer.pods({ labels: { app: 'api' }, namespaceLabels: {} }), 'EtcdNetworkPeer.pods() namespaceLabels must not be empty'],
    ['namespace() name', () => EtcdNetworkPeer.namespace('Apps'), "EtcdNetworkPeer.namespace() name must be a DNS-1123 label"],
    ['ipBlock() not a range', () => EtcdNetworkPeer.ipBlock('10.0.0.1'), "EtcdNetworkPeer.ipBlock() cidr must be an IPv4 or IPv6 range such as '10.0.0.0/24' or 'fd00::/64' (got '10.0.0.1')"],
    ['ipBlock() prefix too long', () => EtcdNetworkPeer.ipBlock('10.0.0.0/33'), "EtcdNetworkPeer.ipBlock() cidr must be an IPv4 or IPv6 range"],
    ['ipBlock() host bits', () => EtcdNetworkPeer.ipBlock('10.0.0.1/24'), "EtcdNetworkPeer.ipBlock() cidr must not set host bits after the prefix (got '10.0.0.1/24'): Kubernetes rejects it"],
    ['ipBlock() except outside', () => EtcdNetworkPeer.ipBlock('10.0.0.0/24', ['10.0.1.0/28']), "EtcdNetworkPeer.ipBlock() exceptCidrs must be ranges strictly inside 10.0.0.0/24 (got '10.0.1.0/28')"],
    ['ipBlock() IPv6 host bits', () => EtcdNetworkPeer.ipBlock('fd00::1/64'), "EtcdNetworkPeer.ipBlock() cidr must not set host bits after the prefix (got 'fd00::1/64')"],
    ['ipBlock() IPv6 with an embedded IPv4 tail', () => EtcdNetworkPeer.ipBlock('::ffff:10.0.0.0/104'), 'EtcdNetworkPeer.ipBlock() cidr must be an IPv4 or IPv6 range'],
    ['ipBlock() IPv6 except outside', () => EtcdNetworkPeer.ipBlock('fd00:1::/32', ['fd00:2::/48']), "EtcdNetworkPeer.ipBlock() exceptCidrs must be ranges strictly inside fd00:1::/32 (got 'fd00:2::/48')"],
    ['ipBlock() except of another family', () => EtcdNetworkPeer.ipBlock('10.0.0.0/24', ['fd00::/64']), 'EtcdNetworkPeer.ipBlock() exceptCidrs must be ranges strictly inside 10.0.0.0/24'],
    ['a memory request too small for etcd to start', () => EtcdResources.custom({ cpuRequestMillis: 100, memoryRequest: Size.mebibytes(32) }),
      'resources.memoryRequest must be a whole number of bytes, at least 64 MiB (got 32Mi): an empty etcd member already uses about 30 MiB, and it grows with the data'],
    ['a memory limit too small for etcd to start', () => EtcdResources.custom({ cpuRequestMillis: 100, memoryRequest: Size.mebibytes(64), memoryLimit: Size.mebibytes(48) }),
      'resources.memoryLimit must be a whole number of bytes, at least 64 MiB (got 48Mi)'],
    ['a CPU limit below the request', () => EtcdResources.custom({ cpuRequestMillis: 500, cpuLimitMillis: 250, memoryRequest: Size.gibibytes(1) }),
      'resources.cpuLimitMillis must be a whole number of millicores, at least resources.cpuRequestMillis (500) (got 250): Kubernetes rejects a limit below the request'],
  ])('%s', (_case, make, message) => {
    expect(make).toThrow(message);
  });

  const staticPods = (props: Partial<EtcdStaticPodClusterProps>) => () => new EtcdStaticPodCluster(Testing.app(), 'etcd', { nodes: nodes3, ...props });
  const withIp = (ip: string) => [{ name: 'cp-1', ip }, nodes3[1], nodes3[2]];
  test.each<[string, Partial<EtcdStaticPodClusterProps>, string]>([
    ['the unspecified IPv4 address', { nodes: withIp('0.0.0.0') }, "nodes[0].ip must be an address other nodes can reach (got '0.0.0.0' for node 'cp-1'): it is in 0.0.0.0/8, unspecified"],
    ['the unspecified IPv6 address', { nodes: withIp('::') }, "nodes[0].ip must be an address other nodes can reach (got '::' for node 'cp-1'): it is in ::/128, unspecified"],
    ['a link-local IPv6 address with a zone', { nodes: withIp('fe80::1%eth0') }, "nodes[0].ip must be an IPv4 or IPv6 address without a zone (got 'fe80::1%eth0' for node 'cp-1')"],
    ['a link-local IPv6 address', { nodes: withIp('fe80::1') }, "nodes[0].ip must be an address other nodes can reach (got 'fe80::1' for node 'cp-1'): it is in fe80::/10, link-local"],
    ['a link-local IPv4 address', { nodes: withIp('169.254.10.1') }, 'it is in 169.254.0.0/16, link-local'],
    ['a multicast address', { nodes: withIp('224.0.0.251') }, 'it is in 224.0.0.0/4, multicast'],
    ['an IPv6 multicast address', { nodes: withIp('ff02::1') }, 'it is in ff00::/8, multicast'],
    ['the broadcast address', { nodes: withIp('255.255.255.255') }, 'it is in 240.0.0.0/4, reserved, or the broadcast address'],
    ['dataDir equal to pkiDir', { dataDir: '/etc/kubernetes/pki/etcd' },
      "dataDir and pkiDir must be apart, neither inside the other (got dataDir '/etc/kubernetes/pki/etcd', pkiDir '/etc/kubernetes/pki/etcd'): etcd's data directory holds only its data, and a restore or wipe of it must never touch certificates"],
    ['dataDir inside pkiDir', { dataDir: '/etc/kubernetes/pki/etcd/data' }, "dataDir and pkiDir must be apart, neither inside the other (got dataDir '/etc/kubernetes/pki/etcd/data'"],
    ['dataDir containing pkiDir', { dataDir: '/srv/etcd', pkiDir: '/srv/etcd/pki' }, "dataDir and pkiDir must be apart, neither inside the other (got dataDir '/srv/etcd', pkiDir '/srv/etcd/pki')"],
    ['dataDir containing apiServerPkiDir', { dataDir: '/srv/k8s', apiServerPkiDir: '/srv/k8s/pki' }, "dataDir and apiServerPkiDir must be apart"],
    ["dataDir '/'", { dataDir: '/' }, "dataDir must be a directory of its own, such as '/var/lib/etcd' (got '/'): it is a system directory, and etcd takes its data dir over (mode 0700)"],
    ['dataDir a system directory', { dataDir: '/var/lib' }, "dataDir must be a directory of its own, such as '/var/lib/etcd' (got '/var/lib')"],
    ["dataDir in the kubelet's manifest directory", { dataDir: '/etc/kubernetes/manifests/etcd' }, "dataDir must not be inside /etc/kubernetes/manifests (got '/etc/kubernetes/manifests/etcd')"],
    ['a joining node listed before the members it joins', { nodes: [{ name: 'cp-4', ip: '10.0.0.14', joinExisting: true }, ...nodes3] },
      "nodes must list the joining node 'cp-4' last, after the members of the running cluster it joins (got it before 'cp-1'): it can only join once they exist"],
    ['nodes as a string count (untyped JavaScript)', { nodes: untyped([nodes3[0], nodes3[1]]) }, 'nodes must be one of 1, 3, 5, 7 (got 2)'],
  ])('EtcdStaticPodCluster: %s', (_case, props, message) => {
    expect(staticPods(props)).toThrow(message);
  });

  test('EtcdCluster directly under the App', () => {
    expect(() => new EtcdCluster(Testing.app(), 'etcd')).toThrow(
      "EtcdCluster 'etcd' must be created inside a Chart, not directly under the App: its objects are written by a chart, e.g. new EtcdCluster(new Chart(app, 'etcd', { namespace: 'etcd' }), 'etcd')");
  });

  test('two static-pod clusters with the same node names in one App', () => {
    const app = Testing.app();
    new EtcdStaticPodCluster(app, 'main', { nodes: nodes3 });
    expect(() => new EtcdStaticPodCluster(app, 'events', { nodes: nodes3 })).toThrow(
      "node 'cp-1' already has a manifest in this App (etcd-cp-1.k8s.yaml, from 'main'): a control-plane node runs one etcd, so two EtcdStaticPodClusters cannot share a node name");
  });

  test('allowClient and allowMonitoring without a NetworkPolicy', () => {
    const etcd = new EtcdCluster(Testing.chart(), 'etcd', { networkPolicy: false });
    expect(() => etcd.allowClient(EtcdNetworkPeer.namespace('apps'))).toThrow('allowClient(namespace apps) needs the NetworkPolicy, but networkPolicy is false: without it every source already reaches etcd');
    expect(() => etcd.allowMonitoring(EtcdNetworkPeer.anywhere())).toThrow('allowMonitoring(anywhere) needs the NetworkPolicy');
  });
});

describe('warnings', () => {
  test.each(['127.0.0.1', '127.1.2.3', '::1'])('a loopback node IP %s: only a single-host cluster can use it', (ip) => {
    const etcd = new EtcdStaticPodCluster(Testing.app(), 'etcd', { nodes: [{ name: 'cp-1', ip }, nodes3[1], nodes3[2]] });
    synth(etcd.chartFor('cp-1'));
    expect(warningsOf(etcd)).toContain(`nodes[0].ip '${ip}' of node 'cp-1' is a loopback address: only members on the same host can reach it, so this is a single-host development or test cluster, never real control-plane nodes`);
  });

  test('a volume whose derived quota is below etcd\'s 2 GiB default, saying which size gives the default', () => {
    const { etcd } = cluster({ storageSize: Size.gibibytes(1) });
    expect(warningsOf(etcd)).toContain("storageSize 1 GiB gives a backend quota of 256 MiB, below etcd's 2 GiB default: the cluster raises NOSPACE and stops taking writes that early. A storageSize of 4608 MiB or more gives at least the default");
    expect(warningsOf(cluster({ storageSize: Size.mebibytes(4608) }).etcd).filter((w) => w.includes('storageSize'))).toEqual([]);
  });

  test('strict mode (context or CDK8S_ETCD_STRICT=true) makes warnings fail synthesis', () => {
    const strictApp = Testing.app();
    strictApp.node.setContext('cdk8s-etcd:strict', true);
    new EtcdCluster(new Chart(strictApp, 'c'), 'etcd', { storageSize: Size.gibibytes(1), clients: [] });
    expect(() => strictApp.synth()).toThrow(/\[c\/etcd\] storageSize 1 GiB gives a backend quota of 256 MiB.*\(strict mode: cdk8s-etcd warnings fail synthesis\)/);

    const app = Testing.app();
    new EtcdCluster(new Chart(app, 'c'), 'etcd', { clients: [] });
    process.env.CDK8S_ETCD_STRICT = 'true';
    try {
      expect(() => app.synth()).toThrow('no clients are declared, so the NetworkPolicy admits nobody to the client port: pass clients or call allowClient() (strict mode');
    } finally {
      delete process.env.CDK8S_ETCD_STRICT;
    }
  });

  test('strict mode passes a clean configuration', () => {
    const app = Testing.app();
    app.node.setContext('cdk8s-etcd:strict', true);
    new EtcdCluster(new Chart(app, 'c'), 'etcd', { clients: [EtcdNetworkPeer.namespace('apps')] });
    expect(() => app.synth()).not.toThrow();
  });
});

describe('safer defaults', () => {
  test('a Ready member is available at once (readiness needs a linearizable read), so the controller never counts a working member as unavailable', () => {
    expect(cluster().sts.spec.minReadySeconds).toBe(0);
  });

  test('GOMEMLIMIT is 90% of the memory limit whenever there is one', () => {
    const env = (props: EtcdClusterProps) => etcdContainer(cluster(props).sts).env;
    expect(env({ resources: EtcdResources.small() })).toContainEqual({ name: 'GOMEMLIMIT', value: '7372MiB' });
    expect(env({ resources: EtcdResources.minimal() }).map((e: { name: string }) => e.name)).not.toContain('GOMEMLIMIT');
    const pods = new EtcdStaticPodCluster(Testing.app(), 'etcd', {
      nodes: nodes3, resources: EtcdResources.custom({ cpuRequestMillis: 100, memoryRequest: Size.mebibytes(512), memoryLimit: Size.gibibytes(2) }),
    });
    expect(etcdContainer(synth(pods.chartFor('cp-1'))[0]).env).toEqual([{ name: 'GOMEMLIMIT', value: '1843MiB' }]);
    expect(etcdContainer(synth(new EtcdStaticPodCluster(Testing.app(), 'etcd', { nodes: nodes3 }).chartFor('cp-1'))[0]).env).toBeUndefined();
  });

  test('ECDSA certificates carry no key encipherment usage', () => {
    const usages = cluster().manifests.filter((m) => m.kind === 'Certificate' && !m.spec.isCA).map((m) => [m.metadata.name, m.spec.usages]);
    expect(usages).toEqual([
      ['etcd-server', ['digital signature', 'server auth', 'client auth']],
      ['etcd-peer', ['digital signature', 'server auth', 'client auth']],
      ['etcd-client', ['digital signature', 'client auth']],
    ]);
  });

  test('update strategies: rolling by default, with a partition, or on delete', () => {
    expect(cluster().sts.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
    expect(cluster({ updateStrategy: EtcdUpdateStrategy.rollingUpdate({ partition: 2 }) }).sts.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { partition: 2 } });
    expect(cluster({ updateStrategy: EtcdUpdateStrategy.onDelete() }).sts.spec.updateStrategy).toEqual({ type: 'OnDelete' });
  });

  test('EtcdNetworkPeer.ipBlock admits host-network clients by address', () => {
    const { manifests } = cluster({ clients: [EtcdNetworkPeer.ipBlock('10.0.0.0/24', ['10.0.0.128/25']), EtcdNetworkPeer.ipBlock('fd00:1::/32', ['fd00:1:2::/48'])] });
    const rule = only(manifests, 'NetworkPolicy').spec.ingress.find((r: { ports: { port: number }[] }) => r.ports[0].port === 2379);
    expect(rule.from).toEqual([{ ipBlock: { cidr: '10.0.0.0/24', except: ['10.0.0.128/25'] } }, { ipBlock: { cidr: 'fd00:1::/32', except: ['fd00:1:2::/48'] } }]);
  });

  test('the cluster token comes from namespace and name: moving the construct keeps it, another name changes it', () => {
    const token = (scopePath: string[], props: EtcdClusterProps = {}) => {
      let scope: Chart | import('constructs').Construct = new Chart(Testing.app(), 'c');
      for (const id of scopePath) scope = new (jest.requireActual('constructs').Construct)(scope, id);
      const etcd = new EtcdCluster(scope, 'etcd', { clients: [], ...props });
      return flagsOf(etcdContainer(only(synth(Chart.of(etcd)), 'StatefulSet')).args).get('initial-cluster-token');
    };
    expect(token(['moved', 'deeper'])).toBe(token([]));
    expect(token([])).toMatch(/^etcd-default-[0-9a-f]{10}$/);
    expect(token([], { name: 'other' })).not.toBe(token([]));
    expect(token([], { initialClusterToken: 'prod-etcd-1' })).toBe('prod-etcd-1');
  });
});

describe('generatePki().writeTo never replaces an existing CA or key', () => {
  const etcd = () => new EtcdStaticPodCluster(Testing.app(), 'etcd', { nodes: nodes3 });

  test('a second, different PKI into the same directory is refused and writes nothing', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pki-'));
    const first = etcd().generatePki();
    expect(first.writeTo(dir)).toHaveLength(30);
    const caPath = path.join(dir, 'cp-1/etc/kubernetes/pki/etcd/ca.crt');
    const before = fs.readFileSync(caPath, 'utf8');
    expect(() => etcd().generatePki().writeTo(dir)).toThrow(
      `writeTo would replace 30 existing file(s) under ${dir}, such as ${caPath}: it never overwrites certificates or keys. Write to a new directory, or remove the old files yourself if you mean to start a new PKI. `
      + `To sign with the existing CA, pass generatePki({ caCertificatePem, caPrivateKeyPem }) the contents of ${caPath} and ${caPath.replace(/\.crt$/, '.key')}.`);
    expect(fs.readFileSync(caPath, 'utf8')).toBe(before);
  });

  test('writing the same PKI again changes nothing', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pki-'));
    const pki = etcd().generatePki();
    expect(pki.writeTo(dir)).toHaveLength(30);
    expect(pki.writeTo(dir)).toEqual([]);
  });
});
