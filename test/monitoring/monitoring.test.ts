import { App, Chart, Cron, Duration, Size, Testing } from 'cdk8s';
import { EtcdBackupDestination, EtcdBackupEncryption, EtcdCluster, EtcdDefragRule, EtcdMonitoring, EtcdMonitoringOptions, EtcdNetworkPeer, EtcdStaticPodCluster } from '../../lib';
import { promDuration } from '../../lib/monitoring/alert-rules';
import { warningsOf } from '../../lib/shared/warnings';
import { validateObject } from '../support/schema';
import { only, synth } from '../support/synth';

type Rule = { alert: string; expr: string; for: string; labels: { [k: string]: string }; annotations: { [k: string]: string } };
const PROMETHEUS = [EtcdNetworkPeer.pods({ labels: { app: 'prometheus' }, namespace: 'monitoring' })];

/** A 3-member cluster in namespace db with a nightly backup and a defragmentation, monitored; every object. */
function monitored(options: EtcdMonitoringOptions = {}, name = 'etcd', defragRule?: EtcdDefragRule) {
  const chart = new Chart(Testing.app(), 'c', { namespace: 'db' });
  const etcd = new EtcdCluster(chart, name, { monitoring: PROMETHEUS, storageSize: Size.gibibytes(4) });
  const monitoring = etcd.addMonitoring(options);
  // Added after the monitoring: the rules are rendered at synthesis, so they still see it.
  etcd.addBackup('nightly', { schedule: Cron.schedule({ minute: '0', hour: '2' }), destinations: [EtcdBackupDestination.volume({ size: Size.gibibytes(10) })], encryption: EtcdBackupEncryption.none() });
  etcd.addDefrag('defrag', { rule: defragRule });
  const objects = synth(chart);
  const rules: Rule[] = only(objects, 'PrometheusRule').spec.groups.flatMap((g: { rules: Rule[] }) => g.rules);
  return { etcd, monitoring, objects, rules, rule: (alert: string) => rules.filter((r) => r.alert === alert) };
}

