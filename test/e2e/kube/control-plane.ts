import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { createCa, issueLeaf } from '../../../lib/tls/pki';
import { etcdLines } from '../harness/etcd-lines';

/**
 * A real Kubernetes control plane on loopback, from the binaries scripts/build-kube.sh builds: etcd, kube-apiserver
 * (real serving certificate, RBAC, Pod Security admission) and, when asked, kube-controller-manager, kube-scheduler
 * and kwok for fake nodes. One per test file; stopped in the safe order (etcd last, or the API server hangs).
 */

const MOD = path.join(__dirname, 'go.mod');

/** The Kubernetes release test/e2e/kube/go.mod pins: the one place it is written (scripts/build-kube.sh reads it too). */
export function kubeVersion(): string {
  const version = /^\s*k8s\.io\/kubernetes v(\d+\.\d+\.\d+)(?: \/\/ indirect)?$/m.exec(fs.readFileSync(MOD, 'utf8'))?.[1];
  if (!version) throw new Error(`harness: ${MOD} pins no k8s.io/kubernetes release`);
  return version;
}

/** Where scripts/build-kube.sh caches this release: binaries, kwok's stages and the CRDs. */
export function kubeDir(): string {
  return path.join(process.env.CDK8S_ETCD_CACHE ?? path.join(os.homedir(), '.cache/cdk8s-etcd'), 'kube', kubeVersion());
}

const BINARIES = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl', 'kwok'];

/** Why the control-plane tests cannot run here, or undefined. */
export function kubeProblem(): string | undefined {
  const absent = BINARIES.filter((b) => !fs.existsSync(path.join(kubeDir(), b)));
  if (absent.length > 0) return `${absent.join(', ')} ${kubeVersion()} not built in ${kubeDir()} (run: bash scripts/build-kube.sh)`;
  if (!controlPlaneEtcd()) return 'no etcd 3.5+ binaries for the control plane (run: bash scripts/build-etcd-lines.sh)';
  return undefined;
}

/** The etcd the API server stores in: the newest line built here (Kubernetes supports 3.5 and later). */
function controlPlaneEtcd(): string | undefined {
  const line = [...etcdLines()].reverse().find((l) => l.binDir && Number(l.line.split('.')[1]) >= 5);
  return line && path.join(line.binDir!, 'etcd');
}

/** A free TCP port on 127.0.0.1 (closed again at once; the server that takes it binds it next). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export interface KubectlResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ControlPlaneOptions {
  /** A directory of the test file's own; the control plane's data, certificates and logs go under it. */
  readonly workDir: string;
  /** Start kube-controller-manager and kube-scheduler too (default: the API server alone). */
  readonly controllers?: boolean;
  /**
   * Start kwok for the nodes annotated `kwok.x-k8s.io/node=fake` (see `addFakeNode`): it keeps them Ready and gives
   * their pods a status (Running and Ready at once; a Job's pods complete). Nothing runs in those pods.
   */
  readonly fakeNodes?: boolean;
  /**
   * Start a kwok for the nodes annotated `kwok.x-k8s.io/node=harness`, with node stages only: it keeps those nodes
   * Ready and leaves their pods alone, for the harness to run (node-agent.ts).
   */
  readonly harnessNodes?: boolean;
}

/** Who runs a node's pods: kwok, which only fakes their status, or the harness, which runs them (node-agent.ts). */
export type NodeRunner = 'fake' | 'harness';

/** A node kwok keeps Ready. */
export interface FakeNode {
  readonly name: string;
  /** `topology.kubernetes.io/zone`. */
  readonly zone: string;
  /** @default 'fake' */
  readonly runBy?: NodeRunner;
}

/** The annotation kwok selects the nodes it fakes by. */
const FAKE_NODE_ANNOTATION = 'kwok.x-k8s.io/node';

interface Running {
  readonly name: string;
  readonly child: ChildProcess;
}

