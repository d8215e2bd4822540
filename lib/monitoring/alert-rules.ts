import { Duration, Size } from 'cdk8s';
import { ScheduledJob } from '../jobs/job-registry';
import { longestIntervalSeconds } from '../jobs/schedule';
import { bytesOf, formatBytes } from '../member/tuning';
import { EtcdConfigError } from '../shared/errors';
import { quorumOf } from '../shared/validate';
import { EtcdAlertOptions } from './monitoring-options';

/** One Prometheus alerting rule, as a PrometheusRule and `promtool` take it. */
export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: { [key: string]: string };
  readonly annotations: { summary: string; description: string; runbook_url: string };
}

/** A rule group. */
export interface RuleGroup {
  readonly name: string;
  readonly rules: AlertRule[];
}

/** The gRPC codes the mixin counts as failures (not Canceled, NotFound and the like, which clients cause). */
export const FAILED_GRPC_CODES = 'Unknown|FailedPrecondition|ResourceExhausted|Internal|Unavailable|DataLoss|DeadlineExceeded';

/** How much later than a Job's end kube-state-metrics may report it: two of its scrapes. */
const KSM_LAG_SECONDS = 120;

/** The label every series of one cluster carries (set by the PodMonitor's relabeling): `<namespace>/<name>`. */
export const CLUSTER_LABEL = 'etcd_cluster';
/** Labels that tell one member's series from another's; aggregated away where an alert is about the whole cluster. */
const INSTANCE_LABELS = 'instance, pod';

/** What the alerts are derived from. */
export interface AlertContext {
  /** `<namespace>/<name>`, the value of CLUSTER_LABEL. */
  readonly cluster: string;
  /** The backend quota the members run with, from the member model. */
  readonly quotaBytes: number;
  /** How many members the cluster has, from the member model. */
  readonly memberCount: number;
  readonly scrapeIntervalSeconds: number;
  /** The cluster's backup and defrag CronJobs. */
  readonly jobs: ScheduledJob[];
  readonly runbookUrl: (alert: string) => string;
}

/** Alert options with every default applied and every value checked. */
interface Thresholds {
  readonly failedGrpcWarning: number;
  readonly failedGrpcCritical: number;
  readonly grpcSlowSeconds: number;
  readonly peerSlowSeconds: number;
  readonly failedProposals: number;
  readonly leaderChanges: number;
  readonly fsyncWarningSeconds: number;
  readonly fsyncCriticalSeconds: number;
  readonly commitSeconds: number;
  readonly quotaLowSpacePercent: number;
  readonly fragmentationRatio: number;
  readonly fragmentationMinInUse: number;
  readonly quotaUsage: number;
  readonly freeBytes: number;
  readonly fragmentedForSeconds?: number;
  readonly learnerForSeconds: number;
  readonly versionSkewForSeconds: number;
  readonly backupMissedRuns: number;
}

