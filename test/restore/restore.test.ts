import { spawnSync } from 'child_process';
import { App, Chart, Duration, Testing } from 'cdk8s';
import {
  EtcdBackupDestination, EtcdBackupEncryption, EtcdCluster, EtcdClusterProps, EtcdSnapshotSource, EtcdStaticPodCluster, EtcdStaticPodClusterProps, EtcdTls, EtcdVersion,
} from '../../lib';
import { PICK, fetchSnapshot, guardRestore, pickSnapshot, restoreSnapshot } from '../../lib/restore/restore-scripts';
import { warningsOf } from '../../lib/shared/warnings';
import { Manifest, etcdContainer, flagsOf, only, synth } from '../support/synth';

const sealed = EtcdBackupEncryption.rcloneCrypt({ secretName: 'backup-key' });
const bucket = (extra: object = {}) => EtcdSnapshotSource.objectStore({
  clusterName: 'etcd', endpoint: 'https://s3.example.com', bucket: 'etcd-backups', prefix: 'prod', credentialsSecretName: 's3-credentials',
  encryption: sealed, ...extra,
});
const nodes = [{ name: 'cp-1', ip: '10.0.0.11' }, { name: 'cp-2', ip: '10.0.0.12' }, { name: 'cp-3', ip: '10.0.0.13' }];
const onNodes = (extra: object = {}) => EtcdSnapshotSource.hostPath({ directory: '/var/lib/etcd-snapshot', clusterName: 'etcd', ...extra });

function restoredStatefulSet(props: EtcdClusterProps = {}, name = 'etcd-restored') {
  const chart = new Chart(Testing.app(), 'etcd', { namespace: 'etcd' });
  const etcd = new EtcdCluster(chart, name, { restoreFrom: bucket(), ...props });
  const manifests = synth(chart);
  const sts = only(manifests, 'StatefulSet');
  return { etcd, manifests, sts, ...stepsOf(sts.spec.template.spec) };
}

function restoredStaticPods(props: Partial<EtcdStaticPodClusterProps> = {}) {
  const app = Testing.app();
  const etcd = new EtcdStaticPodCluster(app, 'etcd', {
    nodes, dataDir: '/var/lib/etcd-restored', initialClusterToken: 'etcd-restored-1', restoreFrom: onNodes(), ...props,
  });
  const pods = nodes.map((n) => synth(etcd.chartFor(n.name))[0]);
  return { etcd, app, pods, steps: pods.map((p) => stepsOf(p.spec)) };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function stepsOf(pod: any) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const step = (name: string) => (pod.initContainers ?? []).find((c: any) => c.name === name);
  return { pod, step };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const envOf = (c: any): { [k: string]: string } => Object.fromEntries((c.env ?? []).filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));