export class KubeControlPlane {
  /** Start etcd and the API server (and the controllers), and wait until the API server is ready. */
  public static async start(options: ControlPlaneOptions): Promise<KubeControlPlane> {
    const problem = kubeProblem();
    if (problem) throw new Error(`harness: ${problem}`);
    const dir = path.join(options.workDir, 'control-plane');
    fs.mkdirSync(dir, { recursive: true });
    const started = Date.now();
    const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
    const plane = new KubeControlPlane(dir, apiPort);
    plane.writeCredentials();
    plane.run('etcd', controlPlaneEtcd()!, [
      `--data-dir=${dir}/etcd`, '--name=control-plane',
      `--listen-client-urls=http://127.0.0.1:${etcdClient}`, `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`, `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=control-plane=http://127.0.0.1:${etcdPeer}`, '--unsafe-no-fsync',
    ]);
    plane.run('kube-apiserver', path.join(kubeDir(), 'kube-apiserver'), [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      '--bind-address=127.0.0.1', `--secure-port=${apiPort}`, '--advertise-address=127.0.0.1',
      // A loopback advertise address is refused by the endpoint reconciler; nothing here needs the kubernetes Service.
      '--endpoint-reconciler-type=none',
      `--cert-dir=${dir}`, `--tls-cert-file=${dir}/apiserver.crt`, `--tls-private-key-file=${dir}/apiserver.key`,
      `--token-auth-file=${dir}/tokens.csv`, '--anonymous-auth=false', '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${dir}/sa.pub`, `--service-account-signing-key-file=${dir}/sa.key`,
      '--service-cluster-ip-range=10.96.0.0/16', '--profiling=false',
    ]);
    await plane.waitUntil('the API server to be ready', () => plane.kubectl(['get', '--raw', '/readyz']).stdout === 'ok', 60000);
    if (options.controllers) {
      const kubeconfig = `--kubeconfig=${plane.kubeconfig}`;
      plane.run('kube-controller-manager', path.join(kubeDir(), 'kube-controller-manager'), [
        kubeconfig, '--leader-elect=false', '--secure-port=0',
        `--service-account-private-key-file=${dir}/sa.key`, `--root-ca-file=${dir}/ca.crt`,
      ]);
      plane.run('kube-scheduler', path.join(kubeDir(), 'kube-scheduler'), [kubeconfig, '--leader-elect=false', '--secure-port=0']);
    }
    const kwok = (runBy: NodeRunner, stagePrefix: string) => {
      const stages = path.join(kubeDir(), 'kwok-stages');
      plane.run(`kwok-${runBy}`, path.join(kubeDir(), 'kwok'), [
        `--kubeconfig=${plane.kubeconfig}`, `--manage-nodes-with-annotation-selector=${FAKE_NODE_ANNOTATION}=${runBy}`,
        ...fs.readdirSync(stages).filter((f) => f.startsWith(stagePrefix)).sort().map((f) => `--config=${path.join(stages, f)}`),
      ]);
    };
    if (options.fakeNodes) kwok('fake', '');
    if (options.harnessNodes) kwok('harness', 'node-');
    plane.startupMs = Date.now() - started;
    return plane;
  }

  /** How long `start` took, in milliseconds. */
  public startupMs = 0;
  /** The admin's kubeconfig (a system:masters token). */
  public readonly kubeconfig: string;
  private readonly processes: Running[] = [];

  private constructor(public readonly dir: string, public readonly apiPort: number) {
    this.kubeconfig = path.join(dir, 'admin.kubeconfig');
  }

