import * as fs from 'fs';
import * as path from 'path';
import { only } from '../support/synth';
import { configMapsInManifests } from './harness/certificates';
import { describeEachLine, ipPrefix } from './harness/environment';
import { EtcdHarness } from './harness/etcd-harness';
import { runJobPod } from './harness/job-pod';
import { synthesizeForHarness } from './harness/synthesize';
import { startWriter, stopAllWriters } from './harness/writer';

/**
 * Membership that heals, on real etcd started from exactly what EtcdCluster renders (member-start, the member sidecar,
 * the scale-down Job): a lost volume, 3 → 5 → 3, a removed member's pod coming back, and 1 → 3. A write every second
 * runs throughout, and must never fail: each write needs a quorum, so this samples the quorum every second.
 */

interface Listed { ID: string; name: string; peerURLs: string[]; clientURLs?: string[]; isLearner?: boolean }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeEachLine('EtcdCluster membership on real etcd', (line) => {
  let h: EtcdHarness;
  const three = synthesizeForHarness(line.version, 3);
  const five = synthesizeForHarness(line.version, 5);
  const listed = (members: number[] = [0, 1, 2]): Listed[] => {
    const r = h.etcdctl(['member', 'list', '-w', 'json'], { endpoints: members.map((i) => h.clientUrl(i)) });
    if (r.status !== 0) return [];
    // etcd prints member IDs as JSON numbers beyond 2^53: keep them as strings.
    return JSON.parse(r.stdout.replace(/"ID":(\d+)/g, '"ID":"$1"')).members;
  };
  const voters = (members?: number[]) => listed(members).filter((m) => m.name && !m.isLearner).map((m) => m.name).sort();
  const waitFor = async (what: string, check: () => boolean, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`${what} did not happen in ${timeoutMs} ms\n${[...Array(h.size).keys()].map((i) => `${h.tail(i, 25)}\n${h.sidecarLog(i).split('\n').slice(-8).join('\n')}`).join('\n')}`);
      await sleep(1000);
    }
  };

  beforeAll(async () => {
    // The harness knows all five pods (their addresses); the member list they read says three.
    h = EtcdHarness.forStatefulSet(five.manifests, { ipPrefix: ipPrefix(line, 40), clientSecretName: five.etcd.clientSecretName });
    h.addConfigMaps(configMapsInManifests(three.manifests));
    for (const i of [0, 1, 2]) h.start(i);
    await h.waitHealthy([0, 1, 2], 90000);
    await waitFor('three voters', () => voters().length === 3, 30000);
  }, 120000);

  afterAll(async () => {
    stopAllWriters();
    await h?.dispose(2000);
  }, 30000);

  test('the pod template does not depend on the member count: 3 and 5 members render the same pods', () => {
    expect(only(five.manifests, 'StatefulSet').spec.template).toEqual(only(three.manifests, 'StatefulSet').spec.template);
  });

  test('a member whose volume is wiped rejoins by itself as a learner under a new ID, is promoted, and no write fails', async () => {
    expect(h.etcdctl(['put', '/membership/before-wipe', 'kept']).status).toBe(0);
    const oldId = listed().find((m) => m.name === 'etcd-1')!.ID;
    // The writer talks to the members that keep voting: while etcd-1 is a learner, a request sent to it fails with
    // "rpc not supported for learner" (measured on 3.4.23; the README says so), and clients of the client Service never
    // reach it, because it is not Ready.
    const writer = startWriter(h, 'lost-volume', [0, 2]);
    const started = Date.now();
    await h.stop(1);
    const data = h.volumeDir(1, 'data');
    for (const entry of fs.readdirSync(data)) fs.rmSync(path.join(data, entry), { recursive: true, force: true });
    h.start(1);
    await waitFor('etcd-1 back as a voter', () => {
      const me = listed().find((m) => m.name === 'etcd-1');
      return me !== undefined && me.ID !== oldId && !me.isLearner;
    }, 120000);
    await h.waitHealthy([0, 1, 2], 30000);
    const seconds = Math.round((Date.now() - started) / 1000);
    const writes = await writer.stop();
    console.log(`${line.version}: lost volume: etcd-1 replaced (new ID) and promoted in ${seconds} s; ${writes.ok} writes, ${writes.failed.length} failed`);
    expect(writes.failed).toEqual([]);
    expect(writes.ok).toBeGreaterThan(seconds / 3);
    expect(h.log(1)).toContain(`member-start: lost volume: /var/lib/etcd/data is empty, and the cluster`);
    expect(h.log(1)).toContain(`lists etcd-1 as started member ${BigInt(oldId).toString(16)}; removing`);
    expect(h.sidecarLog(1)).toContain('member-sidecar: promoted etcd-1');
    expect(h.processEnv(1).ETCD_INITIAL_CLUSTER_STATE).toBe('existing');
    expect(voters()).toEqual(['etcd-0', 'etcd-1', 'etcd-2']);
    // Served from etcd-1's own, new data: a serializable read answers locally.
    const read = h.etcdctl(['get', '/membership/before-wipe', '--print-value-only', '--consistency=s'], { endpoints: [h.clientUrl(1)] });
    expect(read.stdout.trim()).toBe('kept');
  }, 180000);

  test('3 → 5: the new members add themselves as learners, one at a time, and are promoted; no write fails', async () => {
    h.addConfigMaps(configMapsInManifests(five.manifests));
    const writer = startWriter(h, 'scale-up', [0, 1, 2]);
    const started = Date.now();
    h.start(3);
    h.start(4);
    await waitFor('five voters', () => voters().length === 5, 240000);
    await h.waitHealthy([0, 1, 2, 3, 4], 30000);
    const seconds = Math.round((Date.now() - started) / 1000);
    const writes = await writer.stop();
    console.log(`${line.version}: 3 → 5 in ${seconds} s; ${writes.ok} writes, ${writes.failed.length} failed`);
    expect(writes.failed).toEqual([]);
    for (const i of [3, 4]) {
      expect(h.log(i)).toContain(`member-start: scale-up: adding etcd-${i}`);
      expect(h.sidecarLog(i)).toContain(`member-sidecar: promoted etcd-${i}`);
    }
    // One joins at a time: the second saw the first's learner and waited, or etcd refused its add while the first
    // joined (3.4 has no learner limit, but refuses a member add until the cluster has been healthy for 5 s).
    expect(`${h.log(3)}${h.log(4)}`).toMatch(/one joins at a time|unhealthy cluster|too many learner members/);
  }, 300000);

  test('5 → 3 with the scale-down Job: members leave before their pods, highest first; no write fails', async () => {
    const shrink = synthesizeForHarness(line.version, 3, { scaleDownFrom: 5 });
    expect(only(shrink.manifests, 'StatefulSet').spec.replicas).toBe(5);
    h.addConfigMaps(configMapsInManifests(shrink.manifests));
    const job = only(shrink.manifests, 'Job');
    const writer = startWriter(h, 'scale-down', [0, 1, 2]);
    const started = Date.now();
    const runDir = fs.mkdtempSync(path.join(h.workDir, 'scale-down-'));
    fs.chmodSync(runDir, 0o755);
    const asCronJob = { apiVersion: 'batch/v1', kind: 'CronJob', metadata: job.metadata, spec: { jobTemplate: { spec: job.spec } } };
    const result = runJobPod(asCronJob, { runDir, hostsFile: h.hostsFile, secrets: h.secretFiles(), claims: new Map() });
    const seconds = Math.round((Date.now() - started) / 1000);
    expect({ succeeded: result.succeeded, log: result.log }).toEqual({ succeeded: true, log: expect.stringContaining('scale-down: done') });
    const removed = [...result.log.matchAll(/removed (etcd-\d)/g)].map((m) => m[1]);
    expect(removed).toEqual(['etcd-4', 'etcd-3']);
    expect(voters()).toEqual(['etcd-0', 'etcd-1', 'etcd-2']);
    // A removed member's etcd stops by itself (etcd tells it it was removed).
    await waitFor('etcd-3 and etcd-4 to stop', () => !h.isRunning(3) && !h.isRunning(4), 60000);
    const writes = await writer.stop();
    console.log(`${line.version}: 5 → 3 by the Job in ${seconds} s (${removed.join(', ')}); ${writes.ok} writes, ${writes.failed.length} failed`);
    expect(writes.failed).toEqual([]);
    await h.stop(3);
    await h.stop(4);
  }, 240000);

  test('a removed member\'s pod restarted with its old data refuses to rejoin, with a clear log, and starts nothing', async () => {
    // As the StatefulSet would not (it has shrunk), but a user who scales back up before deleting the claim would.
    h.addConfigMaps(configMapsInManifests(five.manifests));
    h.start(4);
    await h.initDone(4);
    expect(h.isRunning(4)).toBe(false);
    expect(h.log(4)).toContain('member-start: REFUSED: /var/lib/etcd/data holds data, but the cluster');
    expect(h.log(4)).toContain('no longer lists etcd-4');
    expect(h.log(4)).toContain('delete its claim (data-etcd-4)');
    expect(voters()).toEqual(['etcd-0', 'etcd-1', 'etcd-2']);
  }, 60000);
});

