import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { App, Chart, Cron, Duration, Size, Testing } from 'cdk8s';
import {
  EtcdBackup, EtcdBackupDestination, EtcdBackupEncryption, EtcdBackupOptions, EtcdCluster, EtcdClusterProps,
  EtcdStaticPodCluster, EtcdTls, EtcdVersion,
} from '../../../lib';
import { snapshotTimeoutSeconds } from '../../../lib/jobs/backup/backup-job';
import { warningsOf } from '../../../lib/shared/warnings';
import { ScriptSandbox } from '../../support/script-sandbox';
import { Manifest, only, synth } from '../../support/synth';

const s3 = (extra: object = {}) => EtcdBackupDestination.objectStore({
  endpoint: 'https://s3.example.com', bucket: 'etcd-backups', prefix: 'prod', credentialsSecretName: 's3-credentials', ...extra,
});
const sealed = EtcdBackupEncryption.rcloneCrypt({ secretName: 'backup-key' });
/** The passphrase and salt files, as the Secret's volume mounts them. */
const keyFiles = (box: ScriptSandbox) => ({ PASSPHRASE_FILE: box.write('passphrase', 'x\n'), SALT_FILE: box.write('salt', 'sixteen-or-more-chars\n') });
const defaults: EtcdBackupOptions = { destinations: [EtcdBackupDestination.volume()], encryption: sealed };

function statefulSetBackup(options: Partial<EtcdBackupOptions> = {}, clusterProps: EtcdClusterProps = {}) {
  const chart = new Chart(Testing.app(), 'etcd', { namespace: 'etcd' });
  const etcd = new EtcdCluster(chart, 'etcd', clusterProps);
  const backup = etcd.addBackup('backup', { ...defaults, ...options });
  const manifests = synth(chart);
  return { etcd, backup, manifests, ...podOf(only(manifests, 'CronJob')) };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function podOf(cronJob: Manifest): { cronJob: Manifest; pod: any; container: (name: string) => any } {
  const pod = cronJob.spec.jobTemplate.spec.template.spec;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const container = (name: string) => [...(pod.initContainers ?? []), ...pod.containers].find((c: any) => c.name === name);
  return { cronJob, pod, container };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const envOf = (c: any): { [k: string]: string } => Object.fromEntries((c.env ?? []).filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));

describe('the CronJob', () => {
  test('runs one at a time, with bounded history, deadlines, a small backoff and no service-account token', () => {
    const { cronJob, pod } = statefulSetBackup();
    expect(cronJob.metadata).toMatchObject({ name: 'etcd-backup', namespace: 'etcd' });
    expect(cronJob.spec).toMatchObject({
      schedule: '0 * * * *',
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: 600,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: { spec: { backoffLimit: 1, activeDeadlineSeconds: 3600 } },
    });
    expect(cronJob.spec.timeZone).toBeUndefined();
    expect(pod).toMatchObject({ restartPolicy: 'Never', automountServiceAccountToken: false, enableServiceLinks: false });
  });

  test('takes schedule, time zone, deadlines, backoff and suspend', () => {
    const { cronJob } = statefulSetBackup({
      schedule: Cron.schedule({ minute: '30', hour: '2' }), timeZone: 'Europe/Berlin', startingDeadline: Duration.minutes(2),
      activeDeadline: Duration.minutes(20), backoffLimit: 0, suspend: true,
    });
    expect(cronJob.spec).toMatchObject({
      schedule: '30 2 * * *', timeZone: 'Europe/Berlin', suspend: true, startingDeadlineSeconds: 120,
      jobTemplate: { spec: { backoffLimit: 0, activeDeadlineSeconds: 1200 } },
    });
  });

  test('steps run in order, each in the image that holds its commands', () => {
    const { etcd, pod, container } = statefulSetBackup();
    expect(pod.initContainers.map((c: { name: string }) => c.name)).toEqual(['tools', 'snapshot', 'verify']);
    expect(pod.containers.map((c: { name: string }) => c.name)).toEqual(['store']);
    expect(container('tools').image).toBe('busybox:1.37.0-musl');
    expect(container('tools').command.slice(0, 2)).toEqual(['/bin/busybox', 'sh']);
    expect(container('snapshot').image).toBe(etcd.image);
    // The etcd image has no shell: the snapshot and its verification run the busybox copied into the tools volume.
    expect(container('snapshot').command.slice(0, 2)).toEqual(['/tools/sh', '-c']);
    expect(container('snapshot').command[2]).toContain('etcdctl --endpoints="$member" --dial-timeout=10s snapshot save /work/snapshot.db');
    expect(container('verify').image).toBe(etcd.image);
    expect(container('verify').command.slice(0, 2)).toEqual(['/tools/sh', '-c']);
    expect(container('store').image).toBe('rclone/rclone:1.76.0');
    expect(container('store').command.slice(0, 2)).toEqual(['/bin/sh', '-c']);
  });

  test('meets Pod Security "restricted": non-root, no privilege escalation, no capabilities, read-only root, seccomp', () => {
    const { pod } = statefulSetBackup();
    expect(pod.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } });
    for (const c of [...pod.initContainers, ...pod.containers]) {
      expect(c.securityContext).toEqual({
        allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' },
      });
      // The work and scratch volumes (1.25 × the 3.75 GiB quota each), the tools and 64 MiB for logs: on the node's disk.
      expect(c.resources).toEqual({ requests: { cpu: '100m', memory: '128Mi', 'ephemeral-storage': '9680Mi' }, limits: { memory: '1Gi', 'ephemeral-storage': '9680Mi' } });
    }
    expect(pod.hostNetwork).toBeUndefined();
  });

  test('declares the disk its emptyDirs take, so the scheduler counts it: without the trial restore, half as much scratch', () => {
    const { pod } = statefulSetBackup({ trialRestore: false });
    for (const c of [...pod.initContainers, ...pod.containers]) expect(c.resources.requests['ephemeral-storage']).toBe('4880Mi');
  });

  test('with scratchStorageClassName, the work and scratch volumes are claims made and deleted with the pod, off the node\'s disk', () => {
    const { pod, manifests } = statefulSetBackup({ scratchStorageClassName: 'fast-scratch' });
    for (const name of ['work', 'scratch']) {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      expect(pod.volumes.find((v: any) => v.name === name)).toEqual({
        name,
        ephemeral: {
          volumeClaimTemplate: {
            metadata: { labels: expect.objectContaining({ 'app.kubernetes.io/part-of': 'etcd' }) },
            spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'fast-scratch', resources: { requests: { storage: '4800Mi' } } },
          },
        },
      });
    }
    // Only the tools copy and the logs stay on the node's disk.
    for (const c of [...pod.initContainers, ...pod.containers]) expect(c.resources.requests['ephemeral-storage']).toBe('80Mi');
    expect(manifests.filter((m) => m.kind === 'CronJob')).toHaveLength(1);
    expect(() => statefulSetBackup({ scratchStorageClassName: 'Fast_Scratch' })).toThrow('scratchStorageClassName');
  });

  test('is schema-valid and stable', () => {
    const { manifests } = statefulSetBackup({ destinations: [EtcdBackupDestination.volume(), s3()] });
    expect(manifests.filter((m) => ['CronJob', 'PersistentVolumeClaim'].includes(m.kind))).toMatchSnapshot();
  });
});

