import { Duration, Size, SizeRoundingBehavior } from 'cdk8s';
import { EtcdConfigError } from '../shared/errors';
import { validateInteger } from '../shared/validate';
import { EtcdVersion } from '../release/version';
import { AutoCompaction } from './auto-compaction';

/**
 * etcd's timing, storage and maintenance settings, shared by every way of running etcd.
 */
export interface EtcdTuning {
  /**
   * How often the leader sends heartbeats (`--heartbeat-interval`). Raise it on slow networks,
   * together with the election timeout.
   * @default Duration.millis(100)
   */
  readonly heartbeatInterval?: Duration;

  /**
   * How long a follower waits without a heartbeat before starting an election (`--election-timeout`).
   * etcd requires at least 5 × the heartbeat interval and at most 50 s.
   * @default Duration.millis(1000)
   */
  readonly electionTimeout?: Duration;

  /**
   * Committed transactions between two snapshots of the raft log (`--snapshot-count`).
   * 10000 is what kubeadm sets and etcd 3.6's default; it keeps memory lower than 3.5's 100000.
   * @default 10000
   */
  readonly snapshotCount?: number;

  /**
   * The backend database size limit (`--quota-backend-bytes`). etcd raises the NOSPACE alarm above it.
   * Must fit the volume. Above 8 GiB (etcd's suggested maximum) it is accepted with a warning.
   * @default - half of the volume after a 512 MiB reserve for WAL and snapshot files
   *   (room for defragmentation, which copies the database), at most 8 GiB
   */
  readonly quotaBackendBytes?: Size;

  /**
   * Automatic compaction of old revisions.
   * @default AutoCompaction.periodic(Duration.hours(1))
   */
  readonly autoCompaction?: AutoCompaction;

  /**
   * Whether each member checks its data against its peers before serving
   * (`--experimental-initial-corrupt-check`, `InitialCorruptCheck` feature gate on 3.6+).
   * @default true
   */
  readonly initialCorruptCheck?: boolean;

  /**
   * Whether a member reports NOT_SERVING on gRPC health while it defragments (the `StopGRPCServiceOnDefrag`
   * feature gate, etcd 3.6 and later). A defragmenting member blocks its reads and writes; with the gate on, clients
   * that use gRPC health checking move to another member for that window instead of waiting it out. Clients without
   * health checking see no difference. Refused for 3.4 and 3.5, which have no feature gates.
   * @default false
   */
  readonly stopGrpcServiceOnDefrag?: boolean;

  /**
   * Export the extensive metrics (`--metrics=extensive`): per-method gRPC latency histograms on top of the basic set.
   * The mixin's `etcdGRPCRequestsSlow` alert reads them and stays silent without them; they add about a hundred series
   * per member.
   * @default false
   */
  readonly extensiveMetrics?: boolean;
}

/** Tuning with every default applied and every value checked. */
export interface ResolvedTuning {
  readonly heartbeatMillis: number;
  readonly electionMillis: number;
  readonly snapshotCount: number;
  /** Undefined leaves etcd's own default (2 GiB) in place. */
  readonly quotaBackendBytes?: number;
  readonly autoCompaction: AutoCompaction;
  readonly initialCorruptCheck: boolean;
  readonly stopGrpcServiceOnDefrag: boolean;
  readonly extensiveMetrics: boolean;
}

export const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
/** etcd's own `--quota-backend-bytes` default. */
export const ETCD_DEFAULT_QUOTA_BYTES = 2 * GIB;
/** The backend quota members run with: `--quota-backend-bytes`, or etcd's default. The largest a database (and a snapshot) gets. */
export function effectiveQuotaBytes(tuning: ResolvedTuning): number {
  return tuning.quotaBackendBytes ?? ETCD_DEFAULT_QUOTA_BYTES;
}

/** etcd's suggested maximum for `--quota-backend-bytes`. */
export const SUGGESTED_MAX_QUOTA_BYTES = 8 * GIB;
/** Room kept on the volume for WAL segments (5 × 64 MiB) and snapshot files. */
export const WAL_RESERVE_BYTES = 512 * MIB;
const MAX_ELECTION_MILLIS = 50000;

/** Bytes in a cdk8s Size. */
export function bytesOf(size: Size): number {
  return size.toKibibytes({ rounding: SizeRoundingBehavior.NONE }) * 1024;
}

/** Human-readable bytes for messages, e.g. `8 GiB`. */
export function formatBytes(bytes: number): string {
  if (bytes !== 0 && bytes % GIB === 0) return `${bytes / GIB} GiB`;
  if (bytes !== 0 && bytes % MIB === 0) return `${bytes / MIB} MiB`;
  return `${bytes} bytes`;
}

/** The quota derived from a volume: half of what is left after the WAL reserve, whole MiB, at most 8 GiB. */
export function quotaForVolume(volumeBytes: number): number {
  const half = Math.floor((volumeBytes - WAL_RESERVE_BYTES) / 2 / MIB) * MIB;
  return Math.min(half, SUGGESTED_MAX_QUOTA_BYTES);
}

