/**
 * Synthesis benchmark: how long one EtcdCluster takes to construct and synthesize.
 * Run with `npm run bench`; prints the median and p95 per member count.
 */
import { performance } from 'perf_hooks';
import { Testing } from 'cdk8s';
import { EtcdCluster, EtcdNetworkPeer } from '../lib';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200);
console.warn = () => undefined; // warnings are not what is measured

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

for (const members of [1, 3, 5, 7]) {
  const samples: number[] = [];
  for (let i = 0; i < ITERATIONS + 20; i++) {
    const start = performance.now();
    const chart = Testing.chart();
    new EtcdCluster(chart, 'etcd', { members, clients: [EtcdNetworkPeer.anywhere()] });
    Testing.synth(chart);
    if (i >= 20) samples.push(performance.now() - start); // the first runs warm up the JIT
  }
  samples.sort((a, b) => a - b);
  console.log(`members=${members} iterations=${ITERATIONS} median=${percentile(samples, 50).toFixed(2)}ms p95=${percentile(samples, 95).toFixed(2)}ms`);
}
