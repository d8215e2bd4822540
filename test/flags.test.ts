import { Testing } from 'cdk8s';
import { EtcdCluster } from '../lib';
import { renderEtcdFlags } from '../lib/flags';
import { etcdContainer, only, synth } from './support/synth';

// One model, several renderers: the pod template ($(POD_NAME)) must render, for every member,
// exactly the flags the model renders for that member by name.
test.each([1, 3, 5, 7])('the pod template equals each of the %d members rendered from the model', (members) => {
  const chart = Testing.chart();
  const etcd = new EtcdCluster(chart, 'etcd', { members });
  const template: string[] = etcdContainer(only(synth(chart), 'StatefulSet')).args;
  etcd._model.members.forEach((member, i) => {
    const expanded = template.map((arg) => arg.split('$(POD_NAME)').join(`etcd-${i}`));
    expect(expanded).toEqual(renderEtcdFlags(etcd._model, member));
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
