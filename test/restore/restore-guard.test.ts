import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { WORK_DIR } from '../../lib/jobs/job-tools';
import { guardRestore, pickSnapshot } from '../../lib/restore/restore-scripts';
import { ScriptSandbox } from '../support/script-sandbox';

/**
 * The guard's decisions, run by a real `sh` against stand-ins for the other members: what each answers on its
 * peer port (`wget`) and client port (`etcdctl`). The real members are in the e2e restore runs; these cover
 * every branch, including the ones a real run reaches only by bad luck (two different choices at once).
 */
const A = `etcd-20261121T010000Z ${'a'.repeat(64)}`;
const B = `etcd-20261121T020000Z ${'b'.repeat(64)}`;
const C = `etcd-20261121T030000Z ${'c'.repeat(64)}`;

interface Peer {
  /** What its peer port answers while it waits to restore (the second line), e.g. `candidate <A>` or `choice <A>`. */
  readonly waiting?: string;
  /** `etcdctl member list -w simple` as its etcd answers it. */
  readonly members?: string;
  /** Whether a linearizable read on it succeeds. */
  readonly healthy?: boolean;
  /** Its etcd serves the peer port (with TLS, so plain http gets no answer busybox wget can read). */
  readonly servesPeerPort?: boolean;
}

interface GuardRun {
  readonly status: number | null;
  readonly output: string;
  readonly decision?: string;
  readonly choice?: string;
  /** What this member answers on its peer port when the guard stops. */
  readonly published: string;
  /** The arguments the guard started httpd with. */
  readonly httpd?: string;
}

function runGuard(peers: { [name: string]: Peer }, mine: { candidate?: string; data?: boolean; chooser?: string; listen?: string; replacesLost?: boolean } = {}): GuardRun {
  const box = new ScriptSandbox('guard');
  const stubs = box.bin;
  const data = path.join(box.root, 'data');
  fs.mkdirSync(data);
  if (mine.data) fs.mkdirSync(path.join(data, 'member'));
  if (mine.candidate) box.write('work/candidate', `${mine.candidate}\n`);
  for (const [name, peer] of Object.entries(peers)) {
    if (peer.waiting) box.write(`bin/${name}.waiting`, `waiting token\n${peer.waiting}\n`);
    if (peer.members) box.write(`bin/${name}.members`, `${peer.members}\n`);
    if (peer.healthy) box.write(`bin/${name}.healthy`, '');
    if (peer.servesPeerPort) box.write(`bin/${name}.serves`, '');
  }
  // URLs are http://<name>:2380 and https://<name>:2379: the host names the stand-in.
  // As busybox wget answers: the waiting text; etcd's peer port over TLS; or nothing there.
  box.stub('wget', `host=\${4#http://}; host=\${host%%:*}
[ -f "${stubs}/$host.waiting" ] && exec cat "${stubs}/$host.waiting"
[ -f "${stubs}/$host.serves" ] && { echo 'wget: error getting response' >&2; exit 1; }
echo "wget: can't connect to remote host: Connection refused" >&2; exit 1
`);
  box.stub('etcdctl', `for a in "$@"; do case $a in --endpoints=*) host=\${a#--endpoints=https://}; host=\${host%%:*};; esac; done
case "$1 $2" in
  "member list") [ -f "${stubs}/$host.members" ] && cat "${stubs}/$host.members";;
  "endpoint health") [ -f "${stubs}/$host.healthy" ];;
  *) exit 2;;
esac
`);
  box.stub('timeout', 'shift; exec "$@"\n');
  box.stub('httpd', `echo "$@" > "${stubs}/httpd.args"; exec /bin/sleep 60\n`);
  box.stub('sleep', 'exit 0\n');
  const names = ['etcd-0', 'etcd-1', 'etcd-2'];
  const r = box.run(guardRestore(), {
    NAME: 'etcd-1',
    CHOOSER: mine.chooser ?? 'etcd-0',
    TOKEN: 'token',
    DATA_DIR: data,
    LISTEN: mine.listen ?? '127.0.0.1:2380',
    PEERS: names.map((n) => `${n}|http://${n}:2380|https://${n}:2379`).join(' '),
    WAIT_SECONDS: '0',
    REPLACES_LOST: mine.replacesLost ? 'yes' : 'no',
    CONSISTENCY: '',
  });
  const run = {
    status: r.status,
    output: r.output,
    decision: box.read('work/decision') || undefined,
    choice: box.read('work/choice') || undefined,
    published: box.read('work/www/cdk8s-etcd-restore'),
    httpd: box.read('bin/httpd.args') || undefined,
  };
  box.dispose();
  return run;
}

