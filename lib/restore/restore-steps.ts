import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { backupAt } from '../jobs/backup/backup-job';
import { TOOLS_DIR, TOOLS_MIB, WORK_DIR, prepareTools, withEphemeralStorage, workVolumeMib } from '../jobs/job-tools';
import { cryptEnv, cryptRemoteName, passphraseFile, rcloneBaseEnv, storageSecrets } from '../jobs/storage/rclone';
import { snapshotId, snapshotIdEnv } from '../jobs/storage/snapshot-names';
import { ClusterModel, MemberModel, PEER_PORT, initialClusterFor } from '../member/model';
import { effectiveQuotaBytes } from '../member/tuning';
import { EtcdConfigError } from '../shared/errors';
import { requireSecret } from '../shared/required-secrets';
import { formatUrl } from '../shared/url';
import { addWarning } from '../shared/warnings';
import { FETCHED_DIR, fetchSnapshot, guardRestore, pickSnapshot, restoreSnapshot } from './restore-scripts';
import { BoundSnapshotSource, DEFAULT_BUMP_REVISION, EtcdSnapshotSource } from './snapshot-source';

/** A restore checked against its cluster, with its source bound and its revision bump settled: render it per member. */
export interface PreparedRestore {
  readonly source: EtcdSnapshotSource;
  readonly bound: BoundSnapshotSource;
  /** 0: none. */
  readonly bump: number;
  readonly model: ClusterModel;
  /** The name the snapshots carry: `<namespace>.<cluster>`. */
  readonly snapshotId: string;
}

/** Check a restore against the cluster kind (see `checkRestoreTarget`), bind its source, settle the bump. */
export function prepareRestore(scope: Construct, source: EtcdSnapshotSource, model: ClusterModel, cluster: RestoreCluster): PreparedRestore {
  const snapshots = checkRestoreTarget(source, cluster);
  const bound = source._bind(scope, cluster.namespace);
  const usedBy = `${cluster.kind === 'EtcdCluster' ? 'StatefulSet' : 'static pods'} ${cluster.name} (restore-fetch)`;
  for (const use of storageSecrets(cluster.namespace, usedBy, bound.fetch?.encryption, [bound.fetch?.credentials])) requireSecret(scope, use);
  // Checked at synthesis: the backup may be added to the App after this cluster.
  scope.node.addValidation({ validate: () => checkAgainstBackup(scope, bound, model, snapshots) });
  return { source, bound, bump: resolveBump(scope, model, source._options.bumpRevision), model, snapshotId: snapshots };
}

/**
 * A restore that reads where a backup in the same App writes must agree with it: on encryption, on whose
 * snapshots they are, and on the minor line; and a claim that backup created (ReadWriteOnce) mounts on one node,
 * so members on other nodes would wait for it forever.
 */
function checkAgainstBackup(scope: Construct, bound: BoundSnapshotSource, model: ClusterModel, snapshots: string): string[] {
  const backup = bound.place === undefined ? undefined : backupAt(scope, bound.place);
  if (!backup) return [];
  const problems: string[] = [];
  const encrypted = bound.fetch?.encryption.enabled ?? false;
  if (encrypted !== backup.encrypted) {
    problems.push(`restoreFrom ${bound.name} is read ${encrypted ? 'with' : 'without'} decryption, but '${backup.path}' writes it ${backup.encrypted ? 'encrypted' : 'unencrypted'}: give the source the backup's encryption`);
  }
  if (snapshots !== backup.snapshotId) {
    problems.push(`restoreFrom reads snapshots named '${snapshots}-<time>' (clusterNamespace.clusterName), but '${backup.path}' writes '${backup.snapshotId}-<time>' to ${bound.name}: no snapshot there would match`);
  }
  if (backup.minor !== model.version.minor) {
    problems.push(`restoreFrom ${bound.name} holds snapshots of etcd 3.${backup.minor} ('${backup.path}'), and this cluster runs ${model.version}: etcd restores within a minor line; restore with 3.${backup.minor}, then upgrade`);
  }
  if (backup.readWriteOnce && model.members.length > 1) {
    problems.push(`restoreFrom ${bound.name} is the ReadWriteOnce claim '${backup.path}' created: it mounts on one node, and ${model.members.length} members on different nodes would wait for it; restore from the bucket, or back up to a ReadWriteMany claim of yours (EtcdBackupDestination.volume({ claimName }))`);
  }
  return problems;
}

