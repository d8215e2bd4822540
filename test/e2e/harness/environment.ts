import { spawnSync } from 'child_process';

/** Whether this machine can run the real-etcd scenarios, and with which etcd. */
export interface E2eEnvironment {
  readonly ok: boolean;
  readonly reason?: string;
  readonly etcdVersion?: string;
}

const REQUIRED_TOOLS = ['etcd', 'etcdctl', 'unshare', 'setpriv', 'mount'];

export function detectEnvironment(): E2eEnvironment {
  if (process.platform !== 'linux') return { ok: false, reason: 'needs Linux (private mount namespaces)' };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'needs root (private mount namespaces, running etcd as the pod user)' };
  for (const tool of REQUIRED_TOOLS) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
      return { ok: false, reason: `${tool} is not installed (apt-get install -y etcd-server etcd-client)` };
    }
  }
  const out = spawnSync('etcd', ['--version'], { encoding: 'utf8' }).stdout ?? '';
  const version = /etcd Version: (\d+\.\d+\.\d+)/.exec(out)?.[1];
  if (!version) return { ok: false, reason: `cannot read the etcd version from: ${out.trim()}` };
  return { ok: true, etcdVersion: version };
}

/**
 * `describe` for real-etcd scenarios: runs them when etcd can run here, otherwise prints one
 * skip line. With CI=true a missing etcd is a failure, not a skip.
 */
export function describeWithEtcd(name: string, body: (etcdVersion: string) => void): void {
  const env = detectEnvironment();
  if (env.ok) {
    describe(name, () => body(env.etcdVersion!));
  } else if (process.env.CI === 'true') {
    describe(name, () => test('real etcd is available', () => {
      throw new Error(`the e2e scenarios need real etcd: ${env.reason}`);
    }));
  } else {
    process.stdout.write(`SKIP e2e "${name}": ${env.reason}\n`);
    describe.skip(name, () => body('0.0.0'));
  }
}