describe('snapshot and verification', () => {
  test('EtcdCluster: one endpoint, the client Service (ready members only), with the cluster client certificate', () => {
    const { etcd, pod, container } = statefulSetBackup();
    expect(envOf(container('snapshot'))).toMatchObject({
      ENDPOINT: 'https://etcd.etcd.svc.cluster.local:2379',
      ETCDCTL_CACERT: '/etc/etcd/client/ca.crt',
      ETCDCTL_CERT: '/etc/etcd/client/tls.crt',
      ETCDCTL_KEY: '/etc/etcd/client/tls.key',
    });
    expect(pod.volumes).toContainEqual({ name: 'etcd-client', secret: { secretName: etcd.clientSecretName, defaultMode: 0o440 } });
    expect(container('snapshot').volumeMounts).toContainEqual({ name: 'etcd-client', mountPath: '/etc/etcd/client', readOnly: true });
    // Only the step that talks to etcd holds the key.
    for (const name of ['tools', 'verify', 'store']) expect(container(name).volumeMounts.map((m: { name: string }) => m.name)).not.toContain('etcd-client');
  });

  test('another client Secret can be used, e.g. for a dedicated backup user', () => {
    const { pod } = statefulSetBackup({ clientSecretName: 'etcd-backup-user' });
    expect(pod.volumes).toContainEqual({ name: 'etcd-client', secret: { secretName: 'etcd-backup-user', defaultMode: 0o440 } });
  });

  test('without TLS the snapshot is taken over http, with no identity', () => {
    const { container, pod } = statefulSetBackup({}, { tls: EtcdTls.disabled() });
    expect(envOf(container('snapshot')).ENDPOINT).toBe('http://etcd.etcd.svc.cluster.local:2379');
    expect(Object.keys(envOf(container('snapshot'))).filter((k) => k.startsWith('ETCDCTL_'))).toEqual([]);
    expect(pod.volumes.map((v: { name: string }) => v.name)).not.toContain('etcd-client');
  });

  test.each([
    ['3.4.45', 'etcdctl'],
    ['3.5.35', 'etcdutl'],
    ['3.6.16', 'etcdutl'],
    ['3.7.3', 'etcdutl'],
  ])('etcd %s is verified with %s (3.6 removed etcdctl snapshot status; 3.4 has no etcdutl)', (version, tool) => {
    const { container } = statefulSetBackup({}, { version: EtcdVersion.of(version) });
    const script: string = container('verify').command[2];
    expect(script).toContain(`${tool} snapshot status "$snap" --write-out=json`);
    expect(script).toContain(`${tool} snapshot restore "$snap" --data-dir=/scratch/trial`);
    expect(script).not.toContain(`${tool === 'etcdctl' ? 'etcdutl' : 'etcdctl'} snapshot`);
    expect(envOf(container('verify'))).toMatchObject({ PATH: '/usr/local/bin:/tools' });
  });

  test('checks etcd\'s embedded sha256 before anything else, and the trial restore can be switched off', () => {
    const on = statefulSetBackup().container('verify').command[2] as string;
    expect(on.indexOf('does not end with etcd\'s sha256')).toBeLessThan(on.indexOf('snapshot status'));
    expect(on).toContain('it is corrupt');
    const off = statefulSetBackup({ trialRestore: false });
    expect(off.container('verify').command[2]).not.toContain('snapshot restore');
    expect(off.pod.volumes.map((v: { name: string }) => v.name)).not.toContain('scratch');
  });

  test.each(['3.4.45', '3.6.16'])('every generated script is valid sh (%s)', (version) => {
    const { container } = statefulSetBackup({ destinations: [EtcdBackupDestination.volume(), s3()] }, { version: EtcdVersion.of(version) });
    for (const name of ['tools', 'verify', 'store']) {
      const command: string[] = container(name).command;
      const script = command[command.length - 1];
      const r = spawnSync('sh', ['-n', '-c', script], { encoding: 'utf8' });
      expect({ name, stderr: r.stderr, status: r.status }).toEqual({ name, stderr: '', status: 0 });
    }
  });
});

