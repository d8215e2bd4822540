import { Duration } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { DEFAULT_IMAGES, validatePinnedImage } from '../jobs/images';
import { wholeSeconds } from '../jobs/schedule';
import { EtcdBackupDestination, EtcdBackupObjectStoreOptions } from '../jobs/storage/backup-destination';
import { EtcdBackupEncryption } from '../jobs/storage/backup-encryption';
import { EtcdConfigError } from '../shared/errors';
import { EtcdSecretKey } from '../shared/required-secrets';
import { validateAbsolutePath, validateDnsLabel, validateInteger } from '../shared/validate';

/** How a cluster starts from a snapshot, for every kind of source. */
export interface EtcdSnapshotRestoreOptions {
  /**
   * Name of the cluster the snapshots were taken of: files are `<clusterNamespace>.<clusterName>-<UTC time>.db`
   * (see `EtcdBackup.snapshotPrefix`).
   */
  readonly clusterName: string;
  /**
   * Namespace of the cluster the snapshots were taken of (static pods: the `namespace` their manifests carry).
   * @default - the namespace of the cluster that restores
   */
  readonly clusterNamespace?: string;
  /**
   * One snapshot by name, without extension, e.g. `kube-system.etcd-20261121T020000Z`.
   * @default - the newest snapshot that has its record (`.json`) beside it
   */
  readonly snapshot?: string;
  /**
   * How far the restored revision jumps forward (`--bump-revision`, with `--mark-compacted`), so
   * watchers, such as kube-apiserver's watch cache, never see a revision go backwards. It must exceed
   * the writes the old cluster made after the snapshot. 0 turns it off.
   * @default 1000000000, where the version can (3.4.27+, 3.5.10+, 3.6+); elsewhere none, with a warning
   */
  readonly bumpRevision?: number;
  /**
   * The restored cluster may have the name of the cluster the snapshots come from, and so its volumes
   * (static pods: its data directory). Members still restore only into empty volumes and start from
   * data they find. Needs a new `initialClusterToken`.
   * @default false: a restore starts a new cluster beside the old one
   */
  readonly inPlace?: boolean;
  /**
   * How long a member with an empty data directory waits for every other member to be accounted for before it fails.
   * The kubelet then starts it again (see the README).
   * @default Duration.minutes(10)
   */
  readonly memberWait?: Duration;
  /**
   * Image whose static busybox provides the shell of the restore steps (the etcd image has none).
   * @default 'busybox:1.37.0-musl'
   */
  readonly busyboxImage?: string;
}

/** Snapshots in an S3-compatible bucket, as `EtcdBackupDestination.objectStore()` writes them. */
export interface EtcdSnapshotObjectStoreOptions extends EtcdBackupObjectStoreOptions, EtcdSnapshotRestoreOptions {
  /** How the backup encrypted the snapshots: the same passphrase Secret, or `none()`. */
  readonly encryption: EtcdBackupEncryption;
  /**
   * Image with rclone, which reads and decrypts the snapshot.
   * @default 'rclone/rclone:1.76.0'
   */
  readonly rcloneImage?: string;
}

/** Snapshots in a PersistentVolumeClaim, as `EtcdBackupDestination.volume()` writes them. */
export interface EtcdSnapshotVolumeOptions extends EtcdSnapshotRestoreOptions {
  /**
   * The claim, in the cluster's namespace. Every member mounts it read-only, so it must allow that
   * from every member's node (ReadOnlyMany or ReadWriteMany), or all members must share a node.
   */
  readonly claimName: string;
  /**
   * Directory inside the volume, relative to its root.
   * @default - the volume's root
   */
  readonly directory?: string;
  /** How the backup encrypted the snapshots: the same passphrase Secret, or `none()`. */
  readonly encryption: EtcdBackupEncryption;
  /**
   * Image with rclone, which reads and decrypts the snapshot.
   * @default 'rclone/rclone:1.76.0'
   */
  readonly rcloneImage?: string;
}

/** A decrypted snapshot and its record in a directory on every node (static pods). */
export interface EtcdSnapshotHostPathOptions extends EtcdSnapshotRestoreOptions {
  /**
   * Absolute directory on each node holding `<snapshot>.db` and `<snapshot>.json`, decrypted and copied
   * there as the README's runbook shows. It is mounted read-only.
   */
  readonly directory: string;
}

/** The default jump of a restored revision, as etcd's and Kubernetes' restore guides use it. */
export const DEFAULT_BUMP_REVISION = 1_000_000_000;
const MAX_BUMP_REVISION = 1e15;

