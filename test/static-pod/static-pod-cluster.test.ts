import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Testing, Yaml } from 'cdk8s';
import { EtcdStaticPodCluster, EtcdStaticPodClusterProps, EtcdStaticPodNode, EtcdVersion } from '../../lib';
import { renderEtcdFlags } from '../../lib/member/flags';
import { warningsOf } from '../../lib/shared/warnings';
import { Manifest, etcdContainer, flagsOf, synth } from '../support/synth';

const ipv4 = (n: number): EtcdStaticPodNode[] => [...Array(n).keys()].map((i) => ({ name: `cp-${i + 1}`, ip: `10.0.0.${11 + i}` }));
const ipv6 = (n: number): EtcdStaticPodNode[] => [...Array(n).keys()].map((i) => ({ name: `cp-${i + 1}`, ip: `fd00::${11 + i}` }));

function staticPods(props: EtcdStaticPodClusterProps) {
  const app = Testing.app();
  const etcd = new EtcdStaticPodCluster(app, 'etcd', props);
  const pods = new Map<string, Manifest>();
  for (const name of etcd.nodeNames) {
    const manifests = synth(etcd.chartFor(name));
    expect(manifests).toHaveLength(1);
    pods.set(name, manifests[0]);
  }
  const flags = (node: string) => flagsOf(etcdContainer(pods.get(node)!).command.slice(1));
  return { app, etcd, pods, flags };
}

describe('one manifest per node', () => {
  test('cdk8s synth writes etcd-<node>.k8s.yaml for each node, each holding one Pod', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'static-pods-'));
    const app = new App({ outdir });
    new EtcdStaticPodCluster(app, 'etcd', { nodes: [...ipv4(2), { name: 'cp-3.example.com', ip: '10.0.0.13' }] });
    app.synth();
    expect(fs.readdirSync(outdir).sort()).toEqual(['etcd-cp-1.k8s.yaml', 'etcd-cp-2.k8s.yaml', 'etcd-cp-3-example-com.k8s.yaml']);
    const pod = Yaml.load(path.join(outdir, 'etcd-cp-3-example-com.k8s.yaml'));
    expect(pod.map((o: Manifest) => o.kind)).toEqual(['Pod']);
    expect(flagsOf(pod[0].spec.containers[0].command.slice(1)).get('name')).toBe('cp-3.example.com');
  });

  test('the file names do not change when the construct sits in a chart', () => {
    const app = Testing.app();
    const { Chart } = jest.requireActual('cdk8s');
    const etcd = new EtcdStaticPodCluster(new Chart(app, 'infra'), 'etcd', { nodes: ipv4(3) });
    expect(etcd.nodeNames.map((n) => etcd.chartFor(n).node.id)).toEqual(['etcd-cp-1', 'etcd-cp-2', 'etcd-cp-3']);
    expect(etcd.nodeNames.map((n) => etcd.chartFor(n).node.scope)).toEqual([app, app, app]);
  });
});