describe('addMonitoring on EtcdCluster', () => {
  test('every object validates against its schema (PodMonitor and PrometheusRule against prometheus-operator\'s)', () => {
    const { objects } = monitored({ labels: { release: 'kube-prometheus-stack' } });
    for (const kind of ['PodMonitor', 'PrometheusRule', 'ConfigMap']) expect(objects.filter((o) => o.kind === kind).length).toBeGreaterThan(0);
    for (const o of objects) validateObject(o);
  });

  test('the PodMonitor scrapes the members\' named metrics port over http, in their namespace, and labels every series with the cluster', () => {
    const { objects, monitoring } = monitored({ labels: { release: 'kps' }, scrapeInterval: Duration.seconds(15) });
    const pm = only(objects, 'PodMonitor');
    const sts = only(objects, 'StatefulSet');
    expect(pm.metadata.labels.release).toBe('kps');
    expect(pm.spec.selector.matchLabels).toEqual(sts.spec.selector.matchLabels);
    expect(pm.spec.namespaceSelector).toEqual({ matchNames: ['db'] });
    const ports = sts.spec.template.spec.containers.find((c: { name: string }) => c.name === 'etcd').ports;
    expect(ports).toContainEqual({ name: 'metrics', containerPort: 2381, protocol: 'TCP' });
    expect(pm.spec.podMetricsEndpoints).toEqual([{ port: 'metrics', path: '/metrics', scheme: 'http', interval: '15s', relabelings: [{ action: 'replace', targetLabel: 'etcd_cluster', replacement: 'db/etcd' }] }]);
    expect(monitoring.clusterLabelValue).toBe('db/etcd');
  });

  test('the mixin\'s alerts keep their names, severities and for:, and every member expression is scoped to this cluster', () => {
    const { rules, rule } = monitored();
    expect([...new Set(rules.map((r) => r.alert))]).toEqual(expect.arrayContaining([
      'etcdMembersDown', 'etcdInsufficientMembers', 'etcdNoLeader', 'etcdHighNumberOfLeaderChanges', 'etcdHighNumberOfFailedGRPCRequests',
      'etcdGRPCRequestsSlow', 'etcdMemberCommunicationSlow', 'etcdHighNumberOfFailedProposals', 'etcdHighFsyncDurations',
      'etcdHighCommitDurations', 'etcdDatabaseQuotaLowSpace', 'etcdExcessiveDatabaseGrowth', 'etcdDatabaseHighFragmentationRatio',
    ]));
    expect(rule('etcdHighFsyncDurations').map((r) => [r.labels.severity, r.for, /> ([\d.]+)$/.exec(r.expr)![1]])).toEqual([['warning', '10m', '0.5'], ['critical', '10m', '1']]);
    expect(rule('etcdHighNumberOfFailedGRPCRequests').map((r) => [r.labels.severity, r.for, /> ([\d.]+)$/.exec(r.expr)![1]])).toEqual([['warning', '10m', '1'], ['critical', '5m', '5']]);
    expect(rule('etcdNoLeader')[0]).toMatchObject({ expr: 'etcd_server_has_leader{etcd_cluster="db/etcd"} == 0', for: '1m', labels: { severity: 'critical' } });
    for (const r of rules.filter((x) => !x.alert.startsWith('EtcdBackup'))) {
      // Every metric named, with or without a selector (grouping clauses and matchers hold label names, not metrics).
      const bare = r.expr.replace(/\b(without|by|on|ignoring)\s*\([^)]*\)/g, '');
      const metrics = [...bare.matchAll(/\b(up|etcd_[a-z_]+|grpc_[a-z_]+)\b(?!\s*[=!~])(\{[^}]*\})?/g)];
      expect(metrics.length).toBeGreaterThan(0);
      for (const m of metrics) expect(`${r.alert}: ${m[0]}`).toContain('{etcd_cluster="db/etcd"');
    }
  });

  test('members are counted against the cluster\'s, so a member whose pod is no target is missed, and no target at all is an alert', () => {
    const { rule } = monitored();
    expect(rule('etcdInsufficientMembers')[0].expr).toBe('sum without (instance, pod) (up{etcd_cluster="db/etcd"} == bool 1) < 2');
    expect(rule('EtcdMembersMissing')[0]).toMatchObject({ expr: 'count without (instance, pod) (up{etcd_cluster="db/etcd"}) < 3', for: '10m', labels: { severity: 'critical' } });
    expect(rule('EtcdMetricsAbsent')[0]).toMatchObject({ expr: 'absent(up{etcd_cluster="db/etcd"})', for: '15m' });
    // Both sides of the mixin's `or` survive: each carries its own marker before they are merged.
    const down = rule('etcdMembersDown')[0].expr;
    expect(down).toContain('max without (endpoint, source)');
    expect(down).toContain('"source", "scrape"');
    expect(down).toContain('"source", "peers"');
  });

  test('every alert has a summary, a description naming the member or the CronJob, a severity and a runbook anchor', () => {
    const { rules } = monitored();
    for (const r of rules) {
      expect(r.annotations.summary.length).toBeGreaterThan(10);
      expect(r.annotations.description).toMatch(/\{\{ \$labels\.pod \}\}|\{\{ \$value|CronJob db\/|scrapes none of its members/);
      expect(['warning', 'critical']).toContain(r.labels.severity);
      expect(r.labels.etcd_cluster).toBe('db/etcd');
      expect(r.annotations.runbook_url).toBe(`https://github.com/cdk8s-etcd/cdk8s-etcd/blob/main/README.md#alert-${r.alert.toLowerCase()}`);
    }
  });

  test('our alerts: the quota from the model, the defrag rule\'s thresholds, learners, version skew', () => {
    const { rule, etcd } = monitored();
    const quota = etcd._model.tuning.quotaBackendBytes!;
    expect(quota).toBe(1792 * 1024 * 1024); // 4 GiB volume
    expect(rule('EtcdDatabaseNearQuota')[0].expr).toBe(`etcd_mvcc_db_total_size_in_bytes{etcd_cluster="db/etcd"} / ${quota} > 0.8`);
    const fragmented = rule('EtcdDatabaseFragmented')[0];
    const size = 'etcd_mvcc_db_total_size_in_bytes{etcd_cluster="db/etcd"}';
    const inUse = 'etcd_mvcc_db_total_size_in_use_in_bytes{etcd_cluster="db/etcd"}';
    // Free pages above the threshold, and the defragmentation's own rule (the recommended one) holding.
    expect(fragmented.expr).toBe(`(${size} - ${inUse} > ${200 * 1024 * 1024})\nand\n((${size} / ${quota} > 0.8) or (${size} - ${inUse} > ${200 * 1024 * 1024}))`);
    // The defragmentation runs daily with a deadline: it should have reclaimed the pages within a day and its deadline.
    const defragDeadline = only(synth(Chart.of(etcd)), 'CronJob', 'etcd-defrag').spec.jobTemplate.spec.activeDeadlineSeconds;
    expect(fragmented.for).toBe(promDuration(86400 + defragDeadline));
    expect(rule('EtcdLearnerNotPromoted')[0]).toMatchObject({ expr: 'etcd_server_is_learner{etcd_cluster="db/etcd"} == 1', for: '30m' });
    expect(rule('EtcdVersionSkew')[0]).toMatchObject({ for: '1h' });
  });

  test('a defrag rule that waits for the quota, or for more free pages, keeps EtcdDatabaseFragmented quiet while the job rightly skips', () => {
    const size = 'etcd_mvcc_db_total_size_in_bytes{etcd_cluster="db/etcd"}';
    const quotaOnly = monitored({}, 'etcd', EtcdDefragRule.quotaUsageAbove(0.7)).rule('EtcdDatabaseFragmented')[0].expr;
    expect(quotaOnly).toMatch(new RegExp(`\\nand\\n\\(${size.replace(/[{}"/]/g, '\\$&')} / \\d+ > 0\\.7\\)$`));
    const gib = monitored({}, 'etcd', EtcdDefragRule.freeBytesAbove(Size.gibibytes(1))).rule('EtcdDatabaseFragmented')[0].expr;
    expect(gib).toContain(`and\n(${size} - etcd_mvcc_db_total_size_in_use_in_bytes{etcd_cluster="db/etcd"} > ${1024 ** 3})`);
  });

  test('each backup gets a freshness, a failure and an unobserved alert from kube-state-metrics, scoped to its CronJob, deduplicated', () => {
    const { rule, objects } = monitored({ alerts: { backupMissedRuns: 3 } });
    const backup = only(objects, 'CronJob', 'etcd-nightly');
    const deadline = backup.spec.jobTemplate.spec.activeDeadlineSeconds;
    const [missing] = rule('EtcdBackupMissing');
    expect(missing.expr).toContain(`time() - max by (namespace, cronjob) (kube_cronjob_status_last_successful_time{namespace="db", cronjob="etcd-nightly"}) > ${3 * 86400 + deadline}`);
    expect(missing.expr).toContain('kube_cronjob_created{namespace="db", cronjob="etcd-nightly"}');
    const [failed] = rule('EtcdBackupFailed');
    // Two kube-state-metrics replicas give every series twice: both sides are aggregated before the one-to-one match.
    expect(failed.expr).toMatch(/^max by \(namespace, cronjob\) \(kube_cronjob_status_last_schedule_time\{[^}]*\}\)\n {2}> on \(namespace, cronjob\)\nmax by \(namespace, cronjob\) \(kube_cronjob_status_last_successful_time/);
    // A run that succeeds right at its deadline is seen up to two kube-state-metrics scrapes later.
    expect(failed.for).toBe(promDuration(deadline + 120));
    expect(rule('EtcdBackupUnobserved')[0]).toMatchObject({ expr: 'absent(kube_cronjob_created{namespace="db", cronjob="etcd-nightly"})', for: '15m' });
  });

  test('two clusters in one chart: each rule and panel names its own cluster only, and the PodMonitors select different pods', () => {
    const chart = new Chart(Testing.app(), 'c', { namespace: 'db' });
    for (const name of ['etcd-a', 'etcd-b']) new EtcdCluster(chart, name, { monitoring: PROMETHEUS }).addMonitoring();
    const objects = synth(chart);
    for (const name of ['etcd-a', 'etcd-b']) {
      const text = JSON.stringify(only(objects, 'PrometheusRule', name).spec) + only(objects, 'ConfigMap', `${name}-dashboard`).data[`etcd-db-${name}.json`];
      const named = [...text.matchAll(/etcd_cluster=\\*"(db\/[a-z-]+)\\*"/g)].map((m) => m[1]);
      expect(named.length).toBeGreaterThan(20);
      expect(new Set(named)).toEqual(new Set([`db/${name}`]));
    }
    expect(only(objects, 'PodMonitor', 'etcd-a').spec.selector).not.toEqual(only(objects, 'PodMonitor', 'etcd-b').spec.selector);
  });

  test('a NetworkPolicy that admits no scraper is a warning naming the fix', () => {
    const chart = new Chart(Testing.app(), 'c', { namespace: 'db' });
    const etcd = new EtcdCluster(chart, 'etcd', {});
    const monitoring = etcd.addMonitoring();
    synth(chart);
    expect(warningsOf(monitoring).join('\n')).toContain('the NetworkPolicy admits nobody to the metrics port: pass monitoring');
    const admitted = new EtcdCluster(new Chart(Testing.app(), 'c'), 'etcd', { monitoring: PROMETHEUS }).addMonitoring();
    expect(admitted.node.validate()).toEqual([]);
    expect(warningsOf(admitted).filter((w) => w.includes('metrics port'))).toEqual([]);
  });

  test('bad input names the property, the value and what is allowed', () => {
    const bad = (options: EtcdMonitoringOptions) => () => new EtcdCluster(new Chart(Testing.app(), 'c'), 'etcd', {}).addMonitoring(options);
    expect(bad({ alerts: { quotaUsage: 1 } })).toThrow('alerts.quotaUsage must be a fraction between 0 and 1, exclusive (got 1)');
    expect(bad({ alerts: { fragmentationRatio: 0 } })).toThrow('alerts.fragmentationRatio must be a fraction between 0 and 1, exclusive (got 0)');
    expect(bad({ alerts: { quotaLowSpacePercent: 120 } })).toThrow('alerts.quotaLowSpacePercent must be a percentage above 0 and at most 100 (got 120)');
    expect(bad({ alerts: { learnerFor: Duration.millis(1500) } })).toThrow('alerts.learnerFor must be a whole number of seconds, 0 or more (a Prometheus `for:`) (got 1 second 500 millis)');
    expect(bad({ alerts: { fsyncWarning: Duration.seconds(2) } })).toThrow('alerts.fsyncCritical must be at least alerts.fsyncWarning (2s) (got 1s)');
    expect(bad({ alerts: { freeBytes: Size.kibibytes(0) } })).toThrow('alerts.freeBytes must be a whole number of bytes, at least 1');
    expect(bad({ alerts: { backupMissedRuns: 0 } })).toThrow('alerts.backupMissedRuns must be a whole number, at least 1 (got 0)');
    expect(bad({ labels: { 'bad key!': 'x' } })).toThrow(/labels/);
    expect(bad({ dashboardLabels: { grafana_dashboard: 'not valid!' } })).toThrow(/dashboardLabels/);
    expect(bad({ scrapeInterval: Duration.seconds(1) })).toThrow('scrapeInterval must be whole seconds from 5 to 75 (got 1 second)');
    expect(bad({ scrapeInterval: Duration.minutes(2) })).toThrow("scrapeInterval must be whole seconds from 5 to 75 (got 2 minutes): shorter loads the members, and the alerts' 5-minute rate() windows need four samples");
    expect(bad({ runbookBaseUrl: 'https://example.com/x#y' })).toThrow("runbookBaseUrl must be an http(s) URL without a fragment (got 'https://example.com/x#y')");
    const chart = new Chart(Testing.app(), 'c');
    const twice = new EtcdCluster(chart, 'etcd', {});
    twice.addMonitoring();
    expect(() => new EtcdMonitoring(chart, 'more', { cluster: twice })).toThrow("cluster 'c/etcd' already has monitoring, 'c/etcd/Monitoring': one per cluster, or every alert would fire twice");
  });
});

