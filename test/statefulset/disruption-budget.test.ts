import { Chart, Testing } from 'cdk8s';
import { EtcdCluster } from '../../lib';
import { Manifest, only, synth } from '../support/synth';

/**
 * The eviction API's decision for one pod under a budget, as kube-apiserver makes it
 * (pkg/registry/core/pod/storage/eviction.go): a ready pod needs a disruption allowed; a pod that is not
 * ready is evicted at once under `AlwaysAllow`, and under `IfHealthyBudget` only while the budget is
 * healthy (currentHealthy >= desiredHealthy). Each eviction removes the pod.
 */
function evict(budget: Manifest, ready: boolean[], victim: number): boolean {
  const expected = ready.length;
  const desiredHealthy = expected - budget.spec.maxUnavailable;
  const currentHealthy = ready.filter(Boolean).length;
  if (!ready[victim]) {
    if (budget.spec.unhealthyPodEvictionPolicy === 'AlwaysAllow') return true;
    return currentHealthy >= desiredHealthy;
  }
  return currentHealthy - desiredHealthy > 0;
}

/** Evict each victim in turn; returns which evictions the API allowed. Evicted pods are gone (not ready, not counted healthy). */
function drain(budget: Manifest, ready: boolean[], victims: number[]): boolean[] {
  const state = [...ready];
  return victims.map((v) => {
    const allowed = evict(budget, state, v);
    if (allowed) state[v] = false;
    return allowed;
  });
}

function budgetOf(members = 3): Manifest {
  const chart = new Chart(Testing.app(), 'c', { namespace: 'etcd' });
  new EtcdCluster(chart, 'etcd', { members });
  return only(synth(chart), 'PodDisruptionBudget');
}

describe('the PodDisruptionBudget never lets drains take a quorum', () => {
  test('uses IfHealthyBudget, the Kubernetes default', () => {
    expect(budgetOf().spec.unhealthyPodEvictionPolicy).toBe('IfHealthyBudget');
  });

  test('while a leader election makes every member not ready, two concurrent drains evict nobody (AlwaysAllow would evict two of three)', () => {
    const budget = budgetOf();
    expect(drain(budget, [false, false, false], [0, 1])).toEqual([false, false]);
    expect(drain({ ...budget, spec: { ...budget.spec, unhealthyPodEvictionPolicy: 'AlwaysAllow' } }, [false, false, false], [0, 1])).toEqual([true, true]);
  });

  test('a broken member does not block a drain while the others are ready, but then no ready member may go', () => {
    expect(drain(budgetOf(), [true, false, true], [1, 0])).toEqual([true, false]);
  });

  test('a healthy cluster gives one member at a time: 3 members one, 5 members one, a single member none', () => {
    expect(drain(budgetOf(3), [true, true, true], [0, 1])).toEqual([true, false]);
    expect(drain(budgetOf(5), [true, true, true, true, true], [0, 1])).toEqual([true, false]);
    expect(drain(budgetOf(1), [true], [0])).toEqual([false]);
  });
});
