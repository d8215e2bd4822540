import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { Chart, Duration, Size, Testing } from 'cdk8s';
import { EtcdCluster, EtcdDefragRule, EtcdNetworkPeer, EtcdVersion } from '../../lib';
import { only, synth } from '../support/synth';
import { describeEachLine, ipPrefix } from './harness/environment';
import { EtcdHarness } from './harness/etcd-harness';
import { fragment } from './harness/fragmentation';
import { runJobPod } from './harness/job-pod';
import { pinnedToolVersion, toolBinary } from './harness/tools';

/**
 * A real Prometheus scraping a real 3-member StatefulSet cluster with the scrape configuration the rendered PodMonitor
 * expresses, and evaluating the rendered PrometheusRule; alerts are read through Prometheus's HTTP API. On 3.6 and 3.7.
 *
 * prometheus-operator does not run here, so `scrapeConfigOf` does what it does for a PodMonitor: one target per pod
 * the selector matches, on the container port the endpoint names, with the operator's target labels (namespace, pod,
 * container, endpoint, job) and the endpoint's relabelings; it refuses a field it does not translate. That is what
 * prometheus-operator's generatePodMonitorConfig (pkg/prometheus/promcfg.go, read at 6adcebc50) renders: keep the
 * pods whose labels match, keep the container port named by `port`, set namespace, container and pod from the pod,
 * job to `<namespace>/<name>`, endpoint to the port's name, then apply the endpoint's relabelings (after its own, so
 * a `keep` on `__meta_kubernetes_pod_node_name` still sees that label). Two things are
 * shortened for the test and said here: the scrape interval (1 s, not the PodMonitor's 5 s) and every `for:` (0 s;
 * promtool proves the durations in monitoring-rules.test.ts). Expressions, labels and annotations are the rendered ones.
 */

const prometheus = toolBinary('prometheus', pinnedToolVersion('prometheus'));
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Manifest = any;

/** prometheus-operator's scrape configuration for a PodMonitor with one endpoint, over the given pods. */
export function scrapeConfigOf(podMonitor: Manifest, pods: { name: string; ip: string; labels: { [k: string]: string }; ports: { name: string; containerPort: number }[] }[], intervalOverride: string) {
  const known = ['port', 'path', 'scheme', 'interval', 'relabelings'];
  const [endpoint, ...more] = podMonitor.spec.podMetricsEndpoints;
  const untranslated = [...Object.keys(endpoint).filter((k) => !known.includes(k)), ...(more.length > 0 ? ['a second endpoint'] : [])];
  const relabelActions = endpoint.relabelings.map((r: { action: string }) => r.action).filter((a: string) => a !== 'replace');
  untranslated.push(...relabelActions.map((a: string) => `a ${a} relabeling`));
  if (untranslated.length > 0) throw new Error(`scrapeConfigOf does not translate ${untranslated.join(', ')}`);
  const ns = podMonitor.metadata.namespace;
  const selected = pods.filter((p) => Object.entries(podMonitor.spec.selector.matchLabels).every(([k, v]) => p.labels[k] === v));
  return {
    job_name: `podMonitor/${ns}/${podMonitor.metadata.name}/0`,
    scrape_interval: intervalOverride,
    metrics_path: endpoint.path,
    scheme: endpoint.scheme,
    static_configs: selected.map((p) => {
      const port = p.ports.find((x) => x.name === endpoint.port);
      if (!port) throw new Error(`pod ${p.name} declares no port ${endpoint.port}`);
      return { targets: [`${p.ip}:${port.containerPort}`], labels: { namespace: ns, pod: p.name, container: 'etcd', endpoint: endpoint.port, job: `${ns}/${podMonitor.metadata.name}` } };
    }),
    relabel_configs: endpoint.relabelings.map((r: { action: string; targetLabel: string; replacement: string }) => ({ action: r.action.toLowerCase(), target_label: r.targetLabel, replacement: r.replacement })),
  };
}