/** What the restore steps read, resolved. */
export interface BoundSnapshotSource {
  /** Shown in messages: `s3://bucket/prefix/`, `persistentvolumeclaim/<claim>`, `hostPath /dir`. */
  readonly name: string;
  /** Where the snapshots are, as a backup in the same App would write them (not for a node's directory). */
  readonly place?: string;
  /** Fetched by rclone (a bucket or claim), or read where it is (a node's directory). */
  readonly fetch?: {
    readonly image: string;
    /** rclone path of the directory with the snapshots and records. */
    readonly remote: string;
    /** Whether `.db.rclone` files are read through the crypt remote `sealed1`. */
    readonly encryption: EtcdBackupEncryption;
    readonly env: k8s.EnvVar[];
    /** The bucket's credentials Secret, which the user creates. */
    readonly credentials?: { readonly secretName: string; readonly keys: EtcdSecretKey[] };
  };
  /** The directory in the restore step's container that holds the files (a node's; fetched ones go to work). */
  readonly hostDirectory?: string;
  readonly volume?: k8s.Volume;
  readonly mount?: k8s.VolumeMount;
}

/**
 * Where a restored cluster's snapshot comes from: a place an `EtcdBackup` writes to, read with the
 * same decryption, checked against the sha256 in the snapshot's record before any data is written.
 */
export class EtcdSnapshotSource {
  /** An S3-compatible bucket (`EtcdCluster` only: static pods cannot read Secrets). */
  public static objectStore(options: EtcdSnapshotObjectStoreOptions): EtcdSnapshotSource {
    const p = 'EtcdSnapshotSource.objectStore()';
    const destination = namedAs(p, () => EtcdBackupDestination.objectStore(options));
    const fetch = fetchOptions(p, options?.encryption, options?.rcloneImage);
    return new EtcdSnapshotSource(p, 'secrets', resolveOptions(p, options), (scope, namespace) => {
      const bound = bindDestination(scope, destination, namespace);
      return { name: bound.name, place: bound.place, fetch: { ...fetch, remote: bound.remote, env: bound.env, credentials: bound.credentials } };
    });
  }

  /** A PersistentVolumeClaim every member can mount read-only (`EtcdCluster` only). */
  public static volume(options: EtcdSnapshotVolumeOptions): EtcdSnapshotSource {
    const p = 'EtcdSnapshotSource.volume()';
    if (!options?.claimName) throw new EtcdConfigError(`${p} needs claimName, the claim that holds the snapshots (got ${JSON.stringify(options?.claimName)})`);
    const destination = namedAs(p, () => EtcdBackupDestination.volume({ claimName: options.claimName, directory: options.directory }));
    const fetch = fetchOptions(p, options.encryption, options.rcloneImage);
    return new EtcdSnapshotSource(p, 'secrets', resolveOptions(p, options), (scope, namespace) => {
      const bound = bindDestination(scope, destination, namespace);
      return {
        name: bound.name,
        place: bound.place,
        fetch: { ...fetch, remote: bound.remote, env: bound.env },
        volume: bound.volume,
        mount: { ...bound.mount!, readOnly: true },
      };
    });
  }

  /**
   * A directory on every node with the decrypted snapshot and its record (`EtcdStaticPodCluster` only:
   * the kubelet runs static pods without the API server, so they read no Secrets or claims).
   *
   * The manifest mounts it as `DirectoryOrCreate`: once the cluster has formed, a member starts from its data and
   * never reads the directory, so deleting it must not keep the member from starting after a reboot (with
   * `Directory`, the kubelet would refuse to start the pod). Once the cluster runs, write the manifests without
   * `restoreFrom` (README: "After a restore").
   */
  public static hostPath(options: EtcdSnapshotHostPathOptions): EtcdSnapshotSource {
    const p = 'EtcdSnapshotSource.hostPath()';
    if (typeof options?.directory !== 'string') throw new EtcdConfigError(`${p} needs directory, the absolute path on each node that holds the snapshot (got ${JSON.stringify(options?.directory)})`);
    validateAbsolutePath(`${p} directory`, options.directory);
    return new EtcdSnapshotSource(p, 'node', resolveOptions(p, options), () => ({
      name: `hostPath ${options.directory}`,
      hostDirectory: options.directory,
      volume: { name: 'snapshot-source', hostPath: { path: options.directory, type: 'DirectoryOrCreate' } },
      mount: { name: 'snapshot-source', mountPath: options.directory, readOnly: true },
    }));
  }

