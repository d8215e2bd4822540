import { k8s } from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import { EtcdVersion } from '../release/version';
import { EtcdRequiredSecret, requiredSecretsOf } from '../shared/required-secrets';
import { renderBackup } from './backup/backup-job';
import { EtcdBackupOptions } from './backup/backup-options';
import { renderDefrag } from './defrag/defrag-job';
import { EtcdDefragOptions } from './defrag/defrag-options';

/*
 * The public face of the jobs: IEtcdCluster names the jobs its add*() methods create, and each job's props
 * name IEtcdCluster, so the interface and the job constructs share this file (split, they would import each
 * other). The constructs stay thin: each job renders from the cluster's access model in its own folder.
 */

/**
 * An etcd cluster that maintenance jobs can reach: `EtcdCluster` or `EtcdStaticPodCluster`.
 * Each resolves once how a job connects to it (endpoints, client identity, placement), and every
 * job renders from that.
 */
export interface IEtcdCluster extends IConstruct {
  /** etcd release of the members. The jobs run the same release's tools. */
  readonly version: EtcdVersion;
  /** Every member's client URL. */
  readonly clientEndpoints: string[];
  /** The value for kube-apiserver's `--etcd-servers`. */
  readonly etcdServers: string;
  /**
   * Every Secret you create before `kubectl apply` for this cluster and the jobs added to it so far (read it after
   * adding them): its name, namespace, keys and what each holds, and which object reads it.
   */
  readonly requiredSecrets: EtcdRequiredSecret[];

  /**
   * Add a scheduled, verified backup of this cluster. Call it again for more backups, e.g. hourly
   * to a volume and daily to object storage.
   * @param id construct id, unique among this cluster's backups. The default CronJob name ends with it.
   */
  addBackup(id: string, options: EtcdBackupOptions): EtcdBackup;

  /**
   * Add a scheduled, rule-gated defragmentation: one member at a time, followers first, the leader last.
   * @param id construct id, unique among this cluster's jobs. The default CronJob name ends with it.
   */
  addDefrag(id: string, options?: EtcdDefragOptions): EtcdDefrag;
}

/** Properties of an {@link EtcdBackup}. */
export interface EtcdBackupProps extends EtcdBackupOptions {
  /** The cluster to back up: an `EtcdCluster` or `EtcdStaticPodCluster`. */
  readonly cluster: IEtcdCluster;
}

/**
 * Scheduled, verified, optionally encrypted snapshots of an etcd cluster, for `EtcdCluster` and
 * `EtcdStaticPodCluster` alike.
 *
 * Each run takes one snapshot with `etcdctl snapshot save` from one member, verifies it (etcd's
 * embedded sha256, `snapshot status`, optionally a trial restore), records revision, key count,
 * size and sha256 beside it, stores it in every destination, checks each copy, and only then
 * applies retention. A run that fails any step stores nothing as good and fails its Job.
 */
export class EtcdBackup extends Construct {
  /** Name of the CronJob. */
  public readonly name: string;
  /** The CronJob. */
  public readonly cronJob: k8s.KubeCronJob;
  /** Where snapshots go: `persistentvolumeclaim/<claim>[/<dir>]` and `s3://<bucket>/<prefix>/`. */
  public readonly destinationNames: string[];
  /** Run a backup now, outside the schedule. */
  public readonly onDemandCommand: string;
  /** Snapshots are `<snapshotPrefix><UTC time, 20261121T020000Z>.db` (plus `.rclone` when encrypted) and `.json`. */
  public readonly snapshotPrefix: string;
  /** The Secrets this backup reads that you create: the passphrase and salt, bucket credentials, a client certificate. */
  public readonly requiredSecrets: EtcdRequiredSecret[];

  public constructor(scope: Construct, id: string, props: EtcdBackupProps) {
    super(scope, id);
    const backup = renderBackup(this, id, props.cluster, props);
    this.name = backup.name;
    this.cronJob = backup.cronJob;
    this.destinationNames = backup.destinationNames;
    this.onDemandCommand = backup.onDemandCommand;
    this.snapshotPrefix = backup.snapshotPrefix;
    this.requiredSecrets = requiredSecretsOf([this]);
  }
}

/** Properties of an {@link EtcdDefrag}. */
export interface EtcdDefragProps extends EtcdDefragOptions {
  /** The cluster to defragment: an `EtcdCluster` or `EtcdStaticPodCluster`. */
  readonly cluster: IEtcdCluster;
}

/**
 * Scheduled defragmentation of an etcd cluster with etcd's own etcdctl, keeping etcd-defrag's semantics.
 *
 * It aborts, having touched nothing, unless every voting member answers and the member list is the cluster's; it defragments
 * only the members the rule selects, one at a time, followers first and the leader last (read again before each),
 * each bounded by a timeout sized from the quota and followed by a wait until the member answers again; then it
 * disarms NOSPACE once every member is below the threshold.
 */
export class EtcdDefrag extends Construct {
  /** Name of the CronJob. */
  public readonly name: string;
  /** The CronJob. */
  public readonly cronJob: k8s.KubeCronJob;
  /** Run it now, outside the schedule. */
  public readonly onDemandCommand: string;
  /** The rule as the job evaluates it, for people (`(dbQuotaUsage > 0.8) || (dbSize - dbSizeInUse > 209715200)`). */
  public readonly ruleText: string;
  /** The Secrets this job reads that you create (a client certificate given by `clientSecretName`). */
  public readonly requiredSecrets: EtcdRequiredSecret[];

  public constructor(scope: Construct, id: string, props: EtcdDefragProps) {
    super(scope, id);
    const defrag = renderDefrag(this, id, props.cluster, props);
    this.name = defrag.name;
    this.cronJob = defrag.cronJob;
    this.onDemandCommand = defrag.onDemandCommand;
    this.ruleText = defrag.rule.description;
    this.requiredSecrets = requiredSecretsOf([this]);
  }
}
