import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ErrorCase, Language, Program, TYPESCRIPT, run } from './languages';
import { typescriptErrorMessages } from './typescript-errors';

/** What a language's binding does differently, by design of jsii's runtime for that language. */
export interface LanguageExpectations {
  /** The class (or Go type) of the error each case raises. */
  readonly errorTypes: Record<ErrorCase, string>;
  /** jsii's Java runtime appends the JavaScript stack to every message, unless JSII_NOSTACK is set. */
  readonly appendsStack?: boolean;
}

interface Synthesized {
  /** Every file the app wrote, by its path under the outdir. */
  readonly files: Record<string, string>;
  readonly stdout: string;
}

type CaughtErrors = Record<ErrorCase, { type: string; message: string }>;

const ERROR_CASES: ErrorCase[] = ['constructor', 'method', 'static', 'synth'];
// Node 20 is past its end of life, and jsii prints a banner about it (on stderr) at every start.
const QUIET = { JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: process.versions.node.split('.')[0] };

function filesUnder(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const full = path.join(entry.parentPath, entry.name);
      files[path.relative(dir, full)] = fs.readFileSync(full, 'utf8');
    }
  }
  return files;
}

function kindsIn(yaml: string): string[] {
  return [...yaml.matchAll(/^kind: (\S+)$/gm)].map((m) => m[1]);
}

/**
 * The binding test of one language. Its examples, built against dist-pkg/, must write the TypeScript examples' files
 * byte for byte and print what they print; its bad-input probe must catch each error a TypeScript user gets as an
 * ordinary exception of that language, with the TypeScript message.
 */
export function describeLanguage(language: Language, expectations: LanguageExpectations): void {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `cdk8s-etcd-${language.name.toLowerCase()}-`));
  let typescript: (program: Program) => string[];
  let other: (program: Program) => string[];

  const synth = (command: (program: Program) => string[], program: Program): Synthesized => {
    const outdir = fs.mkdtempSync(path.join(scratch, `${program}-`));
    const stdout = run(command(program), { env: { ...QUIET, CDK8S_OUTDIR: outdir } });
    return { files: filesUnder(outdir), stdout };
  };
  const caught = (env: NodeJS.ProcessEnv = {}): CaughtErrors => {
    const outdir = fs.mkdtempSync(path.join(scratch, 'bad-input-'));
    return JSON.parse(run(other('bad-input'), { env: { ...QUIET, ...env, CDK8S_OUTDIR: outdir } }));
  };

  beforeAll(() => {
    typescript = TYPESCRIPT.build(scratch);
    other = language.build(scratch);
  });
  afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

  test(`${language.name}: the main example writes the TypeScript app's YAML, byte for byte`, () => {
    const expected = synth(typescript, 'main');
    expect(Object.keys(expected.files)).toEqual(['etcd.k8s.yaml']);
    expect(kindsIn(expected.files['etcd.k8s.yaml'])).toEqual(expect.arrayContaining(
      ['StatefulSet', 'Certificate', 'NetworkPolicy', 'PodDisruptionBudget', 'CronJob', 'PersistentVolumeClaim', 'Deployment']));
    expect(synth(other, 'main')).toEqual(expected);
  });

  test(`${language.name}: the static-pod example writes the same three node manifests and prints the same flags`, () => {
    const expected = synth(typescript, 'static-pods');
    expect(Object.keys(expected.files).sort()).toEqual(['etcd-cp-1.k8s.yaml', 'etcd-cp-2.k8s.yaml', 'etcd-cp-3.k8s.yaml']);
    expect(expected.stdout).toContain('--etcd-servers=https://10.0.0.11:2379,https://10.0.0.12:2379,https://10.0.0.13:2379\n');
    expect(synth(other, 'static-pods')).toEqual(expected);
  });

  test(`${language.name}: bad input raises an ordinary exception carrying the TypeScript message`, () => {
    const typescriptMessages = typescriptErrorMessages(fs.mkdtempSync(path.join(scratch, 'ts-bad-input-')));
    expect(typescriptMessages.constructor).toMatch(/^members must be one of 1, 3, 5, 7 \(got 4\)/);
    // From app.synth(), the error is cdk8s's own plain Error, which jsii passes on as String(error).
    const expected = (c: ErrorCase) => (c === 'synth' ? `Error: ${typescriptMessages[c]}` : typescriptMessages[c]);

    const errors = caught();
    for (const c of ERROR_CASES) {
      expect({ case: c, type: errors[c].type }).toEqual({ case: c, type: expectations.errorTypes[c] });
      if (expectations.appendsStack) {
        expect(errors[c].message.startsWith(`${expected(c)}\n`)).toBe(true);
        expect(errors[c].message.slice(expected(c).length)).toMatch(/\n {4}at /);
      } else {
        expect({ case: c, message: errors[c].message }).toEqual({ case: c, message: expected(c) });
      }
    }
    if (expectations.appendsStack) {
      const withoutStack = caught({ JSII_NOSTACK: '1' });
      for (const c of ERROR_CASES) expect({ case: c, message: withoutStack[c].message }).toEqual({ case: c, message: expected(c) });
    }
  });
}
