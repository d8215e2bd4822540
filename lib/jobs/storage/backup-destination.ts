import { Size } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { bytesOf } from '../../member/tuning';
import { EtcdConfigError } from '../../shared/errors';
import { EtcdSecretKey } from '../../shared/required-secrets';
import { validateDnsSubdomain, validateSecretKey } from '../../shared/validate';
import { addWarning } from '../../shared/warnings';

/** A PersistentVolumeClaim that holds snapshots. */
export interface EtcdBackupVolumeOptions {
  /**
   * An existing claim to write to. ReadWriteOnce is enough: one job runs at a time.
   * @default - a new claim named after the backup
   */
  readonly claimName?: string;
  /**
   * Size of the new claim (not with `claimName`).
   * @default - room for the snapshots retention keeps, each as large as the cluster's quota, plus one
   */
  readonly size?: Size;
  /**
   * StorageClass of the new claim (not with `claimName`).
   * @default - the cluster's default StorageClass
   */
  readonly storageClassName?: string;
  /**
   * Directory inside the volume, relative to its root.
   * @default - the volume's root
   */
  readonly directory?: string;
}

/** An S3-compatible bucket that holds snapshots. */
export interface EtcdBackupObjectStoreOptions {
  /**
   * The S3 API endpoint, `https://host[:port]`.
   * @default - Amazon S3 in `region`
   */
  readonly endpoint?: string;
  /** The bucket, which must exist: the job never creates buckets. */
  readonly bucket: string;
  /**
   * Key prefix ("directory") inside the bucket, without leading or trailing '/'.
   * @default - the bucket's root
   */
  readonly prefix?: string;
  /**
   * Region used to sign requests.
   * @default 'us-east-1'
   */
  readonly region?: string;
  /**
   * Path-style requests (`endpoint/bucket/key`) rather than virtual-hosted (`bucket.endpoint/key`).
   * @default - true with `endpoint` (most S3-compatible servers need it), false for Amazon S3
   */
  readonly pathStyle?: boolean;
  /** Secret in the backup's namespace with the access key pair. */
  readonly credentialsSecretName: string;
  /**
   * Key of the access key id in the Secret.
   * @default 'AWS_ACCESS_KEY_ID'
   */
  readonly accessKeyIdKey?: string;
  /**
   * Key of the secret access key in the Secret.
   * @default 'AWS_SECRET_ACCESS_KEY'
   */
  readonly secretAccessKeyKey?: string;
}

/** What a destination contributes to a backup job. */
export interface BoundDestination {
  /** Shown in outputs: `persistentvolumeclaim/<claim>/<dir>` or `s3://<bucket>/<prefix>`. */
  readonly name: string;
  /** Where the snapshots land, for telling two destinations apart: the claim's namespace or the endpoint, and the path. */
  readonly place: string;
  /** A claim this destination creates: ReadWriteOnce, so only pods on one node can mount it. */
  readonly readWriteOnce: boolean;
  readonly isObjectStore: boolean;
  /** Requests (and credentials' signatures) travel unencrypted: an `http://` endpoint. */
  readonly plainHttp: boolean;
  /** rclone's path to the directory that holds the snapshots, e.g. `dest1:bucket/prefix/`. */
  readonly remote: string;
  /** The rclone remote's definition (`RCLONE_CONFIG_<NAME>_*`) and credentials. */
  readonly env: k8s.EnvVar[];
  /** The Secret with the credentials, which the user creates (object storage only). */
  readonly credentials?: { readonly secretName: string; readonly keys: EtcdSecretKey[] };
  readonly volume?: k8s.Volume;
  readonly mount?: k8s.VolumeMount;
}

/** What binding needs from the backup. */
export interface DestinationContext {
  readonly scope: Construct;
  readonly backupName: string;
  readonly namespace: string;
  readonly labels: { [key: string]: string };
  /** 1-based position, which names the rclone remote and the mount. */
  readonly index: number;
  /** The cluster's backend quota: the largest a snapshot can be. */
  readonly quotaBytes: number;
  /** How many snapshots retention keeps at least, when it keeps a count. */
  readonly keepLast?: number;
}

/** Above this many quota-sized snapshots, an auto-sized claim is large enough to deserve a word. */
const MAX_QUIET_SNAPSHOTS = 4;

