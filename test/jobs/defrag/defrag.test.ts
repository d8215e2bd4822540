import { spawnSync } from 'child_process';
import { Chart, Cron, Duration, Size, Testing } from 'cdk8s';
import { EtcdCluster, EtcdDefragRule, EtcdStaticPodCluster, EtcdVersion } from '../../../lib';
import { defragScript } from '../../../lib/jobs/defrag/defrag-script';
import { warningsOf } from '../../../lib/shared/warnings';
import { ScriptSandbox } from '../../support/script-sandbox';
import { only, synth } from '../../support/synth';

/** Whether a rule holds for one member's numbers, evaluated exactly as the job's awk does. */
function holds(rule: EtcdDefragRule, dbSize: number, dbSizeInUse: number, dbQuota: number): boolean {
  const r = spawnSync('awk', ['-v', `dbSize=${dbSize}`, '-v', `dbSizeInUse=${dbSizeInUse}`, '-v', `dbQuota=${dbQuota}`,
    `BEGIN { dbSizeFree = dbSize - dbSizeInUse; dbQuotaUsage = dbSize / dbQuota; exit !(${rule.expression}) }`]);
  return r.status === 0;
}

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

describe('EtcdDefragRule', () => {
  test.each([
    // dbSize, inUse, quota, recommended
    [100 * MIB, 100 * MIB, 2 * GIB, false],
    [1.7 * GIB, 1.7 * GIB, 2 * GIB, true], // above 80% of the quota
    [1.6 * GIB, 1.6 * GIB, 2 * GIB, false], // exactly 80%: not above
    [500 * MIB, 299 * MIB, 2 * GIB, true], // 201 MiB free
    [500 * MIB, 300 * MIB, 2 * GIB, false], // 200 MiB free: not above
  ])('recommended, dbSize %d, in use %d, quota %d: %s', (dbSize, inUse, quota, expected) => {
    expect(holds(EtcdDefragRule.recommended(), dbSize, inUse, quota)).toBe(expected);
  });

  test('and, or, allOf and anyOf combine; the description reads like etcd-defrag\'s', () => {
    const rule = EtcdDefragRule.quotaUsageAbove(0.5).and(EtcdDefragRule.sizeAbove(Size.mebibytes(100)));
    expect(holds(rule, 1.1 * GIB, GIB, 2 * GIB)).toBe(true);
    expect(holds(rule, 50 * MIB, 50 * MIB, 64 * MIB)).toBe(false);
    expect(EtcdDefragRule.recommended().description).toBe('(dbQuotaUsage > 0.8) || (dbSize - dbSizeInUse > 209715200)');
    expect(holds(EtcdDefragRule.anyOf([EtcdDefragRule.sizeAbove(Size.mebibytes(1))]), 2 * MIB, MIB, GIB)).toBe(true);
    expect(holds(EtcdDefragRule.always(), 1, 1, GIB)).toBe(true);
  });

  test('bad input names the method, the value and what is allowed', () => {
    expect(() => EtcdDefragRule.quotaUsageAbove(0)).toThrow('EtcdDefragRule.quotaUsageAbove(fraction) takes a fraction of the quota between 0 and 1, exclusive (got 0)');
    expect(() => EtcdDefragRule.quotaUsageAbove(1)).toThrow('(got 1)');
    expect(() => EtcdDefragRule.quotaUsageAbove(NaN)).toThrow('(got NaN)');
    expect(() => EtcdDefragRule.freeBytesAbove(Size.kibibytes(0))).toThrow('EtcdDefragRule.freeBytesAbove(size) takes a positive size such as Size.mebibytes(200) (got 0Ki)');
    expect(() => EtcdDefragRule.allOf([])).toThrow('EtcdDefragRule.allOf(rules) needs at least one rule (got [])');
    expect(() => EtcdDefragRule.anyOf([])).toThrow('EtcdDefragRule.anyOf(rules) needs at least one rule');
  });
});

