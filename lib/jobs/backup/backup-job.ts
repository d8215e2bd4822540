import { Chart, Cron, Duration, Size } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import { accessOf, etcdctlEnv } from '../../access/access';
import { EtcdResources } from '../../member/resources';
import { MIB } from '../../member/tuning';
import { EtcdConfigError } from '../../shared/errors';
import { SecretUse, requireSecret, tlsKeys } from '../../shared/required-secrets';
import { validateDnsSubdomain, validateInteger, validateServiceName } from '../../shared/validate';
import { addWarning } from '../../shared/warnings';
import { renderCronJob } from '../cron-job';
import { DEFAULT_IMAGES, validatePinnedImage } from '../images';
import { TOOLS_DIR, TOOLS_MIB, WORK_DIR, prepareTools, withEphemeralStorage, workVolumeMib } from '../job-tools';
import { recordScheduledJob } from '../job-registry';
import { validateSchedule, validateTimeZone, wholeSeconds } from '../schedule';
import { BoundDestination } from '../storage/backup-destination';
import { cryptEnv, cryptRemoteName, passphraseFile, rcloneBaseEnv, storageSecrets } from '../storage/rclone';
import { snapshotId, snapshotIdEnv } from '../storage/snapshot-names';
import { EtcdBackupOptions } from './backup-options';
import { SCRATCH_DIR, StoreTarget, storeSnapshot, storeTargetEnv, takeSnapshot, verifySnapshot } from './backup-scripts';

const DEFAULT_KEEP_LAST = 7;
/** A CronJob's Jobs are named `<name>-<minutes since epoch>` (11 more characters) and must stay DNS labels. */
const MAX_NAME_LENGTH = 52;

/** What a rendered backup gives the `EtcdBackup` construct to publish. */
export interface RenderedBackup {
  readonly name: string;
  readonly cronJob: k8s.KubeCronJob;
  readonly destinationNames: string[];
  readonly onDemandCommand: string;
  readonly snapshotPrefix: string;
}

/**
 * Render a backup's CronJob from the cluster's access model: snapshot from one member, verify, record,
 * store in every destination, check each copy, then apply retention.
 * @param backup the `EtcdBackup` construct the objects go under (the construct itself is in ../cluster-jobs.ts)
 * @param cluster the cluster construct, whose registered access model the job renders from
 */