describe('the dashboard', () => {
  test('is JSON Grafana takes: a uid of at most 40 characters, panels with unique ids and a place, queries through the datasource variable, scoped to the cluster', () => {
    const { objects } = monitored();
    const cm = only(objects, 'ConfigMap', 'etcd-dashboard');
    expect(cm.metadata.labels.grafana_dashboard).toBe('1');
    // Named by namespace too: Grafana's sidecar writes every ConfigMap's files into one folder.
    const dashboard = JSON.parse(cm.data['etcd-db-etcd.json']);
    expect(dashboard.uid).toBe('etcd-db_etcd');
    expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }));
    const ids = dashboard.panels.map((p: { id: number }) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const titles = dashboard.panels.map((p: { title: string }) => p.title);
    expect(titles).toEqual(expect.arrayContaining(['Members up', 'Leader changes', 'Database size, in use, and the quota', 'WAL fsync, 99th percentile',
      'Backend commit, 99th percentile', 'gRPC requests', 'gRPC errors', 'Since the last successful backup', 'Since the last defragmentation run']));
    for (const p of dashboard.panels) {
      expect(p.gridPos).toEqual({ x: expect.any(Number), y: expect.any(Number), w: 12, h: 8 });
      expect(p.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      for (const t of p.targets) {
        expect(t.datasource.uid).toBe('${datasource}');
        expect(t.expr).toMatch(/etcd_cluster="db\/etcd"|cronjob="etcd-(nightly|defrag)"|^vector\(/);
      }
    }
  });

  test('a long cluster name gets a stable hashed uid; dashboard: false renders none', () => {
    const { objects } = monitored({}, 'etcd-with-a-name-long-enough-to-pass-forty');
    const uid = JSON.parse(only(objects, 'ConfigMap', 'etcd-with-a-name-long-enough-to-pass-forty-dashboard').data['etcd-db-etcd-with-a-name-long-enough-to-pass-forty.json']).uid;
    expect(uid).toMatch(/^etcd-[0-9a-f]{35}$/);
    expect(monitored({ dashboard: false }).objects.filter((o) => o.metadata.name === 'etcd-dashboard')).toEqual([]);
  });
});

