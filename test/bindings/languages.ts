import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/** The example programs every language has: the two TypeScript examples, and the error probe. */
export type Program = 'main' | 'static-pods' | 'bad-input';

/** Where the bad-input probes make the library throw: a constructor, a method, a static factory, app.synth(). */
export type ErrorCase = 'constructor' | 'method' | 'static' | 'synth';

/** One language's binding: builds its examples against dist-pkg/ (npm run package), then runs them. */
export interface Language {
  readonly name: string;
  /** Installs or compiles the examples; `scratch` is an empty directory of this run. Returns how to run a program. */
  build(scratch: string): (program: Program) => string[];
}

const ROOT = path.join(__dirname, '..', '..');
const DIST_PKG = path.join(ROOT, 'dist-pkg');
const CACHE = process.env.CDK8S_ETCD_CACHE ?? path.join(process.env.HOME ?? '/root', '.cache', 'cdk8s-etcd');

/** Runs a command to completion and returns its stdout; a failure throws with its stderr. */
export function run(argv: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const [command, ...args] = argv;
  const result = spawnSync(command, args, {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`${argv.join(' ')} exited with ${result.status ?? result.signal}:\n${result.stderr}${result.stdout}`);
  }
  return result.stdout;
}

function packaged(file: string): string {
  const full = path.join(DIST_PKG, file);
  if (!fs.existsSync(full)) throw new Error(`${full} is missing: run \`npm run package\` first`);
  return full;
}

export const TYPESCRIPT: Language = {
  name: 'TypeScript',
  build: () => (program) => [
    path.join(ROOT, 'node_modules', '.bin', 'ts-node'), '--project', path.join(ROOT, 'test', 'tsconfig.json'), '--transpile-only',
    path.join(ROOT, 'examples', `${program}.ts`),
  ],
};

/** A venv with the pinned published packages (examples/python/requirements.txt) and our wheel. */
export const PYTHON: Language = {
  name: 'Python',
  build: (scratch) => {
    const wheel = fs.readdirSync(packaged('python')).find((f) => f.endsWith('.whl'));
    if (!wheel) throw new Error('dist-pkg/python holds no wheel: run `npm run package` first');
    const venv = path.join(scratch, 'venv');
    run(['python3', '-m', 'venv', venv]);
    const python = path.join(venv, 'bin', 'python');
    run([python, '-m', 'pip', 'install', '--quiet', '-r', 'examples/python/requirements.txt', path.join(DIST_PKG, 'python', wheel)]);
    return (program) => [python, path.join(ROOT, 'examples', 'python', `${program.replace('-', '_')}.py`)];
  },
};

/**
 * Maven builds examples/java against dist-pkg/java. Its local repository is ours (the cache), and our own artifact is
 * removed from it first: Maven would otherwise keep the 0.1.0 it copied on an earlier run.
 */
export const JAVA: Language = {
  name: 'Java',
  build: (scratch) => {
    packaged('java/io/github/cdk8s-etcd/cdk8s-etcd');
    const repository = path.join(CACHE, 'm2');
    fs.rmSync(path.join(repository, 'io', 'github', 'cdk8s-etcd'), { recursive: true, force: true });
    const classpathFile = path.join(scratch, 'classpath.txt');
    run(['mvn', '--batch-mode', '--quiet', `-Dmaven.repo.local=${repository}`, 'package', 'dependency:build-classpath',
      `-Dmdep.outputFile=${classpathFile}`], { cwd: path.join(ROOT, 'examples', 'java') });
    const classpath = [path.join(ROOT, 'examples', 'java', 'target', 'classes'), fs.readFileSync(classpathFile, 'utf8').trim()].join(':');
    const classOf: Record<Program, string> = { 'main': 'Main', 'static-pods': 'StaticPods', 'bad-input': 'BadInput' };
    return (program) => ['java', '-cp', classpath, `io.github.cdk8s_etcd.examples.${classOf[program]}`];
  },
};

/** `go build` of examples/go, whose go.mod replaces our module (and cdk8s-core-go) with dist-pkg/go. */
export const GO: Language = {
  name: 'Go',
  build: (scratch) => {
    packaged('go/cdk8setcd/go.mod');
    const bin = path.join(scratch, 'bin');
    run(['go', 'build', '-o', `${bin}${path.sep}`, './...'], { cwd: path.join(ROOT, 'examples', 'go') });
    return (program) => [path.join(bin, program)];
  },
};
