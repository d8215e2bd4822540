import { createHash } from 'crypto';
import { ScheduledJob } from '../jobs/job-registry';
import { CLUSTER_LABEL, FAILED_GRPC_CODES } from './alert-rules';

/** One panel: a title, a Grafana panel type and its queries (legend per query). */
interface PanelSpec {
  readonly title: string;
  readonly type: 'stat' | 'timeseries';
  readonly unit: string;
  readonly targets: { expr: string; legend: string }[];
  readonly description: string;
}

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
const PANEL_WIDTH = 12;
const PANEL_HEIGHT = 8;

/**
 * A Grafana dashboard for one cluster: members, leader changes, database size against the quota and in use, fsync
 * and commit latency, gRPC rates and errors, the backups' age and the last defragmentation. Every query is scoped by
 * the cluster's label; the data source is a variable, so the dashboard works with whichever Prometheus holds it.
 */
export function renderDashboard(cluster: string, quotaBytes: number, jobs: ScheduledJob[]): object {
  const s = `${CLUSTER_LABEL}="${cluster}"`;
  const cronJobAge = (job: ScheduledJob) => ({
    expr: `time() - kube_cronjob_status_last_successful_time{namespace="${job.namespace}", cronjob="${job.name}"}`, legend: job.name,
  });
  const backups = jobs.filter((j) => j.kind === 'backup');
  const defrags = jobs.filter((j) => j.kind === 'defrag');
  const panels: PanelSpec[] = [
    { title: 'Members up', type: 'stat', unit: 'none', description: 'Members Prometheus scrapes successfully, of those it knows.',
      targets: [{ expr: `sum(up{${s}})`, legend: 'up' }, { expr: `count(up{${s}})`, legend: 'members' }] },
    { title: 'Members with a leader', type: 'stat', unit: 'none', description: 'Members that see a leader; fewer than a majority means no writes.',
      targets: [{ expr: `sum(etcd_server_has_leader{${s}})`, legend: 'with a leader' }, { expr: `sum(etcd_server_is_learner{${s}})`, legend: 'learners' }] },
    { title: 'Leader changes', type: 'timeseries', unit: 'none', description: 'Leader changes seen, per hour; frequent elections mean slow disks, a slow network or starved CPU.',
      targets: [{ expr: `max(increase(etcd_server_leader_changes_seen_total{${s}}[1h]))`, legend: 'per hour' }] },
    { title: 'Database size, in use, and the quota', type: 'timeseries', unit: 'bytes', description: 'The quota counts the whole file (size); the gap to in use is what a defragmentation returns.',
      targets: [
        { expr: `etcd_mvcc_db_total_size_in_bytes{${s}}`, legend: 'size {{pod}}' },
        { expr: `etcd_mvcc_db_total_size_in_use_in_bytes{${s}}`, legend: 'in use {{pod}}' },
        { expr: `vector(${quotaBytes})`, legend: 'quota' },
      ] },
    { title: 'WAL fsync, 99th percentile', type: 'timeseries', unit: 's', description: 'Above 10 ms the disk is too slow for etcd; the mixin warns at 0.5 s.',
      targets: [{ expr: `histogram_quantile(0.99, rate(etcd_disk_wal_fsync_duration_seconds_bucket{${s}}[5m]))`, legend: '{{pod}}' }] },
    { title: 'Backend commit, 99th percentile', type: 'timeseries', unit: 's', description: 'Above 25 ms the disk is too slow for etcd; the mixin warns at 0.25 s.',
      targets: [{ expr: `histogram_quantile(0.99, rate(etcd_disk_backend_commit_duration_seconds_bucket{${s}}[5m]))`, legend: '{{pod}}' }] },
    { title: 'gRPC requests', type: 'timeseries', unit: 'reqps', description: 'Requests handled per second, by method.',
      targets: [{ expr: `sum by (grpc_method) (rate(grpc_server_handled_total{${s}}[5m]))`, legend: '{{grpc_method}}' }] },
    { title: 'gRPC errors', type: 'timeseries', unit: 'reqps', description: 'Requests that did not end OK, per second, by code.',
      targets: [{ expr: `sum by (grpc_code) (rate(grpc_server_handled_total{${s}, grpc_code=~"${FAILED_GRPC_CODES}"}[5m]))`, legend: '{{grpc_code}}' }] },
    { title: 'Since the last successful backup', type: 'stat', unit: 's', description: 'From kube-state-metrics; empty until a backup has succeeded, or without a backup.',
      targets: backups.length > 0 ? backups.map(cronJobAge) : [{ expr: 'vector(0) unless vector(0)', legend: 'no backup is configured' }] },
    { title: 'Since the last defragmentation run', type: 'stat', unit: 's', description: 'From kube-state-metrics: the last run that succeeded (it may have left every member alone by its rule).',
      targets: defrags.length > 0 ? defrags.map(cronJobAge) : [{ expr: 'vector(0) unless vector(0)', legend: 'no defragmentation is configured' }] },
  ];
  return {
    uid: dashboardUid(cluster),
    title: `etcd ${cluster}`,
    tags: ['etcd', 'cdk8s-etcd'],
    timezone: 'utc',
    schemaVersion: 39,
    version: 1,
    editable: false,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    templating: {
      list: [{ name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus', hide: 0, current: {} }],
    },
    panels: panels.map((p, i) => ({
      id: i + 1,
      title: p.title,
      description: p.description,
      type: p.type,
      datasource: DATASOURCE,
      gridPos: { x: (i % 2) * PANEL_WIDTH, y: Math.floor(i / 2) * PANEL_HEIGHT, w: PANEL_WIDTH, h: PANEL_HEIGHT },
      fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
      options: {},
      targets: p.targets.map((t, j) => ({ refId: String.fromCharCode(65 + j), datasource: DATASOURCE, expr: t.expr, legendFormat: t.legend })),
    })),
  };
}

/**
 * Grafana's uid is at most 40 characters of letters, digits, '-' and '_': `etcd-<namespace>_<name>` where that fits
 * as it is ('_' is in no Kubernetes name, so no two clusters share it), else a stable hash.
 */
function dashboardUid(cluster: string): string {
  const readable = `etcd-${cluster.replace('/', '_')}`;
  return readable.length <= 40 && /^[a-z0-9_-]+$/.test(readable) ? readable : `etcd-${createHash('sha256').update(cluster).digest('hex').slice(0, 35)}`;
}
