import * as fs from 'fs';
import * as path from 'path';
import { Chart, Size } from 'cdk8s';
import { EtcdDefragRule } from '../../lib';
import { only, synth } from '../support/synth';
import { describeEachLine, ipPrefix } from './harness/environment';
import { EtcdHarness } from './harness/etcd-harness';
import { runJobPod } from './harness/job-pod';
import { defragmentedIn, fragment } from './harness/fragmentation';
import { StaticPodSetup, loopbackNodes } from './harness/static-pods';

/**
 * The defragmentation CronJob of a 3-node static-pod cluster, run on the first node as the kubelet would (host network,
 * that node's kubeadm PKI files), against real etcd: every member shrinks, the leader's node last.
 */
describeEachLine('EtcdDefrag of an EtcdStaticPodCluster on real etcd', (line) => {
  let h: EtcdHarness;
  const nodes = loopbackNodes(3, ipPrefix(line, 47));
  const setup = new StaticPodSetup(line.version, nodes);
  const defrag = setup.etcd.addDefrag('defrag', { rule: EtcdDefragRule.freeBytesAbove(Size.mebibytes(1)) });

  beforeAll(async () => {
    h = setup.harness();
    await h.startAllAndWait(90000);
  }, 120000);

  afterAll(async () => {
    await h?.dispose(2000);
  }, 30000);

  test('every member shrinks, one at a time, the leader last; the job reads only the client files of the PKI', async () => {
    await fragment(h);
    const cronJob = only(synth(Chart.of(defrag)), 'CronJob');
    expect(JSON.stringify(cronJob)).not.toContain('ca.key');
    const runDir = fs.mkdtempSync(path.join(h.workDir, 'defrag-'));
    fs.chmodSync(runDir, 0o755);
    const result = runJobPod(cronJob, {
      runDir, hostsFile: h.hostsFile, secrets: new Map(), claims: new Map(), nodeFiles: setup.pki.filesFor(nodes[0].name), nodeIp: nodes[0].ip, timeoutMs: 300000,
    });
    const done = defragmentedIn(result.log);
    console.log(`${line.version} static pods: ${done.map((d) => `${d.endpoint} (${d.role}) ${d.before} → ${d.after}`).join(', ')}`);
    expect({ succeeded: result.succeeded, log: result.log }).toEqual({ succeeded: true, log: expect.stringContaining('defrag: done') });
    expect(done.map((d) => d.role)).toEqual(['follower', 'follower', 'leader']);
    for (const d of done) expect(d.after).toBeLessThan(d.before);
  }, 300000);
});