export function renderBackup(backup: Construct, id: string, cluster: IConstruct, props: EtcdBackupOptions): RenderedBackup {
  if (!backup.node.scopes.some((s) => Chart.isChart(s))) {
    throw new EtcdConfigError(`EtcdBackup '${id}' must be created inside a Chart, so its objects are written: use cluster.addBackup(), or new EtcdBackup(chart, '${id}', ...)`);
  }
  const access = accessOf(cluster);
  const name = props.name ?? `${access.clusterName}-${id.toLowerCase()}`;
  validateServiceName(props.name === undefined ? `name (derived from the cluster name and the id '${id}'; set name explicitly)` : 'name', name, MAX_NAME_LENGTH);
  const schedule = validateSchedule('schedule', props.schedule ?? Cron.hourly());
  if (props.timeZone !== undefined) validateTimeZone('timeZone', props.timeZone);
  const retention = resolveRetention(props.keepLast, props.keepWithin);
  const busyboxImage = validatePinnedImage('busyboxImage', props.busyboxImage ?? DEFAULT_IMAGES.busybox, DEFAULT_IMAGES.busybox);
  const rcloneImage = validatePinnedImage('rcloneImage', props.rcloneImage ?? DEFAULT_IMAGES.rclone, DEFAULT_IMAGES.rclone);
  const backoffLimit = props.backoffLimit ?? 1;
  validateInteger('backoffLimit', backoffLimit, 0, 6);
  if (!props.encryption) {
    throw new EtcdConfigError('encryption must be given: EtcdBackupEncryption.rcloneCrypt({ secretName }) or, deliberately, EtcdBackupEncryption.none(), because a snapshot holds every Kubernetes Secret in plain text');
  }
  if (!Array.isArray(props.destinations) || props.destinations.length === 0) {
    throw new EtcdConfigError(`destinations must name at least one place to store snapshots: EtcdBackupDestination.volume() or objectStore() (got ${JSON.stringify(props.destinations)})`);
  }
  const identity = access.clientIdentity(props.clientSecretName);

  const labels = {
    'app.kubernetes.io/name': 'etcd-backup',
    'app.kubernetes.io/instance': name,
    'app.kubernetes.io/part-of': access.clusterName,
    'app.kubernetes.io/managed-by': 'cdk8s-etcd',
  };
  const destinations = props.destinations.map((d, i) => d._bind({
    scope: backup,
    backupName: name,
    namespace: access.namespace,
    labels,
    index: i + 1,
    quotaBytes: access.quotaBytes,
    keepLast: retention.keepLast,
  }));
  const snapshots = snapshotId(access.namespace, access.clusterName);
  claimPlaces(backup, destinations, { encrypted: props.encryption.enabled, snapshotId: snapshots, minor: access.model.version.minor });
  const destinationNames = destinations.map((d) => d.name);
  const snapshotPrefix = `${snapshots}-`;
  const onDemandCommand = `kubectl --namespace ${access.namespace} create job --from=cronjob/${name} ${name}-$(date +%s)`;
  const encrypted = props.encryption.enabled;
  const targets = storeTargets(destinations, encrypted);
  const passphrase = passphraseFile(props.encryption);
  const secrets: SecretUse[] = [
    ...storageSecrets(access.namespace, `CronJob ${name} (store)`, props.encryption, destinations.map((d) => d.credentials)),
    ...(props.clientSecretName === undefined ? [] : [{
      name: props.clientSecretName, namespace: access.namespace, type: 'kubernetes.io/tls' as const, keys: tlsKeys('the client'), usedBy: `CronJob ${name} (snapshot)`,
    }]),
  ];
  for (const use of secrets) for (const owner of [cluster, backup]) requireSecret(owner, use);
  if (!encrypted && destinations.some((d) => d.isObjectStore)) {
    addWarning(backup, `encryption is none and ${destinations.filter((d) => d.isObjectStore).map((d) => d.name).join(', ')} is object storage: every snapshot holds every Kubernetes Secret in plain text; use EtcdBackupEncryption.rcloneCrypt()`);
  }
  for (const d of destinations.filter((x) => x.plainHttp)) {
    addWarning(backup, `the endpoint of ${d.name} is plain http: requests, including ${encrypted ? 'snapshot metadata' : 'the unencrypted snapshots'}, travel unprotected; use https`);
  }
  access.admitClients(labels);

  const trialRestore = props.trialRestore ?? true;
  const cpuAndMemory = (props.resources ?? EtcdResources.custom({ cpuRequestMillis: 100, memoryRequest: Size.mebibytes(128), memoryLimit: Size.gibibytes(1) }))._toKube();
  const workMib = workVolumeMib(access.quotaBytes);
  const workLimit = k8s.Quantity.fromString(`${workMib}Mi`);
  const scratchClass = props.scratchStorageClassName;
  if (scratchClass !== undefined) validateDnsSubdomain('scratchStorageClassName', scratchClass);
  // The tools copy sits on the node's disk; so do the work and scratch volumes, unless they are claims.
  const onNodeDisk = scratchClass === undefined ? workMib * (trialRestore ? 2 : 1) : 0;
  const resources = withEphemeralStorage(cpuAndMemory, onNodeDisk + TOOLS_MIB);
  const workVolume = (volumeName: string): k8s.Volume => (scratchClass === undefined
    ? { name: volumeName, emptyDir: { sizeLimit: workLimit } }
    : {
      name: volumeName,
      ephemeral: {
        volumeClaimTemplate: {
          metadata: { labels },
          spec: { accessModes: ['ReadWriteOnce'], storageClassName: scratchClass, resources: { requests: { storage: workLimit } } },
        },
      },
    });
  const tools: k8s.VolumeMount = { name: 'tools', mountPath: TOOLS_DIR };
  const work: k8s.VolumeMount = { name: 'work', mountPath: WORK_DIR };
  const scratch: k8s.VolumeMount = { name: 'scratch', mountPath: SCRATCH_DIR };

  const activeDeadlineSeconds = wholeSeconds('activeDeadline', props.activeDeadline ?? Duration.hours(1), 60,
    'a snapshot, its verification and its upload take at least that long');
  recordScheduledJob(cluster, { kind: 'backup', name, namespace: access.namespace, schedule, timeZone: props.timeZone, activeDeadlineSeconds });
  const cronJob = renderCronJob(backup, 'Resource', {
    name: name,
    namespace: access.namespace,
    labels,
    schedule,
    timeZone: props.timeZone,
    suspend: props.suspend,
    startingDeadlineSeconds: wholeSeconds('startingDeadline', props.startingDeadline ?? Duration.minutes(10), 10,
      'the CronJob controller checks schedules every 10 seconds, so a shorter deadline can skip every run'),
    activeDeadlineSeconds,
    backoffLimit,
    placement: access.placement,
    initContainers: [
      { name: 'tools', image: busyboxImage, command: ['/bin/busybox', 'sh', '-c', prepareTools()], volumeMounts: [tools, work], resources },
      {
        name: 'snapshot',
        image: access.image,
        command: [`${TOOLS_DIR}/sh`, '-c', takeSnapshot()],
        env: [
          { name: 'PATH', value: `/usr/local/bin:${TOOLS_DIR}` },
          { name: 'ENDPOINT', value: access.snapshotEndpoint },
          { name: 'BALANCED', value: String(access.snapshotEndpointBalanced) },
          { name: 'CONSISTENCY', value: access.model.version.memberListTakesConsistency ? '--consistency=s' : '' },
          { name: 'SNAPSHOT_TIMEOUT', value: String(snapshotTimeoutSeconds(access.quotaBytes, activeDeadlineSeconds)) },
          ...etcdctlEnv(identity),
        ],
        volumeMounts: [tools, work, ...(identity?.mounts ?? [])],
        resources,
      },
      {
        name: 'verify',
        image: access.image,
        command: [`${TOOLS_DIR}/sh`, '-c', verifySnapshot(access.model.version, trialRestore)],
        env: [
          { name: 'PATH', value: `/usr/local/bin:${TOOLS_DIR}` },
          { name: 'CLUSTER', value: access.clusterName },
          { name: 'NAMESPACE', value: access.namespace },
          ...snapshotIdEnv(snapshots),
          { name: 'ENCRYPTION', value: encrypted ? 'rclone-crypt' : 'none' },
          { name: 'SNAPSHOT_SUFFIX', value: encrypted ? '.rclone' : '' },
        ],
        volumeMounts: [tools, work, ...(trialRestore ? [scratch] : [])],
        resources,
      },
    ],
    containers: [{
      name: 'store',
      image: rcloneImage,
      command: ['/bin/sh', '-c', storeSnapshot(targets)],
      env: [
        ...storeTargetEnv(targets),
        ...snapshotIdEnv(snapshots),
        { name: 'KEEP_LAST', value: retention.keepLast === undefined ? '' : String(retention.keepLast) },
        { name: 'KEEP_WITHIN_SECONDS', value: retention.keepWithinSeconds === undefined ? '' : String(retention.keepWithinSeconds) },
        // No run lasts longer than the Job's deadline: a snapshot without a record that is twice as old is abandoned.
        { name: 'UNFINISHED_GRACE_SECONDS', value: String(2 * activeDeadlineSeconds) },
        ...rcloneBaseEnv(WORK_DIR),
        ...passphrase.env,
        ...destinations.flatMap((d) => d.env),
        ...(encrypted ? destinations.flatMap((d, i) => cryptEnv(i + 1, d.remote)) : []),
      ],
      volumeMounts: [work, ...passphrase.mounts, ...destinations.flatMap((d) => (d.mount ? [d.mount] : []))],
      resources,
    }],
    volumes: [
      { name: 'tools', emptyDir: { sizeLimit: k8s.Quantity.fromString(`${TOOLS_MIB}Mi`) } },
      workVolume('work'),
      ...(trialRestore ? [workVolume('scratch')] : []),
      ...(identity?.volumes ?? []),
      ...passphrase.volumes,
      ...destinations.flatMap((d) => (d.volume ? [d.volume] : [])),
    ],
  });
  return { name, cronJob, destinationNames, onDemandCommand, snapshotPrefix };
}

