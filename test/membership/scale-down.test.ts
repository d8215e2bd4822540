import { Chart, Testing } from 'cdk8s';
import { EtcdCluster, EtcdClusterProps } from '../../lib';
import { removeMembersScript } from '../../lib/jobs/scale-down/scale-down-script';
import { ScriptSandbox } from '../support/script-sandbox';
import { Manifest, only, synth } from '../support/synth';

function cluster(props: EtcdClusterProps): { etcd: EtcdCluster; manifests: Manifest[] } {
  const chart = new Chart(Testing.app(), 'etcd', { namespace: 'db' });
  const etcd = new EtcdCluster(chart, 'etcd', props);
  return { etcd, manifests: synth(chart) };
}

describe('scaleDownFrom: one step at a time', () => {
  test('5 → 3 keeps five pods, lists three members, and renders the Job that removes etcd-4 then etcd-3', () => {
    const { etcd, manifests } = cluster({ members: 3, scaleDownFrom: 5 });
    expect(only(manifests, 'StatefulSet').spec.replicas).toBe(5);
    // The leaving members stay in the list, marked: they are asked, but never part of a new cluster.
    expect(only(manifests, 'ConfigMap', 'etcd-members').data.members.trim().split('\n').map((l: string) => `${l.split(' ')[0]} ${l.split(' ')[4] ?? ''}`.trim()))
      .toEqual(['etcd-0', 'etcd-1', 'etcd-2', 'etcd-4 leaving', 'etcd-3 leaving']);
    const job = only(manifests, 'Job');
    expect(job.metadata.name).toBe('etcd-scale-down-5-to-3');
    expect(etcd.scaleDownWaitCommand).toBe('kubectl wait --for=condition=complete job/etcd-scale-down-5-to-3 -n db --timeout=30m');
    const container = job.spec.template.spec.containers[0];
    const env = Object.fromEntries(container.env.map((e: { name: string; value: string }) => [e.name, e.value]));
    expect(env.REMOVE.split(' ').map((e: string) => e.split('|')[0])).toEqual(['etcd-4', 'etcd-3']);
    expect(env.REMOVE.split(' ')[0].split('|').slice(1)).toEqual([
      'https://etcd-4.etcd-peer.db.svc.cluster.local:2380', 'https://etcd-4.etcd-peer.db.svc.cluster.local:2379',
    ]);
    expect(env.STAY.split(' ').map((e: string) => e.split('|')[2])).toEqual(etcd.clientEndpoints);
    expect(job.spec.ttlSecondsAfterFinished).toBe(3600);
    expect(env.ETCDCTL_CERT).toBe('/etc/etcd/client/tls.crt');
    expect(job.spec.template.spec.volumes).toContainEqual(expect.objectContaining({ secret: expect.objectContaining({ secretName: 'etcd-client' }) }));
    expect(job.spec.template.spec.automountServiceAccountToken).toBe(false);
    // The NetworkPolicy admits the Job's pods to the client port.
    const np = only(manifests, 'NetworkPolicy');
    expect(JSON.stringify(np.spec.ingress)).toContain('etcd-scale-down');
  });

  test('without scaleDownFrom there is no Job, and the StatefulSet runs exactly the members', () => {
    const { etcd, manifests } = cluster({ members: 5 });
    expect(manifests.filter((m) => m.kind === 'Job')).toEqual([]);
    expect(only(manifests, 'StatefulSet').spec.replicas).toBe(5);
    expect(etcd.scaleDownJob).toBeUndefined();
    expect(etcd.scaleDownWaitCommand).toBeUndefined();
  });

  test.each([
    [{ members: 3, scaleDownFrom: 7 }, 'members 3 is more than one step below scaleDownFrom 7 (quorum 4): shrink one step per apply, 7 → 5 → 3'],
    [{ members: 5, scaleDownFrom: 3 }, 'scaleDownFrom must be above members (got scaleDownFrom 3, members 5)'],
    [{ members: 3, scaleDownFrom: 4 }, 'scaleDownFrom must be one of 1, 3, 5, 7 (got 4)'],
    [{ members: 1, scaleDownFrom: 3 }, 'members 1 with scaleDownFrom 3 ends high availability'],
    [{ members: 1, scaleDownFrom: 5, acknowledgeSingleMember: true }, 'shrink one step per apply, 5 → 3 → 1'],
    [{ members: 3, acknowledgeSingleMember: true }, 'acknowledgeSingleMember is true, but no scaleDownFrom is given'],
    [{ members: 3, scaleDownFrom: 5, acknowledgeSingleMember: true }, 'acknowledgeSingleMember is true, but members is 3'],
  ])('%j is refused: %s', (props, message) => {
    expect(() => cluster(props)).toThrow(message);
  });

  test('3 → 1 goes ahead when acknowledged', () => {
    const { manifests } = cluster({ members: 1, scaleDownFrom: 3, acknowledgeSingleMember: true });
    expect(only(manifests, 'Job').metadata.name).toBe('etcd-scale-down-3-to-1');
  });
});

