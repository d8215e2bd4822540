import * as fs from 'fs';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { EtcdCluster, EtcdVersion } from '../../lib';
import { memberSidecarScript, startMemberScript } from '../../lib/membership/member-scripts';
import { initialClusterFor } from '../../lib/member/model';
import { ScriptSandbox } from '../support/script-sandbox';
import { validSnapshot } from '../support/snapshot-file';
import { only, synth } from '../support/synth';

/**
 * The member-start step's decisions and the sidecar's promotion, run by a real `sh` against stand-ins for the other
 * members: what each answers on its state port (`wget`) and client port (`etcdctl`, whose member list `member add` and
 * `member remove` really change). The real members are in the e2e runs; these cover every branch.
 */

interface Peer {
  /** Its state answer's last word: waiting, forming or formed; `-` for none. @default - formed with a quorum, else none */
  readonly state?: string;
  /** Whether it answers on its client port with a quorum (member list and health). */
  readonly quorum?: boolean;
  /** The token it answers with. @default 'token' */
  readonly token?: string;
}

const NAMES = ['etcd-0', 'etcd-1', 'etcd-2'];
const peerUrl = (n: string) => `https://${n}.etcd-peer:2380`;
/** etcdctl's arguments without its flags (`$1 $2` is the command), noting the endpoint's host and a peer URL given. */
const POSITIONAL = `words=""
for a in "$@"; do case $a in --endpoints=*) endpoints=\${a#--endpoints=}; host=\${endpoints#https://}; host=\${host%%.*};; --peer-urls=*) url=\${a#--peer-urls=};; --learner) learner=' as a learner';; --*) ;; *) words="$words $a";; esac; done
set -- $words`;

/** `member list -w simple`: ID, status, name, peer URLs, client URLs, is learner. */
const started = (n: string, id: string, learner = false) => `${id}, started, ${n}, ${peerUrl(n)}, https://${n}.etcd-peer:2379, ${learner}`;

interface StartRun {
  readonly status: number | null;
  readonly output: string;
  /** The start env written for etcd. */
  readonly env: string;
  /** The member list after the run. */
  readonly members: string;
  /** The etcdctl calls that changed membership. */
  readonly changes: string[];
  readonly published: string;
  /** The forming marker it left on its volume. */
  readonly forming: string;
  /** The pre-upgrade snapshots on its volume. */
  readonly snapshots: string[];
}

interface StartOptions {
  /** The cluster's member list (`member list -w simple` rows) as members with a quorum answer it. */
  readonly members: string[];
  readonly data?: boolean;
  readonly mayForm?: boolean;
  readonly name?: string;
  /** Names in the member list file. @default etcd-0, etcd-1, etcd-2 */
  readonly list?: string[];
  /** Names in the member list file marked leaving. */
  readonly leaving?: string[];
  /** This volume has seen the cluster formed. */
  readonly formedMark?: boolean;
  /** Another member (etcd-4) adds itself between this one's member list and its add (3.4 allows two learners). */
  readonly racingAdd?: boolean;
  /** The members ConfigMap's `upgrade` (`from to`). */
  readonly upgrade?: string;
  /** What `etcd --version` of the image says. @default 3.6.16 */
  readonly release?: string;
  /** The pre-upgrade snapshot is on the volume already. */
  readonly gatePassed?: boolean;
  /** Members whose health check fails. */
  readonly unhealthy?: string[];
  /** The member's WAL has a snapshot record (`member/snap/*.snap`). */
  readonly walSnapshot?: boolean;
  /** How long a gated member waits for a quorum without it. @default 60 */
  readonly noQuorumSeconds?: number;
  /** An earlier upgrade's snapshot is on the volume. */
  readonly earlierSnapshot?: boolean;
}