/** What the restore steps need from the member they run in; each cluster kind fills it in from its model. */
export interface RestoreTarget {
  /** The member (a StatefulSet's template member names itself `$(POD_NAME)`). */
  readonly member: MemberModel;
  /** The cluster's etcd image: etcdctl and etcdutl of its release. */
  readonly image: string;
  /** The address the member's peer port has, to answer on while waiting (`$(POD_IP)` or the node IP). */
  readonly listenHost: string;
  /** Env the other values refer to (`POD_NAME`, `POD_IP`). */
  readonly podEnv: k8s.EnvVar[];
  /** The etcd container's mount of its data. */
  readonly dataMount: k8s.VolumeMount;
  /** The etcd container's mounts of its certificates. */
  readonly certMounts: k8s.VolumeMount[];
  readonly resources?: k8s.ResourceRequirements;
  readonly securityContext?: k8s.SecurityContext;
  /** A later step replaces a member that lost its volume (a StatefulSet's member-start); otherwise the guard refuses. */
  readonly replacesLostMember: boolean;
}

/** Init containers and volumes that go into the member's pod, before etcd. */
export interface RestoreSteps {
  readonly initContainers: k8s.Container[];
  readonly volumes: k8s.Volume[];
}

/**
 * The restore as init containers of a member's pod: `tools` (busybox), `pick` (the newest snapshot it sees),
 * `guard` (decides, once, and settles one snapshot for every member), `fetch` (rclone, for a bucket or claim)
 * and `restore` (etcdutl). Every value comes from the member
 * model, so the restored member's name, peer URL, `--initial-cluster` and token are exactly the flags
 * etcd then starts with.
 */
