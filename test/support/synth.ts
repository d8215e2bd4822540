import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { validateObject } from './schema';

/** A synthesized Kubernetes object. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; [k: string]: any }; [k: string]: any };

/** Synthesize a chart and validate every object against its schema. Use this instead of Testing.synth. */
export function synth(chart: Chart): Manifest[] {
  const manifests = Testing.synth(chart) as Manifest[];
  manifests.forEach(validateObject);
  recordForAcceptance(manifests);
  return manifests;
}

/**
 * With `CDK8S_ETCD_CORPUS_OUT` set (`npm test` sets it for the unit run), every chart a test synthesizes is kept there,
 * once per distinct content, with the test that made it: the acceptance suite (test/e2e/kube) applies them all to a
 * real API server.
 */
export function recordForAcceptance(manifests: Manifest[]): void {
  const dir = process.env.CDK8S_ETCD_CORPUS_OUT;
  if (!dir || manifests.length === 0) return;
  const json = JSON.stringify(manifests);
  const file = path.join(dir, `${createHash('sha1').update(json).digest('hex')}.json`);
  if (fs.existsSync(file)) return;
  const state = expect.getState();
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ test: `${path.relative(process.cwd(), state.testPath ?? '')}: ${state.currentTestName ?? ''}`, manifests }));
}

/** The one object of a kind (and name, when given); throws when there is not exactly one. */
export function only(manifests: Manifest[], kind: string, name?: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` named ${name}` : ''}, found ${found.length}`);
  return found[0];
}

/** etcd's flags as a map, from `--flag=value` arguments. */
export function flagsOf(args: string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (const arg of args) {
    const m = /^--([a-z0-9-]+)=(.*)$/.exec(arg);
    if (!m) throw new Error(`not a --flag=value argument: ${arg}`);
    if (flags.has(m[1])) throw new Error(`flag --${m[1]} given twice`);
    flags.set(m[1], m[2]);
  }
  return flags;
}

/** The pod spec of a Pod, or of a StatefulSet's pod template. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function podSpecOf(workload: Manifest): any {
  return workload.kind === 'Pod' ? workload.spec : workload.spec.template.spec;
}

/** The etcd container of a StatefulSet or Pod manifest. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function etcdContainer(workload: Manifest): any {
  const spec = podSpecOf(workload);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const container = spec.containers.find((c: any) => c.name === 'etcd');
  if (!container) throw new Error(`no etcd container in ${workload.kind} ${workload.metadata.name}`);
  return container;
}