/** Apply defaults and refuse values out of range, naming the property, the value and what is allowed. */
export function resolveAlertOptions(o: EtcdAlertOptions): Thresholds {
  const failedGrpcWarning = percent('failedGrpcRequestsWarningPercent', o.failedGrpcRequestsWarningPercent ?? 1);
  const failedGrpcCritical = percent('failedGrpcRequestsCriticalPercent', o.failedGrpcRequestsCriticalPercent ?? 5);
  if (failedGrpcCritical < failedGrpcWarning) {
    throw new EtcdConfigError(`alerts.failedGrpcRequestsCriticalPercent must be at least alerts.failedGrpcRequestsWarningPercent (${failedGrpcWarning}) (got ${failedGrpcCritical})`);
  }
  const fsyncWarningSeconds = seconds('fsyncWarning', o.fsyncWarning ?? Duration.millis(500), false);
  const fsyncCriticalSeconds = seconds('fsyncCritical', o.fsyncCritical ?? Duration.seconds(1), false);
  if (fsyncCriticalSeconds < fsyncWarningSeconds) {
    throw new EtcdConfigError(`alerts.fsyncCritical must be at least alerts.fsyncWarning (${fsyncWarningSeconds}s) (got ${fsyncCriticalSeconds}s)`);
  }
  return {
    failedGrpcWarning,
    failedGrpcCritical,
    grpcSlowSeconds: seconds('grpcRequestsSlow', o.grpcRequestsSlow ?? Duration.millis(150), false),
    peerSlowSeconds: seconds('memberCommunicationSlow', o.memberCommunicationSlow ?? Duration.millis(150), false),
    failedProposals: positive('failedProposalsPerSecond', o.failedProposalsPerSecond ?? 5),
    leaderChanges: wholePositive('leaderChangesIn15Minutes', o.leaderChangesIn15Minutes ?? 4),
    fsyncWarningSeconds,
    fsyncCriticalSeconds,
    commitSeconds: seconds('commitWarning', o.commitWarning ?? Duration.millis(250), false),
    quotaLowSpacePercent: percent('quotaLowSpacePercent', o.quotaLowSpacePercent ?? 95),
    fragmentationRatio: fraction('fragmentationRatio', o.fragmentationRatio ?? 0.5),
    fragmentationMinInUse: bytes('fragmentationMinInUse', o.fragmentationMinInUse ?? Size.mebibytes(100)),
    quotaUsage: fraction('quotaUsage', o.quotaUsage ?? 0.8),
    freeBytes: bytes('freeBytes', o.freeBytes ?? Size.mebibytes(200)),
    fragmentedForSeconds: o.fragmentedFor === undefined ? undefined : seconds('fragmentedFor', o.fragmentedFor, true),
    learnerForSeconds: seconds('learnerFor', o.learnerFor ?? Duration.minutes(30), true),
    versionSkewForSeconds: seconds('versionSkewFor', o.versionSkewFor ?? Duration.hours(1), true),
    backupMissedRuns: wholePositive('backupMissedRuns', o.backupMissedRuns ?? 2),
  };
}

/**
 * etcd's mixin alerts (same names, meaning and defaults) and this library's own, every expression scoped to one
 * cluster by CLUSTER_LABEL (and the backup alerts by their CronJob's namespace and name), so two clusters never
 * cross-fire.
 */
