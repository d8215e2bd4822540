import * as fs from 'fs';
import * as path from 'path';
import { EtcdCluster } from '../../lib';
import { initialClusterFor } from '../../lib/member/model';
import { createCa, issueLeaf } from '../../lib/tls/pki';
import { describeEachLine, ipPrefix } from './harness/environment';
import { EtcdHarness } from './harness/etcd-harness';
import { synthesizeForHarness } from './harness/synthesize';
import { expectAliveWithoutQuorum } from './quorum-loss';

// Generous: under the full CI load, five members each run their member-start before etcd.
const STARTUP_MS = 120000;

/**
 * The StatefulSet scenario matrix for one member count, on its own loopback range (127.<line>.<subnet>.x).
 * One test file per member count, and one Jest project per etcd line, so they run in parallel.
 */
export function statefulSetScenarios(members: number, subnet: number): void {
  describeEachLine(`EtcdCluster (StatefulSet) on real etcd, ${members} member(s)`, (line) => {
    const all = [...Array(members).keys()];
    let h: EtcdHarness;
    let etcd: EtcdCluster;
    beforeAll(async () => {
      const synthesized = synthesizeForHarness(line.version, members);
      etcd = synthesized.etcd;
      h = EtcdHarness.forStatefulSet(synthesized.manifests, { ipPrefix: ipPrefix(line, subnet), clientSecretName: etcd.clientSecretName });
      await h.startAllAndWait(STARTUP_MS);
    }, STARTUP_MS + 10000);

    afterAll(() => h?.dispose(), 30000);

    test('forms with every member voting, under the expected names and URLs, from the start decision each member wrote', () => {
      const r = h.etcdctl(['member', 'list', '-w', 'json']);
      expect(r.stderr).toBe('');
      const listed: { name: string; peerURLs: string[]; clientURLs: string[]; isLearner?: boolean }[] = JSON.parse(r.stdout).members;
      // What the etcd processes really run with: the member-start step's decision, computed from the member list.
      const expected = initialClusterFor(etcd._model.members, etcd._model.members[0]);
      // A quorum forms the cluster (new); a member that decides after that quorum formed joins it (existing), under
      // the name and peer URL the cluster lists for it: the same entries.
      const sorted = (list: string) => list.split(',').sort();
      const states = all.map((i) => {
        const env = h.processEnv(i);
        expect(sorted(env.ETCD_INITIAL_CLUSTER)).toEqual(sorted(expected));
        expect(h.log(i)).toContain(env.ETCD_INITIAL_CLUSTER_STATE === 'new'
          ? 'member-start: formation: every other member waits or is forming'
          : `member-start: join: the cluster (https://`);
        return env.ETCD_INITIAL_CLUSTER_STATE;
      });
      expect(states.filter((state) => state === 'new').length).toBeGreaterThan(members / 2);
      const initialCluster = expected.split(',').map((e) => e.split('='));
      expect(listed.map((m) => m.name).sort()).toEqual(all.map((i) => `etcd-${i}`));
      for (const m of listed) {
        expect(m.isLearner ?? false).toBe(false);
        expect(m.peerURLs).toEqual([initialCluster.find(([name]) => name === m.name)![1]]);
        expect(m.clientURLs).toEqual([etcd.clientEndpoints[Number(m.name.split('-')[1])]]);
      }
    }, 20000);

    test('writes, and linearizable reads through every client endpoint, with the client identity', () => {
      const value = `v-${Date.now()}`;
      expect(h.etcdctl(['put', '/e2e/rw', value]).stdout.trim()).toBe('OK');
      for (const url of etcd.clientEndpoints) {
        const r = h.etcdctl(['get', '/e2e/rw', '--print-value-only', '--consistency=l'], { endpoints: [url] });
        expect({ url, value: r.stdout.trim() }).toEqual({ url, value });
      }
    }, 30000);

    test('refuses a client without a certificate and one from another CA', () => {
      // The client only sees a timeout; the member's log says why it refused.
      const refusedBy = (call: () => { status: number | null }) => {
        const before = h.log(0).length;
        expect(call().status).not.toBe(0);
        return h.log(0).slice(before);
      };
      const endpoints = [etcd.clientEndpoints[0]];
      const noCert = refusedBy(() => h.etcdctl(['get', '/e2e/rw'], { endpoints, identity: { cacert: h.clientIdentity.cacert }, commandTimeout: '2s' }));
      expect(noCert).toMatch(/rejected connection.*client didn't provide a certificate/);

      const strangerCa = createCa('stranger-ca', 1);
      const stranger = issueLeaf(strangerCa, { commonName: 'etcd-client', serverAuth: false, clientAuth: true, validityDays: 1 });
      const dir = path.join(h.workDir, 'stranger');
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'tls.crt'), stranger.certPem);
      fs.writeFileSync(path.join(dir, 'tls.key'), stranger.keyPem);
      const foreign = refusedBy(() => h.etcdctl(['get', '/e2e/rw'], {
        endpoints,
        identity: { cacert: h.clientIdentity.cacert, cert: path.join(dir, 'tls.crt'), key: path.join(dir, 'tls.key') },
        commandTimeout: '2s',
      }));
      expect(foreign).toMatch(/rejected connection.*certificate signed by unknown authority/);
    }, 40000);

    test('every declared probe answers on its host, port and path', async () => {
      const rows = await h.probeAll();
      expect(rows).toHaveLength(3 * members);
      expect(rows).toEqual(rows.map((r) => ({ ...r, ok: true })));
    }, 30000);

    if (members > 1) {
      test('keeps serving with floor((N-1)/2) members down; they rejoin with their data', async () => {
        const tolerated = Math.floor((members - 1) / 2);
        const down = all.slice(members - tolerated);
        const up = all.slice(0, members - tolerated);
        expect(h.etcdctl(['put', '/e2e/before', 'b']).status).toBe(0);
        for (const i of down) await h.stop(i);
        const upEndpoints = up.map((i) => etcd.clientEndpoints[i]);
        expect(h.etcdctl(['put', '/e2e/during', 'd'], { endpoints: upEndpoints }).stdout.trim()).toBe('OK');
        expect(h.etcdctl(['get', '/e2e/during', '--print-value-only', '--consistency=l'], { endpoints: upEndpoints }).stdout.trim()).toBe('d');

        for (const i of down) h.start(i);
        await h.waitHealthy(all, STARTUP_MS);
        for (const i of down) {
          // A serializable read answers from the member's own store: it has caught up.
          const own = [etcd.clientEndpoints[i]];
          expect(h.etcdctl(['get', '/e2e/before', '--print-value-only', '--consistency=s'], { endpoints: own }).stdout.trim()).toBe('b');
          expect(h.etcdctl(['get', '/e2e/during', '--print-value-only', '--consistency=s'], { endpoints: own }).stdout.trim()).toBe('d');
        }
      }, 2 * STARTUP_MS);

      test('without quorum, startup and liveness pass on every running member (no restart loop) while readiness fails', async () => {
        await expectAliveWithoutQuorum(h);
      }, 3 * STARTUP_MS);
    }
  });
}
