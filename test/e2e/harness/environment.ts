import { spawnSync } from 'child_process';
import { EtcdLine, etcdLines } from './etcd-lines';

const REQUIRED_TOOLS = ['unshare', 'setpriv', 'mount'];

/** Why this machine cannot run real-etcd scenarios at all, or undefined when it can. */
function machineProblem(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux (private mount namespaces)';
  if (process.getuid?.() !== 0) return 'needs root (private mount namespaces, running etcd as the pod user)';
  for (const tool of REQUIRED_TOOLS) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed`;
  }
  return undefined;
}

/**
 * The lines a test file runs on: the one its Jest project selects (`ETCD_LINE`, see jest.config.js),
 * or every line when the file runs outside a project.
 */
function selectedLines(): EtcdLine[] {
  const selected = (globalThis as { ETCD_LINE?: string }).ETCD_LINE;
  const lines = etcdLines().filter((l) => selected === undefined || l.line === selected);
  if (lines.length === 0) throw new Error(`harness: no etcd line ${selected} (known: ${etcdLines().map((l) => l.line).join(', ')})`);
  return lines;
}

/**
 * `describe` for real-etcd scenarios, once per etcd line, titled with the exact release. A line
 * whose binaries are missing prints one skip line; with CI=true it is a failure instead.
 */
export function describeEachLine(name: string, body: (line: EtcdLine) => void): void {
  const machine = machineProblem();
  for (const line of selectedLines()) {
    const title = `${name} [etcd ${line.version}]`;
    const reason = machine ?? line.missing;
    if (reason === undefined) {
      describe(title, () => body(line));
    } else if (process.env.CI === 'true') {
      describe(title, () => test(`etcd ${line.version} is available`, () => {
        throw new Error(`the e2e scenarios need etcd ${line.version} from ${line.source}: ${reason}`);
      }));
    } else {
      process.stdout.write(`SKIP e2e "${title}": ${reason}\n`);
      describe.skip(title, () => body(line));
    }
  }
}

/** `127.<line octet>.<n>`: the loopback /24 a scenario uses on a line, distinct for every line and scenario. */
export function ipPrefix(line: EtcdLine, n: number): string {
  return `127.${line.octet}.${n}`;
}