export function renderRestoreSteps(restore: PreparedRestore, target: RestoreTarget): RestoreSteps {
  const { model, bound, bump } = restore;
  const { member } = target;
  const options = restore.source._options;
  const tools: k8s.VolumeMount = { name: 'restore-tools', mountPath: TOOLS_DIR };
  const work: k8s.VolumeMount = { name: 'restore-work', mountPath: WORK_DIR };
  const quotaBytes = effectiveQuotaBytes(model.tuning);
  const workMib = workVolumeMib(quotaBytes);
  // The fetched snapshot and the tools sit in emptyDirs on the node's disk while the member restores.
  const common = { resources: withEphemeralStorage(target.resources, workMib + TOOLS_MIB), securityContext: target.securityContext };
  const selection: k8s.EnvVar[] = [
    ...snapshotIdEnv(restore.snapshotId),
    { name: 'SNAPSHOT', value: options.snapshot ?? '' },
  ];
  const shellEnv: k8s.EnvVar[] = [...target.podEnv, { name: 'PATH', value: `/usr/local/bin:${TOOLS_DIR}` }];
  const tls = model.tls;
  const mounts = [target.dataMount, ...target.certMounts];
  const fetch = bound.fetch;
  // A snapshot the new cluster's quota cannot hold is refused before anything is fetched or written.
  const quota: k8s.EnvVar = { name: 'QUOTA_BYTES', value: String(quotaBytes) };
  const sourceEnv: k8s.EnvVar[] = [
    { name: 'SUFFIX', value: fetch?.encryption.enabled ? '.rclone' : '' },
    { name: 'SOURCE_NAME', value: bound.name },
    ...(fetch ? [{ name: 'SOURCE', value: fetch.remote }, ...rcloneBaseEnv(WORK_DIR), ...fetch.env] : []),
    ...(bound.hostDirectory ? [{ name: 'SNAPSHOT_DIR', value: bound.hostDirectory }] : []),
  ];

  // Records are never encrypted, so picking needs the source's credentials but not the passphrase.
  const pick: k8s.Container = {
    name: 'restore-pick',
    ...(fetch ? {
      image: fetch.image,
      command: ['/bin/sh', '-c', pickSnapshot({ list: 'rclone lsf --files-only "$SOURCE"', read: 'rclone cat "$SOURCE$1"', records: 'rclone cat --max-depth 1 --include "/$SNAPSHOT_ID-*.json" "$SOURCE"' })],
    } : {
      image: target.image,
      command: [`${TOOLS_DIR}/sh`, '-c', pickSnapshot({ list: 'ls -1 "$SNAPSHOT_DIR"', read: 'cat "$SNAPSHOT_DIR/$1"', records: 'cat "$SNAPSHOT_DIR/$SNAPSHOT_ID"-*.json' })],
    }),
    env: [
      ...(fetch ? [] : shellEnv),
      ...selection,
      ...sourceEnv,
      { name: 'DATA_DIR', value: model.dataDir },
      quota,
    ],
    volumeMounts: [...(fetch ? [] : [tools]), work, { ...target.dataMount, readOnly: true }, ...(bound.mount ? [bound.mount] : [])],
    ...common,
  };

  const guard: k8s.Container = {
    name: 'restore-guard',
    image: target.image,
    command: [`${TOOLS_DIR}/sh`, '-c', guardRestore()],
    env: [
      ...shellEnv,
      { name: 'NAME', value: member.name },
      { name: 'CHOOSER', value: model.members[0].name },
      { name: 'TOKEN', value: model.initialClusterToken },
      { name: 'DATA_DIR', value: model.dataDir },
      { name: 'LISTEN', value: hostPort(target.listenHost) },
      { name: 'PEERS', value: model.members.map((m) => `${m.name}|${m.peerUrl.replace(/^https:/, 'http:')}|${m.clientUrl}`).join(' ') },
      { name: 'WAIT_SECONDS', value: String(options.memberWaitSeconds) },
      { name: 'REPLACES_LOST', value: target.replacesLostMember ? 'yes' : 'no' },
      { name: 'CONSISTENCY', value: model.version.memberListTakesConsistency ? '--consistency=s' : '' },
      // The member's own certificate (serverAuth and clientAuth) identifies it to the others.
      ...(tls ? [
        { name: 'ETCDCTL_CACERT', value: tls.trustedCaFile },
        { name: 'ETCDCTL_CERT', value: tls.certFile },
        { name: 'ETCDCTL_KEY', value: tls.keyFile },
      ] : []),
    ],
    volumeMounts: [tools, work, ...mounts],
    ...common,
  };

  // Only the fetch step decrypts, so only it mounts the passphrase.
  const passphrase = passphraseFile(fetch?.encryption);
  const fetchStep: k8s.Container[] = fetch ? [{
    name: 'restore-fetch',
    image: fetch.image,
    command: ['/bin/sh', '-c', fetchSnapshot(fetch.encryption.enabled)],
    env: [
      ...sourceEnv,
      { name: 'SNAPSHOT_PATH', value: fetch.encryption.enabled ? `${cryptRemoteName(1)}:` : fetch.remote },
      ...passphrase.env,
      ...(fetch.encryption.enabled ? cryptEnv(1, fetch.remote) : []),
    ],
    volumeMounts: [work, ...passphrase.mounts, ...(bound.mount ? [bound.mount] : [])],
    ...common,
  }] : [];

  const restoreStep: k8s.Container = {
    name: 'restore',
    image: target.image,
    command: [`${TOOLS_DIR}/sh`, '-c', restoreSnapshot(model.version.snapshotTool)],
    env: [
      ...shellEnv,
      { name: 'SNAPSHOT_DIR', value: bound.hostDirectory ?? FETCHED_DIR },
      { name: 'ETCD_VERSION', value: model.version.toString() },
      { name: 'DATA_DIR', value: model.dataDir },
      { name: 'NAME', value: member.name },
      { name: 'INITIAL_CLUSTER', value: initialClusterFor(model.members, member) },
      { name: 'TOKEN', value: model.initialClusterToken },
      { name: 'PEER_URL', value: member.peerUrl },
      { name: 'BUMP', value: bump === 0 ? '' : String(bump) },
      quota,
    ],
    volumeMounts: [tools, work, ...mounts, ...(bound.hostDirectory && bound.mount ? [bound.mount] : [])],
    ...common,
  };

  const workLimit = k8s.Quantity.fromString(`${workMib}Mi`);
  return {
    initContainers: [
      {
        name: 'restore-tools',
        image: options.busyboxImage,
        command: ['/bin/busybox', 'sh', '-c', prepareTools()],
        volumeMounts: [tools, work],
        ...common,
      },
      pick,
      guard,
      ...fetchStep,
      restoreStep,
    ],
    volumes: [
      { name: 'restore-tools', emptyDir: { sizeLimit: k8s.Quantity.fromString(`${TOOLS_MIB}Mi`) } },
      { name: 'restore-work', emptyDir: { sizeLimit: workLimit } },
      ...(bound.volume ? [bound.volume] : []),
      ...passphrase.volumes,
    ],
  };
}

