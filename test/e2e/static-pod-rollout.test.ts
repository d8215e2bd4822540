import { flagsOf } from '../support/synth';
import { describeEachLine, ipPrefix } from './harness/environment';
import { EtcdHarness } from './harness/etcd-harness';
import { StaticPodSetup, loopbackNodes } from './harness/static-pods';
import { startWriter, stopAllWriters } from './harness/writer';

/**
 * A change rolled through a 3-node static-pod cluster as the README says: the order `rolloutOrderScript` prints
 * (followers first, the leader's node last), one node at a time, `healthCheckScript` between nodes. A write every
 * second must never fail.
 */
describeEachLine('rolling a change through static-pod nodes in the rendered order on real etcd', (line) => {
  let h: EtcdHarness;
  afterAll(async () => {
    stopAllWriters();
    await h?.dispose(2000);
  }, 30000);

  test('followers first, the leader last, health between nodes: no write fails, and the leader changes once', async () => {
    const nodes = loopbackNodes(3, ipPrefix(line, 42));
    const original = new StaticPodSetup(line.version, nodes);
    const changed = new StaticPodSetup(line.version, nodes, {}, { tuning: { snapshotCount: 20000 } }, original.pki);
    h = original.harness();
    await h.startAllAndWait(60000);
    // etcdctl of the cluster's release, and kube-apiserver's identity in place of kubeadm's healthcheck-client.
    const run = (script: string) => h.runOperatorScript(script);
    const leaderNode = () => {
      const r = run(original.etcd.rolloutOrderScript);
      expect(r.status).toBe(0);
      return r.stdout.trim().split('\n');
    };
    const order = leaderNode();
    expect(order.slice().sort()).toEqual(['cp-1', 'cp-2', 'cp-3']);
    const leaderBefore = order[2];

    const writer = startWriter(h, 'static-rollout', [0, 1, 2]);
    const started = Date.now();
    for (const name of order) {
      const i = nodes.findIndex((n) => n.name === name);
      await h.stop(i);
      h.replaceMember(i, changed.member(name));
      h.start(i);
      const health = run(changed.etcd.healthCheckScript);
      expect({ name, status: health.status, out: health.stderr.split('\n').slice(-3).join('\n') }).toMatchObject({ name, status: 0 });
    }
    const seconds = Math.round((Date.now() - started) / 1000);
    const writes = await writer.stop();
    const after = leaderNode();
    console.log(`${line.version}: rolled ${order.join(', ')} (leader ${leaderBefore} last) in ${seconds} s; leader now ${after[2]}; ${writes.ok} writes, ${writes.failed.length} failed`);
    expect(writes.failed).toEqual([]);
    expect(after[2]).not.toBe(leaderBefore);
    for (let i = 0; i < 3; i++) expect(flagsOf(h.member(i).args).get('snapshot-count')).toBe('20000');
  }, 240000);
});
