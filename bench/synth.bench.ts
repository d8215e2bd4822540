/**
 * Synthesis benchmark: what the library costs over writing the same objects by hand.
 *
 * For N = 1, 20, 200 and 500 default `EtcdCluster`s in one App, it times construction plus `app.synthYaml()`
 * (which runs every validation), and the same for raw `ApiObject`s built from the library's own output, so both
 * sides write byte-identical YAML (checked before timing). Everything runs in one process after warm-up; it
 * prints the median of each side, their ratio and the library's cost per cluster.
 *
 * `npm run bench`; `BENCH_SAMPLES` sets the samples per N (default 15), `BENCH_SIZES` the Ns (`1,20,200,500`).
 * Profile with `node --cpu-prof -r ts-node/register/transpile-only bench/synth.bench.ts`.
 */
import { performance } from 'perf_hooks';
import { ApiObject, App, Chart } from 'cdk8s';
import { EtcdCluster } from '../lib';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 15);
const SIZES = (process.env.BENCH_SIZES ?? '1,20,200,500').split(',').map(Number);
/** Enough objects constructed before timing that the JIT has compiled the hot paths. */
const WARM_UP_CLUSTERS = 2000;
console.warn = () => undefined; // the default clusters warn (no clients declared); printing is not what is measured

function withLibrary(n: number): string {
  const app = new App({ outdir: 'dist-bench' });
  const chart = new Chart(app, 'bench', { namespace: 'bench' });
  for (let i = 0; i < n; i++) new EtcdCluster(chart, `etcd-${i}`);
  return app.synthYaml();
}

/** The library's objects for n clusters, as plain JSON: what a user writing them by hand would pass to ApiObject. */
function manifestsFor(n: number): any[] {
  const app = new App({ outdir: 'dist-bench' });
  const chart = new Chart(app, 'bench', { namespace: 'bench' });
  for (let i = 0; i < n; i++) new EtcdCluster(chart, `etcd-${i}`);
  return chart.toJson();
}

function withApiObjects(manifests: any[]): string {
  const app = new App({ outdir: 'dist-bench' });
  const chart = new Chart(app, 'bench', { namespace: 'bench' });
  manifests.forEach((m, i) => new ApiObject(chart, `o${i}`, m));
  return app.synthYaml();
}

function median(run: () => unknown): number {
  const samples: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const start = performance.now();
    run();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

function main(): void {
  for (let done = 0; done < WARM_UP_CLUSTERS; done += 100) {
    withLibrary(100);
    withApiObjects(manifestsFor(100));
  }
  console.log(`node ${process.version}, ${SAMPLES} samples per size, median`);
  console.log('| clusters | library | raw ApiObjects | ratio | library per cluster |');
  console.log('| ---: | ---: | ---: | ---: | ---: |');
  for (const n of SIZES) {
    const manifests = manifestsFor(n);
    if (withLibrary(n) !== withApiObjects(manifests)) {
      throw new Error(`the raw ApiObjects do not write the library's YAML for ${n} clusters`);
    }
    const library = median(() => withLibrary(n));
    const raw = median(() => withApiObjects(manifests));
    console.log(`| ${n} | ${library.toFixed(1)} ms | ${raw.toFixed(1)} ms | ${(library / raw).toFixed(2)}× | ${(library / n).toFixed(3)} ms |`);
  }
}

main();
