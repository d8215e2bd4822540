import * as fs from 'fs';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { EtcdCluster, EtcdStaticPodCluster, EtcdVersion } from '../../lib';
import { upgradeGateShell } from '../../lib/release/upgrade-gate';
import { ScriptSandbox } from '../support/script-sandbox';
import { validSnapshot } from '../support/snapshot-file';
import { only, synth } from '../support/synth';

/**
 * The pre-upgrade gate's shell, run by a real `sh` against a stand-in etcdctl: which endpoints are healthy, which
 * alarms are raised, and what `snapshot save` writes. Real members run it in test/e2e/upgrade.test.ts.
 */

interface GateWorld {
  readonly unhealthy?: string[];
  readonly alarms?: string;
  readonly corrupt?: boolean;
  /** Free KiB that df reports. @default the host's */
  readonly freeKib?: number;
  /** The snapshot is there already. */
  readonly passed?: boolean;
  /** `$GATE_KEEP_FREE`: bytes to leave free beside the snapshot. */
  readonly keepFree?: number;
}

function runGate(world: GateWorld, script?: string): { status: number | null; output: string; saved: boolean; part: boolean; calls: string } {
  const box = new ScriptSandbox('upgrade-gate');
  fs.writeFileSync(path.join(box.bin, 'snap.db'), validSnapshot(2, world.corrupt));
  box.stub('etcdctl', `words=""
for a in "$@"; do case $a in --endpoints=*) ep=\${a#--endpoints=};; --*) ;; *) words="$words $a";; esac; done
set -- $words
echo "$1 $2 $ep" >> "${box.bin}/calls"
case "$1 $2" in
  "endpoint health") case " ${(world.unhealthy ?? []).join(' ')} " in *" $ep "*) echo "$ep is unhealthy" >&2; exit 1;; esac;;
  "alarm list") printf '%s' "${world.alarms ?? ''}";;
  "endpoint status") echo '[{"Endpoint":"x","Status":{"leader":2},"dbSize":20480}]';;
  "snapshot save") cp "${box.bin}/snap.db" "$3";;
  *) exit 2;;
esac
`);
  box.stub('etcdutl', 'echo \'{"hash":7,"revision":42,"totalKey":3,"totalSize":1024}\'\n');
  if (world.freeKib !== undefined) box.stub('df', `echo "Filesystem 1024-blocks Used Available Capacity Mounted on"; echo "/dev/x 100 50 ${world.freeKib} 50% /"\n`);
  const file = path.join(box.root, 'pre.db');
  if (world.passed) fs.writeFileSync(file, validSnapshot());
  const r = box.run(script ?? `say() { echo "$*"; }
ctl() { etcdctl "$@"; }
${upgradeGateShell(EtcdVersion.of('3.6.16'))}
upgrade_gate "${file}" http://a:2379 http://b:2379 http://c:2379`, { SNAPSHOT_DIR: box.root, ...(world.keepFree === undefined ? {} : { GATE_KEEP_FREE: String(world.keepFree) }) });
  const result = { status: r.status, output: r.output, saved: fs.existsSync(file), part: fs.existsSync(`${file}.part`), calls: box.read('bin/calls') };
  box.dispose();
  return result;
}

describe('the pre-upgrade gate', () => {
  test('every member healthy, no alarm: a snapshot from the first endpoint is saved and verified', () => {
    const run = runGate({});
    expect(run.status).toBe(0);
    expect(run.saved).toBe(true);
    expect(run.calls.split('\n')).toEqual([
      'endpoint health http://a:2379', 'endpoint health http://b:2379', 'endpoint health http://c:2379',
      'alarm list http://a:2379,http://b:2379,http://c:2379', 'endpoint status http://a:2379', 'snapshot save http://a:2379',
    ]);
    expect(run.output).toMatch(/verified snapshot \S+pre\.db \(1056 bytes, revision 42\)/);
  });

  test('a member unhealthy: nothing is saved, and the endpoint is named', () => {
    const run = runGate({ unhealthy: ['http://b:2379'] });
    expect(run.status).toBe(1);
    expect(run.output).toContain('http://b:2379 is not healthy');
    expect(run.saved).toBe(false);
    expect(run.calls).not.toContain('snapshot save');
  });

  test('an alarm raised (NOSPACE alone too) stops it', () => {
    const run = runGate({ alarms: 'memberID:1 alarm:NOSPACE\n' });
    expect(run.status).toBe(1);
    expect(run.output).toContain('alarms are raised (memberID:1 alarm:NOSPACE)');
    expect(run.saved).toBe(false);
  });

  test('a snapshot whose contents do not match etcd\'s sha256 is refused and not kept, not even as a part', () => {
    const run = runGate({ corrupt: true });
    expect(run.status).toBe(1);
    expect(run.output).toContain('does not match the sha256 etcd appended');
    expect(run.saved).toBe(false);
    expect(run.part).toBe(false);
  });

  test('no room for the snapshot and as much again for etcd: it says so before it writes', () => {
    expect(runGate({ freeKib: 40 }).output).toContain('has 40 KiB free, and the snapshot (20480 bytes) must leave 20480 bytes for etcd');
    expect(runGate({ freeKib: 40 }).calls).not.toContain('snapshot save');
    expect(runGate({ freeKib: 41 }).status).toBe(0);
    // The StatefulSet keeps the quota free beside it (here 1 MiB): the database can still grow and be defragmented.
    expect(runGate({ freeKib: 41, keepFree: 1048576 }).output).toContain('must leave 1048576 bytes for etcd');
    expect(runGate({ freeKib: 1045, keepFree: 1048576 }).status).toBe(0);
  });

  test('a snapshot taken before is not taken again, but health and alarms are still checked', () => {
    const run = runGate({ passed: true });
    expect(run.status).toBe(0);
    expect(run.calls).not.toContain('snapshot save');
    expect(runGate({ passed: true, unhealthy: ['http://a:2379'] }).status).toBe(1);
  });
});

