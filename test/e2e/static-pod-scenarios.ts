import { flagsOf } from '../support/synth';
import { describeEachLine, ipPrefix } from './harness/environment';
import { EtcdHarness } from './harness/etcd-harness';
import { StaticPodSetup, loopbackNodes } from './harness/static-pods';
import { expectAliveWithoutQuorum } from './quorum-loss';

const STARTUP_MS = 60000;

/** Static pods for `count` nodes on loopback IPs `127.<line>.<subnet>.11`...: form, serve, probe. */
export function staticPodScenarios(count: number, subnet: number): void {
  describeEachLine(`EtcdStaticPodCluster on real etcd, ${count} node(s)`, (line) => {
    let setup: StaticPodSetup;
    let h: EtcdHarness;

    beforeAll(async () => {
      setup = new StaticPodSetup(line.version, loopbackNodes(count, ipPrefix(line, subnet)));
      h = setup.harness();
      await h.startAllAndWait(STARTUP_MS);
    }, STARTUP_MS + 10000);

    afterAll(() => h?.dispose(), 30000);

    test('forms from the per-node manifests, every node a voting member named after it', () => {
      const listed = h.etcdctl(['member', 'list']).stdout.trim().split('\n').map((l) => l.split(', '));
      expect(listed.map((m) => m[2]).sort()).toEqual(setup.nodes.map((n) => n.name));
      for (const [, status, name, peerUrl, clientUrl, isLearner] of listed) {
        const i = setup.nodes.findIndex((n) => n.name === name);
        expect({ status, peerUrl, clientUrl, isLearner }).toEqual({
          status: 'started',
          peerUrl: flagsOf(h.member(i).args).get('initial-advertise-peer-urls'),
          clientUrl: setup.etcd.clientEndpoints[i],
          isLearner: 'false',
        });
      }
    }, 20000);

    test("serves linearizable reads and writes with kube-apiserver's client certificate", () => {
      expect(h.etcdctl(['put', '/e2e/static', 'ok'], { endpoints: [setup.etcd.clientEndpoints[0]] }).stdout.trim()).toBe('OK');
      for (const url of setup.etcd.clientEndpoints) {
        expect(h.etcdctl(['get', '/e2e/static', '--print-value-only', '--consistency=l'], { endpoints: [url] }).stdout.trim()).toBe('ok');
      }
    }, 30000);

    test("kubeadm's probes answer on each node's loopback metrics listener", async () => {
      const rows = await h.probeAll();
      expect(rows).toHaveLength(3 * count);
      expect(rows).toEqual(rows.map((r) => ({ ...r, ok: true })));
    }, 30000);

    if (count > 1) {
      test('without quorum, startup and liveness pass on every running node while readiness fails', async () => {
        await expectAliveWithoutQuorum(h);
      }, 3 * STARTUP_MS);
    }
  });
}