  private constructor(
    /** @internal how the factory is called, for messages */ public readonly _factory: string,
    /** @internal what the source needs from the cluster: Secrets and claims, or a node's files */ public readonly _needs: 'secrets' | 'node',
    /** @internal */ public readonly _options: ResolvedRestoreOptions,
    /** @internal */ public readonly _bind: (scope: Construct, namespace: string) => BoundSnapshotSource,
  ) {}
}

/** The restore options, validated. */
export interface ResolvedRestoreOptions {
  readonly clusterName: string;
  /** undefined: the restoring cluster's. */
  readonly clusterNamespace?: string;
  readonly snapshot?: string;
  /** undefined: the default, applied where the version can. */
  readonly bumpRevision?: number;
  readonly inPlace: boolean;
  readonly memberWaitSeconds: number;
  readonly busyboxImage: string;
}

function resolveOptions(p: string, options: EtcdSnapshotRestoreOptions): ResolvedRestoreOptions {
  if (!options?.clusterName) {
    throw new EtcdConfigError(`${p} needs clusterName, the name of the cluster the snapshots were taken of (EtcdBackup.snapshotPrefix without its '-') (got ${JSON.stringify(options?.clusterName)})`);
  }
  if (typeof options.clusterName !== 'string' || !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(options.clusterName)) {
    throw new EtcdConfigError(`${p} clusterName must be a cluster's name as its snapshots carry it: lowercase letters, digits and '-', at most 63 (got '${options.clusterName}')`);
  }
  if (options.clusterNamespace !== undefined) validateDnsLabel(`${p} clusterNamespace`, options.clusterNamespace);
  if (options.snapshot !== undefined) {
    const ns = options.clusterNamespace ?? '<namespace>';
    const pattern = new RegExp(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\\.${options.clusterName}-[0-9]{8}T[0-9]{6}Z$`);
    if (typeof options.snapshot !== 'string' || !pattern.test(options.snapshot)) {
      throw new EtcdConfigError(`${p} snapshot must name a snapshot of '${options.clusterName}' without extension, '${ns}.${options.clusterName}-<YYYYMMDDTHHMMSSZ>', e.g. '${ns}.${options.clusterName}-20261121T020000Z' (got '${options.snapshot}')`);
    }
  }
  if (options.bumpRevision !== undefined) validateInteger(`${p} bumpRevision`, options.bumpRevision, 0, MAX_BUMP_REVISION);
  const memberWaitSeconds = wholeSeconds(`${p} memberWait`, options.memberWait ?? Duration.minutes(10), 30,
    'members start at different times, and each must see the others before it restores');
  return {
    clusterName: options.clusterName,
    clusterNamespace: options.clusterNamespace,
    snapshot: options.snapshot,
    bumpRevision: options.bumpRevision,
    inPlace: options.inPlace ?? false,
    memberWaitSeconds,
    busyboxImage: validatePinnedImage(`${p} busyboxImage`, options.busyboxImage ?? DEFAULT_IMAGES.busybox, DEFAULT_IMAGES.busybox),
  };
}

function fetchOptions(p: string, encryption: EtcdBackupEncryption | undefined, rcloneImage: string | undefined) {
  if (!encryption) {
    throw new EtcdConfigError(`${p} needs encryption, as the backup wrote the snapshots: EtcdBackupEncryption.rcloneCrypt({ secretName }) with the same passphrase, or EtcdBackupEncryption.none()`);
  }
  return { encryption, image: validatePinnedImage(`${p} rcloneImage`, rcloneImage ?? DEFAULT_IMAGES.rclone, DEFAULT_IMAGES.rclone) };
}

/** A source reads where a destination writes, with the destination's checks; their errors name the source. */
function namedAs(factory: string, make: () => EtcdBackupDestination): EtcdBackupDestination {
  try {
    return make();
  } catch (e) {
    if (e instanceof EtcdConfigError) throw new EtcdConfigError(e.message.replace(/^EtcdBackupDestination\.\w+\(\)/, factory));
    throw e;
  }
}

/** A backup destination read as a source: its remote, credentials and volume, as the backup wrote it. */
function bindDestination(scope: Construct, destination: EtcdBackupDestination, namespace: string) {
  return destination._bind({ scope, backupName: 'restore', namespace, labels: {}, index: 1, quotaBytes: 0 });
}

