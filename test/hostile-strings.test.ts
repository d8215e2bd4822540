import { spawnSync } from 'child_process';
import { Chart, Testing } from 'cdk8s';
import {
  EtcdBackupDestination, EtcdBackupEncryption, EtcdCluster, EtcdSnapshotSource, EtcdStaticPodCluster,
} from '../lib';
import { ScriptSandbox } from './support/script-sandbox';
import { Manifest, synth } from './support/synth';

/**
 * Every prop whose value reaches a shell script, fed with the characters that break one: the scripts must parse,
 * and the values must reach them only as quoted variables (env), never as script text. `$` and spaces are not
 * legal in a bucket prefix or a claim directory (refused at synthesis); a host path may hold `$`.
 */
const NASTY = "it's(a)!*=-x";
const NASTY_HOST_DIR = "/var/lib/snap's($HOME)`id`";

const sealed = EtcdBackupEncryption.rcloneCrypt({ secretName: 'backup-key' });

/** Every `sh -c <script>` in the manifests, with where it runs. */
function scriptsOf(manifests: Manifest[]): { where: string; script: string; env: { [k: string]: string } }[] {
  const found: { where: string; script: string; env: { [k: string]: string } }[] = [];
  const visit = (node: unknown, where: string): void => {
    if (Array.isArray(node)) {
      node.forEach((n, i) => visit(n, `${where}[${i}]`));
    } else if (node && typeof node === 'object') {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const c = node as any;
      if (Array.isArray(c.command) && c.command[1] === '-c') {
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        const env = Object.fromEntries((c.env ?? []).filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
        found.push({ where: `${where} ${c.name}`, script: c.command[2], env });
      }
      for (const [k, v] of Object.entries(c)) visit(v, `${where}.${k}`);
    }
  };
  manifests.forEach((m) => visit(m, `${m.kind}/${m.metadata?.name}`));
  return found;
}

function statefulSetWorld(): Manifest[] {
  const chart = new Chart(Testing.app(), 'c', { namespace: 'etcd' });
  const etcd = new EtcdCluster(chart, 'etcd');
  etcd.addBackup('backup', {
    destinations: [
      EtcdBackupDestination.volume({ directory: NASTY }),
      EtcdBackupDestination.objectStore({ bucket: 'etcd-backups', prefix: `${NASTY}/${NASTY}`, credentialsSecretName: 's3' }),
    ],
    encryption: sealed,
  });
  new EtcdCluster(chart, 'from-bucket', {
    restoreFrom: EtcdSnapshotSource.objectStore({ clusterName: 'etcd', bucket: 'etcd-backups', prefix: NASTY, credentialsSecretName: 's3', encryption: sealed }),
  });
  new EtcdCluster(chart, 'from-claim', {
    restoreFrom: EtcdSnapshotSource.volume({ clusterName: 'etcd', claimName: 'backups', directory: NASTY, encryption: EtcdBackupEncryption.none() }),
  });
  return synth(chart);
}

function staticPodWorld(): Manifest[] {
  const app = Testing.app();
  const nodes = [{ name: 'cp-1', ip: '10.0.0.11' }];
  const etcd = new EtcdStaticPodCluster(app, 'etcd', {
    nodes,
    dataDir: '/var/lib/etcd-restored',
    initialClusterToken: 'restored-1',
    restoreFrom: EtcdSnapshotSource.hostPath({ directory: NASTY_HOST_DIR, clusterName: 'etcd' }),
  });
  const backup = etcd.addBackup('backup', { destinations: [EtcdBackupDestination.objectStore({ bucket: 'etcd-backups', prefix: NASTY, credentialsSecretName: 's3' })], encryption: sealed });
  return [...synth(etcd.chartFor('cp-1')), ...synth(Chart.of(backup))];
}

test('a host directory reaches the static-pod restore steps as env', () => {
  const values = scriptsOf(staticPodWorld()).flatMap((s) => Object.values(s.env));
  expect(values).toContain(NASTY_HOST_DIR);
});

describe.each([
  ['EtcdCluster: backup to a claim directory and a bucket prefix, restores from both', statefulSetWorld],
  ['EtcdStaticPodCluster: restore from a host directory, backup to a bucket prefix', staticPodWorld],
])('%s, with quotes, parentheses and $ in every value', (_, world) => {
  const scripts = world();

  test('the values reach the steps, as env', () => {
    const values = scriptsOf(scripts).flatMap((s) => Object.values(s.env));
    expect(values.some((v) => v.includes(NASTY))).toBe(true);
  });

  test.each(scriptsOf(scripts).map((s) => [s.where, s.script] as const))('%s parses as POSIX sh and holds no user value', (__, script) => {
    const r = spawnSync('sh', ['-n', '-c', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(script).not.toContain(NASTY);
    expect(script).not.toContain(NASTY_HOST_DIR);
  });
});

test('the store step hands rclone a hostile prefix and directory as one argument each, unchanged', () => {
  const store = scriptsOf(statefulSetWorld()).find((s) => s.where.endsWith(' store'))!;
  const box = new ScriptSandbox('store');
  box.write('work/out/etcd.etcd-20261121T020000Z.db', 'db');
  box.write('work/out/etcd.etcd-20261121T020000Z.json', '{}');
  box.write('work/lineage', 'a'.repeat(32));
  // rclone stand-in: one argument per line, then a separator; `cat` reads back what was stored.
  box.stub('rclone', `printf '%s\\n' "$@" --- >> "${box.root}/calls"\n[ "$1" = cat ] && printf db\nexit 0\n`);
  const r = box.run(store.script, { ...store.env, PASSPHRASE_FILE: box.write('passphrase', 'x'), SALT_FILE: box.write('salt', 'sixteen-or-more-chars') });
  const calls = box.read('calls').split('---\n').map((c) => c.trim().split('\n'));
  box.dispose();
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(calls).toContainEqual(['copyto', 'etcd.etcd-20261121T020000Z.json', `dest1:/backups/1/${NASTY}/etcd.etcd-20261121T020000Z.json`]);
  expect(calls).toContainEqual(['copyto', 'etcd.etcd-20261121T020000Z.json', `dest2:etcd-backups/${NASTY}/${NASTY}/etcd.etcd-20261121T020000Z.json`]);
  expect(calls).toContainEqual(['lsf', '--files-only', '--include', '/etcd.etcd-*.json', `dest2:etcd-backups/${NASTY}/${NASTY}/`]);
});

test('a $ or a space in a bucket prefix or claim directory is refused at synthesis, naming the property', () => {
  expect(() => EtcdBackupDestination.objectStore({ bucket: 'etcd-backups', prefix: 'a$b', credentialsSecretName: 's3' })).toThrow("prefix must be a relative path of letters, digits and !_.*'()=- separated by '/'");
  expect(() => EtcdBackupDestination.volume({ directory: 'a b' })).toThrow("directory must be a relative path of letters, digits and !_.*'()=- separated by '/'");
});
