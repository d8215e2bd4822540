import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { Size } from 'cdk8s';
import { EtcdClusterProps, EtcdVersion } from '../../lib';
import { only } from '../support/synth';
import { configMapsInManifests } from './harness/certificates';
import { describeEachLine, ipPrefix } from './harness/environment';
import { EtcdHarness } from './harness/etcd-harness';
import { StaticPodSetup, loopbackNodes } from './harness/static-pods';
import { synthesizeForHarness } from './harness/synthesize';
import { startWriter, stopAllWriters } from './harness/writer';

/**
 * Minor upgrades one member at a time, from exactly what the library renders for each release (with `upgradeFrom`
 * naming the one before), under a write every second. It needs several lines' binaries, so it runs in the `etcd 3.7`
 * project only.
 */

/**
 * 3.5.35 → 3.6.16 → 3.7.3. 3.7 replays a member's WAL from its newest snapshot record and no longer reads the entries
 * 3.5 wrote when the cluster was created: a member whose WAL has no snapshot yet panics ("unmarshal should never
 * fail"; reproduced with a single member in 15 s, and gone once 3.5 or 3.6 had taken a snapshot). The 3.7 gate
 * refuses such a member; the StatefulSet test shows the refusal and the way on.
 */
const PATH = ['3.5.35', '3.6.16', '3.7.3'];
const KEYS = 200;
/** `3.6` of `3.6.16`: what the cluster version says. */
const minorOf = (release: string) => release.replace(/\.\d+$/, '');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a member's metrics listener says: its own release and the cluster version. */
function versions(host: string, port: number): Promise<{ server?: string; cluster?: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: '/metrics', timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({
        server: /etcd_server_version\{server_version="([^"]+)"\} 1/.exec(body)?.[1],
        cluster: /etcd_cluster_version\{cluster_version="([^"]+)"\} 1/.exec(body)?.[1],
      }));
    });
    req.on('error', () => resolve({}));
    req.on('timeout', () => { req.destroy(); resolve({}); });
  });
}