describe('EtcdStaticPodCluster', () => {
  const nodes = [{ name: 'cp-1', ip: '10.0.0.11' }, { name: 'cp-2', ip: '10.0.0.12' }, { name: 'cp-3', ip: '10.0.0.13' }];

  function staticBackup(nodeList = nodes) {
    const app = Testing.app();
    const etcd = new EtcdStaticPodCluster(app, 'etcd', { nodes: nodeList });
    const backup = etcd.addBackup('backup', defaults);
    const chart = Chart.of(backup);
    return { app, etcd, backup, chart, ...podOf(only(synth(chart), 'CronJob')) };
  }

  test('runs on a node of the cluster with host networking, against its member on 127.0.0.1 with kubeadm\'s PKI', () => {
    const { chart, cronJob, pod, container } = staticBackup();
    expect(chart.node.id).toBe('etcd-jobs');
    expect(cronJob.metadata.namespace).toBe('kube-system');
    expect(pod).toMatchObject({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet', priorityClassName: 'system-cluster-critical' });
    expect(pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms)
      .toEqual(['cp-1', 'cp-2', 'cp-3'].map((node) => ({ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] })));
    expect(pod.tolerations).toEqual([
      { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
      { key: 'node-role.kubernetes.io/master', operator: 'Exists', effect: 'NoSchedule' },
    ]);
    // Exactly the three files it uses, each its own hostPath: never the directory, which holds the CA's key.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    expect(pod.volumes.filter((v: any) => v.hostPath).map((v: any) => [v.hostPath.path, v.hostPath.type])).toEqual([
      ['/etc/kubernetes/pki/etcd/ca.crt', 'File'],
      ['/etc/kubernetes/pki/etcd/healthcheck-client.crt', 'File'],
      ['/etc/kubernetes/pki/etcd/healthcheck-client.key', 'File'],
    ]);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    expect(container('snapshot').volumeMounts.filter((m: any) => m.mountPath.startsWith('/etc/kubernetes')).map((m: any) => m.mountPath)).toEqual([
      '/etc/kubernetes/pki/etcd/ca.crt', '/etc/kubernetes/pki/etcd/healthcheck-client.crt', '/etc/kubernetes/pki/etcd/healthcheck-client.key',
    ]);
    expect(JSON.stringify(pod)).not.toContain('ca.key');
    expect(envOf(container('snapshot'))).toMatchObject({
      ENDPOINT: 'https://127.0.0.1:2379',
      ETCDCTL_CACERT: '/etc/kubernetes/pki/etcd/ca.crt',
      ETCDCTL_CERT: '/etc/kubernetes/pki/etcd/healthcheck-client.crt',
      ETCDCTL_KEY: '/etc/kubernetes/pki/etcd/healthcheck-client.key',
    });
  });

  test('runs as root (kubeadm\'s keys are root-only files) but keeps no capabilities and a read-only root', () => {
    const { pod } = staticBackup();
    expect(pod.securityContext).toEqual({ runAsUser: 0, runAsGroup: 0, seccompProfile: { type: 'RuntimeDefault' } });
    for (const c of [...pod.initContainers, ...pod.containers]) {
      expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true, seccompProfile: { type: 'RuntimeDefault' } });
    }
  });

  test('IPv6 nodes are reached on [::1]', () => {
    const { container } = staticBackup([{ name: 'cp-1', ip: 'fd00::11' }]);
    expect(envOf(container('snapshot')).ENDPOINT).toBe('https://[::1]:2379');
  });

  test('inside a Chart, the backup goes into that chart; several backups share the jobs chart otherwise', () => {
    const chart = new Chart(Testing.app(), 'control-plane');
    const inChart = new EtcdStaticPodCluster(chart, 'etcd', { nodes });
    expect(Chart.of(inChart.addBackup('backup', defaults))).toBe(chart);
    const { etcd, chart: jobs } = staticBackup();
    expect(Chart.of(etcd.addBackup('daily', { ...defaults, destinations: [s3()] }))).toBe(jobs);
    expect(synth(jobs).filter((m) => m.kind === 'CronJob').map((m) => m.metadata.name)).toEqual(['etcd-backup', 'etcd-daily']);
  });
});

