import * as fs from 'fs';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { EtcdCluster } from '../../lib';
import { memberSidecarScript, startMemberScript } from '../../lib/membership/member-scripts';
import { initialClusterFor } from '../../lib/member/model';
import { ScriptSandbox } from '../support/script-sandbox';
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
}

function runStart(peers: { [name: string]: Peer }, options: { members: string[]; data?: boolean; mayForm?: boolean; name?: string; list?: string[] }): StartRun {
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
  "endpoint health") exit 0;;
  "member remove") echo "remove $3" >> "${stubs}/changes"; grep -v "^$3, " "${stubs}/members" > "${stubs}/m.new"; mv "${stubs}/m.new" "${stubs}/members";;
  "member add") echo "add $3 $url$learner" >> "${stubs}/changes"; echo "ffff000000000001, unstarted, , $url, , true" >> "${stubs}/members";;
  *) exit 2;;
esac
`);
  box.stub('timeout', 'shift; exec "$@"\n');
  box.stub('httpd', 'exec /bin/sleep 60\n');
  box.stub('sleep', 'exit 0\n');
  const list = (options.list ?? NAMES).map((n) => `${n} ${peerUrl(n)} https://${n}.etcd-peer:2379 http://${n}.etcd-peer:2382`).join('\n');
  const r = box.run(startMemberScript(), {
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
  });
  const run = {
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
    expect(run.changes).toEqual([]);
  });

  test('the formation list is the model\'s --initial-cluster, from the ConfigMap the cluster renders', () => {
    const chart = new Chart(Testing.app(), 'etcd', { namespace: 'db' });
    const etcd = new EtcdCluster(chart, 'etcd', { members: 5 });
    const list: string = only(synth(chart), 'ConfigMap', 'etcd-members').data.members;
    const box = new ScriptSandbox('member-list');
    const file = box.write('members', list);
    const r = box.run(`members=$(cat "${file}"); printf '%s\\n' "$members" | awk '{ printf "%s%s=%s", sep, $1, $2; sep = "," }'`);
    box.dispose();
    expect(r.stdout).toBe(initialClusterFor(etcd._model.members, etcd._model.members[0]));
    expect(startMemberScript()).toContain(`formation=$(printf '%s\\n' "$members" | awk '{ printf "%s%s=%s", sep, $1, $2; sep = "," }')`);
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
  function runSidecar(mine: string, answers: { promote: boolean; healthy: boolean }) {
    const box = new ScriptSandbox('member-sidecar');
    const stubs = box.bin;
    box.write('bin/members', `${ALL[0]}\n${mine}\n${ALL[2]}\n`);
    box.stub('etcdctl', `${POSITIONAL}
case "$1 $2" in
  "member list") cat "${stubs}/members";;
  "member promote") echo "promote $3 $endpoints" >> "${stubs}/changes"; ${answers.promote ? 'exit 0' : 'echo "Error: etcdserver: can only promote a learner member which is in sync with leader" >&2; exit 1'};;
  "endpoint health") ${answers.healthy ? 'exit 0' : 'exit 1'};;
esac
`);
    box.stub('httpd', 'exit 0\n');
    // One round, then stop.
    box.stub('sleep', 'kill $PPID\n');
    const list = NAMES.map((n) => `${n} ${peerUrl(n)} https://${n}.etcd-peer:2379 http://${n}.etcd-peer:2382`).join('\n');
    const r = box.run(memberSidecarScript(), {
      LOG_PREFIX: 'member-sidecar', NAME: 'etcd-1', PEER_URL: peerUrl('etcd-1'), CLIENT_URL: 'https://etcd-1.etcd-peer:2379',
      MEMBERS_FILE: box.write('members-list', `${list}\n`), TOKEN: 'token', WWW: path.join(box.root, 'www'), LISTEN: '10.0.0.2:2382',
      FORMED_MARK: path.join(box.root, 'formed'), INTERVAL: '5',
    });
    const run = { output: r.output, changes: box.read('bin/changes'), published: box.read('www/cdk8s-etcd-member'), formed: box.read('formed') };
    box.dispose();
    return run;
  }

  test('a learner is promoted through the other members', () => {
    const run = runSidecar(started('etcd-1', 'ffff000000000001', true), { promote: true, healthy: false });
    expect(run.changes).toBe('promote ffff000000000001 https://etcd-0.etcd-peer:2379,https://etcd-2.etcd-peer:2379');
    expect(run.output).toContain('promoted etcd-1 (ffff000000000001) to a voting member');
    expect(run.published).toBe('member token forming');
  });

  test('a learner not yet in sync: it says why, and asks again next round', () => {
    const run = runSidecar(started('etcd-1', 'ffff000000000001', true), { promote: false, healthy: false });
    expect(run.output).toContain('is a learner; not promoted yet: Error: etcdserver: can only promote a learner member which is in sync with leader');
    expect(run.formed).toBe('');
  });

  test('a voter of a cluster with a quorum notes it on the data volume, and then answers formed', () => {
    const run = runSidecar(started('etcd-1', '00000000000000a1'), { promote: false, healthy: true });
    expect(run.changes).toBe('');
    expect(run.formed).toBe('00000000000000a1');
    expect(run.output).toContain('is a voting member of a cluster with a quorum');
  });

  test('a voter without a quorum is not noted as formed', () => {
    const run = runSidecar(started('etcd-1', '00000000000000a1'), { promote: false, healthy: false });
    expect(run.formed).toBe('');
    expect(run.published).toBe('member token forming');
  });
});
