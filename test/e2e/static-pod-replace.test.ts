import { flagsOf } from '../support/synth';
import { describeWithEtcd } from './harness/environment';
import { EtcdHarness } from './harness/etcd-harness';
import { StaticPodSetup, loopbackNodes } from './harness/static-pods';

const KEYS = 50;

/** `etcdctl member list` as rows: id, status, name, peer URL, client URL, is learner. */
function members(h: EtcdHarness, endpoints: string[]): string[][] {
  const r = h.etcdctl(['member', 'list'], { endpoints });
  expect(r.status).toBe(0);
  return r.stdout.trim().split('\n').map((l) => l.split(', '));
}

describeWithEtcd('replacing a static-pod member on real etcd (Kubernetes guide procedure)', (etcdVersion) => {
  test('remove a member, join a new node as a learner, promote it: every key survives with 3 voting members', async () => {
    const original = new StaticPodSetup(etcdVersion, loopbackNodes(3, '127.0.30'));
    const h = original.harness();
    try {
      await h.startAllAndWait(60000);
      for (let k = 0; k < KEYS; k++) expect(h.etcdctl(['put', `/e2e/replace/${k}`, `v${k}`]).status).toBe(0);

      // 1. The failed member goes away: stop it and remove it from the cluster.
      const survivors = original.etcd.clientEndpoints.slice(0, 2);
      const cp3 = members(h, survivors).find((m) => m[2] === 'cp-3')!;
      await h.stop(2);
      expect(h.etcdctl(['member', 'remove', cp3[0]], { endpoints: survivors }).status).toBe(0);

      // 2. The new node joins: same CA, manifest with joinExisting, `member add` as a learner first.
      const caKey = original.pki.filesFor('cp-1')['/etc/kubernetes/pki/etcd/ca.key'];
      const replacement = new StaticPodSetup(etcdVersion,
        [original.nodes[0], original.nodes[1], { name: 'cp-4', ip: '127.0.30.14', joinExisting: true }],
        { caCertificatePem: original.pki.caCertificatePem, caPrivateKeyPem: caKey });
      const joining = replacement.member('cp-4');
      const joinFlags = flagsOf(joining.workload.spec.containers[0].command.slice(1));
      expect(joinFlags.get('initial-cluster-state')).toBe('existing');
      expect(joinFlags.get('initial-cluster')).toBe('cp-1=https://127.0.30.11:2380,cp-2=https://127.0.30.12:2380,cp-4=https://127.0.30.14:2380');

      const add = replacement.etcd.memberAddCommand('cp-4').split(' ');
      expect(add.slice(0, 3)).toEqual(['etcdctl', 'member', 'add']);
      expect(h.etcdctl(add.slice(1), { endpoints: survivors }).status).toBe(0);
      // Until it starts, an added member is listed without a name: find it by its peer URL.
      const learner = members(h, survivors).find((m) => m[3] === joinFlags.get('initial-advertise-peer-urls'))!;
      expect([learner[1], learner[5]]).toEqual(['unstarted', 'true']);

      h.replaceMember(2, joining);
      h.start(2);

      // 3. Promote once the learner has caught up (etcd refuses until then).
      const deadline = Date.now() + 60000;
      let promoted = h.etcdctl(['member', 'promote', learner[0]], { endpoints: survivors });
      while (promoted.status !== 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        promoted = h.etcdctl(['member', 'promote', learner[0]], { endpoints: survivors });
      }
      expect(promoted.stderr).toBe('');
      await h.waitHealthy([0, 1, 2], 60000);

      const final = members(h, replacement.etcd.clientEndpoints);
      expect(final.map((m) => [m[2], m[1], m[5]]).sort()).toEqual([['cp-1', 'started', 'false'], ['cp-2', 'started', 'false'], ['cp-4', 'started', 'false']]);
      const onNewNode = h.etcdctl(['get', '/e2e/replace/', '--prefix', '--keys-only', '--consistency=s'], { endpoints: [replacement.etcd.clientEndpoints[2]] });
      expect(onNewNode.stdout.trim().split('\n').filter(Boolean)).toHaveLength(KEYS);
      expect(h.etcdctl(['get', '/e2e/replace/7', '--print-value-only', '--consistency=s'], { endpoints: [replacement.etcd.clientEndpoints[2]] }).stdout.trim()).toBe('v7');
    } finally {
      await h.dispose();
    }
  }, 180000);
});
