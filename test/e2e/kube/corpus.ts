import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Manifest } from '../../support/synth';

/** One chart a unit test synthesized (test/support/synth.ts records them), and the test that made it. */
export interface CorpusEntry {
  readonly test: string;
  readonly manifests: Manifest[];
}

const REPO = path.resolve(__dirname, '../../..');

/**
 * Every distinct chart the unit tests and the examples synthesize: from `CDK8S_ETCD_CORPUS` when `npm test` recorded
 * it during its unit run, otherwise recorded here by running the unit tests once (about 45 s).
 */
export function loadCorpus(): CorpusEntry[] {
  let dir = process.env.CDK8S_ETCD_CORPUS;
  if (!dir || !fs.existsSync(dir)) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-etcd-corpus-'));
    const r = spawnSync('npx', ['jest', '--selectProjects', 'unit', '--silent'], {
      cwd: REPO, env: { ...process.env, CDK8S_ETCD_CORPUS_OUT: dir }, encoding: 'utf8', timeout: 10 * 60 * 1000,
    });
    if (r.status !== 0) throw new Error(`recording the corpus: the unit tests failed:\n${r.stderr.slice(-4000)}`);
  }
  const entries = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir!, f), 'utf8')) as CorpusEntry);
  if (entries.length === 0) throw new Error(`the corpus in ${dir} is empty`);
  return entries.sort((a, b) => a.test.localeCompare(b.test));
}