function runStart(peers: { [name: string]: Peer }, options: StartOptions): StartRun {
  const box = new ScriptSandbox('member-start');
  const stubs = box.bin;
  const data = path.join(box.root, 'data');
  fs.mkdirSync(data);
  if (options.data) fs.mkdirSync(path.join(data, 'member'));
  box.write('bin/members', options.members.length ? `${options.members.join('\n')}\n` : '');
  for (const [name, peer] of Object.entries(peers)) {
    // A member whose etcd has a quorum answers formed, unless the test says otherwise.
    const state = peer.state ?? (peer.quorum ? 'formed' : undefined);
    if (state) box.write(`bin/${name}.state`, `member ${peer.token ?? 'token'} ${state}\n`);
    if (peer.quorum) box.write(`bin/${name}.quorum`, '');
  }
  box.stub('wget', `host=\${4#http://}; host=\${host%%.*}
[ -f "${stubs}/$host.state" ] && exec cat "${stubs}/$host.state"
echo "wget: can't connect to remote host: Connection refused" >&2; exit 1
`);
  // The cluster's membership is one file, answered by every member with a quorum; add and remove change it.
  box.stub('etcdctl', `${POSITIONAL}
[ -f "${stubs}/$host.quorum" ] || { echo "context deadline exceeded" >&2; exit 1; }
case "$1 $2" in
  "member list") cat "${stubs}/members";;
  "get cdk8s-etcd-quorum-check") exit 0;;
  "endpoint status") echo '[{"Endpoint":"x","Status":{"header":{"cluster_id":1,"member_id":2},"leader":2},"dbSize":20480}]';;
  "endpoint health") case " ${(options.unhealthy ?? []).join(' ')} " in *" $host "*) echo "$endpoints is unhealthy" >&2; exit 1;; esac;;
  "alarm list") ;;
  "snapshot save") echo "snapshot $host" >> "${stubs}/changes"; cp "${stubs}/good.db" "$3";;
  "member remove") echo "remove $3" >> "${stubs}/changes"; grep -v "^$3, " "${stubs}/members" > "${stubs}/m.new"; mv "${stubs}/m.new" "${stubs}/members";;
  "member add") echo "add $3 $url$learner" >> "${stubs}/changes"; ${options.racingAdd ? `echo "ffff000000000009, unstarted, , ${peerUrl('etcd-4')}, , true" >> "${stubs}/members"; ` : ''}echo "ffff000000000001, unstarted, , $url, , true" >> "${stubs}/members";;
  *) exit 2;;
esac
`);
  box.stub('timeout', 'shift; exec "$@"\n');
  box.stub('etcd', options.release === '' ? 'exit 0\n' : `echo "etcd Version: ${options.release ?? '3.6.16'}"\n`);
  box.stub('etcdutl', 'echo \'{"hash":7,"revision":42,"totalKey":3,"totalSize":1024}\'\n');
  fs.writeFileSync(path.join(stubs, 'good.db'), validSnapshot());
  if (options.upgrade) box.write('upgrade', `${options.upgrade}\n`);
  if (options.gatePassed) fs.writeFileSync(path.join(box.root, `pre-upgrade-${options.upgrade?.replace(' ', '-to-')}.db`), validSnapshot());
  box.stub('httpd', 'exec /bin/sleep 60\n');
  box.stub('sleep', 'exit 0\n');
  if (options.formedMark) box.write('formed', 'token\n');
  const list = [...(options.list ?? NAMES).map((n) => `${n} ${peerUrl(n)} https://${n}.etcd-peer:2379 http://${n}.etcd-peer:2382`),
    ...(options.leaving ?? []).map((n) => `${n} ${peerUrl(n)} https://${n}.etcd-peer:2379 http://${n}.etcd-peer:2382 leaving`)].join('\n');
  if (options.walSnapshot) box.write('data/member/snap/0000000000000002-0000000000002711.snap', 'snap');
  if (options.data) box.write('data/member/snap/db', 'x'.repeat(4096));
  if (options.earlierSnapshot) box.write('pre-upgrade-3.4.45-to-3.5.35.db', 'old');
  const r = box.run(startMemberScript(EtcdVersion.of(options.release || '3.6.16')), {
    LOG_PREFIX: 'member-start',
    NAME: options.name ?? 'etcd-1',
    MEMBERS_FILE: box.write('members-list', `${list}\n`),
    TOKEN: 'token',
    DATA_DIR: data,
    START_ENV: path.join(box.root, 'start.env'),
    WWW: path.join(box.root, 'www'),
    LISTEN: '10.0.0.2:2382',
    WAIT_SECONDS: '0',
    MAY_FORM: options.mayForm === false ? 'no' : 'yes',
    FORMED_MARK: path.join(box.root, 'formed'),
    FORMING_MARK: path.join(box.root, 'forming'),
    UPGRADE_FILE: path.join(box.root, 'upgrade'),
    GATE_DIR: box.root,
    NO_QUORUM_SECONDS: String(options.noQuorumSeconds ?? 60),
    GATE_KEEP_FREE: '1048576',
  });
  const run = {
    forming: box.read('forming'),
    snapshots: fs.readdirSync(box.root).filter((f) => f.startsWith('pre-upgrade-')),
    status: r.status,
    output: r.output,
    env: box.read('start.env'),
    members: box.read('bin/members'),
    changes: box.read('bin/changes').split('\n').filter(Boolean),
    published: box.read('www/cdk8s-etcd-member'),
  };
  box.dispose();
  return run;
}

