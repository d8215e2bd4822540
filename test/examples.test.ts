import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Yaml } from 'cdk8s';
import { validateObject } from './support/schema';

// Every example must synthesize, and every object it writes must pass schema validation.
const examplesDir = path.join(__dirname, '..', 'examples');
const examples = fs.readdirSync(examplesDir).filter((f) => f.endsWith('.ts'));

test('there are examples', () => {
  expect(examples.length).toBeGreaterThan(0);
});

test.each(examples)('%s synthesizes to schema-valid YAML', (file) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { buildApp } = require(path.join(examplesDir, file)) as { buildApp: (app: App) => unknown };
  expect(typeof buildApp).toBe('function');
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-etcd-example-'));
  const app = new App({ outdir });
  buildApp(app);
  app.synth();
  const written = fs.readdirSync(outdir).filter((f) => f.endsWith('.yaml'));
  expect(written.length).toBeGreaterThan(0);
  for (const f of written) {
    const objects = Yaml.load(path.join(outdir, f));
    expect(objects.length).toBeGreaterThan(0);
    objects.forEach(validateObject);
  }
});