describe('EtcdCluster restoreFrom', () => {
  test('runs tools, pick, guard, fetch and restore before etcd (between the member steps), in that order, in the images that have what each calls', () => {
    const { etcd, pod } = restoredStatefulSet();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    expect(pod.initContainers.map((c: any) => [c.name, c.image])).toEqual([
      ['member-tools', 'busybox:1.37.0-musl'],
      ['restore-tools', 'busybox:1.37.0-musl'],
      ['restore-pick', 'rclone/rclone:1.76.0'],
      ['restore-guard', etcd.image],
      ['restore-fetch', 'rclone/rclone:1.76.0'],
      ['restore', etcd.image],
      ['member-start', etcd.image],
    ]);
    expect(pod.initContainers[2].command[2]).toContain('rclone lsf --files-only "$SOURCE"');
    expect(pod.initContainers[3].command.slice(0, 2)).toEqual(['/tools/sh', '-c']);
    expect(pod.initContainers[5].command[2]).toContain('etcdutl snapshot restore "$snap"');
    // The guard leaves a member that lost its volume to member-start, which never forms a restored cluster anew.
    expect(envOf(pod.initContainers[3])).toMatchObject({ REPLACES_LOST: 'yes' });
    expect(envOf(pod.initContainers[6])).toMatchObject({ MAY_FORM: 'no' });
  });

  test('the pick step sees the source and the data directory (read-only), but never the passphrase', () => {
    const { step } = restoredStatefulSet();
    const pick = step('restore-pick');
    expect(envOf(pick)).toMatchObject({ SNAPSHOT_ID: 'etcd.etcd', SNAPSHOT_ID_RE: 'etcd\\.etcd', SNAPSHOT: '', SUFFIX: '.rclone', SOURCE: 'dest1:etcd-backups/prod/', DATA_DIR: '/var/lib/etcd/data' });
    expect(JSON.stringify(pick)).not.toContain('backup-key');
    expect(pick.volumeMounts).toContainEqual(expect.objectContaining({ mountPath: '/var/lib/etcd', readOnly: true }));
  });

  test("restores with exactly the member's own flags: name, --initial-cluster, token, peer URL, data dir", () => {
    const { sts, step, etcd } = restoredStatefulSet();
    const flags = flagsOf(etcdContainer(sts).args);
    expect(envOf(step('restore'))).toMatchObject({
      NAME: '$(POD_NAME)',
      INITIAL_CLUSTER: etcd._model.members.map((m) => `${m.name}=${m.peerUrl}`).join(','),
      TOKEN: flags.get('initial-cluster-token'),
      PEER_URL: flags.get('initial-advertise-peer-urls'),
      DATA_DIR: flags.get('data-dir'),
      ETCD_VERSION: EtcdVersion.DEFAULT.toString(),
      BUMP: '1000000000',
      SNAPSHOT_DIR: '/work/restore',
    });
    // The new cluster's token is its own, not the backed-up cluster's.
    expect(flags.get('initial-cluster-token')).toMatch(/^etcd-restored-etcd-/);
  });

  test('the guard asks every member by its peer and client URL, answers on its pod IP, and uses the server certificate', () => {
    const { step, pod } = restoredStatefulSet();
    const guard = step('restore-guard');
    const env = envOf(guard);
    expect(env.PEERS.split(' ')).toEqual([0, 1, 2].map((i) =>
      `etcd-restored-${i}|http://etcd-restored-${i}.etcd-restored-peer.etcd.svc.cluster.local:2380|https://etcd-restored-${i}.etcd-restored-peer.etcd.svc.cluster.local:2379`));
    expect(env).toMatchObject({
      LISTEN: '$(POD_IP):2380',
      ETCDCTL_CACERT: '/etc/etcd/tls/server/ca.crt',
      ETCDCTL_CERT: '/etc/etcd/tls/server/tls.crt',
      ETCDCTL_KEY: '/etc/etcd/tls/server/tls.key',
      WAIT_SECONDS: '600',
      CONSISTENCY: '--consistency=s',
      // The first member's candidate is the one every member takes when none holds a choice yet.
      CHOOSER: 'etcd-restored-0',
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    expect(guard.volumeMounts.map((m: any) => m.mountPath)).toEqual(['/tools', '/work', '/var/lib/etcd', '/etc/etcd/tls/server']);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    expect(guard.env.filter((e: any) => e.valueFrom).map((e: any) => [e.name, e.valueFrom.fieldRef.fieldPath])).toEqual([['POD_NAME', 'metadata.name'], ['POD_IP', 'status.podIP']]);
    // Every step meets the member's restricted security context.
    for (const c of pod.initContainers) expect(c.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
  });

  test('3.5 asks the leader for the member list (no --consistency); 3.4 uses etcdctl, without a revision bump and with a warning', () => {
    expect(envOf(restoredStatefulSet({ version: EtcdVersion.V3_5_35 }).step('restore-guard')).CONSISTENCY).toBe('');
    const old = restoredStatefulSet({ version: EtcdVersion.of('3.4.23') });
    expect(old.step('restore').command[2]).toContain('etcdctl snapshot restore "$snap"');
    expect(envOf(old.step('restore')).BUMP).toBe('');
    expect(warningsOf(old.etcd).join('\n')).toContain('etcd 3.4.23 cannot bump the revision on restore');
    expect(envOf(restoredStatefulSet({ version: EtcdVersion.of('3.4.27') }).step('restore')).BUMP).toBe('1000000000');
    expect(envOf(restoredStatefulSet({ version: EtcdVersion.of('3.5.10') }).step('restore')).BUMP).toBe('1000000000');
    expect(envOf(restoredStatefulSet({ version: EtcdVersion.of('3.5.9') }).step('restore')).BUMP).toBe('');
  });

  test('fetches through the crypt remote over the bucket, with the passphrase and the keys from their Secrets', () => {
    const fetch = restoredStatefulSet().step('restore-fetch');
    const env = envOf(fetch);
    expect(env).toMatchObject({
      SOURCE: 'dest1:etcd-backups/prod/',
      SOURCE_NAME: 's3://etcd-backups/prod/',
      SNAPSHOT_PATH: 'sealed1:',
      SUFFIX: '.rclone',
      RCLONE_CONFIG_SEALED1_REMOTE: 'dest1:etcd-backups/prod/',
      RCLONE_CONFIG_DEST1_ENDPOINT: 'https://s3.example.com',
      RCLONE_CONFIG: '/dev/null',
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    expect(fetch.env.filter((e: any) => e.valueFrom).map((e: any) => `${e.name}=${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}`)).toEqual([
      'RCLONE_CONFIG_DEST1_ACCESS_KEY_ID=s3-credentials/AWS_ACCESS_KEY_ID',
      'RCLONE_CONFIG_DEST1_SECRET_ACCESS_KEY=s3-credentials/AWS_SECRET_ACCESS_KEY',
    ]);
    // The passphrase is a file, mounted in this step only.
    expect(env.PASSPHRASE_FILE).toBe('/etc/etcd-backup-key/passphrase');
    expect(fetch.volumeMounts).toContainEqual({ name: 'backup-key', mountPath: '/etc/etcd-backup-key', readOnly: true });
    for (const name of ['restore-tools', 'restore-pick', 'restore-guard', 'restore']) expect(JSON.stringify(restoredStatefulSet().step(name))).not.toContain('backup-key');
  });

  test('a volume source is mounted read-only in the fetch step only; unencrypted snapshots are read directly; one snapshot can be chosen', () => {
    const { pod, step } = restoredStatefulSet({
      restoreFrom: EtcdSnapshotSource.volume({ clusterName: 'etcd', claimName: 'etcd-backup', directory: 'daily', encryption: EtcdBackupEncryption.none(), snapshot: 'etcd.etcd-20261121T020000Z' }),
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    expect(pod.volumes.find((v: any) => v.persistentVolumeClaim)).toEqual({ name: 'backups-1', persistentVolumeClaim: { claimName: 'etcd-backup' } });
    expect(step('restore-fetch').volumeMounts).toContainEqual({ name: 'backups-1', mountPath: '/backups/1', readOnly: true });
    expect(step('restore-pick').volumeMounts).toContainEqual({ name: 'backups-1', mountPath: '/backups/1', readOnly: true });
    expect(envOf(step('restore-pick')).SNAPSHOT).toBe('etcd.etcd-20261121T020000Z');
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    for (const name of ['restore-guard', 'restore']) expect(step(name).volumeMounts.some((m: any) => m.name === 'backups-1')).toBe(false);
    expect(envOf(step('restore-fetch'))).toMatchObject({ SOURCE: 'dest1:/backups/1/daily/', SNAPSHOT_PATH: 'dest1:/backups/1/daily/', SUFFIX: '' });
    expect(envOf(step('restore-fetch')).PASSPHRASE_FILE).toBeUndefined();
    expect(JSON.stringify(pod.volumes)).not.toContain('backup-key');
  });

  test('the NetworkPolicy lets members ask each other on the client port', () => {
    const { manifests } = restoredStatefulSet();
    const policy = only(manifests, 'NetworkPolicy');
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const client = policy.spec.ingress.find((r: any) => r.ports.some((p: any) => p.port === 2379));
    expect(client.from).toContainEqual({ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'etcd', 'app.kubernetes.io/instance': 'etcd-restored' } } });
  });

  test('without TLS the guard has no certificate, and the outputs give the new --etcd-servers', () => {
    const { etcd, step } = restoredStatefulSet({ tls: EtcdTls.disabled() });
    expect(Object.keys(envOf(step('restore-guard'))).filter((k) => k.startsWith('ETCDCTL_'))).toEqual([]);
    expect(etcd.etcdServers).toBe([0, 1, 2].map((i) => `http://etcd-restored-${i}.etcd-restored-peer.etcd.svc.cluster.local:2379`).join(','));
  });

  test('once formed, the same cluster without restoreFrom keeps every flag but the initial cluster state: removing it is one rolling restart', () => {
    const { sts } = restoredStatefulSet();
    const chart = new Chart(Testing.app(), 'etcd', { namespace: 'etcd' });
    new EtcdCluster(chart, 'etcd-restored');
    const later = only(synth(chart), 'StatefulSet');
    const flags = flagsOf(etcdContainer(sts).args);
    const laterFlags = flagsOf(etcdContainer(later).args);
    flags.delete('initial-cluster-state');
    laterFlags.delete('initial-cluster-state');
    expect(laterFlags).toEqual(flags);
    expect(later.spec.volumeClaimTemplates).toEqual(sts.spec.volumeClaimTemplates);
  });

  test('the restore steps declare the disk their emptyDirs take (the fetched snapshot, up to 1.25 × the quota); etcd itself does not', () => {
    const { pod, sts } = restoredStatefulSet();
    for (const c of pod.initContainers.filter((c: { name: string }) => c.name.startsWith('restore'))) expect(c.resources.requests['ephemeral-storage']).toBe('4880Mi');
    expect(etcdContainer(sts).resources.requests['ephemeral-storage']).toBeUndefined();
    // The fetched copy goes once restored: the pod keeps its emptyDir while it runs.
    expect(restoredStatefulSet().step('restore').command[2]).toContain('if [ "$SNAPSHOT_DIR" = /work/restore ]; then rm -f "$snap"; fi');
  });

  test('a cluster without restoreFrom has only the member steps', () => {
    const chart = new Chart(Testing.app(), 'etcd', { namespace: 'etcd' });
    new EtcdCluster(chart, 'etcd');
    expect(only(synth(chart), 'StatefulSet').spec.template.spec.initContainers.map((c: { name: string }) => c.name)).toEqual(['member-tools', 'member-start']);
  });

  test('matches the snapshot', () => {
    expect(restoredStatefulSet().pod.initContainers).toMatchSnapshot();
  });
});

describe('EtcdStaticPodCluster restoreFrom', () => {
  test("each node's manifest restores into the new data dir with its own name and peer URL, and the guard answers on the node IP", () => {
    const { pods, steps } = restoredStaticPods();
    pods.forEach((pod: Manifest, i: number) => {
      const flags = flagsOf(etcdContainer(pod).command.slice(1));
      expect(flags.get('data-dir')).toBe('/var/lib/etcd-restored');
      expect(envOf(steps[i].step('restore'))).toMatchObject({
        NAME: nodes[i].name,
        PEER_URL: `https://${nodes[i].ip}:2380`,
        INITIAL_CLUSTER: flags.get('initial-cluster'),
        TOKEN: 'etcd-restored-1',
        DATA_DIR: '/var/lib/etcd-restored',
        SNAPSHOT_DIR: '/var/lib/etcd-snapshot',
      });
      expect(envOf(steps[i].step('restore-guard'))).toMatchObject({
        LISTEN: `${nodes[i].ip}:2380`,
        ETCDCTL_CERT: '/etc/kubernetes/pki/etcd/server.crt',
      });
      // No fetch step: the kubelet cannot give a static pod Secrets; the snapshot is read where it is.
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      expect(pod.spec.initContainers.map((c: any) => c.name)).toEqual(['restore-tools', 'restore-pick', 'restore-guard', 'restore']);
      expect(steps[i].step('restore-pick').command[2]).toContain('ls -1 "$SNAPSHOT_DIR"');
      expect(steps[i].step('restore-pick').volumeMounts).toContainEqual({ name: 'snapshot-source', mountPath: '/var/lib/etcd-snapshot', readOnly: true });
      expect(pod.spec.volumes).toContainEqual({ name: 'snapshot-source', hostPath: { path: '/var/lib/etcd-snapshot', type: 'DirectoryOrCreate' } });
      expect(steps[i].step('restore').volumeMounts).toContainEqual({ name: 'snapshot-source', mountPath: '/var/lib/etcd-snapshot', readOnly: true });
    });
  });

  test('a dataDir other than kubeadm\'s warns that kubeadm upgrade would rewrite etcd.yaml with /var/lib/etcd, and says what prevents it', () => {
    const { etcd } = restoredStaticPods();
    const warning = warningsOf(etcd).find((w) => w.includes('kubeadm upgrade'));
    expect(warning).toContain("dataDir is '/var/lib/etcd-restored'");
    expect(warning).toContain('--etcd-upgrade=false');
    expect(warning).toContain("set etcd.local.dataDir to '/var/lib/etcd-restored' in the kubeadm-config ConfigMap");
    const plain = new EtcdStaticPodCluster(Testing.app(), 'etcd', { nodes });
    expect(warningsOf(plain).filter((w) => w.includes('kubeadm upgrade'))).toEqual([]);
  });

  test('once formed, the manifests without restoreFrom differ only by the restore steps and the initial cluster state', () => {
    const { pods } = restoredStaticPods();
    const after = new EtcdStaticPodCluster(Testing.app(), 'etcd', { nodes, dataDir: '/var/lib/etcd-restored', initialClusterToken: 'etcd-restored-1' });
    nodes.forEach((n, i) => {
      const later = synth(after.chartFor(n.name))[0];
      const flags = flagsOf(etcdContainer(pods[i]).command.slice(1));
      const laterFlags = flagsOf(etcdContainer(later).command.slice(1));
      expect(flags.get('initial-cluster-state')).toBe('existing');
      flags.delete('initial-cluster-state');
      laterFlags.delete('initial-cluster-state');
      expect(laterFlags).toEqual(flags);
      expect(later.spec.initContainers).toBeUndefined();
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      expect(later.spec.volumes).toEqual(pods[i].spec.volumes.filter((v: any) => v.name === 'etcd-data' || v.name === 'etcd-certs'));
    });
  });

  test('IPv6 nodes answer on a bracketed address', () => {
    const v6 = [{ name: 'cp-1', ip: 'fd00::11' }, { name: 'cp-2', ip: 'fd00::12' }, { name: 'cp-3', ip: 'fd00::13' }];
    const { steps } = restoredStaticPods({ nodes: v6 });
    expect(envOf(steps[0].step('restore-guard')).LISTEN).toBe('[fd00::11]:2380');
    expect(envOf(steps[0].step('restore-guard')).PEERS).toContain('cp-2|http://[fd00::12]:2380|https://[fd00::12]:2379');
  });
});

describe('bad input is refused at synthesis, naming the property', () => {
  const sts = (props: () => EtcdClusterProps, name = 'etcd-restored') => () => new EtcdCluster(new Chart(new App(), 'c'), name, props());
  const pods = (props: () => Partial<EtcdStaticPodClusterProps>) => () => new EtcdStaticPodCluster(new App(), 'etcd', { nodes, ...props() });
  test.each<[string, () => unknown, string]>([
    ['a hostPath source for a StatefulSet', sts(() => ({ restoreFrom: onNodes() })), 'restoreFrom EtcdSnapshotSource.hostPath() cannot be read by an EtcdCluster'],
    ['a bucket for static pods', pods(() => ({ restoreFrom: bucket(), dataDir: '/var/lib/etcd-restored', initialClusterToken: 't' })), 'the kubelet runs static pods without the API server'],
    ['the old cluster\'s name', sts(() => ({ restoreFrom: bucket() }), 'etcd'), "restoreFrom reads snapshots of 'etcd' (namespace 'default'), and this EtcdCluster is that cluster too, so it would use the old cluster's volumes"],
    ['a snapshot from another namespace than clusterNamespace', sts(() => ({ restoreFrom: bucket({ snapshot: 'prod.etcd-20261121T020000Z' }) })), "restoreFrom snapshot 'prod.etcd-20261121T020000Z' is not a snapshot of 'etcd' in namespace 'default' ('default.etcd-<time>'): give the namespace it was taken in as clusterNamespace"],
    ['a bad clusterNamespace', () => bucket({ clusterNamespace: 'Prod' }), 'EtcdSnapshotSource.objectStore() clusterNamespace'],
    ['in place without a new token', sts(() => ({ restoreFrom: bucket({ inPlace: true }) }), 'etcd'), 'give initialClusterToken a new value'],
    ['static pods on kubeadm\'s data dir', pods(() => ({ restoreFrom: onNodes(), initialClusterToken: 't' })), "restoreFrom needs a new dataDir, such as '/var/lib/etcd-restored'"],
    ['static pods with the old token', pods(() => ({ restoreFrom: onNodes(), dataDir: '/var/lib/etcd-restored' })), "it would get the old cluster's token and cluster ID"],
    ['a bump the tools cannot do', sts(() => ({ restoreFrom: bucket({ bumpRevision: 5 }), version: EtcdVersion.of('3.5.9') })), "restoreFrom bumpRevision is 5, but etcd 3.5.9's etcdutl cannot bump the revision"],
    ['a negative bump', sts(() => ({ restoreFrom: bucket({ bumpRevision: -1 }) })), 'bumpRevision'],
    ['no cluster name', () => bucket({ clusterName: '' }), 'needs clusterName'],
    ['a snapshot of another cluster', () => bucket({ snapshot: 'default.other-20261121T020000Z' }), "snapshot must name a snapshot of 'etcd' without extension, '<namespace>.etcd-<YYYYMMDDTHHMMSSZ>'"],
    ['a snapshot named as before 0.2, without its namespace', () => bucket({ snapshot: 'etcd-20261121T020000Z', clusterNamespace: 'prod' }), "'prod.etcd-<YYYYMMDDTHHMMSSZ>', e.g. 'prod.etcd-20261121T020000Z' (got 'etcd-20261121T020000Z')"],
    ['a snapshot with its extension', () => bucket({ snapshot: 'default.etcd-20261121T020000Z.db' }), "(got 'default.etcd-20261121T020000Z.db')"],
    ['no encryption', () => bucket({ encryption: undefined }), 'needs encryption, as the backup wrote the snapshots'],
    ['no credentials', () => bucket({ credentialsSecretName: undefined }), 'needs credentialsSecretName'],
    ['no claim', () => EtcdSnapshotSource.volume({ clusterName: 'etcd', claimName: '', encryption: sealed }), 'needs claimName'],
    ['a relative host directory', () => onNodes({ directory: 'snapshots' }), 'EtcdSnapshotSource.hostPath() directory'],
    ['a short wait', () => bucket({ memberWait: Duration.seconds(5) }), 'memberWait'],
    ['an unpinned rclone', () => bucket({ rcloneImage: 'rclone/rclone:latest' }), 'rcloneImage must be an image pinned'],
    ['a bad bucket, named as the source', () => bucket({ bucket: 'B' }), "EtcdSnapshotSource.objectStore() bucket must be an S3 bucket name"],
    ['a bad prefix, named as the source', () => bucket({ prefix: 'a b' }), 'EtcdSnapshotSource.objectStore() prefix must be a relative path'],
    ['a bad claim, named as the source', () => EtcdSnapshotSource.volume({ clusterName: 'etcd', claimName: 'X_', encryption: sealed }), 'EtcdSnapshotSource.volume() claimName must be a DNS-1123 subdomain'],
  ])('%s', (_, build, message) => {
    expect(build).toThrow(message);
  });
});

describe('the scripts', () => {
  test.each([
    ['pick from a bucket', pickSnapshot({ list: 'rclone lsf "$SOURCE"', read: 'rclone cat "$SOURCE$1"', records: 'rclone cat --max-depth 1 --include "/$SNAPSHOT_ID-*.json" "$SOURCE"' })],
    ['guard', guardRestore()],
    ['fetch, encrypted', fetchSnapshot(true)],
    ['fetch, plain', fetchSnapshot(false)],
    ['restore with etcdutl', restoreSnapshot('etcdutl')],
    ['restore with etcdctl', restoreSnapshot('etcdctl')],
  ])('%s parses as POSIX sh', (_, script) => {
    const r = spawnSync('sh', ['-n', '-c', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  const pick = (listing: string[], env: { [k: string]: string }) => spawnSync('sh', ['-c', `set -eu\n${PICK}\npick`], {
    input: listing.join('\n'), encoding: 'utf8', env: { PATH: process.env.PATH, SNAPSHOT_ID: 'ns.etcd', SNAPSHOT_ID_RE: 'ns\\.etcd', SNAPSHOT: '', SUFFIX: '.rclone', ...env },
  });
  const listing = [
    'ns.etcd-20261120T010000Z.db.rclone', 'ns.etcd-20261120T010000Z.json',
    'ns.etcd-20261121T010000Z.db.rclone', 'ns.etcd-20261121T010000Z.json',
    // The newest snapshot has no record yet (its run did not finish): never chosen.
    'ns.etcd-20261121T020000Z.db.rclone',
    // A newer record without its snapshot, another cluster's, the same cluster name in another namespace (whose
    // name a '.' that matched any character would take: 'nsXetcd'), and strays.
    'ns.etcd-20261121T030000Z.json', 'ns.etcd-other-20261121T040000Z.json', 'ns.etcd-other-20261121T040000Z.db.rclone',
    'nsxetcd-20261122T010000Z.json', 'nsxetcd-20261122T010000Z.db.rclone',
    'other.etcd-20261122T010000Z.json', 'other.etcd-20261122T010000Z.db.rclone', 'notes.txt',
  ];
  test('picks the newest snapshot that has its record and its file', () => {
    expect(pick(listing, {}).stdout.trim()).toBe('ns.etcd-20261121T010000Z');
  });
  test('picks a named snapshot only when both files are there', () => {
    expect(pick(listing, { SNAPSHOT: 'ns.etcd-20261120T010000Z' }).stdout.trim()).toBe('ns.etcd-20261120T010000Z');
    expect(pick(listing, { SNAPSHOT: 'ns.etcd-20261121T020000Z' }).status).toBe(1);
  });
  test('finds nothing for a suffix the files do not have; another cluster or namespace only by its own name', () => {
    expect(pick(listing, { SUFFIX: '' }).status).toBe(1);
    expect(pick(listing, { SNAPSHOT_ID: 'ns.etcd-other', SNAPSHOT_ID_RE: 'ns\\.etcd-other' }).stdout.trim()).toBe('ns.etcd-other-20261121T040000Z');
    expect(pick(listing, { SNAPSHOT_ID: 'other.etcd', SNAPSHOT_ID_RE: 'other\\.etcd' }).stdout.trim()).toBe('other.etcd-20261122T010000Z');
  });
});

describe('a backup and a restore in one App must agree', () => {
  /** The old cluster with its backup (to a bucket and an auto-sized claim), and a restored cluster, in one chart. */
  function world(source: EtcdSnapshotSource, restored: Partial<EtcdClusterProps> = {}, old: Partial<EtcdClusterProps> = {}) {
    const chart = new Chart(Testing.app(), 'c', { namespace: 'etcd' });
    new EtcdCluster(chart, 'etcd', old).addBackup('backup', {
      destinations: [
        EtcdBackupDestination.objectStore({ endpoint: 'https://s3.example.com', bucket: 'etcd-backups', prefix: 'prod', credentialsSecretName: 's3-credentials' }),
        EtcdBackupDestination.volume(),
      ],
      encryption: sealed,
    });
    new EtcdCluster(chart, 'etcd-restored', { restoreFrom: source, ...restored });
    return () => Testing.synth(chart);
  }

  test('the same bucket, encryption, cluster and minor line: accepted', () => {
    expect(world(bucket())).not.toThrow();
  });

  test('unencrypted reading of what the backup encrypts is refused', () => {
    expect(world(bucket({ encryption: EtcdBackupEncryption.none() }))).toThrow("restoreFrom s3://etcd-backups/prod/ is read without decryption, but 'c/etcd/backup' writes it encrypted");
  });

  test('another cluster name than the backup writes is refused', () => {
    expect(world(bucket({ clusterName: 'other' }))).toThrow("restoreFrom reads snapshots named 'etcd.other-<time>' (clusterNamespace.clusterName), but 'c/etcd/backup' writes 'etcd.etcd-<time>'");
    expect(world(bucket({ clusterNamespace: 'prod' }))).toThrow("restoreFrom reads snapshots named 'prod.etcd-<time>'");
  });

  test('another minor line than the backed-up cluster is refused', () => {
    expect(world(bucket(), {}, { version: EtcdVersion.V3_5_35 })).toThrow('holds snapshots of etcd 3.5');
  });

  test('the ReadWriteOnce claim the backup created, read by three members, is refused; by one member it is fine', () => {
    const claim = EtcdSnapshotSource.volume({ clusterName: 'etcd', claimName: 'etcd-backup', encryption: sealed });
    expect(world(claim)).toThrow("is the ReadWriteOnce claim 'c/etcd/backup' created: it mounts on one node, and 3 members");
    expect(world(claim, { members: 1 })).not.toThrow();
  });

  test('a source nothing in the App writes is not checked', () => {
    expect(world(bucket({ prefix: 'elsewhere', encryption: EtcdBackupEncryption.none() }))).not.toThrow();
  });
});