describeEachLine('addMonitoring under a real Prometheus', (line) => {
  if (!['3.6', '3.7'].includes(line.line)) {
    test.skip('runs on 3.6 and 3.7', () => undefined);
    return;
  }
  if (!prometheus.binary) {
    if (process.env.CI === 'true') test('prometheus is available', () => { throw new Error(prometheus.missing); });
    else test.skip(`prometheus: ${prometheus.missing}`, () => undefined);
    return;
  }
  const chart = new Chart(Testing.app(), 'e2e', { namespace: 'db' });
  const etcd = new EtcdCluster(chart, 'etcd', {
    members: 3, version: EtcdVersion.of(line.version), tuning: { quotaBackendBytes: Size.mebibytes(32), extensiveMetrics: true },
    monitoring: [EtcdNetworkPeer.pods({ labels: { app: 'prometheus' } })],
  });
  // The shortest scrape interval the rules take: their peer-failure window is 4 of them (20 s).
  etcd.addMonitoring({ scrapeInterval: Duration.seconds(5), alerts: { freeBytes: Size.mebibytes(1), fragmentedFor: Duration.seconds(0) } });
  etcd.addDefrag('defrag', { rule: EtcdDefragRule.freeBytesAbove(Size.mebibytes(1)) });
  const manifests = synth(chart);
  let h: EtcdHarness;
  let server: ChildProcess | undefined;
  const listen = `${ipPrefix(line, 48)}.250:9090`;

  const api = (query: string): Promise<Manifest> => new Promise((resolve, reject) => {
    http.get(`http://${listen}${query}`, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => { try { resolve(JSON.parse(body)); } catch (e) { reject(e); } });
    }).on('error', reject);
  });
  const firing = async () => ((await api('/api/v1/alerts')).data.alerts as Manifest[]).filter((a) => a.state === 'firing');
  const waitFor = async (what: string, check: (alerts: Manifest[]) => boolean, timeoutMs = 60000) => {
    const deadline = Date.now() + timeoutMs;
    let last: Manifest[] = [];
    while (Date.now() < deadline) {
      try {
        last = await firing();
        if (check(last)) return last;
      } catch { /* not up yet */ }
      await new Promise((r) => setTimeout(r, 1000));
    }
    throw new Error(`${what} within ${timeoutMs} ms; firing: ${JSON.stringify(last.map((a) => a.labels))}`);
  };
  const names = (alerts: Manifest[]) => alerts.map((a) => a.labels.alertname);

  beforeAll(async () => {
    h = EtcdHarness.forStatefulSet(manifests, { ipPrefix: ipPrefix(line, 48), clientSecretName: etcd.clientSecretName });
    await h.startAllAndWait(90000);
    const podMonitor = only(manifests, 'PodMonitor');
    const template = only(manifests, 'StatefulSet').spec.template;
    const pods = [0, 1, 2].map((i) => ({ name: h.podName(i), ip: h.member(i).podIp, labels: template.metadata.labels, ports: template.spec.containers.find((c: Manifest) => c.name === 'etcd').ports }));
    const groups = only(manifests, 'PrometheusRule').spec.groups.map((g: Manifest) => ({ ...g, rules: g.rules.map((r: Manifest) => ({ ...r, for: '0s' })) }));
    const dir = fs.mkdtempSync(path.join(h.workDir, 'prometheus-'));
    fs.writeFileSync(path.join(dir, 'rules.json'), JSON.stringify({ groups }));
    fs.writeFileSync(path.join(dir, 'prometheus.yml'), JSON.stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: ['rules.json'],
      scrape_configs: [scrapeConfigOf(podMonitor, pods, '1s')],
    }));
    server = spawn(prometheus.binary!, [`--config.file=${dir}/prometheus.yml`, `--storage.tsdb.path=${dir}/data`, `--web.listen-address=${listen}`], { stdio: ['ignore', 'ignore', fs.openSync(path.join(dir, 'prometheus.log'), 'w')] });
    await waitFor('Prometheus scrapes every member', () => true);
  }, 180000);

  afterAll(async () => {
    server?.kill('SIGKILL');
    await h?.dispose(2000);
  }, 30000);

  test('it scrapes every member without a client certificate, and the metrics the rules read exist under these names', async () => {
    const deadline = Date.now() + 30000;
    let up: Manifest[] = [];
    while (Date.now() < deadline && up.length < 3) {
      up = (await api('/api/v1/query?query=' + encodeURIComponent('up{etcd_cluster="db/etcd"} == 1'))).data.result;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(up.map((r: Manifest) => r.metric.pod).sort()).toEqual(['etcd-0', 'etcd-1', 'etcd-2']);
    expect(up[0].metric).toMatchObject({ namespace: 'db', job: 'db/etcd', container: 'etcd', endpoint: 'metrics' });
    const rules = JSON.stringify(only(manifests, 'PrometheusRule').spec.groups);
    const used = [...new Set([...rules.matchAll(/\b(etcd_[a-z_]+|grpc_server_[a-z_]+)\{/g)].map((m) => m[1]))];
    const present = (await api('/api/v1/label/__name__/values')).data as string[];
    // Only after a peer send fails: the failure counter. (The gRPC latency histogram needs extensiveMetrics, on here.)
    const conditional = ['etcd_network_peer_sent_failures_total'];
    expect(used.filter((m) => !present.includes(m) && !conditional.includes(m))).toEqual([]);
    expect(used.length).toBeGreaterThan(10);
    expect(names(await firing())).toEqual([]);
  }, 60000);

  test('members down: etcdMembersDown, then etcdInsufficientMembers and etcdNoLeader without a majority; all resolve when they return', async () => {
    await h.stop(2);
    const down = await waitFor('etcdMembersDown fires', (a) => names(a).includes('etcdMembersDown'));
    expect(down.find((a) => a.labels.alertname === 'etcdMembersDown').labels).toMatchObject({ etcd_cluster: 'db/etcd', severity: 'critical' });
    expect(names(down)).not.toContain('etcdInsufficientMembers');
    await h.stop(1);
    const lost = await waitFor('etcdInsufficientMembers and etcdNoLeader fire', (a) => names(a).includes('etcdInsufficientMembers') && names(a).includes('etcdNoLeader'));
    const noLeader = lost.find((a) => a.labels.alertname === 'etcdNoLeader');
    expect(noLeader.labels.pod).toBe('etcd-0');
    expect(noLeader.annotations.description).toBe('etcd cluster "db/etcd": member etcd-0 has no leader.');
    expect(noLeader.annotations.runbook_url).toMatch(/#alert-etcdnoleader$/);
    h.start(1);
    h.start(2);
    await h.waitHealthy([0, 1, 2], 90000);
    // The requests that failed or waited without a quorum (the members' own MemberList calls among them), and the
    // peers' first round trips after it, may keep etcdHighNumberOfFailedGRPCRequests, etcdGRPCRequestsSlow and
    // etcdMemberCommunicationSlow firing for their 5-minute windows; the membership alerts resolve.
    const after = await waitFor('the membership alerts resolve', (a) => !names(a).some((n) => ['etcdMembersDown', 'etcdInsufficientMembers', 'etcdNoLeader'].includes(n)));
    console.log(`${line.version}: after the outage, still firing from its requests: ${after.map((a) => `${a.labels.alertname} ${a.labels.grpc_method} on ${a.labels.pod}`).join(', ') || 'nothing'}`);
    expect(names(after).filter((n) => !['etcdHighNumberOfFailedGRPCRequests', 'etcdGRPCRequestsSlow', 'etcdMemberCommunicationSlow'].includes(n))).toEqual([]);
  }, 240000);

  test('fragmentation: EtcdDatabaseFragmented fires after churn and clears after the defrag job runs', async () => {
    await fragment(h);
    // Each member frees its pages in its own time: wait until the alert fires for all three.
    const fragmentedPods = (a: Manifest[]) => a.filter((x) => x.labels.alertname === 'EtcdDatabaseFragmented').map((x) => x.labels.pod).sort();
    await waitFor('EtcdDatabaseFragmented fires for every member', (a) => fragmentedPods(a).length === 3);
    const runDir = fs.mkdtempSync(path.join(h.workDir, 'defrag-'));
    fs.chmodSync(runDir, 0o755);
    const job = runJobPod(only(manifests, 'CronJob', 'etcd-defrag'), { runDir, hostsFile: h.hostsFile, secrets: h.secretFiles(), claims: new Map(), timeoutMs: 300000 });
    expect(job.succeeded).toBe(true);
    await waitFor('EtcdDatabaseFragmented clears', (a) => !names(a).includes('EtcdDatabaseFragmented'));
  }, 240000);

  test('the quota: EtcdDatabaseNearQuota fires above 80% of the 32 MiB quota the members run with', async () => {
    const value = 'q'.repeat(1024 * 1024);
    for (let k = 0; k < 27; k++) h.etcdctl(['put', `/fill/${k}`], { input: value });
    const near = await waitFor('EtcdDatabaseNearQuota fires', (a) => names(a).includes('EtcdDatabaseNearQuota'));
    const alert = near.find((a) => a.labels.alertname === 'EtcdDatabaseNearQuota');
    const [, percent] = /^etcd cluster "db\/etcd": the database of member etcd-\d is ([\d.]+)% of the 32 MiB quota/.exec(alert.annotations.description) ?? [];
    expect(Number(percent)).toBeGreaterThan(80);
  }, 120000);
});