/** A member list line: `id, started, name, peer URLs, client URLs, learner`; unstarted members have no name or client URL. */
const listed = (name: string, started: boolean) => started
  ? `8e9e05c52164694d, started, ${name}, http://${name}:2380, https://${name}:2379, false`
  : `91bc3c398fb3c146, unstarted, , http://${name}:2380, , false`;

describe('the restore guard settles one snapshot for every member', () => {
  test('when no member holds a choice yet, every member takes the first member\'s candidate, not its own newer one', () => {
    const run = runGuard({ 'etcd-0': { waiting: `candidate ${A}` }, 'etcd-2': { waiting: `candidate ${B}` } }, { candidate: C });
    expect(run.choice).toBe(A);
    // It publishes the choice, and waits until the others publish the same one.
    expect(run.published).toBe(`waiting token\nchoice ${A}`);
    expect(run.decision).toBeUndefined();
    expect(run.status).toBe(1);
    expect(run.output).toContain('no agreement from etcd-0 etcd-2');
  });

  test('a member that starts later adopts the choice the others hold, whatever landed since, and restores it', () => {
    const run = runGuard({ 'etcd-0': { waiting: `choice ${A}` }, 'etcd-2': { waiting: `choice ${A}` } }, { candidate: B });
    expect(run.status).toBe(0);
    expect(run.choice).toBe(A);
    expect(run.decision).toBe('restore');
    expect(run.output).toContain(`etcd-1 restores ${A.split(' ')[0]} (sha256 ${'a'.repeat(64)})`);
  });

  test('the first member takes its own candidate', () => {
    const run = runGuard({ 'etcd-0': { waiting: `candidate ${B}` }, 'etcd-2': { waiting: `candidate ${B}` } }, { candidate: A, chooser: 'etcd-1' });
    expect(run.choice).toBe(A);
  });

  test('two different choices held at once refuse the restore, naming both', () => {
    const run = runGuard({ 'etcd-0': { waiting: `choice ${A}` }, 'etcd-2': { waiting: `choice ${B}` } }, { candidate: A });
    expect(run.status).toBe(1);
    expect(run.output).toContain('REFUSED: members hold different snapshots to restore');
    expect(run.output).toContain('etcd-20261121T010000Z@');
    expect(run.output).toContain('etcd-20261121T020000Z@');
    expect(run.decision).toBeUndefined();
  });

  test('a member that runs what it restored, without a quorum yet, does not stop the others agreeing', () => {
    const members = [listed('etcd-0', true), listed('etcd-1', false), listed('etcd-2', false)].join('\n');
    const run = runGuard({ 'etcd-0': { members }, 'etcd-2': { waiting: `choice ${A}` } }, { candidate: B });
    expect(run.decision).toBe('restore');
    expect(run.choice).toBe(A);
  });

  test('a member that missed the others\' 20 s of answering still agrees: one runs etcd without a quorum (its client port silent), one still waits with the choice', () => {
    const run = runGuard({ 'etcd-0': { servesPeerPort: true }, 'etcd-2': { waiting: `choice ${A}` } }, { candidate: B });
    expect(run.decision).toBe('restore');
    expect(run.choice).toBe(A);
  });

  test('a member that is not there at all (connection refused, or no such host yet) is waited for, not counted as running', () => {
    const run = runGuard({ 'etcd-2': { waiting: `choice ${A}` } }, { candidate: B });
    expect(run.output).toContain('no answer from etcd-0');
    expect(run.decision).toBeUndefined();
  });

  test('when the members that restored run without a quorum and nobody holds their choice, it refuses rather than guess', () => {
    const members = [listed('etcd-0', true), listed('etcd-1', false), listed('etcd-2', false)].join('\n');
    const run = runGuard({ 'etcd-0': { members }, 'etcd-2': { servesPeerPort: true } }, { candidate: B });
    expect(run.status).toBe(1);
    expect(run.output).toContain('no member still holds the snapshot they agreed on');
    expect(run.decision).toBeUndefined();
  });
});