describe('addMonitoring on EtcdStaticPodCluster', () => {
  const nodes = [0, 1, 2].map((i) => ({ name: `cp-${i}`, ip: `10.0.0.${10 + i}` }));

  test('needs metricsOnNodeIp: kubeadm binds the metrics listener to loopback', () => {
    const etcd = new EtcdStaticPodCluster(new App(), 'etcd', { nodes });
    expect(() => etcd.addMonitoring()).toThrow("monitoring of 'etcd' cannot scrape its members: metricsOnNodeIp is false: the members serve /metrics on 127.0.0.1:2381 only (kubeadm's default), which Prometheus on another pod cannot reach; set metricsOnNodeIp: true");
  });

  test('with metricsOnNodeIp: metrics on the node IP and loopback, a named port, a PodMonitor for kubeadm\'s labels in kube-system', () => {
    const etcd = new EtcdStaticPodCluster(Testing.app(), 'etcd', { nodes, metricsOnNodeIp: true });
    const monitoring = etcd.addMonitoring();
    const pod = synth(etcd.chartFor('cp-1'))[0];
    const container = pod.spec.containers[0];
    expect(container.command).toContain('--listen-metrics-urls=http://127.0.0.1:2381,http://10.0.0.11:2381');
    expect(container.ports).toEqual([{ name: 'metrics', containerPort: 2381, protocol: 'TCP' }]);
    expect(container.livenessProbe.httpGet.host).toBe('127.0.0.1');
    const objects = synth(Chart.of(monitoring));
    const pm = only(objects, 'PodMonitor');
    expect(pm.metadata.namespace).toBe('kube-system');
    expect(pm.spec.selector.matchLabels).toEqual(pod.metadata.labels);
    // kubeadm's labels are every static-pod cluster's: only pods on this cluster's nodes are kept.
    expect(pm.spec.podMetricsEndpoints[0].relabelings).toEqual([
      { action: 'keep', sourceLabels: ['__meta_kubernetes_pod_node_name'], regex: 'cp-0|cp-1|cp-2' },
      { action: 'replace', targetLabel: 'etcd_cluster', replacement: 'kube-system/etcd' },
    ]);
    for (const o of objects) validateObject(o);
  });

  test('without it, the manifests are kubeadm\'s: loopback only, no ports', () => {
    const etcd = new EtcdStaticPodCluster(Testing.app(), 'etcd', { nodes });
    const container = synth(etcd.chartFor('cp-1'))[0].spec.containers[0];
    expect(container.command).toContain('--listen-metrics-urls=http://127.0.0.1:2381');
    expect(container.ports).toBeUndefined();
  });
});