describe('EtcdStaticPodCluster upgradeGateScript', () => {
  const nodes = [0, 1, 2].map((i) => ({ name: `cp-${i}`, ip: `10.0.0.${10 + i}` }));
  const cluster = (version: string, upgradeFrom: string) => new EtcdStaticPodCluster(Testing.app(), 'etcd', {
    nodes, version: EtcdVersion.of(version), upgradeFrom: EtcdVersion.of(upgradeFrom),
  });

  test('rendered for another minor only, and gates every node\'s client URL into $SNAPSHOT_DIR', () => {
    expect(cluster('3.5.36', '3.5.35').upgradeGateScript).toBeUndefined();
    const script = cluster('3.6.16', '3.5.35').upgradeGateScript!;
    expect(script).toContain('upgrade_gate "${SNAPSHOT_DIR:-.}/pre-upgrade-3.5.35-to-3.6.16.db" https://10.0.0.10:2379 https://10.0.0.11:2379 https://10.0.0.12:2379');
    expect(script).toContain('ETCDCTL_CERT=${ETCDCTL_CERT:-/etc/kubernetes/pki/etcd/healthcheck-client.crt}');
  });

  test('run as written: exits 0 with the snapshot saved, 1 with a member down', () => {
    const script = cluster('3.6.16', '3.5.35').upgradeGateScript!;
    const ok = runGate({}, script);
    expect(ok.status).toBe(0);
    expect(ok.output).toContain('pre-upgrade-3.5.35-to-3.6.16.db');
    const down = runGate({ unhealthy: ['https://10.0.0.11:2379'] }, script);
    expect(down.status).toBe(1);
    expect(down.output).toContain('https://10.0.0.11:2379 is not healthy');
  });
});

describe('EtcdCluster upgradeFrom: the gate lives in the members ConfigMap', () => {
  const render = (version: string, upgradeFrom?: string) => {
    const chart = new Chart(Testing.app(), 'c', { namespace: 'db' });
    new EtcdCluster(chart, 'etcd', { version: EtcdVersion.of(version), upgradeFrom: upgradeFrom ? EtcdVersion.of(upgradeFrom) : undefined });
    const manifests = synth(chart);
    return { members: only(manifests, 'ConfigMap', 'etcd-members').data, template: only(manifests, 'StatefulSet').spec.template };
  };

  test('another minor names the upgrade; a patch, or no upgradeFrom, does not', () => {
    expect(render('3.6.16', '3.5.35').members.upgrade).toBe('3.5.35 3.6.16\n');
    expect(render('3.6.16', '3.6.15').members.upgrade).toBeUndefined();
    expect(render('3.6.16').members.upgrade).toBeUndefined();
  });

  test('setting or removing upgradeFrom changes no pod template, so it restarts no member', () => {
    expect(render('3.6.16', '3.5.35').template).toEqual(render('3.6.16').template);
  });

  test('the start step reads the key from the mounted ConfigMap, and writes the snapshot beside the data directory', () => {
    const start = render('3.6.16', '3.5.35').template.spec.initContainers.find((c: { name: string }) => c.name === 'member-start');
    const env = Object.fromEntries(start.env.map((e: { name: string; value: string }) => [e.name, e.value]));
    expect(env.UPGRADE_FILE).toBe('/etc/etcd/members/upgrade');
    expect(env.GATE_DIR).toBe('/var/lib/etcd');
    expect(start.volumeMounts.map((m: { mountPath: string }) => m.mountPath)).toEqual(expect.arrayContaining(['/etc/etcd/members', '/var/lib/etcd']));
  });
});