describe('the restore guard never restores into a cluster that formed', () => {
  test('a quorum of restored members: it joins with an empty data directory and restores nothing', () => {
    const members = [listed('etcd-0', true), listed('etcd-1', false), listed('etcd-2', true)].join('\n');
    const run = runGuard({ 'etcd-0': { members, healthy: true }, 'etcd-2': { members, healthy: true } }, { candidate: B });
    expect(run.status).toBe(0);
    expect(run.decision).toBe('join');
    expect(run.choice).toBeUndefined();
    expect(run.output).toContain('it joins with an empty data directory');
  });

  test('a cluster that lists this member as started: refused (static pods), because it would come back without the writes it acknowledged', () => {
    const members = ['etcd-0', 'etcd-1', 'etcd-2'].map((n) => listed(n, true)).join('\n');
    const run = runGuard({ 'etcd-0': { members, healthy: true }, 'etcd-2': { waiting: `choice ${A}` } }, { candidate: A });
    expect(run.status).toBe(1);
    expect(run.output).toContain('REFUSED: etcd-1 has no data, but the running cluster (https://etcd-0:2379) lists it as started');
    expect(run.decision).toBeUndefined();
  });

  test('... or, in a StatefulSet, restores nothing and leaves the replacement to member-start', () => {
    const members = ['etcd-0', 'etcd-1', 'etcd-2'].map((n) => listed(n, true)).join('\n');
    const run = runGuard({ 'etcd-0': { members, healthy: true }, 'etcd-2': { waiting: `choice ${A}` } }, { candidate: A, replacesLost: true });
    expect(run.status).toBe(0);
    expect(run.output).toContain('it restores nothing, and the member-start step replaces it under a new member ID');
    expect(run.decision).toBe('join');
  });

  test('a member with data starts from it and asks nobody', () => {
    const run = runGuard({}, { data: true });
    expect(run.status).toBe(0);
    expect(run.decision).toBe('start');
  });

  test('a member nobody answers for is waited for, and then the step fails without deciding', () => {
    const run = runGuard({ 'etcd-0': { waiting: `choice ${A}` } }, { candidate: A });
    expect(run.status).toBe(1);
    expect(run.output).toContain('no answer from etcd-2');
    expect(run.decision).toBeUndefined();
  });
});

describe('the restore guard answers on IPv6', () => {
  test.each([
    ['fd00::11:2380', '[fd00::11]:2380'],
    ['[fd00::11]:2380', '[fd00::11]:2380'],
    ['10.0.0.11:2380', '10.0.0.11:2380'],
  ])('LISTEN %s: httpd listens on %s', (listen, expected) => {
    expect(runGuard({}, { listen }).httpd).toContain(`-p ${expected} `);
  });

  const busybox = '/bin/busybox';
  const haveBusybox = fs.existsSync(busybox) && spawnSync(busybox, ['httpd', '--help'], { encoding: 'utf8' }).stderr.includes('httpd');
  (haveBusybox ? test : test.skip)('busybox httpd serves the waiting answer on ::1, from the pod IP as $(POD_IP) gives it (unbracketed)', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'guard6-'));
    const bin = path.join(root, 'bin');
    fs.mkdirSync(bin);
    fs.mkdirSync(path.join(root, 'data'));
    for (const applet of ['httpd', 'wget', 'timeout', 'sleep', 'date', 'awk', 'sed', 'grep', 'sort', 'head', 'ls', 'mkdir', 'mv', 'cat', 'tr']) fs.symlinkSync(busybox, path.join(bin, applet));
    fs.writeFileSync(path.join(bin, 'etcdctl'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    const port = 20000 + (process.pid % 20000);
    // Its own process group, so httpd goes with it; no pipes that would outlive the test.
    const guard = spawn(busybox, ['sh', '-c', guardRestore().split(WORK_DIR).join(path.join(root, 'work'))], {
      detached: true,
      stdio: 'ignore',
      env: {
        PATH: bin, NAME: 'etcd-1', CHOOSER: 'etcd-0', TOKEN: 'token', DATA_DIR: path.join(root, 'data'), LISTEN: `::1:${port}`,
        PEERS: 'etcd-1|http://[::1]:1|https://[::1]:1 etcd-2|http://[::1]:2|https://[::1]:2', WAIT_SECONDS: '6', CONSISTENCY: '',
      },
    });
    fs.mkdirSync(path.join(root, 'work'), { recursive: true });
    let answer = '';
    for (let i = 0; i < 40 && !answer.startsWith('waiting'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      answer = spawnSync(busybox, ['wget', '-q', '-O', '-', `http://[::1]:${port}/cdk8s-etcd-restore`], { encoding: 'utf8', timeout: 2000 }).stdout ?? '';
    }
    process.kill(-guard.pid!, 'SIGKILL');
    fs.rmSync(root, { recursive: true, force: true });
    expect(answer).toBe('waiting token\ncandidate -\n');
  }, 15000);
});

