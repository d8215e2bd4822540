import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Cron, Size, Testing } from 'cdk8s';
import { EtcdBackupDestination, EtcdBackupEncryption, EtcdCluster, EtcdDefragRule, EtcdNetworkPeer } from '../../lib';
import { only, synth } from '../support/synth';
import { pinnedToolVersion, toolBinary } from './harness/tools';

/**
 * The rendered alert rules under `promtool check rules` and `promtool test rules`: each alert fires on synthetic
 * series that should fire it and stays silent on series that should not, with two clusters' rules loaded together
 * (neither fires on the other's series). The rules need no etcd, so this file runs in one Jest project only (etcd
 * 3.6). The annotations' templates are left out of these copies (promtool compares them verbatim); the real
 * Prometheus scenario (monitoring.test.ts) reads them expanded.
 */
const line = (globalThis as { ETCD_LINE?: string }).ETCD_LINE;
const promtool = toolBinary('promtool', pinnedToolVersion('promtool'));
const runHere = line === undefined || line === '3.6';
const describeHere = runHere && promtool.binary ? describe : describe.skip;
if (runHere && !promtool.binary) {
  if (process.env.CI === 'true') test('promtool is available', () => { throw new Error(promtool.missing); });
  else process.stdout.write(`SKIP promtool tests: ${promtool.missing}\n`);
}

/** A duration as promDuration() writes it (`25h`, `1470m`, `90s`), in seconds. */
function secondsOf(duration: string): number {
  const m = /^(\d+)([dhms])$/.exec(duration);
  if (!m) throw new Error(`not a single-unit duration: ${duration}`);
  return Number(m[1]) * { d: 86400, h: 3600, m: 60, s: 1 }[m[2] as 'd' | 'h' | 'm' | 's'];
}

type Rule = { alert: string; expr: string; for: string; labels: { [k: string]: string }; annotations?: unknown };

function renderedRules(name: string) {
  const chart = new Chart(Testing.app(), 'c', { namespace: 'db' });
  const etcd = new EtcdCluster(chart, name, { storageSize: Size.gibibytes(4), monitoring: [EtcdNetworkPeer.pods({ labels: { app: 'prometheus' } })] });
  etcd.addMonitoring();
  etcd.addBackup('nightly', { schedule: Cron.schedule({ minute: '0', hour: '2' }), destinations: [EtcdBackupDestination.volume({ size: Size.gibibytes(10) })], encryption: EtcdBackupEncryption.none() });
  // A rule that leaves free pages alone until the database nears the quota.
  etcd.addDefrag('defrag', { rule: EtcdDefragRule.quotaUsageAbove(0.7) });
  const groups = only(synth(chart), 'PrometheusRule').spec.groups as { name: string; rules: Rule[] }[];
  return { etcd, groups };
}

