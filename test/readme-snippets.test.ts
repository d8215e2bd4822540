import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Yaml } from 'cdk8s';
import * as ts from 'typescript';

/**
 * Every code block in the README, checked so that it cannot rot: each TypeScript block is type-checked on its own,
 * as a file of a user's app (its imports included: `cdk8s-etcd` resolves to this library's source), each shell block
 * parses (`bash -n`), and each YAML and JSON block parses. The Install section's blocks are also run, as written, by
 * test/bindings/tarball.test.ts.
 */
const ROOT = path.join(__dirname, '..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

interface Block { readonly lang: string; readonly text: string; readonly line: number }

function blocksOf(markdown: string): Block[] {
  return [...markdown.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({
    lang: m[1], text: m[2], line: markdown.slice(0, m.index).split('\n').length + 1,
  }));
}

/** TypeScript diagnostics of each snippet, compiled as separate modules in one program. */
function typeErrors(snippets: Block[]): string[] {
  const files = new Map(snippets.map((b) => [path.join(ROOT, 'test', `readme-line-${b.line}.ts`), b.text]));
  const options: ts.CompilerOptions = {
    strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, esModuleInterop: true,
    skipLibCheck: true, types: ['node'], baseUrl: ROOT, paths: { 'cdk8s-etcd': ['lib/index.ts'] },
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (f) => files.get(f) ?? readFile(f);
  host.fileExists = (f) => files.has(f) || fileExists(f);
  host.getSourceFile = (f, v, onError) => (files.has(f) ? ts.createSourceFile(f, files.get(f)!, v) : getSourceFile(f, v, onError));
  const program = ts.createProgram([...files.keys()], options, host);
  return ts.getPreEmitDiagnostics(program)
    .filter((d) => d.file && files.has(d.file.fileName))
    .map((d) => `README line ${d.file!.fileName.replace(/.*readme-line-(\d+)\.ts$/, '$1')}+${d.file!.getLineAndCharacterOfPosition(d.start!).line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}

describe('the README\'s code blocks', () => {
  const blocks = blocksOf(README);

  test('every block has a language this test checks', () => {
    expect(blocks.length).toBeGreaterThan(20);
    expect(blocks.filter((b) => !['ts', 'sh', 'yaml', 'json'].includes(b.lang)).map((b) => `line ${b.line}: ${b.lang}`)).toEqual([]);
  });

  test('every TypeScript block compiles on its own, imports included', () => {
    const snippets = blocks.filter((b) => b.lang === 'ts');
    expect(snippets.length).toBeGreaterThan(10);
    for (const b of snippets) expect(`line ${b.line}: ${/^import .* from 'cdk8s(-etcd)?';$/m.test(b.text)}`).toBe(`line ${b.line}: true`);
    expect(typeErrors(snippets)).toEqual([]);
  }, 60000);

  test('every shell block parses', () => {
    for (const b of blocks.filter((x) => x.lang === 'sh')) {
      const r = spawnSync('bash', ['-n'], { input: b.text, encoding: 'utf8' });
      expect({ line: b.line, error: r.stderr }).toEqual({ line: b.line, error: '' });
    }
  });

  test('every YAML and JSON block parses', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'readme-yaml-')), 'block.yaml');
    for (const b of blocks.filter((x) => x.lang === 'yaml')) {
      fs.writeFileSync(file, b.text);
      expect(Yaml.load(file).length).toBeGreaterThan(0);
    }
    for (const b of blocks.filter((x) => x.lang === 'json')) expect(() => JSON.parse(b.text)).not.toThrow();
  });

  test('the check can fail: a snippet that uses what it does not import is reported', () => {
    const errors = typeErrors([{ lang: 'ts', line: 1, text: "new EtcdCluster(chart, 'etcd');\n" }]);
    expect(errors.join('\n')).toContain("Cannot find name 'EtcdCluster'");
  });
});