const PATH_SEGMENT = "[A-Za-z0-9!_.*'()=-]+";
const RELATIVE_PATH = new RegExp(`^${PATH_SEGMENT}(/${PATH_SEGMENT})*$`);
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION = /^[a-z0-9][a-z0-9-]{0,62}$/;
const GIB = 1024 ** 3;
/** Snapshots a new claim has room for when retention keeps no count. */
const DEFAULT_SNAPSHOTS_ROOM = 8;

/** Where snapshots are stored: a volume, an S3-compatible bucket, or several of them. */
export class EtcdBackupDestination {
  /** A PersistentVolumeClaim in the backup's namespace. */
  public static volume(options: EtcdBackupVolumeOptions = {}): EtcdBackupDestination {
    const p = 'EtcdBackupDestination.volume()';
    if (options.claimName !== undefined) {
      validateDnsSubdomain(`${p} claimName`, options.claimName);
      if (options.size !== undefined || options.storageClassName !== undefined) {
        throw new EtcdConfigError(`${p} size and storageClassName describe a new claim, but claimName '${options.claimName}' names an existing one: give one or the other`);
      }
    }
    if (options.storageClassName !== undefined) validateDnsSubdomain(`${p} storageClassName`, options.storageClassName);
    if (options.size !== undefined && !(bytesOf(options.size) >= GIB)) {
      throw new EtcdConfigError(`${p} size must be at least 1 GiB (got ${options.size.asString()})`);
    }
    if (options.directory !== undefined) validateRelativePath(`${p} directory`, options.directory);
    return new EtcdBackupDestination((ctx) => bindVolume(ctx, options));
  }

  /** An S3-compatible bucket (Amazon S3, Ceph RGW, Garage, SeaweedFS, ...), written with rclone's s3 backend. */
  public static objectStore(options: EtcdBackupObjectStoreOptions): EtcdBackupDestination {
    const p = 'EtcdBackupDestination.objectStore()';
    if (!options?.bucket) throw new EtcdConfigError(`${p} needs bucket, the bucket snapshots are written to (got ${JSON.stringify(options?.bucket)})`);
    if (!BUCKET.test(options.bucket) || options.bucket.includes('..')) {
      throw new EtcdConfigError(`${p} bucket must be an S3 bucket name: 3 to 63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit (got '${options.bucket}')`);
    }
    if (!options.credentialsSecretName) {
      throw new EtcdConfigError(`${p} needs credentialsSecretName, a Secret with the access key pair (got ${JSON.stringify(options.credentialsSecretName)}): the job signs every request`);
    }
    validateDnsSubdomain(`${p} credentialsSecretName`, options.credentialsSecretName);
    for (const key of ['accessKeyIdKey', 'secretAccessKeyKey'] as const) {
      const value = options[key];
      if (value !== undefined) validateSecretKey(`${p} ${key}`, value);
    }
    if (options.prefix !== undefined) validateRelativePath(`${p} prefix`, options.prefix);
    if (options.region !== undefined && !REGION.test(options.region)) {
      throw new EtcdConfigError(`${p} region must be a region name such as 'us-east-1' (got '${options.region}')`);
    }
    if (options.endpoint !== undefined) validateEndpoint(`${p} endpoint`, options.endpoint);
    return new EtcdBackupDestination((ctx) => bindObjectStore(ctx, options));
  }

  private constructor(
    /** @internal */ public readonly _bind: (ctx: DestinationContext) => BoundDestination,
  ) {}
}

function validateRelativePath(property: string, value: string): void {
  if (typeof value !== 'string' || !RELATIVE_PATH.test(value) || value.split('/').some((s) => s === '.' || s === '..')) {
    throw new EtcdConfigError(`${property} must be a relative path of letters, digits and !_.*'()=- separated by '/', without '.', '..', or a leading or trailing '/' (got '${value}')`);
  }
}

function validateEndpoint(property: string, value: string): void {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || !['https:', 'http:'].includes(url.protocol) || url.pathname !== '/' || url.search || url.hash || url.username || value.endsWith('/')) {
    throw new EtcdConfigError(`${property} must be an http(s) URL of a host and optional port, without path or trailing '/', e.g. 'https://s3.example.com' (got '${value}')`);
  }
}