/** `host:port` for busybox httpd's `-p`, with brackets for IPv6. */
function hostPort(host: string): string {
  return formatUrl('http', host, PEER_PORT).replace(/^http:\/\//, '');
}

/** The revision bump the version can do: the default where it can (warning elsewhere), a given one or an error. */
function resolveBump(scope: Construct, model: ClusterModel, given: number | undefined): number {
  const version = model.version;
  if (given === undefined) {
    if (version.restoreCanBumpRevision) return DEFAULT_BUMP_REVISION;
    addWarning(scope, `restoreFrom: etcd ${version} cannot bump the revision on restore (${version.snapshotTool} has --bump-revision from 3.4.27 and 3.5.10), so revisions go back to the snapshot's: restart every kube-apiserver and watcher after the restore, or use a newer patch release`);
    return 0;
  }
  if (given > 0 && !version.restoreCanBumpRevision) {
    throw new EtcdConfigError(`restoreFrom bumpRevision is ${given}, but etcd ${version}'s ${version.snapshotTool} cannot bump the revision (3.4.27+, 3.5.10+, 3.6+): use a newer patch release, or bumpRevision: 0`);
  }
  return given;
}

/** What a cluster kind tells the restore rules about itself. */
export interface RestoreCluster {
  /** `EtcdCluster` or `EtcdStaticPodCluster`. */
  readonly kind: string;
  /** Which sources it can read: Secrets and claims (a StatefulSet) or a node's files (static pods). */
  readonly reads: 'secrets' | 'node';
  /** Its name as its own snapshots would carry it. */
  readonly name: string;
  /** Its namespace, where the claims it mounts are. */
  readonly namespace: string;
  /** Whether `initialClusterToken` was given. */
  readonly tokenGiven: boolean;
  /** Static pods: the data directory on each node, which must be a new one. */
  readonly hostDataDir?: string;
}

/** kubeadm's data directory: on a control-plane node it holds the old member's data. */
export const KUBEADM_DATA_DIR = '/var/lib/etcd';

/**
 * A restore starts a new logical cluster: by default beside the old one (another name, so other volumes),
 * in place only when asked for, and then with a token of its own, so its cluster ID differs. Returns the name the
 * snapshots carry.
 */
function checkRestoreTarget(source: EtcdSnapshotSource, cluster: RestoreCluster): string {
  if (source._needs !== cluster.reads) {
    const hint = cluster.reads === 'node'
      ? 'the kubelet runs static pods without the API server, so they read no Secrets or claims: copy the decrypted snapshot and its record to every node and use EtcdSnapshotSource.hostPath()'
      : 'use EtcdSnapshotSource.objectStore() or volume(); hostPath() is for EtcdStaticPodCluster';
    throw new EtcdConfigError(`restoreFrom ${source._factory} cannot be read by an ${cluster.kind}: ${hint}`);
  }
  const { clusterName, inPlace, snapshot } = source._options;
  const clusterNamespace = source._options.clusterNamespace ?? cluster.namespace;
  const snapshots = snapshotId(clusterNamespace, clusterName);
  if (snapshot !== undefined && !snapshot.startsWith(`${snapshots}-`)) {
    throw new EtcdConfigError(`restoreFrom snapshot '${snapshot}' is not a snapshot of '${clusterName}' in namespace '${clusterNamespace}' ('${snapshots}-<time>'): give the namespace it was taken in as clusterNamespace`);
  }
  const sameName = cluster.name === clusterName && cluster.namespace === clusterNamespace;
  const old = `'${clusterName}' (namespace '${clusterNamespace}')`;
  if (cluster.reads === 'secrets' && sameName && !inPlace) {
    throw new EtcdConfigError(`restoreFrom reads snapshots of ${old}, and this ${cluster.kind} is that cluster too, so it would use the old cluster's volumes: restore into a cluster with a new name (the old volumes stay untouched), or set inPlace: true to restore into empty volumes only`);
  }
  if (cluster.hostDataDir === KUBEADM_DATA_DIR && !inPlace) {
    throw new EtcdConfigError(`restoreFrom needs a new dataDir, such as '/var/lib/etcd-restored': dataDir is '${KUBEADM_DATA_DIR}', where the old member's data stays on every node, and a member starts from data it finds instead of restoring; or set inPlace: true when that directory is empty on every node`);
  }
  if (sameName && !cluster.tokenGiven) {
    throw new EtcdConfigError(`restoreFrom reads snapshots of ${old}, the name and namespace this ${cluster.kind}'s token is derived from, so it would get the old cluster's token and cluster ID: a restore starts a new logical cluster, so give initialClusterToken a new value (e.g. '${clusterName}-restored-1')`);
  }
  return snapshots;
}
