import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { importCircles, importGraph, upwardImports } from './support/import-graph';

/**
 * lib/'s folders from the bottom up (the README's "Layout" says what each holds): each may import only the ones before it.
 * The StatefulSet and static-pod clusters are siblings: neither imports the other.
 */
const LAYERS = [
  ['shared'],
  ['release'],
  ['member'],
  ['tls'],
  ['access'],
  ['jobs'],
  ['monitoring'],
  ['restore'],
  ['membership'],
  ['statefulset', 'static-pod'],
  ['index.ts'],
];
const LIB = path.join(__dirname, '..', 'lib');

describe('lib/ layout', () => {
  const graph = importGraph(LIB);

  test('has no import circle, type-only imports included', () => {
    expect(importCircles(graph)).toEqual([]);
  });

  test('imports only run downward through the layers', () => {
    expect(upwardImports(graph, LAYERS)).toEqual([]);
  });

  test('the access model and the jobs never see a concrete cluster class', () => {
    const concrete = [...graph].filter(([from]) => /^(access|jobs)\//.test(from))
      .flatMap(([from, targets]) => targets.filter((t) => /^(statefulset|static-pod)\//.test(t)).map((t) => `${from} -> ${t}`));
    expect(concrete).toEqual([]);
  });

  test('the graph holds every file and the edges between them', () => {
    expect(graph.size).toBe(fs.readdirSync(LIB, { recursive: true }).filter((f) => String(f).endsWith('.ts') && !String(f).endsWith('.d.ts')).length);
    expect(graph.get('index.ts')).toContain('statefulset/cluster.ts');
    expect(graph.get('jobs/cluster-jobs.ts')).toEqual(expect.arrayContaining(['jobs/backup/backup-job.ts', 'release/version.ts']));
  });
});

describe('the layout checks fail where they should', () => {
  let dir: string;
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  };
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'import-graph-'));
    write('shared/a.ts', "import { b } from './b';\nexport const a = b;\n");
    write('shared/b.ts', "export const b = 1;\n");
    write('jobs/job.ts', "import { a } from '../shared/a';\nexport const job = a;\n");
    write('index.ts', "export { job } from './jobs/job';\n");
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const layers = [['shared'], ['jobs'], ['index.ts']];

  test('a clean tree passes', () => {
    const graph = importGraph(dir);
    expect(importCircles(graph)).toEqual([]);
    expect(upwardImports(graph, layers)).toEqual([]);
  });

  test('a circle through a type-only import is found, with every file in it', () => {
    write('shared/b.ts', "import type { job } from '../jobs/job';\nexport const b = 1;\nexport type J = typeof job;\n");
    expect(importCircles(importGraph(dir))).toEqual([['jobs/job.ts', 'shared/a.ts', 'shared/b.ts']]);
  });

  test('an upward import and a folder in no layer are named', () => {
    write('shared/b.ts', "export { job } from '../jobs/job';\nexport const b = 1;\n");
    write('extra/x.ts', "export const x = 1;\n");
    expect(upwardImports(importGraph(dir), layers).sort()).toEqual([
      "extra/x.ts: 'extra' is in no layer; add it where it belongs",
      "shared/b.ts imports jobs/job.ts: 'shared' may only import layers below it, and 'jobs' is not",
    ]);
  });

  test('an import that leaves the tree, or names the package, is refused', () => {
    write('shared/b.ts', "import { x } from '../../test/x';\nexport const b = x;\n");
    expect(() => importGraph(dir)).toThrow("shared/b.ts imports '../../test/x', outside");
    write('shared/b.ts', "import { EtcdCluster } from 'cdk8s-etcd';\nexport const b = EtcdCluster;\n");
    expect(() => importGraph(dir)).toThrow("shared/b.ts imports 'cdk8s-etcd': import files of the tree by relative path");
  });

  test('a file importing itself is a circle', () => {
    write('shared/b.ts', "import * as self from './b';\nexport const b = self;\n");
    expect(importCircles(importGraph(dir))).toEqual([['shared/b.ts']]);
  });
});