const ALL = NAMES.map((n, i) => started(n, `00000000000000a${i}`));
const formation = NAMES.map((n) => `${n}=${peerUrl(n)}`).join(',');

describe('member-start: formation', () => {
  test('every other member waits or is forming, none formed: it starts new with every member of the list', () => {
    const run = runStart({ 'etcd-0': { state: 'waiting' }, 'etcd-2': { state: 'forming' } }, { members: [] });
    expect(run.status).toBe(0);
    expect(run.env).toBe(`ETCD_INITIAL_CLUSTER_STATE='new'\nETCD_INITIAL_CLUSTER='${formation}'`);
    expect(run.published).toBe('member token waiting');
    expect(run.forming).toBe('token');
    expect(run.changes).toEqual([]);
  });

  test('members leaving in a scale-down are asked, but no cluster forms with them', () => {
    const run = runStart({ 'etcd-0': { state: 'waiting' }, 'etcd-2': { state: 'waiting' }, 'etcd-3': { state: 'forming' } }, { members: [], leaving: ['etcd-3'] });
    expect(run.status).toBe(0);
    expect(run.env).toContain(`ETCD_INITIAL_CLUSTER='${formation}'`);
    const blocked = runStart({ 'etcd-0': { state: 'waiting' }, 'etcd-2': { state: 'waiting' }, 'etcd-3': { state: 'formed' } }, { members: [], leaving: ['etcd-3'] });
    expect(blocked.status).toBe(1);
    expect(blocked.output).toContain('etcd-3 say the cluster has formed');
  });

  test('a volume that has seen the cluster formed never forms again, even when everyone else waits', () => {
    const run = runStart({ 'etcd-0': { state: 'waiting' }, 'etcd-2': { state: 'waiting' } }, { members: [], formedMark: true });
    expect(run.status).toBe(1);
    expect(run.output).toContain('this volume has seen the cluster formed');
    expect(run.env).toBe('');
  });

  test('the formation list is the model\'s --initial-cluster, from the ConfigMap the cluster renders (leaving members left out)', () => {
    const chart = new Chart(Testing.app(), 'etcd', { namespace: 'db' });
    const etcd = new EtcdCluster(chart, 'etcd', { members: 3, scaleDownFrom: 5 });
    const list: string = only(synth(chart), 'ConfigMap', 'etcd-members').data.members;
    expect(list.trim().split('\n').map((l) => l.split(' ')[4] ?? '')).toEqual(['', '', '', 'leaving', 'leaving']);
    const fragment = `formation=$(printf '%s\\n' "$members" | awk '$5 != "leaving" { printf "%s%s=%s", sep, $1, $2; sep = "," }')`;
    expect(startMemberScript(EtcdVersion.of('3.6.16'))).toContain(fragment);
    const box = new ScriptSandbox('member-list');
    const file = box.write('members', list);
    const r = box.run(`members=$(cat "${file}"); ${fragment}; printf '%s' "$formation"`);
    box.dispose();
    expect(r.stdout).toBe(initialClusterFor(etcd._model.members, etcd._model.members[0]));
  });

  test('a member that says the cluster formed, with no quorum answering: it waits, and never bootstraps beside it', () => {
    const run = runStart({ 'etcd-0': { state: 'formed' }, 'etcd-2': { state: 'waiting' } }, { members: [] });
    expect(run.status).toBe(1);
    expect(run.output).toContain('etcd-0 say the cluster has formed, but no quorum answers');
    expect(run.env).toBe('');
  });

  test('a member that does not answer at all is waited for: silence never forms a cluster', () => {
    const run = runStart({ 'etcd-0': { state: 'waiting' } }, { members: [] });
    expect(run.status).toBe(1);
    expect(run.output).toContain('waiting for etcd-2 to answer');
    expect(run.env).toBe('');
  });

  test('a member whose state port is silent is not asked for a quorum: it counts as missing', () => {
    const run = runStart({ 'etcd-0': { quorum: true, state: '-' }, 'etcd-2': { state: 'waiting' } }, { members: ALL });
    expect(run.status).toBe(1);
    expect(run.output).toContain('waiting for etcd-0 to answer');
    expect(run.changes).toEqual([]);
  });

  test('a restored cluster never forms anew: an empty member only joins', () => {
    const run = runStart({ 'etcd-0': { state: 'forming' }, 'etcd-2': { state: 'forming' } }, { members: [], mayForm: false });
    expect(run.status).toBe(1);
    expect(run.output).toContain('only joins a quorum');
    expect(run.env).toBe('');
  });

  test('an answer with another cluster\'s token counts as no answer', () => {
    const run = runStart({ 'etcd-0': { state: 'waiting', token: 'other' }, 'etcd-2': { state: 'waiting' } }, { members: [] });
    expect(run.status).toBe(1);
    expect(run.output).toContain('waiting for etcd-0 to answer');
  });
});