describeHere('promtool on the rendered alert rules', () => {
  let dir: string;
  const etcd = renderedRules('etcd');
  const other = renderedRules('other');
  const quota = etcd.etcd._model.tuning.quotaBackendBytes!;
  const run = (args: string[]) => spawnSync(promtool.binary!, args, { cwd: dir, encoding: 'utf8', timeout: 240000 });

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promtool-'));
    for (const [file, { groups }] of [['etcd.json', etcd], ['other.json', other]] as const) {
      fs.writeFileSync(path.join(dir, file), JSON.stringify({ groups }));
      const bare = groups.map((g) => ({ ...g, rules: g.rules.map(({ annotations: _, ...r }) => r) }));
      fs.writeFileSync(path.join(dir, `bare-${file}`), JSON.stringify({ groups: bare }));
    }
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('promtool check rules accepts both clusters\' groups', () => {
    const r = run(['check', 'rules', 'etcd.json', 'other.json']);
    expect(r.stdout + r.stderr).toMatch(/etcd\.json\s+SUCCESS: 24 rules found[\s\S]*other\.json\s+SUCCESS: 24 rules found/);
    expect(r.status).toBe(0);
  });

  // Series labels as the PodMonitor gives them (job, namespace, pod, instance) plus its etcd_cluster.
  const member = (cluster: string, pod: string) => `etcd_cluster="db/${cluster}", job="db/${cluster}", namespace="db", pod="${pod}", instance="${pod}:2381"`;
  const whole = (cluster: string) => ({ etcd_cluster: `db/${cluster}`, job: `db/${cluster}`, namespace: 'db' });
  const ksm = (cronjob: string, instance = 'ksm:8080') => `namespace="db", cronjob="${cronjob}", job="kube-state-metrics", instance="${instance}"`;
  const backupLabels = (severity: string) => ({ severity, etcd_cluster: 'db/etcd', namespace: 'db', cronjob: 'etcd-nightly' });
  /** Samples a minute apart for that many seconds. */
  const samples = (seconds: number) => Math.ceil(seconds / 60);
  const fragmentedFor = secondsOf(etcd.groups.flatMap((g) => g.rules).find((r) => r.alert === 'EtcdDatabaseFragmented')!.for);
  const test_ = (name: string, interval: string, series: [string, string][], alerts: [string, string, object[]][]) => ({
    name, interval,
    input_series: series.map(([s, values]) => ({ series: s, values })),
    alert_rule_test: alerts.map(([alertname, evalTime, exp]) => ({ eval_time: evalTime, alertname, exp_alerts: exp })),
  });

  test('each alert fires on series that should fire it, stays silent otherwise, and never for the other cluster', () => {
    // Rules are evaluated every minute (the backup cases span 50 hours).
    const pods = ['etcd-0', 'etcd-1', 'etcd-2'];
    const tests = [
      test_('a member down for 10 minutes; the other cluster all up', '1m', [
        [`up{${member('etcd', 'etcd-0')}}`, '1 0x20'], [`up{${member('etcd', 'etcd-1')}}`, '1x21'], [`up{${member('etcd', 'etcd-2')}}`, '1x21'],
        ...pods.map((p) => [`up{${member('other', p)}}`, '1x21'] as [string, string]),
      ], [
        ['etcdMembersDown', '5m', []],
        ['etcdMembersDown', '12m', [{ exp_labels: { severity: 'critical', ...whole('etcd') } }]],
        ['etcdInsufficientMembers', '12m', []],
      ]),
      test_('two of three members down: the quorum is gone; the other cluster loses one', '1m', [
        [`up{${member('etcd', 'etcd-0')}}`, '1 0x10'], [`up{${member('etcd', 'etcd-1')}}`, '1 0x10'], [`up{${member('etcd', 'etcd-2')}}`, '1x11'],
        [`up{${member('other', 'etcd-0')}}`, '1 0x10'], [`up{${member('other', 'etcd-1')}}`, '1x11'], [`up{${member('other', 'etcd-2')}}`, '1x11'],
      ], [
        ['etcdInsufficientMembers', '2m', []],
        ['etcdInsufficientMembers', '5m', [{ exp_labels: { severity: 'critical', ...whole('etcd') } }]],
      ]),
      test_('a member without a leader for a minute', '1m', [
        [`etcd_server_has_leader{${member('etcd', 'etcd-0')}}`, '1 0x4'], [`etcd_server_has_leader{${member('etcd', 'etcd-1')}}`, '1x5'],
        [`etcd_server_has_leader{${member('other', 'etcd-0')}}`, '1x5'],
      ], [
        ['etcdNoLeader', '3m', [{ exp_labels: { severity: 'critical', ...whole('etcd'), pod: 'etcd-0', instance: 'etcd-0:2381' } }]],
      ]),
      test_('a learner for more than 30 minutes, another promoted after 10', '1m', [
        [`etcd_server_is_learner{${member('etcd', 'etcd-3')}}`, '1x40'], [`etcd_server_is_learner{${member('etcd', 'etcd-4')}}`, '1x10 0x30'],
      ], [
        ['EtcdLearnerNotPromoted', '20m', []],
        ['EtcdLearnerNotPromoted', '35m', [{ exp_labels: { severity: 'warning', ...whole('etcd'), pod: 'etcd-3', instance: 'etcd-3:2381' } }]],
      ]),
      test_('members on two versions for more than an hour; the other cluster on one', '5m', [
        [`etcd_server_version{${member('etcd', 'etcd-0')}, server_version="3.5.35"}`, '1x20'],
        [`etcd_server_version{${member('etcd', 'etcd-1')}, server_version="3.6.16"}`, '1x20'],
        ...pods.map((p) => [`etcd_server_version{${member('other', p)}, server_version="3.6.16"}`, '1x20'] as [string, string]),
      ], [
        ['EtcdVersionSkew', '50m', []],
        ['EtcdVersionSkew', '70m', [{ exp_labels: { severity: 'warning', ...whole('etcd') } }]],
      ]),
      test_('the database at 85% of the quota from the model; another member at 50%', '1m', [
        [`etcd_mvcc_db_total_size_in_bytes{${member('etcd', 'etcd-0')}}`, `${Math.round(quota * 0.85)}x15`],
        [`etcd_mvcc_db_total_size_in_bytes{${member('etcd', 'etcd-1')}}`, `${quota * 0.5}x15`],
      ], [
        ['EtcdDatabaseNearQuota', '12m', [{ exp_labels: { severity: 'warning', ...whole('etcd'), pod: 'etcd-0', instance: 'etcd-0:2381' } }]],
      ]),
      // Backups: the daily backup's last success at t=0; 2 × 24 h + its 1 h deadline later (49 h) it is stale.
      // (Samples 1 minute apart: further apart than Prometheus' 5-minute lookback, a series would vanish between them.)
      test_('no successful backup for 50 hours; another CronJob\'s staleness is not ours', '1m', [
        [`kube_cronjob_status_last_successful_time{${ksm('etcd-nightly')}}`, '0x3000'],
        [`kube_cronjob_status_last_successful_time{${ksm('someone-else')}}`, '0x3000'],
      ], [
        ['EtcdBackupMissing', '48h', []],
        ['EtcdBackupMissing', '50h', [{ exp_labels: backupLabels('critical') }]],
      ]),
      test_('a backup that succeeds every day is fresh', '1m', [
        [`kube_cronjob_status_last_successful_time{${ksm('etcd-nightly')}}`, '0x1439 86400x1439 172800x120'],
      ], [
        ['EtcdBackupMissing', '50h', []],
      ]),
      test_('a CronJob that never succeeded is stale once it is older than that', '1m', [
        [`kube_cronjob_created{${ksm('etcd-nightly')}}`, '0x3000'],
      ], [
        ['EtcdBackupMissing', '50h', [{ exp_labels: backupLabels('critical') }]],
      ]),
      // One-to-one matching on (namespace, cronjob) keeps only those labels.
      test_('the run scheduled last has not succeeded within its 1 h deadline', '1m', [
        [`kube_cronjob_status_last_schedule_time{${ksm('etcd-nightly')}}`, '7200x80'],
        [`kube_cronjob_status_last_successful_time{${ksm('etcd-nightly')}}`, '3600x80'],
      ], [
        ['EtcdBackupFailed', '30m', []],
        ['EtcdBackupFailed', '70m', [{ exp_labels: backupLabels('warning') }]],
      ]),
      test_('a CronJob scheduled that never succeeded fails the same way', '1m', [
        [`kube_cronjob_status_last_schedule_time{${ksm('etcd-nightly')}}`, '7200x80'],
      ], [
        ['EtcdBackupFailed', '70m', [{ exp_labels: backupLabels('warning') }]],
      ]),
      test_('the run scheduled last succeeded', '1m', [
        [`kube_cronjob_status_last_schedule_time{${ksm('etcd-nightly')}}`, '7200x160'],
        [`kube_cronjob_status_last_successful_time{${ksm('etcd-nightly')}}`, '7300x160'],
      ], [
        ['EtcdBackupFailed', '150m', []],
      ]),
      // Two kube-state-metrics replicas: every series twice, which one-to-one matching refuses unless aggregated.
      test_('two kube-state-metrics replicas: a failed run fires once, a fresh success stays quiet', '1m', [
        ...['ksm-a:8080', 'ksm-b:8080'].flatMap((i) => [
          [`kube_cronjob_status_last_schedule_time{${ksm('etcd-nightly', i)}}`, '7200x80'],
          [`kube_cronjob_status_last_successful_time{${ksm('etcd-nightly', i)}}`, '3600x80'],
          [`kube_cronjob_created{${ksm('etcd-nightly', i)}}`, '0x80'],
        ] as [string, string][]),
        [`kube_cronjob_created{${ksm('other-nightly')}}`, '0x80'],
      ], [
        ['EtcdBackupFailed', '70m', [{ exp_labels: backupLabels('warning') }]],
        ['EtcdBackupMissing', '70m', []],
        ['EtcdBackupUnobserved', '70m', []],
      ]),
      test_('kube-state-metrics reports no backup CronJob: the backup alerts are blind, and that is an alert', '1m', [
        [`kube_cronjob_created{${ksm('someone-else')}}`, '0x30'],
        [`kube_cronjob_created{${ksm('other-nightly')}}`, '0x30'],
      ], [
        ['EtcdBackupUnobserved', '10m', []],
        ['EtcdBackupUnobserved', '20m', [{ exp_labels: backupLabels('warning') }]],
      ]),
      // A pod without an IP is no target: its `up` is gone, not 0. The peers still fail to send to it.
      test_('a member that is no target: the peers\' failures count (the mixin\'s or would drop them), and it is missing', '1m', [
        [`up{${member('etcd', 'etcd-0')}}`, '1x20'], [`up{${member('etcd', 'etcd-1')}}`, '1x20'],
        [`etcd_network_peer_sent_failures_total{${member('etcd', 'etcd-0')}, To="etcd-2-id"}`, '0+30x20'],
        [`etcd_network_peer_sent_failures_total{${member('etcd', 'etcd-1')}, To="etcd-2-id"}`, '0+30x20'],
        ...pods.map((p) => [`up{${member('other', p)}}`, '1x20'] as [string, string]),
      ], [
        ['etcdMembersDown', '12m', [{ exp_labels: { severity: 'critical', ...whole('etcd') } }]],
        ['EtcdMembersMissing', '12m', [{ exp_labels: { severity: 'critical', ...whole('etcd') } }]],
        ['etcdInsufficientMembers', '12m', []],
      ]),
      test_('no member of this cluster is scraped: every other alert is blind, and that is an alert', '1m', [
        ...pods.map((p) => [`up{${member('other', p)}}`, '1x30'] as [string, string]),
      ], [
        ['EtcdMetricsAbsent', '10m', []],
        ['EtcdMetricsAbsent', '20m', [{ exp_labels: { severity: 'warning', etcd_cluster: 'db/etcd' } }]],
      ]),
      // The defragmentation's rule is quotaUsageAbove(0.7): 300 MiB of free pages at 10% of the quota are left alone
      // by design; at 75% the job should have returned them within a run.
      test_('free pages the defrag rule leaves alone stay quiet; free pages it should have returned fire', '1m', [
        [`etcd_mvcc_db_total_size_in_bytes{${member('etcd', 'etcd-0')}}`, `${Math.round(quota * 0.1)}x${samples(fragmentedFor + 7200)}`],
        [`etcd_mvcc_db_total_size_in_use_in_bytes{${member('etcd', 'etcd-0')}}`, `${Math.round(quota * 0.1) - 300 * 1024 * 1024}x${samples(fragmentedFor + 7200)}`],
        [`etcd_mvcc_db_total_size_in_bytes{${member('etcd', 'etcd-1')}}`, `${Math.round(quota * 0.75)}x${samples(fragmentedFor + 7200)}`],
        [`etcd_mvcc_db_total_size_in_use_in_bytes{${member('etcd', 'etcd-1')}}`, `${Math.round(quota * 0.75) - 300 * 1024 * 1024}x${samples(fragmentedFor + 7200)}`],
      ], [
        ['EtcdDatabaseFragmented', `${fragmentedFor - 1200}s`, []],
        ['EtcdDatabaseFragmented', `${fragmentedFor + 1200}s`, [{ exp_labels: { severity: 'warning', ...whole('etcd'), pod: 'etcd-1', instance: 'etcd-1:2381' } }]],
      ]),
    ];
    fs.writeFileSync(path.join(dir, 'tests.json'), JSON.stringify({ rule_files: ['bare-etcd.json', 'bare-other.json'], evaluation_interval: '1m', tests }));
    const r = run(['test', 'rules', 'tests.json']);
    expect({ status: r.status, output: r.stdout + r.stderr }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  }, 300000);

  test('the kube-state-metrics names the backup alerts and the dashboard read are ones it exports (its source, v2.16.0)', () => {
    const modCache = spawnSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8' }).stdout.trim();
    const source = fs.readFileSync(path.join(modCache, 'k8s.io/kube-state-metrics/v2@v2.16.0/internal/store/cronjob.go'), 'utf8');
    const exported = new Set([...source.matchAll(/"(kube_cronjob_[a-z_]+)"/g)].map((m) => m[1]));
    const chart = new Chart(Testing.app(), 'c', { namespace: 'db' });
    const cluster = new EtcdCluster(chart, 'etcd', { storageSize: Size.gibibytes(4) });
    cluster.addMonitoring();
    cluster.addBackup('nightly', { destinations: [EtcdBackupDestination.volume({ size: Size.gibibytes(10) })], encryption: EtcdBackupEncryption.none() });
    cluster.addDefrag('defrag');
    const text = JSON.stringify(synth(chart).filter((o) => ['PrometheusRule', 'ConfigMap'].includes(o.kind)));
    const used = [...new Set([...text.matchAll(/\b(kube_[a-z_]+)\{/g)].map((m) => m[1]))].sort();
    expect(used).toEqual(['kube_cronjob_created', 'kube_cronjob_status_last_schedule_time', 'kube_cronjob_status_last_successful_time']);
    expect(used.filter((m) => !exported.has(m))).toEqual([]);
    expect(exported.has('kube_cronjob_not_a_metric')).toBe(false);
  });

  test('promtool test rules can fail: an alert expected that does not fire is reported', () => {
    const tests = [test_('all up, but the alert expected', '1m', [[`up{${member('etcd', 'etcd-0')}}`, '1x20']], [
      ['etcdMembersDown', '15m', [{ exp_labels: { severity: 'critical', ...whole('etcd') } }]],
    ])];
    fs.writeFileSync(path.join(dir, 'failing.json'), JSON.stringify({ rule_files: ['bare-etcd.json'], evaluation_interval: '30s', tests }));
    const r = run(['test', 'rules', 'failing.json']);
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('alertname: etcdMembersDown');
  });
});
