import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

/**
 * The import graph of a source tree: every relative import, `import type` and `export ... from` of every .ts
 * file (type-only imports count: a circle of types is still a circle for the reader), keyed by path relative
 * to the root.
 */
export function importGraph(root: string): Map<string, string[]> {
  const files = listTs(root);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    const targets = ts.preProcessFile(text, true, true).importedFiles
      .map((f) => f.fileName)
      .filter((spec) => {
        refuseSelfReference(file, spec);
        return spec.startsWith('.');
      })
      .map((spec) => resolve(root, file, spec));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** The package importing itself by name, or a path alias into the tree: neither may hide an edge. */
function refuseSelfReference(file: string, spec: string): void {
  if (spec === 'cdk8s-etcd' || spec.startsWith('cdk8s-etcd/') || /^(lib|src)\//.test(spec)) {
    throw new Error(`${file} imports '${spec}': import files of the tree by relative path, so the graph sees the edge`);
  }
}

function listTs(root: string, dir = ''): string[] {
  return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.posix.join(dir, e.name);
    if (e.isDirectory()) return listTs(root, rel);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [rel] : [];
  });
}

function resolve(root: string, from: string, spec: string): string {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  if (base.startsWith('..')) throw new Error(`${from} imports '${spec}', outside ${root}: the library must not depend on tests or tools`);
  const found = [`${base}.ts`, `${base}/index.ts`].find((c) => fs.existsSync(path.join(root, c)));
  if (!found) throw new Error(`${from} imports '${spec}', which is no .ts file under ${root}`);
  return found;
}

/** Every import circle (strongly connected component of more than one file, or a file importing itself). */
export function importCircles(graph: Map<string, string[]>): string[][] {
  // Tarjan's algorithm (recursive: import chains are short).
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) circles.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return circles;
}

/**
 * Imports that do not run downward: `layers` lists the top-level folders (or root files) from the bottom up,
 * folders in one entry being siblings that may not import each other. Within one top-level folder (its
 * subfolders included) imports are not ordered: only the circle check applies there. A folder missing from
 * `layers` is reported too.
 */
export function upwardImports(graph: Map<string, string[]>, layers: string[][]): string[] {
  const rank = new Map<string, number>();
  layers.forEach((names, i) => names.forEach((n) => rank.set(n, i)));
  const unitOf = (file: string) => file.split('/')[0];
  const problems = new Set<string>();
  for (const [from, targets] of graph) {
    const source = unitOf(from);
    if (!rank.has(source)) problems.add(`${from}: '${source}' is in no layer; add it where it belongs`);
    for (const to of targets) {
      const target = unitOf(to);
      if (source === target || !rank.has(source) || !rank.has(target)) continue;
      if (rank.get(target)! >= rank.get(source)!) {
        problems.add(`${from} imports ${to}: '${source}' may only import layers below it, and '${target}' is not`);
      }
    }
  }
  return [...problems];
}