function bindVolume(ctx: DestinationContext, options: EtcdBackupVolumeOptions): BoundDestination {
  let claimName = options.claimName;
  if (claimName === undefined) {
    claimName = ctx.backupName;
    const snapshots = (ctx.keepLast ?? DEFAULT_SNAPSHOTS_ROOM) + 1;
    const size = options.size ?? Size.gibibytes(Math.ceil((snapshots * ctx.quotaBytes) / GIB));
    if (options.size === undefined && snapshots > MAX_QUIET_SNAPSHOTS) {
      addWarning(ctx.scope, `EtcdBackupDestination.volume() creates claim '${claimName}' of ${size.toGibibytes()} GiB: room for ${snapshots} snapshots (keepLast ${ctx.keepLast ?? DEFAULT_SNAPSHOTS_ROOM}, and the new one before retention) each as large as the quota (${(ctx.quotaBytes / GIB).toFixed(2)} GiB). Snapshots are usually far smaller than the quota: give size, or keep fewer`);
    }
    new k8s.KubePersistentVolumeClaim(ctx.scope, `Volume${ctx.index}`, {
      metadata: { name: claimName, namespace: ctx.namespace, labels: ctx.labels },
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: options.storageClassName,
        resources: { requests: { storage: k8s.Quantity.fromString(size.asString()) } },
      },
    });
  }
  const mountPath = `/backups/${ctx.index}`;
  const directory = options.directory ? `${mountPath}/${options.directory}` : mountPath;
  const remote = `dest${ctx.index}`;
  return {
    name: `persistentvolumeclaim/${claimName}${options.directory ? `/${options.directory}` : ''}`,
    place: `persistentvolumeclaim ${ctx.namespace}/${claimName}/${options.directory ?? ''}`,
    readWriteOnce: options.claimName === undefined,
    isObjectStore: false,
    plainHttp: false,
    remote: `${remote}:${directory}/`,
    env: [{ name: `RCLONE_CONFIG_${remote.toUpperCase()}_TYPE`, value: 'local' }],
    volume: { name: `backups-${ctx.index}`, persistentVolumeClaim: { claimName } },
    mount: { name: `backups-${ctx.index}`, mountPath },
  };
}

function bindObjectStore(ctx: DestinationContext, options: EtcdBackupObjectStoreOptions): BoundDestination {
  const remote = `dest${ctx.index}`;
  const prefix = options.prefix ? `${options.prefix}/` : '';
  const config = (key: string) => `RCLONE_CONFIG_${remote.toUpperCase()}_${key}`;
  const fromSecret = (key: string) => ({ secretKeyRef: { name: options.credentialsSecretName, key } });
  const pathStyle = options.pathStyle ?? options.endpoint !== undefined;
  const accessKeyIdKey = options.accessKeyIdKey ?? 'AWS_ACCESS_KEY_ID';
  const secretAccessKeyKey = options.secretAccessKeyKey ?? 'AWS_SECRET_ACCESS_KEY';
  return {
    name: `s3://${options.bucket}/${prefix}`,
    place: `${options.endpoint ?? 'https://s3.amazonaws.com'} ${options.bucket}/${prefix}`,
    readWriteOnce: false,
    isObjectStore: true,
    plainHttp: options.endpoint?.startsWith('http:') ?? false,
    remote: `${remote}:${options.bucket}/${prefix}`,
    env: [
      { name: config('TYPE'), value: 's3' },
      { name: config('PROVIDER'), value: options.endpoint ? 'Other' : 'AWS' },
      ...(options.endpoint ? [{ name: config('ENDPOINT'), value: options.endpoint }] : []),
      { name: config('REGION'), value: options.region ?? 'us-east-1' },
      { name: config('FORCE_PATH_STYLE'), value: String(pathStyle) },
      // The bucket must exist; the job's credentials need no right to create buckets.
      { name: config('NO_CHECK_BUCKET'), value: 'true' },
      { name: config('ACCESS_KEY_ID'), valueFrom: fromSecret(accessKeyIdKey) },
      { name: config('SECRET_ACCESS_KEY'), valueFrom: fromSecret(secretAccessKeyKey) },
    ],
    credentials: {
      secretName: options.credentialsSecretName,
      keys: [
        { key: accessKeyIdKey, holds: `the access key id for ${options.bucket}` },
        { key: secretAccessKeyKey, holds: `the secret access key for ${options.bucket}` },
      ],
    },
  };
}
