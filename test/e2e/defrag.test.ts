import * as fs from 'fs';
import * as path from 'path';
import { Chart, Size, Testing } from 'cdk8s';
import { EtcdCluster, EtcdDefragOptions, EtcdDefragRule, EtcdVersion } from '../../lib';
import { only, synth } from '../support/synth';
import { describeEachLine, ipPrefix } from './harness/environment';
import { EtcdHarness } from './harness/etcd-harness';
import { runJobPod } from './harness/job-pod';
import { defragmentedIn, fragment } from './harness/fragmentation';
import { startWriter, stopAllWriters } from './harness/writer';

/**
 * The defragmentation CronJob's pod, run as the kubelet would, against a real 3-member StatefulSet cluster started
 * from exactly what EtcdCluster renders: churned data shrinks on every member, followers first and the leader last
 * (leadership moved away from etcd-0 first), with a write every 200 ms; a tidy cluster is left alone; a member down
 * aborts the run before anything is defragmented; a cluster in NOSPACE is brought back by compaction, the job and the
 * disarm.
 */

const QUOTA = Size.mebibytes(32);

describeEachLine('EtcdDefrag on real etcd', (line) => {
  let h: EtcdHarness;
  // One defragmentation per cluster: three renderings of the same cluster, each with one, share its members.
  const render = (id: string, options: EtcdDefragOptions) => {
    const chart = new Chart(Testing.app(), 'e2e', { namespace: 'db' });
    // On 3.6+ the members run with StopGRPCServiceOnDefrag, so the writes below also prove it keeps them going.
    const version = EtcdVersion.of(line.version);
    const etcd = new EtcdCluster(chart, 'etcd', { members: 3, version, tuning: { quotaBackendBytes: QUOTA, stopGrpcServiceOnDefrag: version.usesFeatureGates } });
    etcd.addDefrag(id, options);
    return { etcd, manifests: synth(chart) };
  };
  const tidy = render('tidy', {});
  const jobs = [tidy, render('churned', { rule: EtcdDefragRule.freeBytesAbove(Size.mebibytes(1)) }), render('nospace', { compact: true })]
    .map((r) => only(r.manifests, 'CronJob'));

  const status = () => {
    const r = h.etcdctl(['endpoint', 'status', '-w', 'json'], { endpoints: [0, 1, 2].map((i) => h.clientUrl(i)) });
    const rows = JSON.parse(r.stdout) as { Endpoint: string; Status: { header: { member_id: string | number }; leader: string | number; dbSize: number; dbSizeInUse: number } }[];
    return rows.map((row) => ({ endpoint: row.Endpoint, size: row.Status.dbSize, inUse: row.Status.dbSizeInUse, leads: String(row.Status.header.member_id) === String(row.Status.leader) }));
  };
  const run = (job: string) => {
    const runDir = fs.mkdtempSync(path.join(h.workDir, `${job}-`));
    fs.chmodSync(runDir, 0o755);
    return runJobPod(jobs.find((j) => j.metadata.name === `etcd-${job}`)!, { runDir, hostsFile: h.hostsFile, secrets: h.secretFiles(), claims: new Map(), timeoutMs: 300000 });
  };

  beforeAll(async () => {
    h = EtcdHarness.forStatefulSet(tidy.manifests, { ipPrefix: ipPrefix(line, 46), clientSecretName: tidy.etcd.clientSecretName });
    await h.startAllAndWait(90000);
  }, 120000);

  afterAll(async () => {
    stopAllWriters();
    await h?.dispose(2000);
  }, 30000);

  test('a tidy cluster is left alone: every member says why', () => {
    const result = run('tidy');
    expect({ succeeded: result.succeeded, log: result.log }).toEqual({ succeeded: true, log: expect.stringContaining('defrag: done') });
    expect(defragmentedIn(result.log)).toEqual([]);
    expect(result.log.match(/does not hold, left alone/g)).toHaveLength(3);
  });

  test('churned data shrinks on every member, one at a time, the leader last (moved away from etcd-0 first); writes every 200 ms go on', async () => {
    // Leadership to etcd-1, so that the order is not an accident of ordinals.
    const ids = h.etcdctl(['member', 'list', '-w', 'json']).stdout.replace(/"ID":(\d+)/g, '"ID":"$1"');
    const etcd1 = (JSON.parse(ids).members as { ID: string; name: string }[]).find((m) => m.name === 'etcd-1')!.ID;
    expect(h.etcdctl(['move-leader', BigInt(etcd1).toString(16)], { endpoints: [0, 1, 2].map((i) => h.clientUrl(i)) }).status).toBe(0);
    await fragment(h);
    const before = status();
    expect(before.find((s) => s.leads)!.endpoint).toBe(h.clientUrl(1));

    const writer = startWriter(h, 'defrag', [0, 1, 2], 0.2);
    const result = run('churned');
    const writes = await writer.stop();
    const done = defragmentedIn(result.log);
    console.log(`${line.version}: ${done.map((d) => `${d.endpoint.replace(/^https:\/\/(etcd-\d).*/, '$1')} (${d.role}) ${d.before} → ${d.after}`).join(', ')}; ${writes.ok} writes every 200 ms, ${writes.failed.length} failed, the slowest ${writes.slowestMs} ms`);
    expect({ succeeded: result.succeeded, log: result.log }).toEqual({ succeeded: true, log: expect.stringContaining('defrag: done') });
    expect(done.map((d) => d.role)).toEqual(['follower', 'follower', 'leader']);
    expect(done[2].endpoint).toBe(h.clientUrl(1));
    for (const d of done) expect(d.after).toBeLessThan(d.before);
    const after = status();
    for (const s of after) expect(s.size).toBeLessThan(before.find((b) => b.endpoint === s.endpoint)!.size);
    expect(writes.failed).toEqual([]);
  }, 300000);

  test('with one member stopped, the run aborts and defragments nothing', async () => {
    await h.stop(2);
    try {
      const result = run('churned');
      expect(result.succeeded).toBe(false);
      expect(result.log).toContain(`${h.clientUrl(2)} does not answer with a leader and a linearizable read`);
      expect(defragmentedIn(result.log)).toEqual([]);
    } finally {
      h.start(2);
      await h.waitHealthy([0, 1, 2], 90000);
    }
  }, 180000);

  test('a cluster in NOSPACE is writable again after the keys go: the job compacts, defragments and disarms', async () => {
    // 1 MiB values, through stdin (an argument that long is refused by the kernel).
    const value = 'n'.repeat(1024 * 1024);
    let k = 0;
    while (h.etcdctl(['put', `/fill/${k}`], { input: value }).status === 0 && k < 100) k++;
    expect(h.etcdctl(['alarm', 'list']).stdout).toContain('NOSPACE');
    expect(h.etcdctl(['put', '/after', 'x']).status).not.toBe(0);
    expect(h.etcdctl(['del', '/fill/', '--prefix']).status).toBe(0);
    const result = run('nospace');
    console.log(`${line.version}: NOSPACE after ${k} puts of 1 MiB; ${result.log.split('\n').filter((l) => /compacting|NOSPACE|dbSize/.test(l)).join(' | ')}`);
    expect({ succeeded: result.succeeded, log: result.log }).toEqual({ succeeded: true, log: expect.stringContaining('NOSPACE disarmed') });
    expect(result.log).toContain('compacting to revision');
    expect(h.etcdctl(['alarm', 'list']).stdout.trim()).toBe('');
    expect(h.etcdctl(['put', '/after', 'x']).status).toBe(0);
  }, 300000);
});