describe('addDefrag', () => {
  test('EtcdCluster: a Forbid CronJob in the etcd image, the quota from the model, every member\'s URL, an output command', () => {
    const chart = new Chart(Testing.app(), 'c', { namespace: 'db' });
    const etcd = new EtcdCluster(chart, 'etcd', { storageSize: Size.gibibytes(10) });
    const defrag = etcd.addDefrag('defrag', { schedule: Cron.daily() });
    const job = only(synth(chart), 'CronJob', 'etcd-defrag');
    expect(job.spec.schedule).toBe('0 0 * * *');
    expect(job.spec.concurrencyPolicy).toBe('Forbid');
    const container = job.spec.jobTemplate.spec.template.spec.containers[0];
    expect(container.image).toBe(etcd.image);
    const env = Object.fromEntries(container.env.map((e: { name: string; value: string }) => [e.name, e.value]));
    expect(env.ENDPOINTS).toBe(etcd.clientEndpoints.join(','));
    expect(Number(env.QUOTA_BYTES)).toBe(etcd._model.tuning.quotaBackendBytes ?? 2 * GIB);
    expect(env.COMPACT).toBe('false');
    expect(env.DISARM_BELOW).toBe('0.9');
    expect(defrag.onDemandCommand).toBe('kubectl --namespace db create job --from=cronjob/etcd-defrag etcd-defrag-$(date +%s)');
    expect(defrag.ruleText).toBe(EtcdDefragRule.recommended().description);
  });

  test('static pods: host network on a control-plane node, the client files only, never a CA key', () => {
    const etcd = new EtcdStaticPodCluster(Testing.app(), 'etcd', { nodes: [0, 1, 2].map((i) => ({ name: `cp-${i}`, ip: `10.0.0.${10 + i}` })) });
    const job = only(synth(Chart.of(etcd.addDefrag('defrag'))), 'CronJob');
    const pod = job.spec.jobTemplate.spec.template.spec;
    expect(pod.hostNetwork).toBe(true);
    expect(JSON.stringify(pod.volumes)).not.toContain('ca.key');
    expect(pod.containers[0].env.find((e: { name: string }) => e.name === 'ENDPOINTS').value).toBe('https://10.0.0.10:2379,https://10.0.0.11:2379,https://10.0.0.12:2379');
  });

  test('bad options are refused with the property and the value', () => {
    const fresh = () => new EtcdCluster(new Chart(Testing.app(), 'c'), 'etcd', {});
    expect(() => fresh().addDefrag('a', { disarmBelowQuotaUsage: 1 })).toThrow('disarmBelowQuotaUsage must be a fraction of the quota between 0 and 1, exclusive (got 1)');
    expect(() => fresh().addDefrag('b', { schedule: Cron.schedule({ minute: '61' }) })).toThrow('schedule must be a five-field cron schedule');
    expect(() => fresh().addDefrag('c', { activeDeadline: Duration.minutes(2) })).toThrow(/activeDeadline must be a whole number of seconds, at least \d+ \(got 120 s\): one member's defragmentation may take/);
  });

  test.each([
    ['3.6.4', 1],
    ['3.6.5', 0],
    ['3.5.22', 1],
    ['3.5.35', 0],
  ])('etcd %s: %d warning(s) on the defragmentation for the defrag/applySnapshot corruption advisory', (version, expected) => {
    const etcd = new EtcdStaticPodCluster(Testing.app(), 'etcd', { version: EtcdVersion.of(version), nodes: [0, 1, 2].map((i) => ({ name: `cp-${i}`, ip: `10.0.0.${10 + i}` })) });
    const defrag = etcd.addDefrag('defrag');
    expect(defrag.node.validate()).toEqual([]); // warnings are recorded when the construct is validated at synthesis
    const advisory = `etcd ${version}: data can be corrupted when applySnapshot and defrag run together (fixed in 3.4.38 / 3.5.23 / 3.6.5); upgrade before defragmenting on a schedule`;
    expect(warningsOf(defrag).filter((w) => w === advisory)).toHaveLength(expected);
  });

  test('one defragmentation per cluster: two runs could each be on a member at once', () => {
    const etcd = new EtcdCluster(new Chart(Testing.app(), 'c'), 'etcd', {});
    etcd.addDefrag('nightly');
    expect(() => etcd.addDefrag('weekly')).toThrow("cluster 'c/etcd' already has a defragmentation, 'c/etcd/nightly'");
  });
});

interface Member { readonly size: number; readonly inUse: number; readonly answers?: boolean }

/** Run the defrag script against stand-ins: each member's numbers, who leads (it may move after each defrag). */
function runDefrag(members: { [host: string]: Member }, options: { leaders?: string[]; alarms?: string; listed?: string[]; rule?: EtcdDefragRule; failOn?: string; downAfterFirst?: string; alarmAfterFirst?: string } = {}) {
  const box = new ScriptSandbox('defrag');
  const hosts = Object.keys(members);
  const ids = Object.fromEntries(hosts.map((h, i) => [h, 100 + i]));
  for (const h of hosts) box.write(`bin/${h}.size`, String(members[h].size));
  box.write('bin/leaders', (options.leaders ?? [hosts[0]]).join('\n') + '\n');
  const listed = options.listed ?? hosts;
  box.stub('etcdctl', `words=""
for a in "$@"; do case $a in --endpoints=*) eps=\${a#--endpoints=};; --*) ;; *) words="$words $a";; esac; done
set -- $words
host=\${eps#https://}; host=\${host%%:*}
leader=$(head -n 1 "${box.bin}/leaders")
id_of() { case $1 in ${hosts.map((h) => `${h}) echo ${ids[h]};;`).join(' ')} esac; }
case "$1 $2" in
  "member list") ${listed.map((h, i) => `echo "${(ids[h] ?? 900 + i).toString(16)}, started, ${h}, https://${h}:2380, https://${h}:2379, false"`).join('; ')};;
  "endpoint status") case " ${hosts.filter((h) => members[h].answers === false).join(' ')} $(cat "${box.bin}/down" 2>/dev/null) " in *" $host "*) exit 1;; esac
    echo "[{\\"Endpoint\\":\\"$eps\\",\\"Status\\":{\\"header\\":{\\"member_id\\":$(id_of $host),\\"revision\\":77},\\"leader\\":$(id_of $leader),\\"dbSize\\":$(cat "${box.bin}/$host.size"),\\"dbSizeInUse\\":${'$'}(case $host in ${hosts.map((h) => `${h}) echo ${members[h].inUse};;`).join(' ')} esac)}}]";;
  "get cdk8s-etcd-defrag-check") case " ${hosts.join(' ')} " in *" $host "*) exit 0;; *) echo "no such endpoint: $eps" >&2; exit 1;; esac;;
  "alarm list") printf '%s' "${options.alarms ?? ''}"; cat "${box.bin}/alarms" 2>/dev/null || true;;
  "alarm disarm") echo "disarm" >> "${box.bin}/calls";;
  "defrag ") [ "$host" != "${options.failOn ?? '-'}" ] || { echo "context deadline exceeded" >&2; exit 1; }
    echo "defrag $host ($( [ "$host" = "$leader" ] && echo leader || echo follower))" >> "${box.bin}/calls"
    case $host in ${hosts.map((h) => `${h}) echo ${members[h].inUse} > "${box.bin}/${h}.size";;`).join(' ')} esac
    ${options.downAfterFirst ? `echo ${options.downAfterFirst} >> "${box.bin}/down"` : ''}
    ${options.alarmAfterFirst ? `printf '%s\\n' '${options.alarmAfterFirst}' > "${box.bin}/alarms"` : ''}
    # Leadership may move after each defragmentation.
    [ "$(wc -l < "${box.bin}/leaders")" -gt 1 ] && sed -i 1d "${box.bin}/leaders"; exit 0;;
  *) echo "unexpected: $*" >&2; exit 2;;
esac
`);
  box.stub('timeout', 'shift; exec "$@"\n');
  box.stub('sleep', 'exit 0\n');
  const r = box.run(defragScript(options.rule ?? EtcdDefragRule.recommended()), {
    ENDPOINTS: hosts.map((h) => `https://${h}:2379`).join(','), QUOTA_BYTES: String(2 * GIB), COMPACT: 'false', DISARM_BELOW: '0.9',
    DEFRAG_TIMEOUT: '60', WAIT_SECONDS: '3',
  });
  const result = { status: r.status, output: r.output, calls: box.read('bin/calls').split('\n').filter(Boolean) };
  box.dispose();
  return result;
}

