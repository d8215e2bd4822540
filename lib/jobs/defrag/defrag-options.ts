import { Cron, Duration } from 'cdk8s';
import { EtcdDefragRule } from './defrag-rule';

/** Options of a defragmentation CronJob (`cluster.addDefrag()`). */
export interface EtcdDefragOptions {
  /**
   * Which members to defragment, evaluated per member when the job runs.
   * @default EtcdDefragRule.recommended(): above 80% of the quota, or more than 200 MiB free
   */
  readonly rule?: EtcdDefragRule;

  /**
   * When to run: a cdk8s `Cron`, such as `Cron.schedule({ minute: '30', hour: '3' })` or `Cron.weekly()`, which renders
   * five cron fields (`Cron` cannot express Kubernetes' `@daily`-style descriptors; `Cron.daily()` is the same).
   * @default - daily at 03:30
   */
  readonly schedule?: Cron;

  /**
   * IANA time zone of `schedule` (the CronJob's `timeZone`).
   * @default - the kube-controller-manager's time zone
   */
  readonly timeZone?: string;

  /**
   * Create the CronJob suspended: it runs only on demand (`onDemandCommand`).
   * @default false
   */
  readonly suspend?: boolean;

  /**
   * Compact to the current revision once before defragmenting. Off by default: compacting to the head revision
   * drops every older revision, so every watcher that is behind (each Kubernetes API server's informers) gets
   * "required revision has been compacted" and relists everything it watches, a burst of reads on a cluster that is
   * already busy. The Kubernetes API server compacts every 5 minutes on its own, and `tuning.autoCompaction` does
   * for other clients; defragmentation then returns the space those compactions freed.
   * @default false
   */
  readonly compact?: boolean;

  /**
   * Disarm a NOSPACE alarm after the run once every member's database is below this fraction of the quota
   * (etcd-defrag's default).
   * @default 0.9
   */
  readonly disarmBelowQuotaUsage?: number;

  /**
   * CronJob name.
   * @default '<cluster name>-<id>'
   */
  readonly name?: string;

  /**
   * A client Secret (kubernetes.io/tls) to use instead of the cluster's own client certificate. Defragmentation,
   * `alarm disarm` and `compaction` need a client etcd allows maintenance calls (with etcd auth: the root role).
   * @default - the cluster's client certificate
   */
  readonly clientSecretName?: string;

  /**
   * The busybox image whose static busybox the job copies into the distroless etcd image.
   * @default the pinned busybox the backup uses
   */
  readonly busyboxImage?: string;

  /**
   * How long one run may take in all.
   * @default - each member's defragmentation timeout (sized from the quota), one after another, plus 5 minutes
   */
  readonly activeDeadline?: Duration;
}