  /** kubectl as the admin. */
  public kubectl(args: string[], input?: string, timeoutMs = 120000): KubectlResult {
    const r = spawnSync(path.join(kubeDir(), 'kubectl'), [`--kubeconfig=${this.kubeconfig}`, ...args], {
      input, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024,
    });
    return { status: r.status, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
  }

  /** kubectl that must succeed; returns its stdout. */
  public kubectlOk(args: string[], input?: string): string {
    const r = this.kubectl(args, input);
    if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  /**
   * Register a node kwok keeps Ready: 8 CPUs, 32 GiB, 200 GiB of ephemeral storage, 110 pods; zone and hostname
   * labelled as a cloud node is.
   */
  public addFakeNode(node: FakeNode): void {
    this.kubectlOk(['apply', '--server-side', '--field-manager=harness', '-f', '-'], JSON.stringify({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: node.name,
        annotations: { [FAKE_NODE_ANNOTATION]: node.runBy ?? 'fake' },
        labels: { 'kubernetes.io/hostname': node.name, 'kubernetes.io/os': 'linux', 'topology.kubernetes.io/zone': node.zone, 'type': 'kwok' },
      },
      status: { allocatable: { 'cpu': '8', 'memory': '32Gi', 'ephemeral-storage': '200Gi', 'pods': '110' }, capacity: { 'cpu': '8', 'memory': '32Gi', 'ephemeral-storage': '200Gi', 'pods': '110' } },
    }));
  }

  /**
   * A namespace that enforces Pod Security "restricted", once its default ServiceAccount exists (the controller
   * manager creates it; pods are refused until then).
   */
  public async restrictedNamespace(name: string): Promise<void> {
    this.kubectlOk(['create', 'namespace', name]);
    this.kubectlOk(['label', 'namespace', name, 'pod-security.kubernetes.io/enforce=restricted']);
    await this.waitUntil(`the default ServiceAccount in ${name}`, () => this.kubectl(['get', 'serviceaccount', 'default', '-n', name]).status === 0, 30000);
  }

  /** The JSON of `kubectl get <args> -o json`. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  public getJson(args: string[]): any {
    return JSON.parse(this.kubectlOk(['get', ...args, '-o', 'json']));
  }

  /** A process's log so far. */
  public log(name: string): string {
    const file = path.join(this.dir, `${name}.log`);
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  }

  /** Resident memory of the control plane's processes together, in MiB (from /proc). */
  public residentMib(): number {
    let kib = 0;
    for (const p of this.processes) {
      const status = fs.existsSync(`/proc/${p.child.pid}/status`) ? fs.readFileSync(`/proc/${p.child.pid}/status`, 'utf8') : '';
      kib += Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
    }
    return Math.round(kib / 1024);
  }

  public async waitUntil(what: string, ready: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (ready()) return;
      for (const p of this.processes) {
        if (p.child.exitCode !== null) throw new Error(`harness: ${p.name} exited (${p.child.exitCode}) while waiting for ${what}:\n${this.log(p.name).slice(-4000)}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`harness: timed out after ${timeoutMs} ms waiting for ${what}`);
  }

  /** Stop everything, the API server's clients first and etcd last. */
  public async stop(): Promise<void> {
    for (const p of [...this.processes].reverse()) await stopProcess(p.child);
    this.processes.length = 0;
  }

  /** Start a process in its own process group, its output in `<name>.log`. */
  public run(name: string, binary: string, args: string[]): void {
    const out = fs.openSync(path.join(this.dir, `${name}.log`), 'a');
    const child = spawn(binary, args, { detached: true, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    this.processes.push({ name, child });
  }

  /** The CA, the API server's serving certificate, the service-account key pair, the admin token and kubeconfig. */
  private writeCredentials(): void {
    const ca = createCa('cdk8s-etcd-test-kubernetes-ca', 30);
    const serving = issueLeaf(ca, {
      commonName: 'kube-apiserver', dnsNames: ['localhost', 'kubernetes', 'kubernetes.default.svc'], ipAddresses: ['127.0.0.1'],
      serverAuth: true, clientAuth: false, validityDays: 30,
    });
    const write = (file: string, content: string) => fs.writeFileSync(path.join(this.dir, file), content, { mode: 0o600 });
    write('ca.crt', ca.certPem);
    write('apiserver.crt', serving.certPem);
    write('apiserver.key', serving.keyPem);
    const sa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    write('sa.key', sa.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
    write('sa.pub', sa.publicKey.export({ type: 'spki', format: 'pem' }).toString());
    const token = crypto.randomBytes(24).toString('hex');
    write('tokens.csv', `${token},admin,admin,system:masters\n`);
    write('admin.kubeconfig', [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: local\n  cluster:\n    server: https://127.0.0.1:${this.apiPort}\n    certificate-authority: ${path.join(this.dir, 'ca.crt')}`,
      'users:',
      `- name: admin\n  user:\n    token: ${token}`,
      'contexts:',
      '- name: local\n  context:\n    cluster: local\n    user: admin',
      'current-context: local',
      '',
    ].join('\n'));
  }
}

/** SIGTERM the process group, SIGKILL it after 10 s. */
async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, s);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), 10000);
  await exited;
  clearTimeout(timer);
}