describe('the defrag run', () => {
  const fragmented = { size: 600 * MIB, inUse: 100 * MIB };
  const tidy = { size: 100 * MIB, inUse: 99 * MIB };

  test('followers first, the leader last, read again before each pick (it moved); one line per member with before and after', () => {
    const run = runDefrag({ a: fragmented, b: fragmented, c: fragmented }, { leaders: ['b', 'c'] });
    expect(run.status).toBe(0);
    // b leads first, so a goes; then leadership moves to c, so b (now a follower) goes before c.
    expect(run.calls).toEqual(['defrag a (follower)', 'defrag b (follower)', 'defrag c (leader)']);
    expect(run.output).toContain(`defrag: https://a:2379 (follower): dbSize ${600 * MIB} → ${100 * MIB}`);
  });

  test('a member under the rule is left alone, and says so', () => {
    const run = runDefrag({ a: tidy, b: fragmented, c: tidy });
    expect(run.calls).toEqual(['defrag b (follower)']);
    expect(run.output).toContain('https://a:2379: dbSize 104857600, in use 103809024: the rule ((dbQuotaUsage > 0.8) || (dbSize - dbSizeInUse > 209715200)) does not hold, left alone');
  });

  test('a member that does not answer: it aborts having defragmented nothing', () => {
    const run = runDefrag({ a: fragmented, b: { ...fragmented, answers: false }, c: fragmented });
    expect(run.status).toBe(1);
    expect(run.output).toContain('https://b:2379 does not answer with a leader and a linearizable read');
    expect(run.calls).toEqual([]);
  });

  test('a member list that is not the cluster\'s: it aborts having defragmented nothing', () => {
    const run = runDefrag({ a: fragmented, b: fragmented, c: fragmented }, { listed: ['a', 'b', 'c', 'd'] });
    expect(run.status).toBe(1);
    expect(run.output).toContain('are not the ones this job was rendered for');
    expect(run.calls).toEqual([]);
  });

  test('NOSPACE alone does not stop it, and is disarmed once every member is below the threshold; another alarm stops it', () => {
    const full = { size: 1.95 * GIB, inUse: 0.5 * GIB };
    const run = runDefrag({ a: full, b: full, c: full }, { alarms: 'memberID:100 alarm:NOSPACE\n' });
    expect(run.status).toBe(0);
    expect(run.calls).toEqual(['defrag b (follower)', 'defrag c (follower)', 'defrag a (leader)', 'disarm']);
    expect(run.output).toContain('NOSPACE disarmed: every member is below 0.9 of the quota');
    const corrupt = runDefrag({ a: full, b: full, c: full }, { alarms: 'memberID:100 alarm:CORRUPT\n' });
    expect(corrupt.status).toBe(1);
    expect(corrupt.calls).toEqual([]);
  });

  test('a member that fails: the rest are left alone, and the run fails', () => {
    const run = runDefrag({ a: fragmented, b: fragmented, c: fragmented }, { failOn: 'b' });
    expect(run.status).toBe(1);
    expect(run.calls).toEqual([]);
    expect(run.output).toContain('FAILED: https://b:2379 (follower): defragmentation failed after 0 s: context deadline exceeded; the rest are left alone');
  });

  test('a member that goes down after the first defragmentation stops the run before the next (a second member down would cost the quorum)', () => {
    const run = runDefrag({ a: fragmented, b: fragmented, c: fragmented }, { downAfterFirst: 'c' });
    expect(run.status).toBe(1);
    expect(run.calls).toEqual(['defrag b (follower)']);
    expect(run.output).toContain('https://c:2379 does not answer with a leader and a linearizable read (before the next member)');
  });

  test('an alarm other than NOSPACE raised during the run stops it, and NOSPACE is never disarmed beside it', () => {
    const full = { size: 1.95 * GIB, inUse: 0.5 * GIB };
    const run = runDefrag({ a: full, b: full, c: full }, { alarms: 'memberID:100 alarm:NOSPACE\n', alarmAfterFirst: 'memberID:101 alarm:CORRUPT' });
    expect(run.status).toBe(1);
    expect(run.calls).toEqual(['defrag b (follower)']);
    expect(run.output).toContain('alarms other than NOSPACE are raised (memberID:101 alarm:CORRUPT');
  });

  test('the script parses (sh -n)', () => {
    expect(spawnSync('sh', ['-n', '-c', defragScript(EtcdDefragRule.recommended())]).status).toBe(0);
  });
});
