import { EtcdVersion } from '../../lib';
import { flagsOf } from '../support/synth';
import { describeEachLine, ipPrefix } from './harness/environment';
import { EtcdHarness, ProbeKind } from './harness/etcd-harness';
import { StaticPodSetup, loopbackNodes } from './harness/static-pods';

const KEYS = 50;
/** How long the learner is kept before promotion while the kubelet's probes are watched (several probe periods). */
const LEARNER_HOLD_MS = 12000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `etcdctl member list` as rows: id, status, name, peer URL, client URL, is learner. */
function members(h: EtcdHarness, endpoints: string[]): string[][] {
  const r = h.etcdctl(['member', 'list'], { endpoints });
  expect(r.status).toBe(0);
  return r.stdout.trim().split('\n').map((l) => l.split(', '));
}

/**
 * A membership change, retried as an operator would until etcd accepts it or `timeoutMs` passes. etcd
 * refuses changes while they are unsafe: `member add` until the leader has been connected to a quorum for
 * 5 s (HealthInterval, e.g. right after an election), `member promote` until the learner has caught up.
 */
async function untilAccepted(h: EtcdHarness, args: string[], endpoints: string[], timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  let result = h.etcdctl(args, { endpoints });
  while (result.status !== 0 && Date.now() < deadline) {
    await sleep(500);
    result = h.etcdctl(args, { endpoints });
  }
  return result;
}

/**
 * Probe a member once a second, as the kubelet does, until `until` resolves. Returns every result:
 * a liveness or startup failure after startup first passed is what would restart the container.
 */
async function watchProbes(h: EtcdHarness, index: number, until: Promise<unknown>) {
  const seen: { kind: ProbeKind; ok: boolean }[] = [];
  let done = false;
  const stop = () => { done = true; };
  until.then(stop, stop);
  while (!done) {
    for (const kind of ['startupProbe', 'livenessProbe', 'readinessProbe'] as ProbeKind[]) seen.push({ kind, ok: await h.probe(index, kind) });
    await sleep(1000);
  }
  return seen;
}

describeEachLine('replacing a static-pod member on real etcd (Kubernetes guide procedure)', (line) => {
  const subnet = ipPrefix(line, 30);
  test('remove a member, join a new node as a learner, promote it: every key survives with 3 voting members', async () => {
    const original = new StaticPodSetup(line.version, loopbackNodes(3, subnet));
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
      const replacement = new StaticPodSetup(line.version,
        [original.nodes[0], original.nodes[1], { name: 'cp-4', ip: `${subnet}.14`, joinExisting: true }],
        { caCertificatePem: original.pki.caCertificatePem, caPrivateKeyPem: caKey });
      const joining = replacement.member('cp-4');
      const joinFlags = flagsOf(joining.workload.spec.containers[0].command.slice(1));
      expect(joinFlags.get('initial-cluster-state')).toBe('existing');
      expect(joinFlags.get('initial-cluster')).toBe(`cp-1=https://${subnet}.11:2380,cp-2=https://${subnet}.12:2380,cp-4=https://${subnet}.14:2380`);

      const add = replacement.etcd.memberAddCommand('cp-4').split(' ');
      expect(add.slice(0, 3)).toEqual(['etcdctl', 'member', 'add']);
      expect((await untilAccepted(h, add.slice(1), survivors)).stderr).toBe('');
      // Until it starts, an added member is listed without a name: find it by its peer URL.
      const learner = members(h, survivors).find((m) => m[3] === joinFlags.get('initial-advertise-peer-urls'))!;
      expect([learner[1], learner[5]]).toEqual(['unstarted', 'true']);

      h.replaceMember(2, joining);
      h.start(2);

      // 3. The learner catches up while the kubelet probes it: startup and liveness must pass and
      //    keep passing until promotion (a failure loop would restart it and abort the snapshot transfer).
      const learnerPhase = (async () => {
        await h.waitForProbe(2, 'startupProbe', 60000);
        await sleep(LEARNER_HOLD_MS);
        expect(members(h, survivors).find((m) => m[0] === learner[0])![5]).toBe('true');
      })();
      const seen = await watchProbes(h, 2, learnerPhase);
      await learnerPhase;
      const afterStartup = seen.slice(seen.findIndex((r) => r.kind === 'startupProbe' && r.ok));
      expect(afterStartup.filter((r) => r.kind !== 'readinessProbe' && !r.ok)).toEqual([]);
      expect(afterStartup.filter((r) => r.kind === 'livenessProbe').length).toBeGreaterThanOrEqual(LEARNER_HOLD_MS / 2000);
      if (EtcdVersion.of(line.version).readyzRefusesLearners) {
        // /readyz's non_learner check: a learner serves no clients, so it is never ready. etcd does honour
        // `?exclude=non_learner` (the learner passes every other check), but startup must also survive a
        // quorum loss, so it uses /livez instead.
        expect(afterStartup.filter((r) => r.kind === 'readinessProbe' && r.ok)).toEqual([]);
        expect(await h.httpStatus(2, 'readinessProbe', '/readyz?exclude=non_learner')).toBe(200);
        expect(await h.httpStatus(2, 'readinessProbe', '/readyz')).toBe(503);
      }

      // 4. Promote once the learner has caught up (etcd refuses until then).
      expect((await untilAccepted(h, ['member', 'promote', learner[0]], survivors)).stderr).toBe('');
      await h.waitForProbe(2, 'readinessProbe', 30000);
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
