import { App, Chart, Testing } from 'cdk8s';
import {
  EtcdBackupDestination, EtcdBackupEncryption, EtcdCluster, EtcdRequiredSecret, EtcdSnapshotSource, EtcdStaticPodCluster, EtcdTls,
} from '../../lib';
import { Manifest, synth } from '../support/synth';

const sealed = EtcdBackupEncryption.rcloneCrypt({ secretName: 'backup-key' });
const bucket = { endpoint: 'https://s3.example.com', bucket: 'etcd-backups', prefix: 'prod', credentialsSecretName: 's3-credentials' };
const nodes = [1, 2, 3].map((i) => ({ name: `cp-${i}`, ip: `10.0.0.${10 + i}` }));

/** Every Secret key the manifests read: `<namespace>/<name>` → keys (`*` for a whole Secret mounted without items). */
function secretReferences(manifests: Manifest[]): Map<string, Set<string>> {
  const refs = new Map<string, Set<string>>();
  const add = (namespace: string, name: string, key: string) => {
    const id = `${namespace}/${name}`;
    refs.set(id, (refs.get(id) ?? new Set()).add(key));
  };
  for (const m of manifests) {
    const namespace = m.metadata?.namespace ?? 'default';
    const visit = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(visit);
      if (!node || typeof node !== 'object') return;
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const n = node as any;
      if (n.secret?.secretName) {
        for (const key of n.secret.items?.map((i: { key: string }) => i.key) ?? ['*']) add(namespace, n.secret.secretName, key);
      }
      if (n.secretKeyRef?.name) add(namespace, n.secretKeyRef.name, n.secretKeyRef.key);
      if (n.secretRef?.name) add(namespace, n.secretRef.name, '*');
      Object.values(n).forEach(visit);
    };
    visit(m.spec);
  }
  return refs;
}

/** The Secrets the manifests create themselves, or have cert-manager create. */
function createdSecrets(manifests: Manifest[]): Set<string> {
  return new Set(manifests.flatMap((m) => {
    const namespace = m.metadata?.namespace ?? 'default';
    if (m.kind === 'Secret') return [`${namespace}/${m.metadata.name}`];
    if (m.kind === 'Certificate') return [`${namespace}/${m.spec.secretName}`];
    return [];
  }));
}

/**
 * The check that keeps `requiredSecrets` honest: every Secret the manifests read is created by them or listed, with
 * every key they read; and nothing is listed that they do not read.
 */
function expectListedExactly(manifests: Manifest[], required: EtcdRequiredSecret[]): void {
  const created = createdSecrets(manifests);
  const needed = [...secretReferences(manifests)].filter(([id]) => !created.has(id));
  expect(required.map((r) => `${r.namespace}/${r.name}`).sort()).toEqual(needed.map(([id]) => id).sort());
  for (const [id, keys] of needed) {
    const listed = required.find((r) => `${r.namespace}/${r.name}` === id)!.keys.map((k) => k.key);
    for (const key of keys) if (key !== '*') expect(listed).toContain(key);
  }
}

test('a cluster with its own certificates, a restore and two backups lists every Secret the manifests read, once each', () => {
  const chart = new Chart(Testing.app(), 'c', { namespace: 'etcd' });
  const etcd = new EtcdCluster(chart, 'etcd-restored', {
    tls: EtcdTls.fromSecrets({ serverSecretName: 'etcd-server', peerSecretName: 'etcd-peer', clientSecretName: 'etcd-client' }),
    restoreFrom: EtcdSnapshotSource.objectStore({ ...bucket, clusterName: 'etcd', encryption: sealed }),
  });
  const hourly = etcd.addBackup('hourly', { destinations: [EtcdBackupDestination.volume()], encryption: sealed });
  etcd.addBackup('daily', {
    destinations: [EtcdBackupDestination.objectStore({ ...bucket, prefix: 'daily', accessKeyIdKey: 'id', secretAccessKeyKey: 'secret' })],
    encryption: sealed,
    clientSecretName: 'etcd-backup-client',
  });
  const required = etcd.requiredSecrets;
  expect(required.map((r) => r.name)).toEqual(['backup-key', 'etcd-backup-client', 'etcd-client', 'etcd-peer', 'etcd-server', 's3-credentials']);
  expect(required.find((r) => r.name === 'backup-key')).toEqual({
    name: 'backup-key',
    namespace: 'etcd',
    type: 'Opaque',
    keys: [
      { key: 'passphrase', holds: 'the rclone crypt passphrase' },
      { key: 'salt', holds: "rclone crypt's salt (password2): 16 or more random characters, e.g. head -c 24 /dev/urandom | base64" },
    ],
    usedBy: ['StatefulSet etcd-restored (restore-fetch)', 'CronJob etcd-restored-hourly (store)', 'CronJob etcd-restored-daily (store)'],
    createCommand: 'kubectl --namespace etcd create secret generic backup-key --from-file=passphrase=./passphrase --from-file=salt=./salt',
  });
  // One Secret read with two pairs of keys: both pairs are listed.
  expect(required.find((r) => r.name === 's3-credentials')!.keys.map((k) => k.key)).toEqual(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'id', 'secret']);
  expect(required.find((r) => r.name === 'etcd-server')).toMatchObject({
    type: 'kubernetes.io/tls',
    keys: [{ key: 'tls.crt' }, { key: 'tls.key' }, { key: 'ca.crt' }],
    createCommand: 'kubectl --namespace etcd create secret generic etcd-server --type=kubernetes.io/tls --from-file=tls.crt=./tls.crt --from-file=tls.key=./tls.key --from-file=ca.crt=./ca.crt',
  });
  // Each backup lists its own.
  expect(hourly.requiredSecrets.map((r) => r.name)).toEqual(['backup-key']);
  expectListedExactly(synth(chart), required);
});

test('cert-manager certificates and generated ones are not the user\'s to create', () => {
  for (const tls of [EtcdTls.certManager(), EtcdTls.generate()]) {
    const chart = new Chart(Testing.app(), 'c', { namespace: 'etcd' });
    const etcd = new EtcdCluster(chart, 'etcd', { tls });
    expect(etcd.requiredSecrets).toEqual([]);
    expectListedExactly(synth(chart), etcd.requiredSecrets);
  }
});

test('static pods read no Secrets; their backups do, in the jobs\' namespace', () => {
  const app = new App({ outdir: Testing.app().outdir });
  const etcd = new EtcdStaticPodCluster(app, 'etcd', { nodes });
  expect(etcd.requiredSecrets).toEqual([]);
  const backup = etcd.addBackup('daily', { destinations: [EtcdBackupDestination.objectStore(bucket)], encryption: sealed });
  expect(etcd.requiredSecrets.map((r) => `${r.namespace}/${r.name}`)).toEqual(['kube-system/backup-key', 'kube-system/s3-credentials']);
  expectListedExactly(synth(Chart.of(backup)), etcd.requiredSecrets);
});

test('unencrypted backups to a volume need nothing', () => {
  const chart = new Chart(Testing.app(), 'c', { namespace: 'etcd' });
  const etcd = new EtcdCluster(chart, 'etcd');
  etcd.addBackup('hourly', { destinations: [EtcdBackupDestination.volume()], encryption: EtcdBackupEncryption.none() });
  expect(etcd.requiredSecrets).toEqual([]);
  expectListedExactly(synth(chart), []);
});
