import { Chart, Testing } from 'cdk8s';
import { EtcdCluster, EtcdClusterProps, EtcdNetworkPeer } from '../../lib';
import { warningsOf } from '../../lib/shared/warnings';
import { only, synth } from '../support/synth';

const selector = { 'app.kubernetes.io/name': 'etcd', 'app.kubernetes.io/instance': 'etcd' };
const tcp = (...ports: number[]) => ports.map((port) => ({ port, protocol: 'TCP' }));

function policy(props: EtcdClusterProps = {}, configure: (e: EtcdCluster) => void = () => undefined) {
  const chart = new Chart(Testing.app(), 'test');
  const etcd = new EtcdCluster(chart, 'etcd', props);
  configure(etcd);
  const manifests = synth(chart);
  return { etcd, manifests, np: manifests.find((m) => m.kind === 'NetworkPolicy') };
}

describe('NetworkPolicy', () => {
  test('selects the members and admits peers, and the member-state port, only from members (which also reach each other\'s client port)', () => {
    const { np } = policy();
    expect(np!.spec.podSelector).toEqual({ matchLabels: selector });
    expect(np!.spec.policyTypes).toEqual(['Ingress']);
    expect(np!.spec.ingress[0]).toEqual({ from: [{ podSelector: { matchLabels: selector } }], ports: tcp(2380, 2379, 2382) });
  });

  test('without declared clients, nobody but the members reaches the client port, and a warning says so', () => {
    const { np, etcd } = policy();
    expect(np!.spec.ingress).toHaveLength(1);
    expect(np!.spec.ingress[0].from).toEqual([{ podSelector: { matchLabels: selector } }]);
    expect(warningsOf(etcd)).toContainEqual(expect.stringContaining('no clients are declared'));
  });

  test('declared clients reach the client port, and only it', () => {
    const { np, etcd } = policy({
      clients: [
        EtcdNetworkPeer.pods({ labels: { app: 'api' } }),
        EtcdNetworkPeer.pods({ labels: { app: 'worker' }, namespace: 'jobs' }),
        EtcdNetworkPeer.pods({ labels: { app: 'x' }, namespaceLabels: { team: 'core' } }),
        EtcdNetworkPeer.namespace('control-plane'),
      ],
    });
    expect(np!.spec.ingress[1]).toEqual({
      from: [
        { podSelector: { matchLabels: { app: 'api' } } },
        { podSelector: { matchLabels: { app: 'worker' } }, namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'jobs' } } },
        { podSelector: { matchLabels: { app: 'x' } }, namespaceSelector: { matchLabels: { team: 'core' } } },
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'control-plane' } } },
      ],
      ports: tcp(2379),
    });
    expect(warningsOf(etcd).filter((w) => w.includes('no clients'))).toEqual([]);
  });

  test('allowClient() after construction is honoured', () => {
    const { np, etcd } = policy({}, (e) => e.allowClient(EtcdNetworkPeer.pods({ labels: { app: 'late' } })));
    expect(np!.spec.ingress[1]).toEqual({ from: [{ podSelector: { matchLabels: { app: 'late' } } }], ports: tcp(2379) });
    expect(warningsOf(etcd).filter((w) => w.includes('no clients'))).toEqual([]);
  });

  test('anywhere() opens the client port to every source', () => {
    const { np } = policy({ clients: [EtcdNetworkPeer.pods({ labels: { app: 'api' } }), EtcdNetworkPeer.anywhere()] });
    expect(np!.spec.ingress[1]).toEqual({ ports: tcp(2379) });
  });

  test('monitoring reaches the metrics port', () => {
    const { np } = policy({ clients: [EtcdNetworkPeer.anywhere()] }, (e) => e.allowMonitoring(EtcdNetworkPeer.namespace('monitoring')));
    expect(np!.spec.ingress[2]).toEqual({ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }], ports: tcp(2381) });
  });

  test('can be turned off', () => {
    const { manifests, etcd } = policy({ networkPolicy: false });
    expect(manifests.filter((m) => m.kind === 'NetworkPolicy')).toEqual([]);
    expect(etcd.networkPolicy).toBeUndefined();
    expect(warningsOf(etcd)).toEqual([]);
  });

  test('the policy object is exposed', () => {
    const { etcd, manifests } = policy();
    expect(etcd.networkPolicy!.name).toBe(only(manifests, 'NetworkPolicy').metadata.name);
  });
});

describe('EtcdNetworkPeer', () => {
  test.each([
    [() => EtcdNetworkPeer.pods({ labels: {} }), 'EtcdNetworkPeer.pods() labels must not be empty'],
    [() => EtcdNetworkPeer.pods({ labels: { a: 'b' }, namespace: 'x', namespaceLabels: { c: 'd' } }), "EtcdNetworkPeer.pods() takes namespace or namespaceLabels, not both (got namespace 'x')"],
    [() => EtcdNetworkPeer.pods({ labels: { a: 'b' }, namespace: 'Bad' }), "EtcdNetworkPeer.pods() namespace must be a DNS-1123 label"],
    [() => EtcdNetworkPeer.namespace(''), "EtcdNetworkPeer.namespace() name must be a DNS-1123 label"],
  ])('refuses bad input %#', (make, message) => {
    expect(make).toThrow(message);
  });
});
