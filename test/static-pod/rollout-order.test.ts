import { Testing } from 'cdk8s';
import { EtcdStaticPodCluster } from '../../lib';
import { ScriptSandbox } from '../support/script-sandbox';

const nodes = [
  { name: 'cp-1', ip: '10.0.0.11' },
  { name: 'cp-2', ip: '10.0.0.12' },
  { name: 'cp-3', ip: '10.0.0.13' },
];

/** `endpoint status -w json` as etcdctl prints it (3.6), with `leader` naming one member's ID. */
function status(leader: number, members = [1, 2, 3]): string {
  return `[${members.map((n) => `{"Endpoint":"https://10.0.0.1${n}:2379","Status":{"header":{"cluster_id":17237436991929493444,"member_id":1737243699192949344${n},"revision":12,"raft_term":3},"version":"3.6.16","dbSize":20480,"leader":1737243699192949344${leader},"raftIndex":30,"raftTerm":3,"raftAppliedIndex":30,"dbSizeInUse":16384}}`).join(',')}]`;
}

function order(json: string) {
  const etcd = new EtcdStaticPodCluster(Testing.app(), 'etcd', { nodes, initialClusterToken: 'etcd-1' });
  const box = new ScriptSandbox('rollout');
  box.write('status.json', json);
  box.stub('etcdctl', `echo "$ETCDCTL_CERT $*" > "${box.root}/args"; cat "${box.root}/status.json"\n`);
  const r = box.run(etcd.rolloutOrderScript);
  const args = box.read('args');
  box.dispose();
  return { ...r, args };
}

describe('rolloutOrderScript', () => {
  test('followers first, in node order, the node whose member leads last', () => {
    const r = order(status(2));
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(['cp-1', 'cp-3', 'cp-2']);
    expect(r.args).toBe('/etc/kubernetes/pki/etcd/healthcheck-client.crt --dial-timeout=2s --command-timeout=5s --endpoints=https://10.0.0.11:2379,https://10.0.0.12:2379,https://10.0.0.13:2379 endpoint status -w json');
  });

  test('a member that does not answer fails it, printing no order', () => {
    const r = order(status(1, [1, 3]));
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('not every member answered');
  });

  test('the health check waits for every member, with the same identity', () => {
    const etcd = new EtcdStaticPodCluster(Testing.app(), 'etcd', { nodes, initialClusterToken: 'etcd-1' });
    expect(etcd.healthCheckScript).toContain('--endpoints=https://10.0.0.11:2379,https://10.0.0.12:2379,https://10.0.0.13:2379 endpoint health');
    expect(etcd.healthCheckScript).toContain('ETCDCTL_KEY=${ETCDCTL_KEY:-/etc/kubernetes/pki/etcd/healthcheck-client.key}');
  });
});