export function renderAlertGroups(ctx: AlertContext, t: Thresholds): RuleGroup[] {
  const s = `${CLUSTER_LABEL}="${ctx.cluster}"`;
  const rule = (alert: string, severity: string, forSeconds: number, expr: string, summary: string, description: string): AlertRule => ({
    alert,
    expr,
    for: promDuration(forSeconds),
    labels: { severity, [CLUSTER_LABEL]: ctx.cluster },
    annotations: { summary, description, runbook_url: ctx.runbookUrl(alert) },
  });
  const failedGrpc = (threshold: number) => `100 * sum without (grpc_type, grpc_code) (rate(grpc_server_handled_total{${s}, grpc_code=~"${FAILED_GRPC_CODES}"}[5m]))
  /
sum without (grpc_type, grpc_code) (rate(grpc_server_handled_total{${s}}[5m]))
  > ${threshold}`;
  const fsync = (threshold: number) => `histogram_quantile(0.99, rate(etcd_disk_wal_fsync_duration_seconds_bucket{${s}}[5m])) > ${threshold}`;
  const on = `{{ $labels.pod }}`;
  const cluster = `etcd cluster "${ctx.cluster}"`;
  const mixin: AlertRule[] = [
    // The mixin's `or` of two sides with the same labels takes the peers' side only when no member is scraped:
    // a marker label keeps both sides.
    rule('etcdMembersDown', 'critical', 600, `max without (endpoint, source) (
  label_replace(sum without (${INSTANCE_LABELS}) (up{${s}} == bool 0), "source", "scrape", "", "")
or
  label_replace(count without (To) (
    sum without (${INSTANCE_LABELS}) (rate(etcd_network_peer_sent_failures_total{${s}}[${4 * ctx.scrapeIntervalSeconds}s])) > 0.01
  ), "source", "peers", "", "")
) > 0`, 'etcd cluster members are down.', `${cluster}: members are down ({{ $value }}).`),
    // Counted against the members the cluster has, not the ones scraped: a pod without an IP is no target at all.
    rule('etcdInsufficientMembers', 'critical', 180,
      `sum without (${INSTANCE_LABELS}) (up{${s}} == bool 1) < ${quorumOf(ctx.memberCount)}`,
      'etcd cluster has insufficient number of members.', `${cluster}: {{ $value }} of ${ctx.memberCount} members are up, fewer than the ${quorumOf(ctx.memberCount)} a quorum needs.`),
    rule('etcdNoLeader', 'critical', 60, `etcd_server_has_leader{${s}} == 0`,
      'etcd cluster has no leader.', `${cluster}: member ${on} has no leader.`),
    rule('etcdHighNumberOfLeaderChanges', 'warning', 300,
      `increase((max without (${INSTANCE_LABELS}) (etcd_server_leader_changes_seen_total{${s}}) or 0 * absent(etcd_server_leader_changes_seen_total{${s}}))[15m:1m]) >= ${t.leaderChanges}`,
      'etcd cluster has high number of leader changes.', `${cluster}: {{ $value }} leader changes within the last 15 minutes. Frequent elections may be a sign of insufficient resources, high network latency, or disruptions by other components and should be investigated.`),
    rule('etcdHighNumberOfFailedGRPCRequests', 'warning', 600, failedGrpc(t.failedGrpcWarning),
      'etcd cluster has high number of failed grpc requests.', `${cluster}: {{ $value }}% of requests for {{ $labels.grpc_method }} failed on member ${on}.`),
    rule('etcdHighNumberOfFailedGRPCRequests', 'critical', 300, failedGrpc(t.failedGrpcCritical),
      'etcd cluster has high number of failed grpc requests.', `${cluster}: {{ $value }}% of requests for {{ $labels.grpc_method }} failed on member ${on}.`),
    rule('etcdGRPCRequestsSlow', 'critical', 600,
      `histogram_quantile(0.99, sum without (grpc_type) (rate(grpc_server_handling_seconds_bucket{${s}, grpc_method!="Defragment", grpc_type="unary"}[5m]))) > ${t.grpcSlowSeconds}`,
      'etcd grpc requests are slow', `${cluster}: 99th percentile of gRPC requests is {{ $value }}s on member ${on} for {{ $labels.grpc_method }} method.`),
    rule('etcdMemberCommunicationSlow', 'warning', 600,
      `histogram_quantile(0.99, rate(etcd_network_peer_round_trip_time_seconds_bucket{${s}}[5m])) > ${t.peerSlowSeconds}`,
      'etcd cluster member communication is slow.', `${cluster}: member communication with {{ $labels.To }} is taking {{ $value }}s on member ${on}.`),
    rule('etcdHighNumberOfFailedProposals', 'warning', 900, `rate(etcd_server_proposals_failed_total{${s}}[15m]) > ${t.failedProposals}`,
      'etcd cluster has high number of proposal failures.', `${cluster}: {{ $value }} proposal failures per second over the last 15 minutes on member ${on}.`),
    rule('etcdHighFsyncDurations', 'warning', 600, fsync(t.fsyncWarningSeconds),
      'etcd cluster 99th percentile fsync durations are too high.', `${cluster}: 99th percentile fsync durations are {{ $value }}s on member ${on}.`),
    rule('etcdHighFsyncDurations', 'critical', 600, fsync(t.fsyncCriticalSeconds),
      'etcd cluster 99th percentile fsync durations are too high.', `${cluster}: 99th percentile fsync durations are {{ $value }}s on member ${on}.`),
    rule('etcdHighCommitDurations', 'warning', 600,
      `histogram_quantile(0.99, rate(etcd_disk_backend_commit_duration_seconds_bucket{${s}}[5m])) > ${t.commitSeconds}`,
      'etcd cluster 99th percentile commit durations are too high.', `${cluster}: 99th percentile commit durations {{ $value }}s on member ${on}.`),
    rule('etcdDatabaseQuotaLowSpace', 'critical', 600,
      `(last_over_time(etcd_mvcc_db_total_size_in_bytes{${s}}[5m]) / last_over_time(etcd_server_quota_backend_bytes{${s}}[5m])) * 100 > ${t.quotaLowSpacePercent}`,
      'etcd cluster database is running full.', `${cluster}: the database of member ${on} is {{ $value }}% of its quota; writes stop at 100% (NOSPACE). Defragment, or raise the quota.`),
    rule('etcdExcessiveDatabaseGrowth', 'warning', 600,
      `predict_linear(etcd_mvcc_db_total_size_in_bytes{${s}}[4h], 4 * 60 * 60) > etcd_server_quota_backend_bytes{${s}}`,
      'etcd cluster database growing very fast.', `${cluster}: at the growth of the last four hours, the database of member ${on} fills its quota within four hours.`),
    rule('etcdDatabaseHighFragmentationRatio', 'warning', 600,
      `(last_over_time(etcd_mvcc_db_total_size_in_use_in_bytes{${s}}[5m]) / last_over_time(etcd_mvcc_db_total_size_in_bytes{${s}}[5m])) < ${t.fragmentationRatio}
and etcd_mvcc_db_total_size_in_use_in_bytes{${s}} > ${t.fragmentationMinInUse}`,
      `etcd database size in use is less than ${t.fragmentationRatio * 100}% of the actual allocated storage.`,
      `${cluster}: the database in use on member ${on} is {{ $value | humanizePercentage }} of its allocated size; a defragmentation returns the rest.`),
  ];

  const defrag = ctx.jobs.find((j) => j.kind === 'defrag');
  const fragmentedFor = t.fragmentedForSeconds
    ?? (defrag ? longestIntervalSeconds(defrag.schedule, defrag.timeZone) + defrag.activeDeadlineSeconds : 3600);
  // The defrag rule's variables, as the alerts below read them too.
  const sizes = { dbSize: `etcd_mvcc_db_total_size_in_bytes{${s}}`, dbSizeInUse: `etcd_mvcc_db_total_size_in_use_in_bytes{${s}}`, dbQuota: ctx.quotaBytes };
  const free = `${sizes.dbSize} - ${sizes.dbSizeInUse} > ${t.freeBytes}`;
  // With a defragmentation, only free pages its rule says to return: a rule that waits for the quota leaves them.
  const rulePromql = defrag?.rulePromql?.(sizes);
  const ours: AlertRule[] = [
    rule('EtcdMembersMissing', 'critical', 600, `count without (${INSTANCE_LABELS}) (up{${s}}) < ${ctx.memberCount}`,
      'etcd members are not scraped.',
      `${cluster}: {{ $value }} of ${ctx.memberCount} members are scraped: a member's pod has no IP (Pending, its node lost, its volume unplaceable) or is gone, and the cluster runs with less redundancy.`),
    rule('EtcdMetricsAbsent', 'warning', 900, `absent(up{${s}})`,
      'no etcd member is scraped.',
      `${cluster}: Prometheus scrapes none of its members, so no other etcd alert of this cluster can fire: is the PodMonitor selected (podMonitorSelector, its labels) and is the metrics port reachable?`),
    rule('EtcdDatabaseNearQuota', 'warning', 600, `${sizes.dbSize} / ${sizes.dbQuota} > ${t.quotaUsage}`,
      `etcd database above ${t.quotaUsage * 100}% of its quota.`,
      `${cluster}: the database of member ${on} is {{ $value | humanizePercentage }} of the ${formatBytes(ctx.quotaBytes)} quota; at 100% etcd raises NOSPACE and stops taking writes. Defragment (free pages count against the quota), delete data, or raise the quota.`),
    rule('EtcdDatabaseFragmented', 'warning', fragmentedFor,
      rulePromql ? `(${free})\nand\n(${rulePromql})` : free,
      `etcd database has more than ${formatBytes(t.freeBytes)} of free pages${defrag ? ' that the defragmentation did not return' : ''}.`,
      `${cluster}: member ${on} holds more than ${formatBytes(t.freeBytes)} of free pages ${defrag ? `that ${defrag.name}'s rule returns, since before its last run should have: check its Jobs` : 'and no defragmentation is scheduled: add one (cluster.addDefrag)'}.`),
    rule('EtcdLearnerNotPromoted', 'warning', t.learnerForSeconds, `etcd_server_is_learner{${s}} == 1`,
      'etcd member is still a learner.',
      `${cluster}: member ${on} has been a learner for more than ${promDuration(t.learnerForSeconds)}; it does not vote, and a member that cannot catch up is never promoted.`),
    rule('EtcdVersionSkew', 'warning', t.versionSkewForSeconds,
      `count without (server_version) (count without (${INSTANCE_LABELS}) (etcd_server_version{${s}})) > 1`,
      'etcd members run different versions.',
      `${cluster}: members have reported {{ $value }} different versions for more than ${promDuration(t.versionSkewForSeconds)}, longer than an upgrade takes.`),
    ...ctx.jobs.filter((j) => j.kind === 'backup').flatMap((job) => backupRules(job, t, rule)),
  ];
  return [{ name: `etcd ${ctx.cluster}`, rules: mixin }, { name: `cdk8s-etcd ${ctx.cluster}`, rules: ours }];
}

type RuleMaker = (alert: string, severity: string, forSeconds: number, expr: string, summary: string, description: string) => AlertRule;

/**
 * A backup's alerts, from kube-state-metrics' CronJob metrics (etcd exports nothing about snapshots):
 * `kube_cronjob_status_last_successful_time`, `kube_cronjob_status_last_schedule_time` and `kube_cronjob_created`.
 */
function backupRules(job: ScheduledJob, t: Thresholds, rule: RuleMaker): AlertRule[] {
  const s = `namespace="${job.namespace}", cronjob="${job.name}"`;
  const interval = longestIntervalSeconds(job.schedule, job.timeZone);
  const stale = t.backupMissedRuns * interval + job.activeDeadlineSeconds;
  const lastSuccess = `kube_cronjob_status_last_successful_time{${s}}`;
  return [
    rule('EtcdBackupMissing', 'critical', 600, `time() - max by (namespace, cronjob) (${lastSuccess}) > ${stale}
or
(time() - max by (namespace, cronjob) (kube_cronjob_created{${s}}) > ${stale} unless on (namespace, cronjob) ${lastSuccess})`,
    `no successful etcd backup within ${promDuration(stale)}.`,
    `CronJob ${job.namespace}/${job.name} has not completed a backup for {{ $value | humanizeDuration }}, more than ${promDuration(stale)} (${t.backupMissedRuns} × its longest interval of ${promDuration(interval)}, plus its deadline): the newest snapshot is getting old.`),
    // max by: two kube-state-metrics replicas (or scrape jobs) give every series twice, and one-to-one matching errs.
    rule('EtcdBackupFailed', 'warning', job.activeDeadlineSeconds + KSM_LAG_SECONDS, `max by (namespace, cronjob) (kube_cronjob_status_last_schedule_time{${s}})
  > on (namespace, cronjob)
max by (namespace, cronjob) (${lastSuccess})
or
(max by (namespace, cronjob) (kube_cronjob_status_last_schedule_time{${s}}) unless on (namespace, cronjob) ${lastSuccess})`,
    'the latest etcd backup run did not succeed.',
    `The run of CronJob ${job.namespace}/${job.name} scheduled last has not succeeded within its deadline (${promDuration(job.activeDeadlineSeconds)}): see its failed Job's log.`),
    rule('EtcdBackupUnobserved', 'warning', 900, `absent(kube_cronjob_created{${s}})`,
      'kube-state-metrics reports no etcd backup CronJob.',
      `kube-state-metrics reports no CronJob ${job.namespace}/${job.name}, so EtcdBackupMissing and EtcdBackupFailed cannot fire for it: is kube-state-metrics running, scraped, and collecting cronjobs in ${job.namespace}?`),
  ];
}

/** Whole seconds as a Prometheus duration, in the largest unit that divides them (`600s` → `10m`). */
export function promDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60]] as const) {
    if (seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

function percent(property: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 100) {
    throw new EtcdConfigError(`alerts.${property} must be a percentage above 0 and at most 100 (got ${value})`);
  }
  return value;
}

function fraction(property: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value >= 1) {
    throw new EtcdConfigError(`alerts.${property} must be a fraction between 0 and 1, exclusive (got ${value})`);
  }
  return value;
}

function positive(property: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new EtcdConfigError(`alerts.${property} must be a number above 0 (got ${value})`);
  }
  return value;
}

function wholePositive(property: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new EtcdConfigError(`alerts.${property} must be a whole number, at least 1 (got ${value})`);
  return value;
}

function bytes(property: string, size: Size): number {
  const n = size === undefined ? NaN : bytesOf(size);
  if (!Number.isInteger(n) || n < 1) throw new EtcdConfigError(`alerts.${property} must be a whole number of bytes, at least 1 (got ${size?.asString?.()})`);
  return n;
}

/** A threshold (fractions allowed, above 0) or a `for:` (whole seconds, 0 allowed) in seconds. */
function seconds(property: string, duration: Duration, isFor: boolean): number {
  let value: number;
  try {
    value = duration.toMilliseconds({ integral: false }) / 1000;
  } catch {
    value = NaN;
  }
  const ok = isFor ? Number.isInteger(value) && value >= 0 : Number.isFinite(value) && value > 0;
  if (!ok) {
    throw new EtcdConfigError(`alerts.${property} must be ${isFor ? 'a whole number of seconds, 0 or more (a Prometheus `for:`)' : 'a duration above 0'} (got ${duration?.toHumanString?.()})`);
  }
  return value;
}
