import { Size, Testing } from 'cdk8s';
import { AutoCompaction, EtcdCluster, EtcdStaticPodCluster, EtcdTls, EtcdVersion } from '../../lib';
import { renderEtcdFlags } from '../../lib/member/flags';
import { fixtureVersions, readFixture } from '../support/etcd-help';
import { etcdContainer, only, synth } from '../support/synth';

// One model, several renderers: the pod template ($(POD_NAME)) must render, for every member,
// exactly the flags the model renders for that member by name; `--initial-cluster` and its state come from the
// member-start step (test/membership), which computes them from the member list rendered from the same model.
test.each([1, 3, 5, 7])('the pod template equals each of the %d members rendered from the model', (members) => {
  const chart = Testing.chart();
  const etcd = new EtcdCluster(chart, 'etcd', { members });
  const template: string[] = etcdContainer(only(synth(chart), 'StatefulSet')).args;
  etcd._model.members.forEach((member, i) => {
    const expanded = template.map((arg) => arg.split('$(POD_NAME)').join(`etcd-${i}`));
    expect(expanded).toEqual(renderEtcdFlags(etcd._model, member, true));
    const all = renderEtcdFlags(etcd._model, member);
    expect(all.filter((f) => !expanded.includes(f)).map((f) => f.split('=')[0])).toEqual(['--initial-cluster', '--initial-cluster-state']);
  });
});

test('flags come out sorted, each once', () => {
  const chart = Testing.chart();
  new EtcdCluster(chart, 'etcd');
  const args: string[] = etcdContainer(only(synth(chart), 'StatefulSet')).args;
  const names = args.map((a) => a.split('=')[0]);
  expect(names).toEqual([...names].sort());
  expect(new Set(names).size).toBe(names.length);
});

// Every flag (and feature gate) rendered for a release must be one that release's binary accepts,
// as recorded from `etcd --help` in test/fixtures/etcd-help/ (kept true by test/e2e). Each fixture is
// rendered with every option that adds a flag: TLS, both compaction modes, an explicit quota, the
// corruption check, static pods with a joining node.
describe.each(fixtureVersions())('etcd %s accepts every flag rendered for it', (version) => {
  const accepted = readFixture(version);
  const rejected = (args: string[]) => args.flatMap((arg) => {
    const [flag, value] = [arg.split('=')[0], arg.slice(arg.indexOf('=') + 1)];
    const gates = flag === '--feature-gates' ? value.split(',').map((g) => `gate ${g.split('=')[0]}`) : [];
    return [flag, ...gates].filter((f) => !accepted.has(f));
  });

  test.each([
    ['EtcdCluster, defaults', {}],
    ['EtcdCluster, revision compaction and an explicit quota', { tuning: { autoCompaction: AutoCompaction.revision(1000), quotaBackendBytes: Size.gibibytes(2) } }],
    ['EtcdCluster, no TLS, extensive metrics', { tls: EtcdTls.disabled(), tuning: { extensiveMetrics: true } }],
    ...(EtcdVersion.of(version).usesFeatureGates ? [['EtcdCluster, StopGRPCServiceOnDefrag', { tuning: { stopGrpcServiceOnDefrag: true } }] as [string, object]] : []),
  ])('%s', (_name, props) => {
    const chart = Testing.chart();
    new EtcdCluster(chart, 'etcd', { version: EtcdVersion.of(version), ...props });
    const args: string[] = etcdContainer(only(synth(chart), 'StatefulSet')).args;
    expect(args.length).toBeGreaterThan(15);
    expect(rejected(args)).toEqual([]);
  });

  test('EtcdStaticPodCluster with a joining node', () => {
    const etcd = new EtcdStaticPodCluster(Testing.app(), 'etcd', {
      version: EtcdVersion.of(version),
      nodes: [{ name: 'cp-1', ip: '10.0.0.11' }, { name: 'cp-2', ip: '10.0.0.12' }, { name: 'cp-3', ip: '10.0.0.13' }, { name: 'cp-4', ip: '10.0.0.14', joinExisting: true }],
    });
    for (const node of etcd.nodeNames) {
      const [etcdBinary, ...args] = etcdContainer(synth(etcd.chartFor(node))[0]).command;
      expect(etcdBinary).toBe('etcd');
      expect(rejected(args)).toEqual([]);
    }
  });
});

test('the fixtures can catch a flag a release does not accept', () => {
  // 3.7 removed every --experimental-* flag, which 3.5 needs: rendering 3.5 flags for 3.7 must be caught.
  expect(readFixture('3.7.3').has('--experimental-initial-corrupt-check')).toBe(false);
  expect(readFixture('3.5.35').has('--experimental-initial-corrupt-check')).toBe(true);
  expect(readFixture('3.5.35').has('--feature-gates')).toBe(false);
  expect(readFixture('3.6.16').has('gate InitialCorruptCheck')).toBe(true);
});