describe("kubeadm's layout", () => {
  const { pods, flags, etcd } = staticPods({ nodes: ipv4(3), version: EtcdVersion.of('3.6.16') });
  const pod = pods.get('cp-2')!;
  const container = etcdContainer(pod);

  test('pod metadata: etcd in kube-system with the control-plane labels and the advertise annotation', () => {
    expect(pod.metadata).toEqual({
      name: 'etcd',
      namespace: 'kube-system',
      labels: { component: 'etcd', tier: 'control-plane' },
      annotations: { 'kubeadm.kubernetes.io/etcd.advertise-client-urls': 'https://10.0.0.12:2379' },
    });
  });

  test("every flag kubeadm sets, with kubeadm's value", () => {
    const f = flags('cp-2');
    expect(container.command[0]).toBe('etcd');
    expect(Object.fromEntries([
      'name', 'listen-client-urls', 'advertise-client-urls', 'listen-peer-urls', 'initial-advertise-peer-urls', 'data-dir',
      'cert-file', 'key-file', 'trusted-ca-file', 'peer-cert-file', 'peer-key-file', 'peer-trusted-ca-file',
      'client-cert-auth', 'peer-client-cert-auth', 'snapshot-count', 'listen-metrics-urls', 'initial-cluster',
    ].map((k) => [k, f.get(k)]))).toEqual({
      'name': 'cp-2',
      'listen-client-urls': 'https://127.0.0.1:2379,https://10.0.0.12:2379',
      'advertise-client-urls': 'https://10.0.0.12:2379',
      'listen-peer-urls': 'https://10.0.0.12:2380',
      'initial-advertise-peer-urls': 'https://10.0.0.12:2380',
      'data-dir': '/var/lib/etcd',
      'cert-file': '/etc/kubernetes/pki/etcd/server.crt',
      'key-file': '/etc/kubernetes/pki/etcd/server.key',
      'trusted-ca-file': '/etc/kubernetes/pki/etcd/ca.crt',
      'peer-cert-file': '/etc/kubernetes/pki/etcd/peer.crt',
      'peer-key-file': '/etc/kubernetes/pki/etcd/peer.key',
      'peer-trusted-ca-file': '/etc/kubernetes/pki/etcd/ca.crt',
      'client-cert-auth': 'true',
      'peer-client-cert-auth': 'true',
      'snapshot-count': '10000',
      'listen-metrics-urls': 'http://127.0.0.1:2381',
      'initial-cluster': 'cp-1=https://10.0.0.11:2380,cp-2=https://10.0.0.12:2380,cp-3=https://10.0.0.13:2380',
    });
    expect(f.get('initial-cluster-state')).toBe('new');
  });

  test("kubeadm's probe timings on the loopback metrics listener; startup needs no quorum, unlike kubeadm's", () => {
    const target = { host: '127.0.0.1', port: 2381, scheme: 'HTTP' };
    expect(container.livenessProbe).toEqual({ httpGet: { ...target, path: '/livez' }, initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 15, failureThreshold: 8 });
    expect(container.readinessProbe).toEqual({ httpGet: { ...target, path: '/readyz' }, periodSeconds: 1, timeoutSeconds: 15, failureThreshold: 3 });
    // kubeadm uses /readyz, which fails on a learner (3.5.19+, 3.6, 3.7) and without quorum: a joining
    // member would be restarted after 24 × 10 s while it still catches up.
    expect(container.startupProbe).toEqual({ httpGet: { ...target, path: '/livez' }, initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 15, failureThreshold: 24 });
  });

  test('hostPath volumes for data and PKI, mounted where the flags point', () => {
    expect(pod.spec.volumes).toEqual([
      { name: 'etcd-certs', hostPath: { path: '/etc/kubernetes/pki/etcd', type: 'DirectoryOrCreate' } },
      { name: 'etcd-data', hostPath: { path: '/var/lib/etcd', type: 'DirectoryOrCreate' } },
    ]);
    expect(container.volumeMounts).toEqual([
      { name: 'etcd-data', mountPath: '/var/lib/etcd' },
      { name: 'etcd-certs', mountPath: '/etc/kubernetes/pki/etcd' },
    ]);
  });

  test('host network, node-critical priority, RuntimeDefault seccomp, kubeadm requests, no Secrets', () => {
    expect(pod.spec.hostNetwork).toBe(true);
    expect(pod.spec.priorityClassName).toBe('system-node-critical');
    expect(pod.spec.securityContext).toEqual({ seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.resources).toEqual({ requests: { cpu: '100m', memory: '100Mi' } });
    expect(JSON.stringify(pod)).not.toMatch(/PRIVATE KEY|secretName/);
  });

  test('every node advertises exactly its own --initial-cluster entry, from the shared model', () => {
    etcd._model.members.forEach((member, i) => {
      const node = `cp-${i + 1}`;
      expect(flags(node).get('initial-cluster')!.split(',')).toContain(`${node}=${flags(node).get('initial-advertise-peer-urls')}`);
      expect(etcdContainer(pods.get(node)!).command.slice(1)).toEqual(renderEtcdFlags(etcd._model, member));
    });
  });
});

describe('IPv6 nodes', () => {
  const { pods, flags, etcd } = staticPods({ nodes: ipv6(3) });

  test('bracketed URLs and ::1 loopback', () => {
    const f = flags('cp-1');
    expect(f.get('listen-client-urls')).toBe('https://[::1]:2379,https://[fd00::11]:2379');
    expect(f.get('advertise-client-urls')).toBe('https://[fd00::11]:2379');
    expect(f.get('listen-peer-urls')).toBe('https://[fd00::11]:2380');
    expect(f.get('listen-metrics-urls')).toBe('http://[::1]:2381');
    expect(f.get('initial-cluster')).toBe('cp-1=https://[fd00::11]:2380,cp-2=https://[fd00::12]:2380,cp-3=https://[fd00::13]:2380');
    expect(etcdContainer(pods.get('cp-1')!).livenessProbe.httpGet.host).toBe('::1');
    expect(etcd.etcdServers).toBe('https://[fd00::11]:2379,https://[fd00::12]:2379,https://[fd00::13]:2379');
  });
});

describe('configurable paths', () => {
  test('data dir, PKI dir and API server PKI dir', () => {
    const { pods, flags, etcd } = staticPods({ nodes: ipv4(1), dataDir: '/data/etcd', pkiDir: '/srv/pki/etcd', apiServerPkiDir: '/srv/pki', namespace: 'control-plane' });
    const pod = pods.get('cp-1')!;
    expect(flags('cp-1').get('data-dir')).toBe('/data/etcd');
    expect(flags('cp-1').get('cert-file')).toBe('/srv/pki/etcd/server.crt');
    expect(pod.spec.volumes.map((v: { hostPath: { path: string } }) => v.hostPath.path)).toEqual(['/srv/pki/etcd', '/data/etcd']);
    expect(pod.metadata.namespace).toBe('control-plane');
    expect(etcd.kubeApiServerFlags()).toEqual([
      '--etcd-servers=https://10.0.0.11:2379',
      '--etcd-cafile=/srv/pki/etcd/ca.crt',
      '--etcd-certfile=/srv/pki/apiserver-etcd-client.crt',
      '--etcd-keyfile=/srv/pki/apiserver-etcd-client.key',
    ]);
  });

  test('kube-apiserver flags default to kubeadm paths', () => {
    const { etcd } = staticPods({ nodes: ipv4(3) });
    expect(etcd.kubeApiServerFlags()).toEqual([
      '--etcd-servers=https://10.0.0.11:2379,https://10.0.0.12:2379,https://10.0.0.13:2379',
      '--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt',
      '--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt',
      '--etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key',
    ]);
  });
});

describe('joining an existing cluster (replace or add a member)', () => {
  test('the joining node gets state existing and the current members plus itself', () => {
    const nodes = [...ipv4(2), { name: 'cp-4', ip: '10.0.0.14', joinExisting: true }];
    const { flags, etcd } = staticPods({ nodes });
    expect(flags('cp-4').get('initial-cluster-state')).toBe('existing');
    expect(flags('cp-4').get('initial-cluster')).toBe('cp-1=https://10.0.0.11:2380,cp-2=https://10.0.0.12:2380,cp-4=https://10.0.0.14:2380');
    expect(flags('cp-1').get('initial-cluster-state')).toBe('new');
    expect(etcd.memberAddCommand('cp-4')).toBe('etcdctl member add cp-4 --learner --peer-urls=https://10.0.0.14:2380');
  });

  test('an even count is accepted while one node joins, with a warning', () => {
    const { etcd } = staticPods({ nodes: [...ipv4(3), { name: 'cp-4', ip: '10.0.0.14', joinExisting: true }] });
    expect(etcd.nodeNames).toHaveLength(4);
    expect(warningsOf(etcd)).toContainEqual(expect.stringContaining('nodes has 4 entries while one joins'));
  });

  test('memberAddCommand refuses unknown nodes', () => {
    const { etcd } = staticPods({ nodes: ipv4(1) });
    expect(() => etcd.memberAddCommand('cp-9')).toThrow("memberAddCommand nodeName must be one of cp-1 (got 'cp-9')");
  });
});

describe('bad input', () => {
  test.each([
    [[], 'nodes must list 1, 3, 5 or 7 control-plane nodes (got none)'],
    [ipv4(2), 'nodes must be one of 1, 3, 5, 7 (got 2): an even count adds no failure tolerance'],
    [ipv4(4), 'nodes must be one of 1, 3, 5, 7 (got 4): an even count adds no failure tolerance'],
    [ipv4(9), 'nodes must be one of 1, 3, 5, 7 (got 9)'],
    [[{ name: 'cp-1', ip: '10.0.0.1' }, { name: 'cp-1', ip: '10.0.0.2' }, { name: 'cp-3', ip: '10.0.0.3' }], "nodes[1].name must be unique (got 'cp-1' twice)"],
    [[{ name: 'cp-1', ip: '10.0.0.1' }, { name: 'cp-2', ip: '10.0.0.1' }, { name: 'cp-3', ip: '10.0.0.3' }], "nodes[1].ip must be unique (got 10.0.0.1 for both 'cp-1' and 'cp-2')"],
    [[{ name: 'cp-1', ip: 'fd00::1' }, { name: 'cp-2', ip: 'fd00:0:0::1' }, { name: 'cp-3', ip: 'fd00::3' }], "nodes[1].ip must be unique (got fd00:0:0::1 for both 'cp-1' and 'cp-2')"],
    [[{ name: 'cp-1', ip: '10.0.0.256' }], "nodes[0].ip must be an IPv4 or IPv6 address without a zone (got '10.0.0.256' for node 'cp-1')"],
    [[{ name: 'cp-1', ip: 'cp-1.example.com' }], "nodes[0].ip must be an IPv4 or IPv6 address without a zone (got 'cp-1.example.com' for node 'cp-1')"],
    [[{ name: 'CP_1', ip: '10.0.0.1' }], "nodes[0].name must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters (got 'CP_1')"],
    [[{ name: 'a.b', ip: '10.0.0.1' }, { name: 'a-b', ip: '10.0.0.2' }, { name: 'c', ip: '10.0.0.3' }], "nodes[1].name: 'a.b' and 'a-b' would share the manifest file etcd-a-b.k8s.yaml"],
    [[{ name: `${'n'.repeat(60)}`, ip: '10.0.0.1' }], `nodes[0].name '${'n'.repeat(60)}' is too long: its manifest name 'etcd-${'n'.repeat(60)}' must be at most 63 characters`],
    [[...ipv4(1).map((n) => ({ ...n, joinExisting: true }))], 'nodes must include the running members that cp-1 joins (got only cp-1)'],
    [[...ipv4(1), { name: 'x', ip: '10.0.1.1', joinExisting: true }, { name: 'y', ip: '10.0.1.2', joinExisting: true }], 'nodes may have at most one node with joinExisting (got x, y): etcd changes membership one member at a time'],
  ])('refuses nodes %#', (nodes, message) => {
    expect(() => new EtcdStaticPodCluster(Testing.app(), 'etcd', { nodes: nodes as EtcdStaticPodNode[] })).toThrow(message);
  });

  test.each([
    [{ dataDir: 'var/lib/etcd' }, "dataDir must be an absolute path without spaces, '.', '..', '//' or a trailing '/' (got 'var/lib/etcd')"],
    [{ pkiDir: '/etc/kubernetes/pki/etcd/' }, "pkiDir must be an absolute path without spaces, '.', '..', '//' or a trailing '/' (got '/etc/kubernetes/pki/etcd/')"],
    [{ apiServerPkiDir: '/etc/../pki' }, "apiServerPkiDir must be an absolute path without spaces, '.', '..', '//' or a trailing '/' (got '/etc/../pki')"],
    [{ namespace: 'Kube-System' }, "namespace must be a DNS-1123 label"],
    [{ priorityClassName: '' }, "priorityClassName must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters (got '')"],
    [{ imageTag: 'v3.6.9 latest' }, "imageTag must be a tag of up to 128 letters"],
  ])('refuses %p', (props, message) => {
    expect(() => new EtcdStaticPodCluster(Testing.app(), 'etcd', { nodes: ipv4(1), ...props })).toThrow(message);
  });
});

describe('snapshots', () => {
  test.each([
    ['IPv4', 1], ['IPv4', 3], ['IPv4', 5], ['IPv6', 1], ['IPv6', 3], ['IPv6', 5],
  ])('%s, %d node(s)', (family, n) => {
    const { pods } = staticPods({ nodes: family === 'IPv4' ? ipv4(n as number) : ipv6(n as number) });
    expect(Object.fromEntries(pods)).toMatchSnapshot();
  });
});