/** A place a backup in the App writes, as a restore in the same App checks it. */
export interface BackupAtPlace {
  /** The backup construct's path. */
  readonly path: string;
  readonly encrypted: boolean;
  /** The name its snapshots carry: `<namespace>.<cluster>`. */
  readonly snapshotId: string;
  /** The minor line of the cluster it backs up. */
  readonly minor: number;
  /** It created the claim, ReadWriteOnce. */
  readonly readWriteOnce: boolean;
}

/** Where each App's backups write, and which backup writes there. */
const PLACES = new WeakMap<IConstruct, Map<string, BackupAtPlace>>();

/** The backup in `scope`'s App that writes `place`, if any. */
export function backupAt(scope: IConstruct, place: string): BackupAtPlace | undefined {
  return PLACES.get(scope.node.root)?.get(place);
}

/**
 * Two backups that write one place would each apply their retention to the other's snapshots (and, for one
 * cluster, race on the same names): refuse the second, naming both.
 */
function claimPlaces(backup: Construct, destinations: BoundDestination[], about: Omit<BackupAtPlace, 'path' | 'readWriteOnce'>): void {
  const app = backup.node.root;
  const places = PLACES.get(app) ?? new Map<string, BackupAtPlace>();
  PLACES.set(app, places);
  for (const d of destinations) {
    const owner = places.get(d.place)?.path;
    if (owner === backup.node.path) {
      throw new EtcdConfigError(`destinations: ${d.name} is listed twice in '${owner}'`);
    }
    if (owner !== undefined) {
      throw new EtcdConfigError(`destinations: ${d.name} is written by '${owner}' too, and '${backup.node.path}' would write it as well: each backup applies its retention to what it finds there, so give each backup its own claim directory or bucket prefix`);
    }
    places.set(d.place, { ...about, path: backup.node.path, readWriteOnce: d.readWriteOnce });
  }
}