/**
 * Apply defaults and validate.
 * @param version the release the members run: some settings exist only from a line on
 * @param volumeBytes the data volume size, when known (StatefulSet); the quota is derived from it and must fit it
 * @param warn receives non-fatal findings
 */
export function resolveTuning(tuning: EtcdTuning, version: EtcdVersion, volumeBytes: number | undefined, warn: (message: string) => void): ResolvedTuning {
  const heartbeatMillis = millisOf('tuning.heartbeatInterval', tuning.heartbeatInterval ?? Duration.millis(100));
  const electionMillis = millisOf('tuning.electionTimeout', tuning.electionTimeout ?? Duration.millis(1000));
  if (electionMillis < 5 * heartbeatMillis) {
    throw new EtcdConfigError(`tuning.electionTimeout must be at least 5 × tuning.heartbeatInterval (${5 * heartbeatMillis}ms) (got ${electionMillis}ms): etcd refuses to start otherwise`);
  }
  if (electionMillis > MAX_ELECTION_MILLIS) {
    throw new EtcdConfigError(`tuning.electionTimeout must be at most ${MAX_ELECTION_MILLIS}ms (got ${electionMillis}ms): etcd refuses to start otherwise`);
  }

  const snapshotCount = tuning.snapshotCount ?? 10000;
  validateInteger('tuning.snapshotCount', snapshotCount, 1);

  return {
    heartbeatMillis,
    electionMillis,
    snapshotCount,
    quotaBackendBytes: resolveQuota(tuning.quotaBackendBytes, volumeBytes, warn),
    autoCompaction: tuning.autoCompaction ?? AutoCompaction.periodic(Duration.hours(1)),
    initialCorruptCheck: tuning.initialCorruptCheck ?? true,
    stopGrpcServiceOnDefrag: resolveStopGrpcServiceOnDefrag(tuning.stopGrpcServiceOnDefrag, version),
    extensiveMetrics: tuning.extensiveMetrics ?? false,
  };
}

function resolveQuota(quota: Size | undefined, volumeBytes: number | undefined, warn: (message: string) => void): number | undefined {
  if (quota === undefined) {
    if (volumeBytes === undefined) return undefined;
    const derived = quotaForVolume(volumeBytes);
    if (derived < 64 * MIB) {
      throw new EtcdConfigError(`storageSize must be at least 640 MiB to hold the WAL reserve (${formatBytes(WAL_RESERVE_BYTES)}) and a useful database (got ${formatBytes(volumeBytes)})`);
    }
    if (derived < ETCD_DEFAULT_QUOTA_BYTES) {
      warn(`storageSize ${formatBytes(volumeBytes)} gives a backend quota of ${formatBytes(derived)}, below etcd's 2 GiB default: the cluster raises NOSPACE and stops taking writes that early. `
        + `A storageSize of ${formatBytes(2 * ETCD_DEFAULT_QUOTA_BYTES + WAL_RESERVE_BYTES)} or more gives at least the default`);
    }
    return derived;
  }
  const bytes = bytesOf(quota);
  if (!Number.isInteger(bytes) || bytes < MIB) {
    throw new EtcdConfigError(`tuning.quotaBackendBytes must be a whole number of bytes, at least 1 MiB (got ${quota.asString()})`);
  }
  if (volumeBytes !== undefined && bytes > volumeBytes) {
    throw new EtcdConfigError(`tuning.quotaBackendBytes must fit the volume (storageSize ${formatBytes(volumeBytes)}) (got ${formatBytes(bytes)}): etcd would run out of disk before it raises the NOSPACE alarm`);
  }
  if (bytes > SUGGESTED_MAX_QUOTA_BYTES) {
    warn(`tuning.quotaBackendBytes is ${formatBytes(bytes)}, above etcd's suggested maximum of 8 GiB: expect slower restarts, snapshots and defragmentation`);
  } else if (volumeBytes !== undefined && bytes > volumeBytes - WAL_RESERVE_BYTES - bytes) {
    warn(`tuning.quotaBackendBytes (${formatBytes(bytes)}) leaves too little room on the ${formatBytes(volumeBytes)} volume to defragment a full database, which copies it`);
  }
  return bytes;
}

function resolveStopGrpcServiceOnDefrag(requested: boolean | undefined, version: EtcdVersion): boolean {
  if (requested === true && !version.usesFeatureGates) {
    throw new EtcdConfigError(`tuning.stopGrpcServiceOnDefrag needs etcd 3.6 or later, where it is the StopGRPCServiceOnDefrag feature gate (got version ${version}): leave it unset, or upgrade first`);
  }
  return requested ?? false;
}

function millisOf(property: string, duration: Duration): number {
  const ms = duration.toMilliseconds({ integral: false });
  if (!Number.isInteger(ms) || ms < 1) {
    throw new EtcdConfigError(`${property} must be a whole number of milliseconds, at least 1ms (got ${duration.toHumanString()})`);
  }
  return ms;
}