describe('member-start: the pre-upgrade gate (upgradeFrom to another minor)', () => {
  const upgrade = '3.5.35 3.6.16';

  test('a member with data on the new minor starts once the others are healthy, no alarm, and a verified snapshot is on its volume', () => {
    const run = runStart({ 'etcd-0': { quorum: true }, 'etcd-2': { quorum: true } }, { members: ALL, data: true, upgrade, earlierSnapshot: true });
    expect(run.status).toBe(0);
    expect(run.output).toContain('upgrade gate: every member is healthy, no alarm');
    expect(run.output).toMatch(/upgrade gate: verified snapshot \S+pre-upgrade-3\.5\.35-to-3\.6\.16\.db \(1056 bytes, revision 42\)/);
    // One per volume: the earlier upgrade's goes.
    expect(run.output).toMatch(/removed \S+pre-upgrade-3\.4\.45-to-3\.5\.35\.db, an earlier upgrade's snapshot/);
    expect(run.snapshots).toEqual(['pre-upgrade-3.5.35-to-3.6.16.db']);
    expect(run.changes).toEqual(['snapshot etcd-0']);
    expect(run.env).toContain('ETCD_INITIAL_CLUSTER_STATE=\'existing\'');
  });

  test('another member unhealthy while a quorum answers: etcd does not start, nothing is saved, and the step fails so the pod is not Ready', () => {
    const run = runStart({ 'etcd-0': { quorum: true }, 'etcd-2': { quorum: true } }, { members: ALL, data: true, upgrade, unhealthy: ['etcd-2'] });
    expect(run.status).toBe(1);
    expect(run.output).toContain('upgrade gate: https://etcd-2.etcd-peer:2379 is not healthy');
    expect(run.output).toContain('REFUSED: upgrade 3.5.35 → 3.6.16: the gate did not pass');
    expect(run.env).toBe('');
    expect(run.snapshots).toEqual([]);
  });

  test('no quorum without it: it waits up to NO_QUORUM_SECONDS, then starts (the quorum needs it) with a verified copy of its own database', () => {
    const waits = runStart({}, { members: ALL, data: true, upgrade });
    expect(waits.status).toBe(1);
    expect(waits.output).toContain('upgrade gate: no member answers with a quorum without etcd-1; waiting up to 60 s');
    expect(waits.env).toBe('');
    const starts = runStart({}, { members: ALL, data: true, upgrade, noQuorumSeconds: 0 });
    expect(starts.status).toBe(0);
    expect(starts.output).toContain('upgrade gate: no quorum answers without etcd-1 (for 0 s): the quorum needs it, so it starts without checking the others');
    expect(starts.output).toMatch(/verified snapshot \S+pre-upgrade-3\.5\.35-to-3\.6\.16\.db \(4096 bytes/);
    expect(starts.env).toContain('ETCD_INITIAL_CLUSTER_STATE=\'existing\'');
  });

  test('a cluster of one: nothing to ask, it keeps a copy of its own database and starts at once', () => {
    const run = runStart({}, { members: [ALL[0]], name: 'etcd-0', list: ['etcd-0'], data: true, upgrade });
    expect(run.status).toBe(0);
    expect(run.output).toContain('no quorum answers without etcd-0: the quorum needs it');
    expect(run.snapshots).toEqual(['pre-upgrade-3.5.35-to-3.6.16.db']);
  });

  test('a member that passed before keeps its snapshot, and is checked again: health and alarms, no second snapshot', () => {
    const peers = { 'etcd-0': { quorum: true }, 'etcd-2': { quorum: true } };
    const run = runStart(peers, { members: ALL, data: true, upgrade, gatePassed: true });
    expect(run.status).toBe(0);
    expect(run.output).toContain('the snapshot');
    expect(run.output).toContain('was taken before');
    expect(run.changes).toEqual([]);
    expect(runStart(peers, { members: ALL, data: true, upgrade, gatePassed: true, unhealthy: ['etcd-2'] }).status).toBe(1);
  });

  test('an image whose etcd names no release fails closed: etcd does not start', () => {
    const run = runStart({}, { members: ALL, data: true, upgrade, release: '' });
    expect(run.status).toBe(1);
    expect(run.output).toContain('etcd --version named no release');
  });

  test('to 3.7: a member whose WAL has no snapshot yet is refused at once (3.7 would panic replaying what 3.5 wrote); with one, the gate runs', () => {
    const peers = { 'etcd-0': { quorum: true }, 'etcd-2': { quorum: true } };
    const refused = runStart(peers, { members: ALL, data: true, upgrade: '3.6.16 3.7.3', release: '3.7.3' });
    expect(refused.status).toBe(1);
    expect(refused.output).toContain('REFUSED: upgrade 3.6.16 → 3.7.3: ');
    expect(refused.output).toContain('member/snap has no snapshot yet');
    expect(refused.changes).toEqual([]);
    expect(refused.env).toBe('');
    const passed = runStart(peers, { members: ALL, data: true, upgrade: '3.6.16 3.7.3', release: '3.7.3', walSnapshot: true });
    expect(passed.status).toBe(0);
    expect(passed.snapshots).toEqual(['pre-upgrade-3.6.16-to-3.7.3.db']);
    // 3.6 needs no such snapshot: the rule is rendered for 3.7 only.
    expect(startMemberScript(EtcdVersion.of('3.6.16'))).not.toContain('has no snapshot yet');
  });

  test('a member still on the old release (its pod not updated yet) and a member without data do not take the gate', () => {
    const old = runStart({}, { members: ALL, data: true, upgrade, release: '3.5.35' });
    expect(old.status).toBe(0);
    expect(old.output).toContain('this member runs 3.5.35, so it does not pass the gate');
    const joining = runStart({ 'etcd-0': { quorum: true } }, { members: [ALL[0], ALL[2]], upgrade });
    expect(joining.status).toBe(0);
    expect(joining.output).not.toContain('upgrade gate');
  });
});

describe('member-start: restart', () => {
  test('data, and the cluster lists it: it starts from its data', () => {
    const run = runStart({ 'etcd-0': { quorum: true } }, { members: ALL, data: true });
    expect(run.status).toBe(0);
    expect(run.output).toContain('restart: ');
    expect(run.output).toContain('lists etcd-1 as 00000000000000a1');
    expect(run.changes).toEqual([]);
  });

  test('data, and no quorum answers: it starts from its data at once (the quorum may need it)', () => {
    const run = runStart({}, { members: ALL, data: true });
    expect(run.status).toBe(0);
    expect(run.output).toContain('no quorum answers, so etcd-1 starts from its data');
  });

  test('data, but the cluster no longer lists it: a removed member refuses to rejoin under its old identity', () => {
    const run = runStart({ 'etcd-0': { quorum: true } }, { members: [ALL[0], ALL[2]], data: true });
    expect(run.status).toBe(1);
    expect(run.output).toContain('REFUSED: ');
    expect(run.output).toContain('no longer lists etcd-1');
    expect(run.output).toContain('Nothing was deleted');
    expect(run.env).toBe('');
  });

  test('a leaving member with data restarts (it is a voter until the Job removes it); with no data it does not join', () => {
    const withData = runStart({ 'etcd-0': { quorum: true } }, { members: [...ALL, started('etcd-3', '00000000000000a3')], name: 'etcd-3', leaving: ['etcd-3'], data: true });
    expect(withData.status).toBe(0);
    expect(withData.output).toContain('lists etcd-3 as 00000000000000a3');
    expect(withData.env).toContain(`ETCD_INITIAL_CLUSTER='${formation}'`);
    const empty = runStart({ 'etcd-0': { quorum: true } }, { members: ALL, name: 'etcd-3', leaving: ['etcd-3'] });
    expect(empty.status).toBe(1);
    expect(empty.output).toContain('etcd-3 is leaving the cluster (a scale-down) and has no data: it does not join');
    expect(empty.changes).toEqual([]);
  });

  test('a pod beyond the member list (a scale-down in progress) starts nothing', () => {
    const run = runStart({ 'etcd-0': { quorum: true } }, { members: ALL, name: 'etcd-3', data: true });
    expect(run.status).toBe(1);
    expect(run.output).toContain('etcd-3 is not in the member list (etcd-0 etcd-1 etcd-2 )');
  });
});

describe('member-start: joining a cluster with a quorum', () => {
  test('lost volume: empty, and listed as started: its old ID is removed and it is added back as a learner', () => {
    const run = runStart({ 'etcd-0': { quorum: true }, 'etcd-2': { quorum: true } }, { members: ALL });
    expect(run.status).toBe(0);
    expect(run.changes).toEqual(['remove 00000000000000a1', `add etcd-1 ${peerUrl('etcd-1')} as a learner`]);
    expect(run.output).toContain('lost volume: ');
    expect(run.members).toContain(`ffff000000000001, unstarted, , ${peerUrl('etcd-1')}, , true`);
    expect(run.env).toBe(`ETCD_INITIAL_CLUSTER_STATE='existing'\nETCD_INITIAL_CLUSTER='etcd-0=${peerUrl('etcd-0')},etcd-2=${peerUrl('etcd-2')},etcd-1=${peerUrl('etcd-1')}'`);
  });

  test('scale-up: not listed: it adds itself as a learner and starts existing with the members plus itself', () => {
    const list = [...NAMES, 'etcd-3', 'etcd-4'];
    const run = runStart({ 'etcd-0': { quorum: true } }, { members: ALL, name: 'etcd-3', list });
    expect(run.status).toBe(0);
    expect(run.changes).toEqual([`add etcd-3 ${peerUrl('etcd-3')} as a learner`]);
    expect(run.env).toContain(`ETCD_INITIAL_CLUSTER='${formation},etcd-3=${peerUrl('etcd-3')}'`);
  });

  test('another learner is still joining: it waits (etcd allows one learner), and adds nothing', () => {
    const list = [...NAMES, 'etcd-3', 'etcd-4'];
    const run = runStart({ 'etcd-0': { quorum: true } }, { members: [...ALL, started('etcd-3', '00000000000000a3', true)], name: 'etcd-4', list });
    expect(run.status).toBe(1);
    expect(run.changes).toEqual([]);
    expect(run.output).toContain('the cluster has a learner or an unstarted member (00000000000000a3)');
  });

  test('an unstarted member no line of the list names (a scale-up taken back) is removed, then it joins', () => {
    const stale = `ffff00000000000f, unstarted, , ${peerUrl('etcd-9')}, , true`;
    const run = runStart({ 'etcd-0': { quorum: true } }, { members: [...ALL, stale], name: 'etcd-3', list: [...NAMES, 'etcd-3'] });
    expect(run.status).toBe(0);
    expect(run.changes).toEqual(['remove ffff00000000000f', `add etcd-3 ${peerUrl('etcd-3')} as a learner`]);
    expect(run.output).toContain(`removing ffff00000000000f (${peerUrl('etcd-9')}): added, never started, and no member of the list`);
    // One the list names (its pod still to start) is waited for.
    const pending = `ffff00000000000e, unstarted, , ${peerUrl('etcd-4')}, , true`;
    const waits = runStart({ 'etcd-0': { quorum: true } }, { members: [...ALL, pending], name: 'etcd-3', list: [...NAMES, 'etcd-3', 'etcd-4'] });
    expect(waits.status).toBe(1);
    expect(waits.changes).toEqual([]);
  });

  test('two members added at the same moment (3.4 has no learner limit): each starts, naming the other from the member list, so neither waits for the other', () => {
    const mine = `ffff000000000002, unstarted, , ${peerUrl('etcd-3')}, , true`;
    const theirs = `ffff000000000003, unstarted, , ${peerUrl('etcd-4')}, , true`;
    const run = runStart({ 'etcd-0': { quorum: true } }, { members: [...ALL, mine, theirs], name: 'etcd-3', list: [...NAMES, 'etcd-3', 'etcd-4'] });
    expect(run.status).toBe(0);
    expect(run.changes).toEqual([]);
    expect(run.env).toContain(`ETCD_INITIAL_CLUSTER='${formation},etcd-3=${peerUrl('etcd-3')},etcd-4=${peerUrl('etcd-4')}'`);
    const racing = runStart({ 'etcd-0': { quorum: true } }, { members: ALL, name: 'etcd-3', list: [...NAMES, 'etcd-3', 'etcd-4'], racingAdd: true });
    expect(racing.status).toBe(0);
    expect(racing.changes).toEqual([`add etcd-3 ${peerUrl('etcd-3')} as a learner`]);
    expect(racing.env).toContain(`etcd-4=${peerUrl('etcd-4')}`);
  });

  test('added before (its pod restarted before etcd started): it joins as the member the cluster lists', () => {
    const mine = `ffff000000000002, unstarted, , ${peerUrl('etcd-1')}, , true`;
    const run = runStart({ 'etcd-0': { quorum: true } }, { members: [ALL[0], ALL[2], mine] });
    expect(run.status).toBe(0);
    expect(run.changes).toEqual([]);
    expect(run.env).toContain(`ETCD_INITIAL_CLUSTER='etcd-0=${peerUrl('etcd-0')},etcd-2=${peerUrl('etcd-2')},etcd-1=${peerUrl('etcd-1')}'`);
  });

  test('a formation member that started late joins the members that formed, under the name they list', () => {
    const late = `00000000000000a1, started, etcd-1, ${peerUrl('etcd-1')}, , false`;
    const run = runStart({ 'etcd-0': { quorum: true } }, { members: [ALL[0], late, ALL[2]] });
    expect(run.status).toBe(0);
    expect(run.changes).toEqual([]);
    expect(run.env).toBe(`ETCD_INITIAL_CLUSTER_STATE='existing'\nETCD_INITIAL_CLUSTER='${formation}'`);
  });
});

describe('member sidecar', () => {
  function runSidecar(mine: string, metrics: { learner: number; leader: number }, marks: { forming?: boolean; formed?: boolean } = {}, promotes = true, etcd: { silent?: boolean; wasVoter?: boolean } = {}) {
    const box = new ScriptSandbox('member-sidecar');
    const stubs = box.bin;
    if (etcd.wasVoter) box.write('www/cdk8s-etcd-voter', '');
    box.write('bin/members', `${ALL[0]}\n${mine}\n${ALL[2]}\n`);
    box.stub('etcdctl', `${POSITIONAL}
${etcd.silent ? 'echo "context deadline exceeded" >&2; exit 1' : ''}
case "$1 $2" in
  "member list") cat "${stubs}/members";;
  "member promote") echo "promote $3 $endpoints" >> "${stubs}/changes"; ${promotes ? 'exit 0' : 'echo "Error: etcdserver: can only promote a learner member which is in sync with leader" >&2; exit 1'};;
esac
`);
    box.stub('wget', `${etcd.silent ? 'exit 1; ' : ''}echo "$4" > "${stubs}/metrics-url"; echo "# HELP etcd_server_is_learner ..."; echo "etcd_server_is_learner ${metrics.learner}"; echo "etcd_server_has_leader ${metrics.leader}"\n`);
    box.stub('timeout', 'shift; exec "$@"\n');
    box.stub('httpd', 'exit 0\n');
    // One round, then stop.
    box.stub('sleep', 'kill $PPID\n');
    if (marks.forming) box.write('forming', 'token\n');
    if (marks.formed) box.write('formed', 'token\n');
    const list = NAMES.map((n) => `${n} ${peerUrl(n)} https://${n}.etcd-peer:2379 http://${n}.etcd-peer:2382`).join('\n');
    const r = box.run(memberSidecarScript(), {
      LOG_PREFIX: 'member-sidecar', NAME: 'etcd-1', PEER_URL: peerUrl('etcd-1'), CLIENT_URL: 'https://etcd-1.etcd-peer:2379',
      MEMBERS_FILE: box.write('members-list', `${list}\n`), TOKEN: 'token', WWW: path.join(box.root, 'www'), LISTEN: '10.0.0.2:2382',
      FORMED_MARK: path.join(box.root, 'formed'), FORMING_MARK: path.join(box.root, 'forming'), POD_IP: 'fd00::2', METRICS_PORT: '2381', INTERVAL: '5',
    });
    const run = {
      output: r.output, changes: box.read('bin/changes'), published: box.read('www/cdk8s-etcd-member'),
      formed: box.read('formed'), forming: box.read('forming'), voter: fs.existsSync(path.join(box.root, 'www', 'cdk8s-etcd-voter')),
      metricsUrl: box.read('bin/metrics-url'),
    };
    box.dispose();
    return run;
  }

  test('a learner is promoted through the other members, and is not ready (no voter answer) until then', () => {
    const run = runSidecar(started('etcd-1', 'ffff000000000001', true), { learner: 1, leader: 1 });
    expect(run.changes).toBe('promote ffff000000000001 https://etcd-0.etcd-peer:2379,https://etcd-2.etcd-peer:2379');
    expect(run.output).toContain('promoted etcd-1 (ffff000000000001) to a voting member');
    expect(run.voter).toBe(false);
    expect(run.formed).toBe('');
  });

  test('the member list wins over the metric: listed as a learner, it is promoted and not ready, whatever the metric says (3.4.23)', () => {
    const run = runSidecar(started('etcd-1', 'ffff000000000001', true), { learner: 0, leader: 1 });
    expect(run.changes).toBe('promote ffff000000000001 https://etcd-0.etcd-peer:2379,https://etcd-2.etcd-peer:2379');
    expect(run.voter).toBe(false);
    expect(run.formed).toBe('');
  });

  test('a learner not yet in sync: it says why, and asks again next round', () => {
    const run = runSidecar(started('etcd-1', 'ffff000000000001', true), { learner: 1, leader: 1 }, {}, false);
    expect(run.output).toContain('is a learner; not promoted yet: Error: etcdserver: can only promote a learner member which is in sync with leader');
  });

  test('a voter that sees a leader notes it on the volume (from etcd\'s metrics), drops the forming mark, and is ready', () => {
    const run = runSidecar(started('etcd-1', '00000000000000a1'), { learner: 0, leader: 1 }, { forming: true });
    expect(run.changes).toBe('');
    expect(run.formed).toBe('token');
    expect(run.forming).toBe('');
    expect(run.voter).toBe(true);
    expect(run.output).toContain('is a voting member of a cluster with a leader');
    // An IPv6 pod IP is bracketed in the URL.
    expect(run.metricsUrl).toBe('http://[fd00::2]:2381/metrics');
  });

  test('etcd answers nothing in time (a loaded node): a voter stays ready and a member not yet known to vote stays not ready', () => {
    const mine = started('etcd-1', '00000000000000a1');
    expect(runSidecar(mine, { learner: 0, leader: 1 }, {}, true, { silent: true, wasVoter: true }).voter).toBe(true);
    expect(runSidecar(mine, { learner: 0, leader: 1 }, {}, true, { silent: true }).voter).toBe(false);
    // A known learner loses it.
    expect(runSidecar(started('etcd-1', 'ffff000000000001', true), { learner: 1, leader: 1 }, {}, false, { wasVoter: true }).voter).toBe(false);
  });

  test('the sidecar\'s readiness needs three misses of 5 s each: one slow answer does not make a voter NotReady', () => {
    const chart = new Chart(Testing.app(), 'etcd', { namespace: 'db' });
    new EtcdCluster(chart, 'etcd', {});
    const sidecar = only(synth(chart), 'StatefulSet').spec.template.spec.containers.find((c: { name: string }) => c.name === 'member-sidecar');
    expect(sidecar.readinessProbe).toMatchObject({ periodSeconds: 2, timeoutSeconds: 5, failureThreshold: 3 });
  });

  test('a member that formed a new cluster answers forming until it sees a leader', () => {
    const run = runSidecar(started('etcd-1', '00000000000000a1'), { learner: 0, leader: 0 }, { forming: true });
    expect(run.published).toBe('member token forming');
    expect(run.formed).toBe('');
  });

  test('a member without marks (restarted from data, joined, or rendered before the marks) answers formed', () => {
    const run = runSidecar(started('etcd-1', '00000000000000a1'), { learner: 0, leader: 0 });
    expect(run.published).toBe('member token formed');
  });
});
