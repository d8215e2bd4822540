import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TOOLS_DIR } from '../../lib/jobs/job-tools';
import { peerTrustBundleScript } from '../../lib/membership/member-steps';
import { createCa } from '../../lib/tls/pki';

/** The peer trust bundle's script, run by a real shell with the host's awk and grep standing in for busybox's. */
describe('the peer trust bundle written at every start of a migrating member', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const run = (a: string, b: string) => {
    fs.writeFileSync(path.join(dir, 'a.crt'), a);
    fs.writeFileSync(path.join(dir, 'b.crt'), b);
    const script = peerTrustBundleScript({ from: [path.join(dir, 'a.crt'), path.join(dir, 'b.crt')], to: path.join(dir, 'bundle.crt') })
      .split(`${TOOLS_DIR}/`).join('');
    return spawnSync('sh', ['-c', `${script}; echo started`], { encoding: 'utf8' });
  };
  const one = createCa('old', 1).certPem;
  const other = createCa('new', 1).certPem;

  test('both CAs, the first without its last newline: one PEM per certificate, and etcd starts', () => {
    const r = run(one.trimEnd(), other);
    expect(r.stdout.trim()).toBe('started');
    const bundle = fs.readFileSync(path.join(dir, 'bundle.crt'), 'utf8');
    expect(bundle).toBe(`${one.trimEnd()}\n${other}`);
    expect(bundle.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(2);
  });

  test.each([['an empty CA file', ''], ['a CA file without a certificate', 'not a certificate\n']])('%s: etcd does not start, and the log says why', (_, b) => {
    const r = run(one, b);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('peer trust bundle: each of');
  });

  test('a CA file that is missing: etcd does not start', () => {
    const r = spawnSync('sh', ['-c', `${peerTrustBundleScript({ from: [path.join(dir, 'a.crt'), path.join(dir, 'gone.crt')], to: path.join(dir, 'x.crt') }).split(`${TOOLS_DIR}/`).join('')}; echo started`], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
  });
});