describe('destinations, encryption and retention', () => {
  test('a volume destination creates a ReadWriteOnce claim sized for the snapshots retention keeps', () => {
    const { manifests, backup, container } = statefulSetBackup({ keepLast: 3 });
    const claim = only(manifests, 'PersistentVolumeClaim');
    // 4 snapshots at the derived quota of the 8 GiB member volume (3.75 GiB) = 15 GiB.
    expect(claim).toMatchObject({ metadata: { name: 'etcd-backup', namespace: 'etcd' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '15Gi' } } } });
    expect(backup.destinationNames).toEqual(['persistentvolumeclaim/etcd-backup']);
    expect(container('store').volumeMounts).toContainEqual({ name: 'backups-1', mountPath: '/backups/1' });
    expect(envOf(container('store'))).toMatchObject({ RCLONE_CONFIG_DEST1_TYPE: 'local', RCLONE_CONFIG_SEALED1_REMOTE: 'dest1:/backups/1/', KEEP_LAST: '3', KEEP_WITHIN_SECONDS: '' });
  });

  test('an existing claim is used as it is', () => {
    const { manifests, backup, pod } = statefulSetBackup({ destinations: [EtcdBackupDestination.volume({ claimName: 'backups', directory: 'etcd/prod' })] });
    expect(manifests.filter((m) => m.kind === 'PersistentVolumeClaim')).toEqual([]);
    expect(pod.volumes).toContainEqual({ name: 'backups-1', persistentVolumeClaim: { claimName: 'backups' } });
    expect(backup.destinationNames).toEqual(['persistentvolumeclaim/backups/etcd/prod']);
  });

  test('object storage: endpoint, bucket, prefix, region, path style and credentials from a Secret', () => {
    const { container, backup } = statefulSetBackup({ destinations: [s3({ region: 'eu-west-1' })] });
    const env = container('store').env;
    expect(envOf(container('store'))).toMatchObject({
      RCLONE_CONFIG_DEST1_TYPE: 's3', RCLONE_CONFIG_DEST1_PROVIDER: 'Other', RCLONE_CONFIG_DEST1_ENDPOINT: 'https://s3.example.com',
      RCLONE_CONFIG_DEST1_REGION: 'eu-west-1', RCLONE_CONFIG_DEST1_FORCE_PATH_STYLE: 'true', RCLONE_CONFIG_DEST1_NO_CHECK_BUCKET: 'true',
      RCLONE_CONFIG_SEALED1_REMOTE: 'dest1:etcd-backups/prod/',
    });
    expect(env).toContainEqual({ name: 'RCLONE_CONFIG_DEST1_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: 's3-credentials', key: 'AWS_ACCESS_KEY_ID' } } });
    expect(env).toContainEqual({ name: 'RCLONE_CONFIG_DEST1_SECRET_ACCESS_KEY', valueFrom: { secretKeyRef: { name: 's3-credentials', key: 'AWS_SECRET_ACCESS_KEY' } } });
    expect(backup.destinationNames).toEqual(['s3://etcd-backups/prod/']);
  });

  test('Amazon S3 needs no endpoint and uses virtual-hosted requests', () => {
    const { container } = statefulSetBackup({ destinations: [EtcdBackupDestination.objectStore({ bucket: 'b-123', credentialsSecretName: 'aws' })] });
    const env = envOf(container('store'));
    expect(env).toMatchObject({ RCLONE_CONFIG_DEST1_PROVIDER: 'AWS', RCLONE_CONFIG_DEST1_FORCE_PATH_STYLE: 'false' });
    expect(env.RCLONE_CONFIG_DEST1_ENDPOINT).toBeUndefined();
  });

  test('rclone crypt encrypts contents with the passphrase from the Secret, over every destination', () => {
    const { container } = statefulSetBackup({ destinations: [EtcdBackupDestination.volume(), s3()] });
    const store = container('store');
    // The passphrase and the salt are files from their Secret, mounted in the store step only; never env vars.
    expect(envOf(store)).toMatchObject({ PASSPHRASE_FILE: '/etc/etcd-backup-key/passphrase', SALT_FILE: '/etc/etcd-backup-key/salt' });
    expect(store.volumeMounts).toContainEqual({ name: 'backup-key', mountPath: '/etc/etcd-backup-key', readOnly: true });
    expect(podOf(only(statefulSetBackup({ destinations: [s3()] }).manifests, 'CronJob')).pod.volumes).toContainEqual(
      { name: 'backup-key', secret: { secretName: 'backup-key', items: [{ key: 'passphrase', path: 'passphrase' }, { key: 'salt', path: 'salt' }], defaultMode: 0o440, optional: true } });
    expect(JSON.stringify(store.env)).not.toContain('secretKeyRef":{"name":"backup-key"');
    for (const name of ['tools', 'snapshot', 'verify']) expect(JSON.stringify(container(name))).not.toContain('backup-key');
    for (const i of [1, 2]) {
      expect(envOf(store)).toMatchObject({
        [`RCLONE_CONFIG_SEALED${i}_TYPE`]: 'crypt', [`RCLONE_CONFIG_SEALED${i}_FILENAME_ENCRYPTION`]: 'off', [`RCLONE_CONFIG_SEALED${i}_SUFFIX`]: '.rclone',
      });
      expect(store.command[2]).toContain(`export RCLONE_CONFIG_SEALED${i}_PASSWORD="$obscured"`);
      expect(store.command[2]).toContain(`export RCLONE_CONFIG_SEALED${i}_PASSWORD2="$obscured"`);
    }
    expect(envOf(container('verify'))).toMatchObject({ ENCRYPTION: 'rclone-crypt', SNAPSHOT_SUFFIX: '.rclone' });
    // Everything is stored and checked before retention deletes anything.
    const script: string = store.command[2];
    expect(script.lastIndexOf('\nstore ')).toBeLessThan(script.indexOf('\nprune '));
  });

  test('unencrypted snapshots are stored as etcd wrote them, with a warning for object storage only', () => {
    const onVolume = statefulSetBackup({ encryption: EtcdBackupEncryption.none(), destinations: [EtcdBackupDestination.volume({ size: Size.gibibytes(20) })] });
    expect(warningsOf(onVolume.backup)).toEqual([]);
    expect(envOf(onVolume.container('store')).RCLONE_CONFIG_SEALED1_TYPE).toBeUndefined();
    expect(envOf(onVolume.container('verify'))).toMatchObject({ ENCRYPTION: 'none', SNAPSHOT_SUFFIX: '' });
    const onBucket = statefulSetBackup({ encryption: EtcdBackupEncryption.none(), destinations: [s3()] });
    expect(warningsOf(onBucket.backup)).toEqual([expect.stringContaining('encryption is none and s3://etcd-backups/prod/ is object storage')]);
  });

  test('an auto-sized claim for more than 4 quota-sized snapshots warns with its size and the retention behind it', () => {
    const warning = (options: Partial<EtcdBackupOptions>) => warningsOf(statefulSetBackup(options).backup).filter((w) => w.includes('creates claim'));
    expect(warning({})).toEqual([expect.stringContaining("creates claim 'etcd-backup' of 30 GiB: room for 8 snapshots (keepLast 7, and the new one before retention) each as large as the quota (3.75 GiB)")]);
    expect(warning({ keepLast: 3 })).toEqual([]);
    expect(warning({ destinations: [EtcdBackupDestination.volume({ size: Size.gibibytes(10) })] })).toEqual([]);
  });

  test('a plain-http endpoint warns', () => {
    const { backup } = statefulSetBackup({ destinations: [s3({ endpoint: 'http://minio.storage:9000' })] });
    expect(warningsOf(backup)).toEqual([expect.stringContaining('is plain http')]);
  });

  test('retention: keep the newest 7 by default; keepWithin alone keeps by age only', () => {
    expect(envOf(statefulSetBackup().container('store'))).toMatchObject({ KEEP_LAST: '7', KEEP_WITHIN_SECONDS: '' });
    expect(envOf(statefulSetBackup({ keepWithin: Duration.days(14) }).container('store'))).toMatchObject({ KEEP_LAST: '', KEEP_WITHIN_SECONDS: '1209600' });
  });
});