describeEachLine('EtcdCluster growing 1 → 3 → 7 on real etcd', (line) => {
  let h: EtcdHarness;
  afterAll(async () => {
    stopAllWriters();
    await h?.dispose(2000);
  }, 30000);

  const votersOn = (endpoint: string) => {
    const r = h.etcdctl(['member', 'list', '-w', 'simple'], { endpoints: [endpoint] });
    return r.stdout.trim().split('\n').filter((l) => / started, etcd-\d, .*, false$/.test(l)).length;
  };
  const grow = async (to: number, members: number[], writeTo: number[]) => {
    h.addConfigMaps(configMapsInManifests(synthesizeForHarness(line.version, to).manifests));
    const writer = startWriter(h, `grow-${to}`, writeTo);
    const started = Date.now();
    for (const i of members) h.start(i);
    const deadline = Date.now() + 300000;
    while (votersOn(h.clientUrl(0)) < to) {
      if (Date.now() > deadline) throw new Error(`not ${to} voters:\n${members.map((i) => h.tail(i)).join('\n')}`);
      await sleep(1000);
    }
    const writes = await writer.stop();
    return { seconds: Math.round((Date.now() - started) / 1000), writes };
  };

  test('one step (1 → 3), then two steps in one apply (3 → 7): each new member joins as a learner and is promoted, one at a time; no write fails', async () => {
    const one = synthesizeForHarness(line.version, 1);
    const seven = synthesizeForHarness(line.version, 7);
    expect(only(one.manifests, 'StatefulSet').spec.template).toEqual(only(seven.manifests, 'StatefulSet').spec.template);
    h = EtcdHarness.forStatefulSet(seven.manifests, { ipPrefix: ipPrefix(line, 41), clientSecretName: seven.etcd.clientSecretName });
    h.addConfigMaps(configMapsInManifests(one.manifests));
    h.start(0);
    await h.waitHealthy([0], 60000);
    const toThree = await grow(3, [1, 2], [0]);
    console.log(`${line.version}: 1 → 3 in ${toThree.seconds} s; ${toThree.writes.ok} writes, ${toThree.writes.failed.length} failed`);
    expect(toThree.writes.failed).toEqual([]);
    const toSeven = await grow(7, [3, 4, 5, 6], [0, 1, 2]);
    console.log(`${line.version}: 3 → 7 in ${toSeven.seconds} s; ${toSeven.writes.ok} writes, ${toSeven.writes.failed.length} failed`);
    expect(toSeven.writes.failed).toEqual([]);
    await h.waitHealthy([0, 1, 2, 3, 4, 5, 6], 30000);
  }, 600000);
});