describe('the pick step refuses a snapshot the new cluster\'s quota cannot hold, before anything is written', () => {
  /** The pick step over a node's directory holding `stem` and, optionally, other snapshots of given lineages. */
  function pick(sizeBytes: number, quotaBytes: number, stem = 'etcd.etcd-20261121T020000Z', others: { [stem: string]: string } = {}, snapshot = '') {
    const box = new ScriptSandbox('pick');
    const source = path.join(box.root, 'source');
    const record = (lineage: string) => `{"cluster":"etcd","lineage":"${lineage}","etcdVersion":"3.6.16","revision":4,"sizeBytes":${sizeBytes},"sha256":"${'a'.repeat(64)}"}`;
    for (const [name, lineage] of Object.entries({ [stem]: 'a'.repeat(32), ...others })) {
      box.write(`source/${name}.db`, 'db');
      box.write(`source/${name}.json`, record(lineage));
    }
    // busybox's date, as the images have it (it parses the names with -D).
    fs.symlinkSync('/bin/busybox', path.join(box.bin, 'date'));
    const r = box.run(pickSnapshot({ list: 'ls -1 "$SNAPSHOT_DIR"', read: 'cat "$SNAPSHOT_DIR/$1"', records: 'cat "$SNAPSHOT_DIR/$SNAPSHOT_ID"-*.json' }), {
      SNAPSHOT_ID: 'etcd.etcd', SNAPSHOT_ID_RE: 'etcd\\.etcd', SNAPSHOT: snapshot, SUFFIX: '', SOURCE_NAME: 'hostPath', SNAPSHOT_DIR: source, DATA_DIR: path.join(box.root, 'data'), QUOTA_BYTES: String(quotaBytes),
    });
    const candidate = box.read('work/candidate') || undefined;
    box.dispose();
    return { ...r, candidate };
  }
  const MIB = 1024 * 1024;

  test('records of two lineages under one name (the same app in two Kubernetes clusters) are refused unless a snapshot is named', () => {
    const others = { 'etcd.etcd-20261121T030000Z': 'b'.repeat(32) };
    const run = pick(MIB, 64 * MIB, undefined, others);
    expect(run.status).toBe(1);
    expect(run.output).toContain(`come from 2 clusters (lineages ${'a'.repeat(32)} ${'b'.repeat(32)}): the newest by name may be another cluster's`);
    expect(run.candidate).toBeUndefined();
    // Named, the snapshot is taken as it is; one lineage alone is picked by name.
    expect(pick(MIB, 64 * MIB, undefined, others, 'etcd.etcd-20261121T020000Z').candidate).toBe(`etcd.etcd-20261121T020000Z ${'a'.repeat(64)}`);
    expect(pick(MIB, 64 * MIB, undefined, { 'etcd.etcd-20261121T030000Z': 'a'.repeat(32) }).candidate).toBe(`etcd.etcd-20261121T030000Z ${'a'.repeat(64)}`);
  });

  test('a snapshot that leaves room for the database to grow once is picked', () => {
    expect(pick(40 * MIB, 64 * MIB)).toMatchObject({ status: 0, candidate: `etcd.etcd-20261121T020000Z ${'a'.repeat(64)}` });
  });

  test('the newest by name stamped in the future (a backup whose clock ran ahead) is refused rather than trusted', () => {
    const run = pick(MIB, 64 * MIB, 'etcd.etcd-20991121T020000Z');
    expect(run.status).toBe(1);
    expect(run.output).toContain('the newest snapshot by name, etcd.etcd-20991121T020000Z, is stamped');
    expect(run.candidate).toBeUndefined();
  });

  test('one that would fill the quota on its first write is refused, naming both sizes', () => {
    const run = pick(60 * MIB, 64 * MIB);
    expect(run.status).toBe(1);
    expect(run.output).toContain(`etcd.etcd-20261121T020000Z is ${60 * MIB} bytes, and this cluster's quota is ${64 * MIB} bytes: restored, it would raise NOSPACE on its first write`);
    expect(run.candidate).toBeUndefined();
  });
});