describe('the cluster side and the outputs', () => {
  test('the NetworkPolicy admits the backup pods to the client port, and no member selector picks them up', () => {
    const { manifests, pod, cronJob } = statefulSetBackup();
    const policy = only(manifests, 'NetworkPolicy');
    const clientRule = policy.spec.ingress.find((r: { ports: { port: number }[] }) => r.ports[0].port === 2379);
    expect(clientRule.from).toContainEqual({ podSelector: { matchLabels: cronJob.spec.jobTemplate.spec.template.metadata.labels } });
    const labels = cronJob.spec.jobTemplate.spec.template.metadata.labels;
    for (const selector of [only(manifests, 'Service', 'etcd').spec.selector, only(manifests, 'PodDisruptionBudget').spec.selector.matchLabels]) {
      expect(Object.entries(selector).every(([k, v]) => labels[k] === v)).toBe(false);
    }
    expect(pod.containers).toHaveLength(1);
  });

  test('several backups per cluster: hourly to a volume, daily to object storage', () => {
    const chart = new Chart(Testing.app(), 'etcd', { namespace: 'etcd' });
    const etcd = new EtcdCluster(chart, 'etcd');
    etcd.addBackup('hourly', defaults);
    etcd.addBackup('daily', { destinations: [s3()], encryption: sealed, schedule: Cron.daily() });
    const manifests = synth(chart);
    expect(manifests.filter((m) => m.kind === 'CronJob').map((m) => [m.metadata.name, m.spec.schedule])).toEqual([['etcd-hourly', '0 * * * *'], ['etcd-daily', '0 0 * * *']]);
  });

  test('the construct form works as addBackup does, and outputs the on-demand command', () => {
    const chart = new Chart(Testing.app(), 'etcd', { namespace: 'etcd' });
    const etcd = new EtcdCluster(chart, 'etcd');
    const backup = new EtcdBackup(chart, 'Nightly', { ...defaults, cluster: etcd });
    expect(backup.name).toBe('etcd-nightly');
    expect(backup.cronJob.name).toBe('etcd-nightly');
    expect(backup.snapshotPrefix).toBe('etcd.etcd-');
    expect(backup.onDemandCommand).toBe('kubectl --namespace etcd create job --from=cronjob/etcd-nightly etcd-nightly-$(date +%s)');
  });
});

