import { Cron, Duration } from 'cdk8s';
import { EtcdResources } from '../../member/resources';
import { EtcdBackupDestination } from '../storage/backup-destination';
import { EtcdBackupEncryption } from '../storage/backup-encryption';

// EtcdBackupProps and the EtcdBackup construct are in ../cluster-jobs.ts (they name IEtcdCluster).

/** Options of a backup added with `cluster.addBackup()`. */
export interface EtcdBackupOptions {
  /** Where snapshots are stored: one or more volumes and buckets. Each gets every snapshot. */
  readonly destinations: EtcdBackupDestination[];

  /**
   * Client-side encryption. Required, because a snapshot holds every Kubernetes Secret in plain text:
   * choose `EtcdBackupEncryption.rcloneCrypt()` or, deliberately, `none()`.
   */
  readonly encryption: EtcdBackupEncryption;

  /**
   * When backups run: a cdk8s `Cron`, such as `Cron.schedule({ minute: '0', hour: '2' })` or `Cron.daily()`, which
   * renders five cron fields (`Cron` cannot express Kubernetes' `@daily`-style descriptors; `Cron.daily()` is the same).
   * Interpreted in `timeZone`.
   * @default Cron.hourly()
   */
  readonly schedule?: Cron;

  /**
   * IANA time zone of `schedule`.
   * @default - the kube-controller-manager's time zone (usually UTC)
   */
  readonly timeZone?: string;

  /**
   * Keep this many of the newest snapshots in each destination. With `keepWithin` too, a snapshot is
   * kept when either rule keeps it. The newest snapshot is never deleted.
   * @default - 7, unless `keepWithin` is given
   */
  readonly keepLast?: number;

  /**
   * Keep snapshots younger than this in each destination (judged by the time in their names).
   * @default - no age rule
   */
  readonly keepWithin?: Duration;

  /**
   * Restore every snapshot into scratch space before storing it. This proves the file restores, including
   * etcd's embedded hash, at the cost of disk I/O as large as the database.
   * @default true
   */
  readonly trialRestore?: boolean;
  /**
   * Storage class for the run's working space (the snapshot, and the trial restore's scratch: about 2.5 × the quota).
   * When set, both are generic ephemeral volumes, claims of this class created with the pod and deleted with it, so a
   * run no longer writes to the node's own disk; for static pods that is the disk that holds `/var/lib/etcd`.
   * @default - emptyDirs on the node's disk, declared as ephemeral-storage requests
   */
  readonly scratchStorageClassName?: string;

  /**
   * Name of the CronJob and of the claim a `volume()` destination creates. At most 52 characters.
   * @default - `<cluster name>-<id>`, lowercased
   */
  readonly name?: string;

  /**
   * A client Secret (kubernetes.io/tls: `tls.crt`, `tls.key`, `ca.crt`) to connect with instead of the
   * cluster's, e.g. one for a dedicated backup user. EtcdCluster only; needs TLS.
   * @default - the cluster's client certificate (EtcdCluster) or kubeadm's healthcheck-client (static pods)
   */
  readonly clientSecretName?: string;

  /**
   * Image whose statically linked busybox gives the distroless etcd image a shell for verification.
   * @default 'busybox:1.37.0-musl'
   */
  readonly busyboxImage?: string;

  /**
   * Image with rclone and a shell, which encrypts, uploads, checks and prunes.
   * @default 'rclone/rclone:1.76.0'
   */
  readonly rcloneImage?: string;

  /**
   * CPU and memory of each of the job's containers.
   * @default - 100m CPU and 128 MiB requested, 1 GiB memory limit
   */
  readonly resources?: EtcdResources;

  /**
   * How late a missed run may still start (the CronJob's `startingDeadlineSeconds`).
   * @default Duration.minutes(10)
   */
  readonly startingDeadline?: Duration;

  /**
   * How long one run may take before it is stopped and counted as failed.
   * @default Duration.hours(1)
   */
  readonly activeDeadline?: Duration;

  /**
   * Retries of a failed run within the same schedule slot.
   * @default 1
   */
  readonly backoffLimit?: number;

  /**
   * Create the CronJob suspended: no scheduled runs, while on-demand runs still work.
   * @default false
   */
  readonly suspend?: boolean;
}
