import { Duration, Size } from 'cdk8s';

/**
 * Thresholds of the alerts. The first group are etcd's own mixin alerts (`contrib/mixin` in etcd's repository), with
 * its defaults; the rest are this library's, derived from what it renders (the quota, the backup and defrag jobs).
 */
export interface EtcdAlertOptions {
  /**
   * `etcdHighNumberOfFailedGRPCRequests` (warning): percent of a method's requests that fail.
   * @default 1
   */
  readonly failedGrpcRequestsWarningPercent?: number;
  /**
   * `etcdHighNumberOfFailedGRPCRequests` (critical): percent of a method's requests that fail.
   * @default 5
   */
  readonly failedGrpcRequestsCriticalPercent?: number;
  /**
   * `etcdGRPCRequestsSlow`: 99th percentile of unary requests (defragmentation excluded).
   * @default Duration.millis(150)
   */
  readonly grpcRequestsSlow?: Duration;
  /**
   * `etcdMemberCommunicationSlow`: 99th percentile of the round trip to a peer.
   * @default Duration.millis(150)
   */
  readonly memberCommunicationSlow?: Duration;
  /**
   * `etcdHighNumberOfFailedProposals`: failed proposals per second, over 15 minutes.
   * @default 5
   */
  readonly failedProposalsPerSecond?: number;
  /**
   * `etcdHighNumberOfLeaderChanges`: leader changes within 15 minutes.
   * @default 4
   */
  readonly leaderChangesIn15Minutes?: number;
  /**
   * `etcdHighFsyncDurations` (warning): 99th percentile of WAL fsync.
   * @default Duration.millis(500)
   */
  readonly fsyncWarning?: Duration;
  /**
   * `etcdHighFsyncDurations` (critical): 99th percentile of WAL fsync.
   * @default Duration.seconds(1)
   */
  readonly fsyncCritical?: Duration;
  /**
   * `etcdHighCommitDurations`: 99th percentile of backend commits.
   * @default Duration.millis(250)
   */
  readonly commitWarning?: Duration;
  /**
   * `etcdDatabaseQuotaLowSpace`: percent of the quota the database may fill before the alert.
   * @default 95
   */
  readonly quotaLowSpacePercent?: number;
  /**
   * `etcdDatabaseHighFragmentationRatio`: fires when the part of the database in use falls below this fraction.
   * @default 0.5
   */
  readonly fragmentationRatio?: number;
  /**
   * `etcdDatabaseHighFragmentationRatio` only looks at databases with at least this much in use.
   * @default Size.mebibytes(100)
   */
  readonly fragmentationMinInUse?: Size;

  /**
   * `EtcdDatabaseNearQuota`: fraction of the cluster's quota (the `--quota-backend-bytes` this library renders) the
   * database may fill before the alert: early enough to defragment or grow before NOSPACE makes etcd read-only.
   * @default 0.8 (as the recommended defrag rule's `quotaUsageAbove(0.8)`)
   */
  readonly quotaUsage?: number;
  /**
   * `EtcdDatabaseFragmented`: free pages (`dbSize - dbSizeInUse`) above this are fragmentation a defragmentation
   * would return. With a defragmentation, the alert also waits for its rule to hold, so a rule that waits for the
   * quota (`quotaUsageAbove`) or for more free pages does not make it fire while the job rightly skips.
   * @default Size.mebibytes(200) (as the recommended defrag rule's `freeBytesAbove`)
   */
  readonly freeBytes?: Size;
  /**
   * How long the free pages may stay above `freeBytes` before `EtcdDatabaseFragmented` fires.
   * @default - the defragmentation's longest interval between runs plus its deadline (a run should have reclaimed
   *   them); 1 hour without a defragmentation
   */
  readonly fragmentedFor?: Duration;
  /**
   * `EtcdLearnerNotPromoted`: how long a member may stay a learner. A StatefulSet member promotes itself once it has
   * caught up, which takes seconds to minutes.
   * @default Duration.minutes(30)
   */
  readonly learnerFor?: Duration;
  /**
   * `EtcdVersionSkew`: how long members may report different versions. Longer than a rolling upgrade takes.
   * @default Duration.hours(1)
   */
  readonly versionSkewFor?: Duration;
  /**
   * `EtcdBackupMissing`: how many of a backup's longest intervals between runs may pass without a successful run.
   * @default 2
   */
  readonly backupMissedRuns?: number;
}

/** Scrape configuration, alerts and a dashboard for one etcd cluster (prometheus-operator and Grafana). */
export interface EtcdMonitoringOptions {
  /**
   * Labels on the PodMonitor and PrometheusRule, so that your Prometheus selects them (its `podMonitorSelector` and
   * `ruleSelector`), e.g. `{ release: 'kube-prometheus-stack' }`.
   * @default - none
   */
  readonly labels?: { [key: string]: string };
  /**
   * How often Prometheus scrapes each member: 5 to 75 seconds, so that the alerts' 5-minute windows hold four samples.
   * @default Duration.seconds(30)
   */
  readonly scrapeInterval?: Duration;
  /**
   * Alert thresholds.
   * @default - the mixin's and this library's defaults
   */
  readonly alerts?: EtcdAlertOptions;
  /**
   * Where each alert's `runbook_url` points: this URL followed by `#alert-<name in lower case>`.
   * @default 'https://github.com/cdk8s-etcd/cdk8s-etcd/blob/main/README.md'
   */
  readonly runbookBaseUrl?: string;
  /**
   * Render the Grafana dashboard as a ConfigMap.
   * @default true
   */
  readonly dashboard?: boolean;
  /**
   * Labels on the dashboard's ConfigMap that Grafana's dashboard sidecar looks for.
   * @default { grafana_dashboard: '1' }
   */
  readonly dashboardLabels?: { [key: string]: string };
}
