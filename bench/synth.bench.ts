/**
 * Synthesis benchmark: what the library costs over writing the same objects by hand.
 *
 * For N = 1, 20, 200 and 500 default `EtcdCluster`s in one App, it times construction plus synthesis (every
 * validation, then each chart's objects), and the same for raw `ApiObject`s built from the library's own
 * output, so both sides write byte-identical YAML (checked before timing). Everything runs in one process
 * after warm-up; it prints the median of each side, their ratio, the library's cost per cluster, and what
 * writing the YAML adds per cluster to either side.
 *
 * `npm run bench`; `BENCH_SAMPLES` sets the samples per N (default 15), `BENCH_SIZES` the Ns (`1,20,200,500`).
 * Profile with `TS_NODE_PROJECT=test/tsconfig.json TS_NODE_PREFER_TS_EXTS=true node --cpu-prof -r ts-node/register/transpile-only bench/synth.bench.ts`.
 */
import { performance } from 'perf_hooks';
import { ApiObject, ApiObjectProps, App, Chart, Yaml } from 'cdk8s';
import { EtcdCluster } from '../lib';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 15);
const SIZES = (process.env.BENCH_SIZES ?? '1,20,200,500').split(',').map(Number);
const CLUSTERS_PER_SAMPLE = 100;
/** Enough objects constructed before timing that the JIT has compiled the hot paths. */
const WARM_UP_CLUSTERS = 2000;
console.warn = () => undefined; // the default clusters warn (no clients declared); printing is not what is measured

function libraryApp(n: number): App {
  const app = new App({ outdir: 'dist-bench' });
  const chart = new Chart(app, 'bench', { namespace: 'bench' });
  for (let i = 0; i < n; i++) new EtcdCluster(chart, `etcd-${i}`);
  return app;
}

/** The library's objects for n clusters, as plain JSON: what a user writing them by hand would pass to ApiObject. */
function manifestsFor(n: number): ApiObjectProps[] {
  return libraryApp(n).charts[0].toJson();
}

function rawApp(manifests: ApiObjectProps[]): App {
  const app = new App({ outdir: 'dist-bench' });
  const chart = new Chart(app, 'bench', { namespace: 'bench' });
  manifests.forEach((m, i) => new ApiObject(chart, `o${i}`, m));
  return app;
}

/**
 * What `app.synthYaml()` does before it writes YAML: every construct's validations (this library's checks
 * and warnings among them), then each chart's objects. YAML writing costs the same for both sides (the
 * documents are identical), so it is timed on its own.
 */
function synthesize(app: App): unknown[] {
  for (const c of app.node.findAll()) {
    const errors = c.node.validate();
    if (errors.length > 0) throw new Error(errors.join('\n'));
  }
  return app.charts.flatMap((chart) => chart.toJson());
}

/**
 * Median time of one run of `a` and of `b`. Samples alternate between the two, so drift and garbage
 * collection fall on both alike, and each sample repeats small runs until it covers about
 * `CLUSTERS_PER_SAMPLE` clusters, so timer resolution and a single pause do not decide a small N.
 */
function medians(n: number, a: () => unknown, b: () => unknown): [number, number] {
  const repeats = Math.ceil(CLUSTERS_PER_SAMPLE / n);
  const times: [number[], number[]] = [[], []];
  for (let i = 0; i < SAMPLES; i++) {
    [a, b].forEach((run, side) => {
      const start = performance.now();
      for (let r = 0; r < repeats; r++) run();
      times[side].push((performance.now() - start) / repeats);
    });
  }
  return times.map((t) => t.sort((x, y) => x - y)[Math.floor(t.length / 2)]) as [number, number];
}

function main(): void {
  for (let done = 0; done < WARM_UP_CLUSTERS; done += 100) {
    synthesize(libraryApp(100));
    synthesize(rawApp(manifestsFor(100)));
  }
  console.log(`node ${process.version}, ${SAMPLES} samples per size and side, alternating, median of one run`);
  console.log('| clusters | library | raw ApiObjects | ratio | library per cluster | YAML writing (both sides) | ratio with YAML writing |');
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const n of SIZES) {
    const manifests = manifestsFor(n);
    if (libraryApp(n).synthYaml() !== rawApp(manifests).synthYaml()) {
      throw new Error(`the raw ApiObjects do not write the library's YAML for ${n} clusters`);
    }
    const [library, raw] = medians(n, () => synthesize(libraryApp(n)), () => synthesize(rawApp(manifests)));
    const [yaml] = medians(n, () => Yaml.stringify(...manifests), () => undefined);
    console.log(`| ${n} | ${library.toFixed(2)} ms | ${raw.toFixed(2)} ms | ${(library / raw).toFixed(2)}× | ${(library / n).toFixed(3)} ms `
      + `| ${yaml.toFixed(2)} ms | ${((library + yaml) / (raw + yaml)).toFixed(2)}× |`);
  }
}

main();