describe('bad input gets a clear error', () => {
  test.each<[string, Partial<EtcdBackupOptions>, string | RegExp]>([
    ['a minute out of range', { schedule: Cron.schedule({ minute: '61' }) }, "schedule must be a five-field cron schedule such as '0 2 * * *', or @hourly/@daily/@weekly/@monthly/@yearly (got '61 * * * *'): Invalid value for minute: 61"],
    ['six fields', { schedule: { expressionString: '0 0 2 * * *' } as Cron }, /got '0 0 2 \* \* \*'\): it has 6 fields/],
    ['an unknown descriptor', { schedule: { expressionString: '@reboot' } as Cron }, /Kubernetes knows no such descriptor/],
    ['a Quartz extension', { schedule: Cron.schedule({ minute: '0', hour: '2', day: 'L' }) }, /'L', 'W' and '#' are not part of Kubernetes' cron syntax/],
    ['a time zone in the schedule', { schedule: { expressionString: 'TZ=UTC 0 2 * * *' } as Cron }, /use timeZone/],
    ['an unknown time zone', { timeZone: 'Mars/Olympus' }, "timeZone must be an IANA time zone name such as 'Etc/UTC' or 'Europe/Berlin' (got 'Mars/Olympus')"],
    ['retention below 1', { keepLast: 0 }, 'keepLast must be a whole number between 1 and 10000 (got 0)'],
    ['an age rule below an hour', { keepWithin: Duration.minutes(10) }, /keepWithin must be a whole number of seconds, at least 3600 \(got 600 s\)/],
    ['no destination', { destinations: [] }, /destinations must name at least one place to store snapshots/],
    ['no encryption choice', { encryption: undefined }, /encryption must be given: EtcdBackupEncryption.rcloneCrypt/],
    ['a mutable image', { rcloneImage: 'rclone/rclone:latest' }, "rcloneImage must be an image pinned by a version tag or digest, e.g. 'rclone/rclone:1.76.0' (got 'rclone/rclone:latest'): the job's commands are written for that image's contents"],
    ['an untagged image', { busyboxImage: 'busybox' }, /busyboxImage must be an image pinned/],
    ['a name too long for its Jobs', { name: 'a'.repeat(53) }, /name must .* at most 52 characters/],
    ['too many retries', { backoffLimit: 7 }, 'backoffLimit must be a whole number between 0 and 6 (got 7)'],
    ['a starting deadline the controller cannot meet', { startingDeadline: Duration.seconds(5) }, /startingDeadline must be a whole number of seconds, at least 10 \(got 5 s\)/],
  ])('%s', (_, options, message) => {
    expect(() => statefulSetBackup(options)).toThrow(message);
  });

  test.each<[string, () => unknown, string | RegExp]>([
    ['a bucket missing', () => EtcdBackupDestination.objectStore({ bucket: '', credentialsSecretName: 's' }), 'EtcdBackupDestination.objectStore() needs bucket, the bucket snapshots are written to (got "")'],
    ['credentials missing', () => EtcdBackupDestination.objectStore({ bucket: 'etcd', credentialsSecretName: '' }), /needs credentialsSecretName, a Secret with the access key pair/],
    ['a bad bucket name', () => EtcdBackupDestination.objectStore({ bucket: 'Etcd_Backups', credentialsSecretName: 's' }), /bucket must be an S3 bucket name/],
    ['an endpoint with a path', () => s3({ endpoint: 'https://s3.example.com/etcd' }), /endpoint must be an http\(s\) URL of a host and optional port/],
    ['a prefix with ..', () => s3({ prefix: 'a/../b' }), /prefix must be a relative path/],
    ['a new-claim size with an existing claim', () => EtcdBackupDestination.volume({ claimName: 'x', size: Size.gibibytes(5) }), /size and storageClassName describe a new claim, but claimName 'x' names an existing one/],
    ['encryption without a key', () => EtcdBackupEncryption.rcloneCrypt({ secretName: '' }), /rcloneCrypt\(\) needs secretName, the Secret that holds the passphrase .*without a key nothing can be encrypted/],
  ])('%s', (_, make, message) => {
    expect(make).toThrow(message);
  });

  test('a client identity requested from a cluster without TLS', () => {
    expect(() => statefulSetBackup({ clientSecretName: 'backup-user' }, { tls: EtcdTls.disabled() }))
      .toThrow("clientSecretName 'backup-user' is a client certificate, but the cluster's tls is disabled: members accept plain http only; drop clientSecretName or enable tls");
  });

  test('a TLS cluster whose Secrets name no client certificate', () => {
    expect(() => statefulSetBackup({}, { tls: EtcdTls.fromSecrets({ serverSecretName: 's', peerSecretName: 'p' }) }))
      .toThrow(/the job needs a client certificate, but the cluster has none/);
  });

  test('a client Secret for a static-pod cluster, which uses kubeadm\'s certificate', () => {
    const etcd = new EtcdStaticPodCluster(Testing.app(), 'etcd', { nodes: [{ name: 'cp-1', ip: '10.0.0.11' }] });
    expect(() => etcd.addBackup('b', { ...defaults, clientSecretName: 'x' })).toThrow(/static-pod jobs use kubeadm's healthcheck-client certificate/);
  });

  test('a backup outside any Chart', () => {
    const app = new App();
    const etcd = new EtcdCluster(new Chart(app, 'etcd'), 'etcd');
    expect(() => new EtcdBackup(app, 'b', { ...defaults, cluster: etcd })).toThrow(/must be created inside a Chart/);
  });
});

describe('the snapshot step', () => {
  /** Run the step's script against an etcdctl stand-in: `quorum` decides the linearizable read, `hang` the snapshot. */
  function runSnapshotStep(opts: { quorum: boolean; hang?: boolean; lineage?: string }) {
    const script: string = statefulSetBackup().container('snapshot').command[2];
    const box = new ScriptSandbox('snapshot');
    if (opts.lineage !== undefined) box.write('lineage', `${opts.lineage}\n`);
    box.stub('etcdctl', `echo "$*" >> "${box.root}/calls"
case "$*" in
  *" get --consistency=l /cdk8s-etcd/backup-quorum-check "*) ${opts.quorum ? `echo '{"header":{"cluster_id":14841639068965178418,"member_id":10276657743932975437,"revision":8,"raft_term":2}}'` : 'echo "context deadline exceeded" >&2; exit 1'};;
  *" get --consistency=l /cdk8s-etcd/lineage "*) cat "${box.root}/lineage" 2>/dev/null; exit 0;;
  *" txn"*) in=$(cat); echo "$in" >> "${box.root}/txn"; [ -s "${box.root}/lineage" ] || echo "$in" | sed -n 's#^put /cdk8s-etcd/lineage ##p' > "${box.root}/lineage"; echo SUCCESS;;
  *"endpoint status"*) echo 'https://etcd:2379, 8e9e05c52164694d, 3.5.35, 3.5.0, 20 kB, true, false, 2, 8, 8, ';;
  *"member list"*) printf '%s\\n' '91bc3c398fb3c146, started, etcd-0, https://etcd-0:2380, https://etcd-0.etcd-peer:2379, false' '8e9e05c52164694d, started, etcd-1, https://etcd-1:2380, https://etcd-1.etcd-peer:2379,https://10.0.0.2:2379, false';;
  *"snapshot save"*) ${opts.hang ? 'exec sleep 30' : 'echo db > "$5"'};;
esac
`);
    const r = box.run(script, { ENDPOINT: 'https://etcd:2379', BALANCED: 'true', CONSISTENCY: '', SNAPSHOT_TIMEOUT: '1' });
    const run = { ...r, calls: box.read('calls'), version: box.read('work/server-version'), clusterId: box.read('work/cluster-id'), lineage: box.read('work/lineage'), txn: box.read('txn') };
    box.dispose();
    return run;
  }

  test('a member without a quorum (its linearizable read fails) is never snapshotted', () => {
    const run = runSnapshotStep({ quorum: false });
    expect(run.status).toBe(1);
    expect(run.output).toContain('https://etcd-1.etcd-peer:2379 did not answer a linearizable read within 15 s: it has no quorum');
    expect(run.calls).not.toContain('snapshot save');
  });

  test('with a quorum, the answering member\'s own version and cluster ID are noted for the record, and every step talks to that member', () => {
    const run = runSnapshotStep({ quorum: true });
    expect(run.status).toBe(0);
    expect(run.version).toBe('3.5.35');
    // A uint64 above 2^63, kept as etcd printed it.
    expect(run.clusterId).toBe('14841639068965178418');
    // Through the Service only to learn which member answered; then that member by its own URL, for every step.
    expect(run.calls.split('\n').map((c) => `${c.split(' ')[0]} ${c.split(' ')[3]}`)).toEqual([
      '--endpoints=https://etcd:2379 endpoint',
      '--endpoints=https://etcd:2379 member',
      '--endpoints=https://etcd-1.etcd-peer:2379 get',
      '--endpoints=https://etcd-1.etcd-peer:2379 get',
      '--endpoints=https://etcd-1.etcd-peer:2379 txn',
      '--endpoints=https://etcd-1.etcd-peer:2379 get',
      '--endpoints=https://etcd-1.etcd-peer:2379 save',
    ]);
  });

  test('the first backup names the lineage once, only if absent (a txn on create revision 0); later runs read it', () => {
    const first = runSnapshotStep({ quorum: true });
    expect(first.lineage).toMatch(/^[0-9a-f]{32}$/);
    expect(first.txn).toBe(`create("/cdk8s-etcd/lineage") = "0"\n\nput /cdk8s-etcd/lineage ${first.lineage}`);
    const later = runSnapshotStep({ quorum: true, lineage: 'ab'.repeat(16) });
    expect(later.lineage).toBe('ab'.repeat(16));
    expect(later.txn).toBe('');
    const bad = runSnapshotStep({ quorum: true, lineage: 'not-hex' });
    expect(bad.status).toBe(1);
    expect(bad.output).toContain("/cdk8s-etcd/lineage on https://etcd-1.etcd-peer:2379 holds 'not-hex', not a lineage");
    expect(bad.calls).not.toContain('snapshot save');
  });

  test('a snapshot that does not finish within SNAPSHOT_TIMEOUT fails the step with the reason', () => {
    const run = runSnapshotStep({ quorum: true, hang: true });
    expect(run.status).toBe(1);
    expect(run.output).toContain('did not finish within 1 s');
    expect(run.ms).toBeLessThan(10000);
  });

  test('the bound: the quota at 8 MiB/s plus a minute, never past the Job\'s deadline', () => {
    expect(snapshotTimeoutSeconds(2 * 1024 ** 3, 3600)).toBe(316);
    expect(snapshotTimeoutSeconds(8 * 1024 ** 3, 3600)).toBe(1084);
    expect(snapshotTimeoutSeconds(8 * 1024 ** 3, 600)).toBe(600);
    // The default StatefulSet's quota is 3.75 GiB: 480 s at 8 MiB/s, plus 60.
    expect(envOf(statefulSetBackup().container('snapshot')).SNAPSHOT_TIMEOUT).toBe('540');
  });
});

/** The lineage of the cluster the backups in these tests run against, and another cluster's. */
const OURS = 'a'.repeat(32);
const THEIRS = 'b'.repeat(32);
/** A record as the verify step writes it, trimmed to what the store step reads (the same cluster ID: identical deployments). */
const recordOf = (stem: string, lineage = OURS) => `{"cluster":"etcd","namespace":"etcd","clusterId":"14841639068965178418","lineage":"${lineage}","snapshot":"${stem}.db.rclone","sha256":"x"}`;

describe('retention (the store script, run by busybox against a listing)', () => {
  const busybox = '/bin/busybox';
  const haveBusybox = fs.existsSync(busybox);

  /**
   * Run the store step with an rclone stand-in whose destination lists `existing` (stem → the lineage its record
   * names), and a `date` whose "now" is `now` (busybox's own date, as in the rclone image, for parsing the names):
   * returns the snapshots retention deleted.
   */
  function prune(existing: { [stem: string]: string }, now: string, retention: Partial<EtcdBackupOptions>): { deleted: string[]; output: string } {
    const store = statefulSetBackup(retention).container('store');
    const box = new ScriptSandbox('prune');
    const name = `etcd.etcd-${now}`;
    box.write(`work/out/${name}.db`, 'db');
    box.write(`work/out/${name}.json`, recordOf(name));
    box.write('work/lineage', OURS);
    const all: { [stem: string]: string } = { ...existing, [name]: OURS };
    box.write('records', Object.entries(all).map(([stem, id]) => recordOf(stem, id)).join('\n') + '\n');
    box.stub('rclone', `case "$1" in
  lsf) printf '%s\\n' ${Object.keys(all).map((stem) => `'${stem}.json'`).join(' ')};;
  delete) case "$5" in *.json) echo "$5" >> "${box.root}/deleted";; esac;;
  cat) case "$*" in *--include*) cat "${box.root}/records";; *) printf db;; esac;;
esac
exit 0
`, `${busybox} sh`);
    const epoch = spawnSync(busybox, ['date', '-u', '-D', '%Y%m%dT%H%M%SZ', '-d', now, '+%s'], { encoding: 'utf8' }).stdout.trim();
    box.stub('date', `[ "$*" = "-u +%s" ] && { echo ${epoch}; exit 0; }\nexec ${busybox} date "$@"\n`, `${busybox} sh`);
    const r = box.run(store.command[2], { ...envOf(store), ...keyFiles(box) });
    const deleted = box.read('deleted');
    box.dispose();
    if (r.status !== 0) throw new Error(r.output);
    // Each destination is pruned: report each snapshot once, by name.
    return { deleted: [...new Set(deleted ? deleted.split('\n').map((d) => path.basename(d).replace(/\.json$/, '')) : [])].sort(), output: r.stdout };
  }

  const history = ['etcd.etcd-20261120T020000Z', 'etcd.etcd-20261121T020000Z', 'etcd.etcd-20261122T020000Z', 'etcd.etcd-20261123T020000Z'];
  const ours = (stems: string[]) => Object.fromEntries(stems.map((stem) => [stem, OURS]));
  const maybe = haveBusybox ? test : test.skip;

  maybe('with a true clock, keepLast 3 deletes the oldest beyond the newest 3', () => {
    expect(prune(ours(history), '20261124T020000Z', { keepLast: 3 }).deleted).toEqual(['etcd.etcd-20261120T020000Z', 'etcd.etcd-20261121T020000Z']);
  });

  maybe('a snapshot stamped in the future (a clock that ran ahead) takes no place of the real history, and is kept', () => {
    const run = prune(ours([...history, 'etcd.etcd-20301201T000000Z']), '20261124T020000Z', { keepLast: 3 });
    expect(run.deleted).toEqual(['etcd.etcd-20261120T020000Z', 'etcd.etcd-20261121T020000Z']);
    expect(run.output).toContain('retention keeps etcd.etcd-20301201T000000Z and does not count it');
  });

  maybe('a run whose clock is 30 days ahead, with keepWithin alone, expires only what is old against the newest earlier snapshot', () => {
    // Without that, every real snapshot would look 30 days old and go.
    expect(prune(ours(history), '20261224T020000Z', { keepWithin: Duration.days(3) }).deleted).toEqual(['etcd.etcd-20261120T020000Z']);
  });

  maybe('a run whose clock is years behind deletes nothing of the real history', () => {
    const run = prune(ours(history), '20200101T000000Z', { keepLast: 1, keepWithin: Duration.days(1) });
    expect(run.deleted).toEqual([]);
    for (const stem of history) expect(run.output).toContain(`retention keeps ${stem} and does not count it`);
  });

  maybe('another cluster writing the same names here (the same app in two Kubernetes clusters, one etcd cluster ID) neither counts nor goes', () => {
    // Theirs interleave with ours: counted, they would push ours out of keepLast 3 and never be deleted themselves.
    const theirs = { 'etcd.etcd-20261120T030000Z': THEIRS, 'etcd.etcd-20261122T030000Z': THEIRS, 'etcd.etcd-20261123T030000Z': THEIRS };
    const run = prune({ ...ours(history), ...theirs }, '20261124T020000Z', { keepLast: 3 });
    expect(run.deleted).toEqual(['etcd.etcd-20261120T020000Z', 'etcd.etcd-20261121T020000Z']);
    expect(run.output).toContain(`retention keeps etcd.etcd-20261123T030000Z and does not count it: its record names lineage ${THEIRS}, not this cluster's (${OURS})`);
  });

  maybe('a record without a lineage (not written by this version) is kept and not counted', () => {
    const run = prune({ ...ours(history), 'etcd.etcd-20261119T020000Z': '' }, '20261124T020000Z', { keepLast: 3 });
    expect(run.deleted).toEqual(['etcd.etcd-20261120T020000Z', 'etcd.etcd-20261121T020000Z']);
    expect(run.output).toContain('retention keeps etcd.etcd-20261119T020000Z and does not count it: its record names lineage (none)');
  });

  maybe('snapshots of a cluster of the same name in another namespace are not even listed as candidates', () => {
    const run = prune({ ...ours(history), 'other.etcd-20261101T020000Z': OURS }, '20261124T020000Z', { keepLast: 3 });
    expect(run.deleted).toEqual(['etcd.etcd-20261120T020000Z', 'etcd.etcd-20261121T020000Z']);
    expect(run.output).not.toContain('other.etcd');
  });
});

describe('the store step reads every copy back and compares its content', () => {
  /** Run the store step against an rclone stand-in whose `cat` returns `readBack` for the snapshot. */
  function store(readBack: string) {
    const container = statefulSetBackup({ destinations: [EtcdBackupDestination.volume(), s3()] }).container('store');
    const box = new ScriptSandbox('store');
    box.write('work/out/etcd.etcd-20261121T020000Z.db', 'the snapshot');
    box.write('work/out/etcd.etcd-20261121T020000Z.json', recordOf('etcd.etcd-20261121T020000Z'));
    box.write('work/lineage', OURS);
    // As rclone check and cryptcheck do for a multipart object, the stand-in would report nothing wrong by hash.
    box.stub('rclone', `echo "$*" >> "${box.root}/calls"\n[ "$1" = cat ] && printf '%s' '${readBack}'\nexit 0\n`);
    const r = box.run(container.command[2], { ...envOf(container), ...keyFiles(box) });
    const calls = box.read('calls').split('\n');
    box.dispose();
    return { ...r, calls };
  }

  test('a copy whose decrypted bytes differ fails the run, and its record is never written', () => {
    const run = store('the snapshoT');
    expect(run.status).toBe(1);
    expect(run.output).toContain('the copy in dest1:/backups/1/ reads back (decrypted) with sha256');
    expect(run.calls.filter((c) => c.includes('.json'))).toEqual([]);
  });

  test('copies that read back intact are stored, each through its crypt remote, with the record last', () => {
    const run = store('the snapshot');
    expect(run.status).toBe(0);
    // (rclone obscure: the crypt password from the passphrase.)
    expect(run.calls.filter((c) => !c.startsWith('obscure')).slice(0, 6)).toEqual([
      'copyto etcd.etcd-20261121T020000Z.db sealed1:etcd.etcd-20261121T020000Z.db',
      'cat sealed1:etcd.etcd-20261121T020000Z.db',
      'copyto etcd.etcd-20261121T020000Z.json dest1:/backups/1/etcd.etcd-20261121T020000Z.json',
      'copyto etcd.etcd-20261121T020000Z.db sealed2:etcd.etcd-20261121T020000Z.db',
      'cat sealed2:etcd.etcd-20261121T020000Z.db',
      'copyto etcd.etcd-20261121T020000Z.json dest2:etcd-backups/prod/etcd.etcd-20261121T020000Z.json',
    ]);
  });
});

describe('one place, one backup', () => {
  test('two backups in one App that write the same bucket and prefix are refused, naming both', () => {
    const chart = new Chart(Testing.app(), 'c', { namespace: 'etcd' });
    const a = new EtcdCluster(chart, 'etcd-a');
    const b = new EtcdCluster(chart, 'etcd-b');
    a.addBackup('backup', { ...defaults, destinations: [s3()] });
    expect(() => b.addBackup('backup', { ...defaults, destinations: [s3()] }))
      .toThrow("destinations: s3://etcd-backups/prod/ is written by 'c/etcd-a/backup' too, and 'c/etcd-b/backup' would write it as well");
    // Another prefix, or another endpoint, is another place.
    expect(() => b.addBackup('other-prefix', { ...defaults, destinations: [s3({ prefix: 'prod-b' })] })).not.toThrow();
    expect(() => b.addBackup('other-endpoint', { ...defaults, destinations: [s3({ endpoint: 'https://minio.example.com' })] })).not.toThrow();
  });

  test('the same claim and directory is refused; another directory is not; one destination listed twice is refused', () => {
    const chart = new Chart(Testing.app(), 'c', { namespace: 'etcd' });
    const etcd = new EtcdCluster(chart, 'etcd');
    etcd.addBackup('daily', { ...defaults, destinations: [EtcdBackupDestination.volume({ claimName: 'backups', directory: 'etcd' })] });
    expect(() => etcd.addBackup('hourly', { ...defaults, destinations: [EtcdBackupDestination.volume({ claimName: 'backups', directory: 'etcd' })] }))
      .toThrow("persistentvolumeclaim/backups/etcd is written by 'c/etcd/daily' too");
    expect(() => etcd.addBackup('weekly', { ...defaults, destinations: [EtcdBackupDestination.volume({ claimName: 'backups', directory: 'weekly' })] })).not.toThrow();
    expect(() => etcd.addBackup('twice', { ...defaults, destinations: [s3({ prefix: 'x' }), s3({ prefix: 'x' })] })).toThrow("s3://etcd-backups/x/ is listed twice in 'c/etcd/twice'");
  });
});