describe('the scale-down script', () => {
  const peer = (n: number) => `https://etcd-${n}:2380`;
  const client = (n: number) => `https://etcd-${n}:2379`;
  const row = (n: number) => `00000000000000a${n}, started, etcd-${n}, ${peer(n)}, ${client(n)}, false`;

  function run(options: { members: number[]; leader?: number; unhealthy?: number; clusterOf?: { [n: number]: number }; refuseRemovals?: number }) {
    const box = new ScriptSandbox('scale-down');
    const stubs = box.bin;
    box.write('bin/members', `${options.members.map(row).join('\n')}\n`);
    const clusters = [0, 1, 2, 3, 4].map((n) => options.clusterOf?.[n] ?? 7).join(' ');
    box.stub('etcdctl', `words=""
for a in "$@"; do case $a in --endpoints=*) endpoints=\${a#--endpoints=};; --*) ;; *) words="$words $a";; esac; done
set -- $words
echo "$* @ $endpoints" >> "${stubs}/calls"
n=\${endpoints#https://etcd-}; n=\${n%%:*}
case "$1 $2" in
  "member list") cat "${stubs}/members";;
  "get cdk8s-etcd-quorum-check") [ "$endpoints" != "${options.unhealthy === undefined ? '-' : client(options.unhealthy)}" ];;
  "endpoint status") leader=${options.leader ?? 0}; set -- ${clusters}; shift "$n"
    echo "[{\\"Endpoint\\":\\"$endpoints\\",\\"Status\\":{\\"header\\":{\\"cluster_id\\":$1,\\"member_id\\":$((n + 100)),\\"revision\\":5},\\"leader\\":$((leader + 100))}}]";;
  "member remove") refused=$(cat "${stubs}/refused" 2>/dev/null || echo 0)
    if [ "$refused" -lt ${options.refuseRemovals ?? 0} ]; then echo $((refused + 1)) > "${stubs}/refused"; echo "Error: etcdserver: unhealthy cluster" >&2; exit 1; fi
    grep -v "^$3, " "${stubs}/members" > "${stubs}/m"; mv "${stubs}/m" "${stubs}/members";;
  "move-leader "*) exit 0;;
  *) exit 2;;
esac
`);
    box.stub('sleep', 'exit 0\n');
    const entry = (n: number) => `etcd-${n}|${peer(n)}|${client(n)}`;
    const r = box.run(removeMembersScript(), {
      STAY: [0, 1, 2].map(entry).join(' '),
      REMOVE: [4, 3].map(entry).join(' '),
      HEALTH_WAIT_SECONDS: '2',
    });
    const result = { status: r.status, output: r.output, calls: box.read('bin/calls').split('\n'), members: box.read('bin/members') };
    box.dispose();
    return result;
  }

  test('removes the highest first, asking only the members that stay', () => {
    const r = run({ members: [0, 1, 2, 3, 4] });
    expect(r.status).toBe(0);
    expect(r.calls.filter((c) => c.startsWith('member remove'))).toEqual([
      `member remove 00000000000000a4 @ ${[0, 1, 2].map(client).join(',')}`,
      `member remove 00000000000000a3 @ ${[0, 1, 2].map(client).join(',')}`,
    ]);
    expect(r.output).toContain('scale-down: done: etcd-0 etcd-1 etcd-2 are the members');
  });

  test('a leaving leader hands its leadership to a staying voter first', () => {
    const r = run({ members: [0, 1, 2, 3, 4], leader: 4 });
    expect(r.status).toBe(0);
    const moved = r.calls.findIndex((c) => c.startsWith('move-leader'));
    expect(r.calls[moved]).toBe(`move-leader 00000000000000a0 @ ${client(4)}`);
    expect(moved).toBeLessThan(r.calls.findIndex((c) => c.startsWith('member remove 00000000000000a4')));
    expect(r.output).toContain('etcd-4 (00000000000000a4) leads: moving the leadership to 00000000000000a0 first');
  });

  test('a staying member that is not healthy stops it before anything is removed', () => {
    const r = run({ members: [0, 1, 2, 3, 4], unhealthy: 1 });
    expect(r.status).toBe(1);
    expect(r.output).toContain('FAILED: a member that stays does not answer a linearizable read: removing etcd-4 now could take the quorum away');
    expect(r.calls.some((c) => c.startsWith('member remove'))).toBe(false);
  });

  test('a member the scale-down does not know (a wrong scaleDownFrom) stops it before anything is removed', () => {
    const wrong = run({ members: [0, 1, 2, 3, 4, 9] });
    expect(wrong.status).toBe(1);
    expect(wrong.output).toContain('the cluster has members this scale-down does not know: etcd-9 00000000000000a9 (https://etcd-9:2380)');
    expect(wrong.calls.some((c) => c.startsWith('member remove'))).toBe(false);
  });

  test('staying members that answer for another cluster (they formed anew): nothing is removed', () => {
    const r = run({ members: [0, 1, 2], clusterOf: { 4: 8 } });
    expect(r.status).toBe(1);
    expect(r.output).toContain('etcd-4 is not in the staying members\' cluster (7), but answers as a member of cluster 8');
    expect(r.calls.some((c) => c.startsWith('member remove'))).toBe(false);
  });

  test('a removal etcd refuses for a moment (a member active for less than 5 s) is asked again', () => {
    const r = run({ members: [0, 1, 2, 3, 4], refuseRemovals: 2 });
    expect(r.status).toBe(0);
    expect(r.calls.filter((c) => c.startsWith('member remove 00000000000000a4'))).toHaveLength(3);
    expect(r.output).toContain('removed etcd-4');
  });

  test('run again after a partial run: the member removed before is skipped', () => {
    const r = run({ members: [0, 1, 2, 3] });
    expect(r.status).toBe(0);
    expect(r.output).toContain('etcd-4 (https://etcd-4:2380) is not a member (removed before)');
    expect(r.calls.filter((c) => c.startsWith('member remove'))).toEqual([`member remove 00000000000000a3 @ ${[0, 1, 2].map(client).join(',')}`]);
  });
});