/** The slowest rate a healthy member streams its database at (a slow disk or a busy network), bytes per second. */
const SLOWEST_SNAPSHOT_RATE = 8 * MIB;

/**
 * How long `snapshot save` may take: a database as large as the quota at the slowest healthy rate, plus a minute
 * to connect, and never past the Job's deadline. A member that has stopped serving fails the step with a reason
 * (and the Job retries) instead of holding the run until its deadline.
 */
export function snapshotTimeoutSeconds(quotaBytes: number, activeDeadlineSeconds: number): number {
  return Math.min(60 + Math.ceil(quotaBytes / SLOWEST_SNAPSHOT_RATE), activeDeadlineSeconds);
}

function storeTargets(destinations: BoundDestination[], encrypted: boolean): StoreTarget[] {
  return destinations.map((d, i) => ({
    directory: d.remote,
    snapshotPath: encrypted ? `${cryptRemoteName(i + 1)}:` : d.remote,
    cryptIndex: encrypted ? i + 1 : undefined,
  }));
}

interface Retention {
  readonly keepLast?: number;
  readonly keepWithinSeconds?: number;
}

function resolveRetention(keepLast: number | undefined, keepWithin: Duration | undefined): Retention {
  if (keepLast !== undefined) {
    validateInteger('keepLast', keepLast, 1, 10000);
  }
  const keepWithinSeconds = keepWithin === undefined ? undefined
    : wholeSeconds('keepWithin', keepWithin, 3600, 'retention below an hour would delete snapshots of the same day between runs');
  return { keepLast: keepLast ?? (keepWithin === undefined ? DEFAULT_KEEP_LAST : undefined), keepWithinSeconds };
}
