import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Yaml } from 'cdk8s';
import { validateObject } from './support/schema';
import { Manifest, recordForAcceptance } from './support/synth';

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
    recordForAcceptance(objects as Manifest[]);
  }
});

test('the main example wires kube-apiserver to the etcd client identity', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { buildApp } = require(path.join(examplesDir, 'main.ts')) as { buildApp: (app: App) => import('cdk8s').Chart };
  const chart = buildApp(new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-etcd-example-')) }));
  const manifests = chart.toJson();
  const apiServer = manifests.find((m: { kind: string }) => m.kind === 'Deployment').spec.template.spec;
  const clientCert = manifests.find((m: { kind: string; metadata: { name: string } }) => m.kind === 'Certificate' && m.metadata.name === 'etcd-client');
  const [container] = apiServer.containers;
  const flag = (name: string) => container.command.find((c: string) => c.startsWith(`--${name}=`))?.split('=')[1];
  const mount = container.volumeMounts[0];
  expect(apiServer.volumes.find((v: { name: string }) => v.name === mount.name).secret.secretName).toBe(clientCert.spec.secretName);
  for (const file of ['etcd-cafile', 'etcd-certfile', 'etcd-keyfile']) expect(path.dirname(flag(file))).toBe(mount.mountPath);
  expect(flag('etcd-servers')).toMatch(/^https:\/\/etcd-0\.etcd-peer\.control-plane\.svc\.cluster\.local:2379,/);
});
