import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PYTHON, TYPESCRIPT, run } from './languages';

/**
 * jsii runs the library in Node.js for every language. These machines have Node 20, past its end of life, so jsii
 * prints a banner at every start: the README says how to silence it, and this test checks that it works. Node 22 (a
 * supported line) comes from the npm registry's `node` package, cached by version, and the Python example must write
 * the same YAML under it as the TypeScript example under Node 20, with no banner.
 */
const NODE_22 = '22.23.3';
const CACHE = process.env.CDK8S_ETCD_CACHE ?? path.join(os.homedir(), '.cache', 'cdk8s-etcd');
const SILENCE = 'JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION';

/** The node binary of a release, installed from the npm registry's `node` package into the cache once. */
function nodeBinDir(version: string): string {
  const prefix = path.join(CACHE, 'node', version);
  const bin = path.join(prefix, 'node_modules', 'node', 'bin');
  if (!fs.existsSync(path.join(bin, 'node'))) {
    run(['npm', 'install', '--no-save', '--no-audit', '--no-fund', '--prefix', prefix, `node@${version}`]);
  }
  return bin;
}

describe('Node.js versions under the Python binding', () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-etcd-node-'));
  let python: ReturnType<typeof PYTHON.build>;
  afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));
  beforeAll(() => { python = PYTHON.build(scratch); }, 300000);

  /** Run the Python main example; every file it writes and its stderr. */
  const main = (env: NodeJS.ProcessEnv) => {
    const outdir = fs.mkdtempSync(path.join(scratch, 'out-'));
    const [command, ...args] = python('main');
    const r = spawnSync(command, args, { env: { ...process.env, ...env, CDK8S_OUTDIR: outdir }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${command} failed: ${r.stderr}`);
    return { yaml: fs.readFileSync(path.join(outdir, 'etcd.k8s.yaml'), 'utf8'), stderr: r.stderr };
  };

  test(`on Node ${process.versions.node} the end-of-life banner shows, and ${SILENCE}=<major> silences it`, () => {
    const major = process.versions.node.split('.')[0];
    expect(main({ [SILENCE]: '' }).stderr).toMatch(/end-of-life|end of life/i);
    expect(main({ [SILENCE]: major }).stderr).not.toMatch(/end-of-life|end of life/i);
  }, 120000);

  test(`on Node ${NODE_22} the Python example writes the TypeScript example's YAML, with no banner`, () => {
    const bin = nodeBinDir(NODE_22);
    expect(run([path.join(bin, 'node'), '--version']).trim()).toBe(`v${NODE_22}`);
    const outdir = fs.mkdtempSync(path.join(scratch, 'ts-'));
    run(TYPESCRIPT.build(scratch)('main'), { env: { CDK8S_OUTDIR: outdir } });
    const expected = fs.readFileSync(path.join(outdir, 'etcd.k8s.yaml'), 'utf8');
    const underNode22 = main({ PATH: `${bin}:${process.env.PATH}`, [SILENCE]: '' });
    expect(underNode22.yaml).toBe(expected);
    expect(underNode22.stderr).not.toMatch(/end-of-life|end of life|not.*supported/i);
  }, 300000);
});
