import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * The README's "Install" steps, as a new user takes them: `npm pack` of this checkout (what the clone and `npm pack`
 * give), then the README's own install commands in a fresh directory outside the repository, the three files it
 * shows (cdk8s.yaml, tsconfig.json, and main.ts from "Usage"), and its synth command. Everything comes from the
 * README's text, so a step that rots there fails here.
 */
const ROOT = path.resolve(__dirname, '../..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** The fenced blocks of one `## ` section, in order, with their language. */
function blocksOf(section: string): { lang: string; text: string }[] {
  const start = README.indexOf(`\n## ${section}\n`);
  if (start < 0) throw new Error(`README has no section "${section}"`);
  const end = README.indexOf('\n## ', start + 1);
  const body = README.slice(start, end < 0 ? undefined : end);
  return [...body.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], text: m[2] }));
}

function run(command: string, cwd: string, timeoutMs = 600000) {
  const r = spawnSync('bash', ['-c', command], { cwd, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, npm_config_fund: 'false', npm_config_audit: 'false' } });
  if (r.status !== 0) throw new Error(`'${command}' in ${cwd} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

describe('installing from a tarball, as the README says', () => {
  let work: string;
  beforeAll(() => { work = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-etcd-newcomer-')); });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  test('pack, install into a new app outside the repository, synthesize the Usage example', () => {
    const [install, cdk8sYaml, tsconfig] = blocksOf('Install');
    const [usage] = blocksOf('Usage');
    expect([install.lang, cdk8sYaml.lang, tsconfig.lang, usage.lang]).toEqual(['sh', 'yaml', 'json', 'ts']);

    // `npm pack` runs prepack (jsii), so a fresh clone packs compiled code.
    const tarball = run(`npm pack --pack-destination ${work} --silent`, ROOT).trim().split('\n').pop()!;
    expect(tarball).toMatch(/^cdk8s-etcd-\d+\.\d+\.\d+\.tgz$/);
    const listed = run(`tar -tzf ${tarball}`, work);
    expect(listed).toContain('package/lib/index.js');
    expect(listed).toContain('package/.jsii');
    // Members marked @internal (_model, _bind, _toKube) are left out of the declarations, so no IDE offers them.
    const declarations = run(`tar -xzOf ${tarball} package/lib/statefulset/cluster.d.ts package/lib/tls/tls.d.ts package/lib/statefulset/network-peer.d.ts`, work);
    expect(declarations).toContain('export declare class EtcdCluster');
    expect(declarations.match(/\b_(model|bind|toKube)\b/g)).toBeNull();

    // The README's commands from `mkdir` on, with its tarball path pointing at ours.
    const lines = install.text.split('\n').filter((l) => l.trim() !== '');
    const fromApp = lines.slice(lines.findIndex((l) => l.startsWith('mkdir ')));
    expect(fromApp.length).toBe(3);
    const script = fromApp.join('\n').replace(/\.\.\/cdk8s-etcd\/cdk8s-etcd-[\d.]+\.tgz/, path.join(work, tarball));
    expect(script).toContain(path.join(work, tarball));
    run(`set -e\n${script}`, work, 900000);
    const app = path.join(work, 'my-etcd-app');
    fs.writeFileSync(path.join(app, 'cdk8s.yaml'), cdk8sYaml.text);
    fs.writeFileSync(path.join(app, 'tsconfig.json'), tsconfig.text);
    fs.writeFileSync(path.join(app, 'main.ts'), usage.text);

    const synthCommand = /`(npx cdk8s synth[^`]*)`/.exec(README.slice(README.indexOf('\n## Install\n')))![1];
    run(synthCommand, app);
    const yaml = fs.readFileSync(path.join(app, 'dist', 'etcd.k8s.yaml'), 'utf8');
    expect(yaml).toContain('kind: StatefulSet');
    expect(yaml).toContain('name: etcd-peer');
    expect(yaml).toContain('--advertise-client-urls=https://$(POD_NAME).etcd-peer.control-plane.svc.cluster.local:2379');
    // The library came from the tarball, not from this repository.
    expect(fs.realpathSync(path.join(app, 'node_modules', 'cdk8s-etcd'))).not.toContain(ROOT);
  }, 1200000);
});