describeEachLine('minor upgrades one member at a time on real etcd', (line) => {
  if (line.line !== '3.7') {
    test.skip(`the upgrade runs in the etcd 3.7 project (it needs several lines' binaries), not ${line.line}`, () => undefined);
    return;
  }
  afterAll(() => stopAllWriters());

  /** Roll every member in `order` to what `swap(i)` returns, waiting for health between members; the cluster version after each. */
  async function roll(h: EtcdHarness, order: number[], swap: (i: number) => void, metricsHost: (i: number) => string): Promise<string[]> {
    const seen: string[] = [];
    for (const i of order) {
      // UTC times, to line up with a failed write's.
      console.log(`${new Date().toISOString().slice(11, 19)} rolling ${h.podName(i)}`);
      await h.stop(i);
      swap(i);
      h.start(i);
      await h.waitHealthy([0, 1, 2], 90000);
      seen.push((await versions(metricsHost(i), 2381)).cluster ?? '?');
    }
    return seen;
  }

  async function clusterVersionBecomes(hosts: string[], minor: string): Promise<number> {
    const started = Date.now();
    while (Date.now() - started < 60000) {
      const all = await Promise.all(hosts.map((host) => versions(host, 2381)));
      if (all.every((v) => v.cluster === minor)) return Date.now() - started;
      await sleep(500);
    }
    throw new Error(`the cluster version did not become ${minor} within 60 s`);
  }

  /** Every key written before, and the writer's last acknowledged write (its counter), are there at the end. */
  function expectAllWrites(h: EtcdHarness, acknowledged: number) {
    const r = h.etcdctl(['get', '/upgrade/', '--prefix', '--keys-only']);
    expect(r.stdout.trim().split('\n').filter(Boolean)).toHaveLength(KEYS);
    expect(Number(h.etcdctl(['get', '/driven/upgrade', '--print-value-only']).stdout.trim())).toBeGreaterThanOrEqual(acknowledged);
  }

  test('a 3-member StatefulSet cluster: 3.5.35 → 3.6.16 → 3.7.3, gated; the 3.7 gate refuses a WAL without a snapshot; no write fails, every key stays', async () => {
    const first = synthesizeForHarness(PATH[0], 3);
    const h = EtcdHarness.forStatefulSet(first.manifests, { ipPrefix: ipPrefix(line, 43), clientSecretName: first.etcd.clientSecretName });
    const hosts = [0, 1, 2].map((i) => h.member(i).podIp);
    const workload = (version: string, props: EtcdClusterProps) => {
      const next = synthesizeForHarness(version, 3, props);
      h.addConfigMaps(configMapsInManifests(next.manifests));
      return only(next.manifests, 'StatefulSet');
    };
    /** Roll from `from` to `to` (with upgradeFrom), and check what the cluster and each member say after. */
    const upgrade = async (from: string, to: string, props: EtcdClusterProps = {}) => {
      const sts = workload(to, { ...props, upgradeFrom: EtcdVersion.of(from) });
      const started = Date.now();
      const during = await roll(h, [2, 1, 0], (i) => h.replaceMember(i, { ...h.memberSpec(i), workload: sts }), (i) => hosts[i]);
      const moved = await clusterVersionBecomes(hosts, minorOf(to));
      console.log(`StatefulSet ${from} → ${to}: rolled in ${Math.round((Date.now() - started) / 1000)} s; cluster version after each member: ${during.join(', ')}; ${minorOf(to)} on every member ${moved} ms after the last`);
      // The cluster version stays the old minor while any member runs it.
      expect(during.slice(0, 2)).toEqual([minorOf(from), minorOf(from)]);
      for (const host of hosts) expect((await versions(host, 2381)).server).toBe(to);
      // Each member passed the pre-upgrade gate, and its verified snapshot stays on its volume.
      const snapshot = `pre-upgrade-${from}-to-${to}.db`;
      for (const i of [0, 1, 2]) {
        expect(h.log(i)).toContain(`upgrade gate: verified snapshot /var/lib/etcd/${snapshot}`);
        expect(fs.statSync(path.join(h.volumeDir(i, 'data'), snapshot)).size).toBeGreaterThan(KEYS * 20);
      }
    };
    const walSnapshots = (i: number) => {
      const dir = path.join(h.volumeDir(i, 'data'), 'data/member/snap');
      return fs.readdirSync(dir).filter((f) => f.endsWith('.snap'));
    };
    try {
      await h.startAllAndWait(90000);
      for (let k = 0; k < KEYS; k++) expect(h.etcdctl(['put', `/upgrade/${k}`, `v${k}`]).status).toBe(0);
      expect((await versions(hosts[0], 2381)).cluster).toBe('3.5');
      const writer = startWriter(h, 'upgrade');
      await upgrade(PATH[0], PATH[1]);

      // To 3.7 straight away: a member whose WAL holds no snapshot yet (fewer than 10000 entries; one may have taken
      // one anyway) is refused by its gate before 3.7 starts, where 3.7.3 panicked in 3 runs out of 4 before the rule.
      const unsnapshotted = [2, 1, 0].find((i) => walSnapshots(i).length === 0);
      if (unsnapshotted === undefined) {
        console.log('every member\'s WAL has a snapshot already: the 3.7 refusal is covered by the unit tests only in this run');
      } else {
        const held = workload(PATH[2], { upgradeFrom: EtcdVersion.of(PATH[1]) });
        await h.stop(unsnapshotted);
        h.replaceMember(unsnapshotted, { ...h.memberSpec(unsnapshotted), workload: held });
        h.start(unsnapshotted);
        await h.initDone(unsnapshotted);
        expect(h.isRunning(unsnapshotted)).toBe(false);
        expect(h.log(unsnapshotted)).toContain(`REFUSED: upgrade ${PATH[1]} → ${PATH[2]}: /var/lib/etcd/data/member/snap has no snapshot yet`);
        const running = [0, 1, 2].filter((i) => i !== unsnapshotted);
        expect(await Promise.all(running.map(async (i) => (await versions(hosts[i], 2381)).server))).toEqual([PATH[1], PATH[1]]);
        console.log(`${h.podName(unsnapshotted)} refused 3.7: its WAL had no snapshot`);
      }

      // The README's way on: the refused member back on 3.6, every member restarted with a low snapshotCount, entries
      // past it.
      const back = workload(PATH[1], { tuning: { snapshotCount: 100 } });
      await roll(h, [2, 1, 0], (i) => h.replaceMember(i, { ...h.memberSpec(i), workload: back }), (i) => hosts[i]);
      for (let k = 0; k < 150; k++) expect(h.etcdctl(['put', '/snapshot-filler', String(k)]).status).toBe(0);
      for (const i of [0, 1, 2]) expect(walSnapshots(i).length).toBeGreaterThan(0);
      await upgrade(PATH[1], PATH[2]);

      const writes = await writer.stop();
      console.log(`StatefulSet 3.5 → 3.6 → 3.7: ${writes.ok} writes, ${writes.failed.length} failed, the slowest ${writes.slowestMs} ms`);
      expect(writes.failed).toEqual([]);
      expectAllWrites(h, writes.ok);
      for (const i of [0, 1, 2]) expect(h.log(i)).not.toContain('unmarshal should never fail');
    } finally {
      await h.dispose(2000);
    }
  }, 600000);

  test('the gate holds a member\'s upgrade while an alarm is raised, and while another is down until the quorum needs it; no member changes version meanwhile', async () => {
    // A 1 MiB quota, so the cluster can be filled to a real NOSPACE alarm.
    const tuning = { quotaBackendBytes: Size.mebibytes(1) };
    const first = synthesizeForHarness(PATH[0], 3, { tuning });
    const next = synthesizeForHarness(PATH[1], 3, { tuning, upgradeFrom: EtcdVersion.of(PATH[0]) });
    const h = EtcdHarness.forStatefulSet(first.manifests, { ipPrefix: ipPrefix(line, 45), clientSecretName: first.etcd.clientSecretName });
    const hosts = [0, 1, 2].map((i) => h.member(i).podIp);
    const servers = async () => Promise.all(hosts.map(async (host) => (await versions(host, 2381)).server ?? '-'));
    const upgradeMember = async (i: number) => {
      await h.stop(i);
      h.replaceMember(i, { ...h.memberSpec(i), workload: only(next.manifests, 'StatefulSet') });
      h.start(i);
    };
    const gateHolds = async (i: number, reason: string) => {
      const deadline = Date.now() + 60000;
      while (!h.tail(i, 40).includes(reason)) {
        if (Date.now() > deadline) throw new Error(`${h.podName(i)}'s gate did not say "${reason}":\n${h.tail(i, 40)}`);
        await sleep(1000);
      }
      console.log(`${h.podName(i)} held by the gate: ${h.tail(i, 40).split('\n').reverse().find((l) => l.includes(reason))?.trim()}`);
      expect(h.isInitializing(i)).toBe(true);
      expect(fs.existsSync(path.join(h.volumeDir(i, 'data'), `pre-upgrade-${PATH[0]}-to-${PATH[1]}.db`))).toBe(false);
    };
    try {
      await h.startAllAndWait(90000);
      h.addConfigMaps(configMapsInManifests(next.manifests));

      // etcd-0 down: etcd-2's gate finds no quorum without etcd-2 and holds 3.6 back for a minute; then, since the
      // quorum needs it, it keeps a copy of its own database and starts, and the cluster has its quorum again.
      await h.stop(0);
      const stopped = Date.now();
      await upgradeMember(2);
      await gateHolds(2, 'upgrade gate: no member answers with a quorum without etcd-2');
      expect(await servers()).toEqual(['-', PATH[0], '-']);
      await h.waitHealthy([1, 2], 150000);
      console.log(`etcd-2 started without the others' checks ${Math.round((Date.now() - stopped) / 1000)} s after etcd-0 stopped`);
      expect(h.log(2)).toContain('upgrade gate: no quorum answers without etcd-2 (for 60 s): the quorum needs it, so it starts without checking the others');
      expect(h.log(2)).toContain(`upgrade gate: verified snapshot /var/lib/etcd/pre-upgrade-${PATH[0]}-to-${PATH[1]}.db`);
      expect(await servers()).toEqual(['-', PATH[0], PATH[1]]);
      h.start(0);
      await h.waitHealthy([0, 1, 2], 120000);
      expect(await servers()).toEqual([PATH[0], PATH[0], PATH[1]]);

      // A NOSPACE alarm: etcd-1's gate waits, with etcd-0 and etcd-2 healthy, until the alarm is cleared.
      const value = 'x'.repeat(64 * 1024);
      let k = 0;
      while (h.etcdctl(['put', `/fill/${k}`, value]).status === 0 && k < 100) k++;
      expect(h.etcdctl(['alarm', 'list']).stdout).toContain('NOSPACE');
      await upgradeMember(1);
      await gateHolds(1, 'NOSPACE');
      expect(await servers()).toEqual([PATH[0], '-', PATH[1]]);
      // The README's NOSPACE steps, against the two running members: free space, compact, defragment, disarm.
      const running = { endpoints: [h.clientUrl(0), h.clientUrl(2)] };
      expect(h.etcdctl(['del', '/fill/', '--prefix'], running).status).toBe(0);
      const revision = /"revision":(\d+)/.exec(h.etcdctl(['endpoint', 'status', '-w', 'json'], { endpoints: [h.clientUrl(0)] }).stdout)![1];
      expect(h.etcdctl(['compaction', revision], running).status).toBe(0);
      expect(h.etcdctl(['defrag'], running).status).toBe(0);
      expect(h.etcdctl(['alarm', 'disarm'], running).status).toBe(0);
      await h.waitHealthy([0, 1, 2], 120000);
      expect(await servers()).toEqual([PATH[0], PATH[1], PATH[1]]);
      expect(h.log(1)).toContain(`verified snapshot /var/lib/etcd/pre-upgrade-${PATH[0]}-to-${PATH[1]}.db`);
    } finally {
      await h.dispose(2000);
    }
  }, 300000);

  test('a 3-node static-pod cluster, node by node in rolloutOrderScript\'s order, gated: 3.5.35 → 3.6.16 → 3.7.3; no write fails', async () => {
    const nodes = loopbackNodes(3, ipPrefix(line, 44));
    const first = new StaticPodSetup(PATH[0], nodes);
    const h = first.harness();
    try {
      await h.startAllAndWait(90000);
      for (let k = 0; k < KEYS; k++) expect(h.etcdctl(['put', `/upgrade/${k}`, `v${k}`]).status).toBe(0);
      const metricsHosts = [0, 1, 2].map((i) => h.member(i).loopbackIp);
      const writer = startWriter(h, 'upgrade');
      for (let step = 1; step < PATH.length; step++) {
        // A low snapshotCount on 3.6, so each member's WAL has a snapshot before 3.7 (README: "Upgrading etcd").
        const next = new StaticPodSetup(PATH[step], nodes, {}, { upgradeFrom: EtcdVersion.of(PATH[step - 1]), tuning: { snapshotCount: 100 } }, first.pki);
        // The gate first, with the target's etcdctl and etcdutl as the README says: it refuses while a node is down.
        const gate = (env: { [name: string]: string }) => h.runOperatorScript(next.etcd.upgradeGateScript!, { release: PATH[step], env });
        await h.stop(0);
        const refused = gate({ SNAPSHOT_DIR: h.workDir });
        expect(refused.status).toBe(1);
        expect(refused.stderr).toContain(`upgrade gate: ${h.clientUrl(0)} is not healthy`);
        h.start(0);
        await h.waitHealthy([0, 1, 2], 60000);
        const passed = gate({ SNAPSHOT_DIR: h.workDir });
        expect(passed.status).toBe(0);
        expect(passed.stderr).toContain(`verified snapshot ${h.workDir}/pre-upgrade-${PATH[step - 1]}-to-${PATH[step]}.db`);
        // Followers first, the leader's node last: the order the library's script prints from the running members
        // (the newest etcdctl reads every release's status).
        const printed = h.runOperatorScript(next.etcd.rolloutOrderScript, { release: PATH[PATH.length - 1] });
        expect(printed.status).toBe(0);
        const order = printed.stdout.trim().split('\n').map((name) => nodes.findIndex((n) => n.name === name));
        const during = await roll(h, order, (i) => h.replaceMember(i, next.member(nodes[i].name)), (i) => metricsHosts[i]);
        const moved = await clusterVersionBecomes(metricsHosts, minorOf(PATH[step]));
        console.log(`static pods ${PATH[step - 1]} → ${PATH[step]}: order ${order.map((i) => nodes[i].name).join(', ')} (leader last); cluster version after each node: ${during.join(', ')}; moved ${moved} ms after the last`);
        expect(during.slice(0, 2)).toEqual([minorOf(PATH[step - 1]), minorOf(PATH[step - 1])]);
        for (let k = 0; k < 150; k++) expect(h.etcdctl(['put', '/snapshot-filler', String(k)]).status).toBe(0);
      }
      const writes = await writer.stop();
      expect(writes.failed).toEqual([]);
      expectAllWrites(h, writes.ok);
      for (const i of [0, 1, 2]) expect(h.log(i)).not.toContain('unmarshal should never fail');
    } finally {
      await h.dispose(2000);
    }
  }, 600000);
});
