import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { Manifest, only } from '../../support/synth';
import { SecretFiles, issueCertificates, secretsInManifests } from './certificates';
import { MemberProcess, materializeVolumes, planPod } from './pod';

/** A client identity for etcdctl: files on disk, or none at all. */
export interface ClientIdentity {
  readonly cacert?: string;
  readonly cert?: string;
  readonly key?: string;
}

export interface EtcdctlResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface HarnessOptions {
  /** First three octets of the members' loopback addresses, e.g. `127.0.3`; members get .11, .12, ... */
  readonly ipPrefix: string;
  /** The Secret holding the client identity (EtcdCluster.clientSecretName), when TLS is on. */
  readonly clientSecretName?: string;
}

const ALL_PIDS = new Set<number>();
process.on('exit', () => ALL_PIDS.forEach((pid) => { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs the etcd members of synthesized manifests as real processes on loopback addresses,
 * each in a private mount namespace whose /etc/hosts resolves the pod DNS names.
 * Every process is started and stopped by its own pid.
 */
export class EtcdHarness {
  public readonly workDir: string;
  public readonly hostsFile: string;
  public readonly clientIdentity: ClientIdentity;
  private readonly statefulSet: Manifest;
  private readonly secrets: Map<string, SecretFiles>;
  private readonly running = new Map<number, ChildProcess>();
  private readonly exited = new Map<number, string>();
  private readonly members: number;
  private readonly plans: MemberProcess[];

  public constructor(private readonly manifests: Manifest[], private readonly options: HarnessOptions) {
    this.workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'etcd-e2e-'));
    // Traversable like the kubelet's volume directories, so etcd can run as the pod's non-root user.
    fs.chmodSync(this.workDir, 0o755);
    this.statefulSet = only(manifests, 'StatefulSet');
    this.members = this.statefulSet.spec.replicas;
    this.secrets = new Map([...secretsInManifests(manifests), ...issueCertificates(manifests)]);
    this.hostsFile = path.join(this.workDir, 'hosts');
    fs.writeFileSync(this.hostsFile, this.hostsContent());
    this.clientIdentity = this.writeClientIdentity();
    this.plans = [...Array(this.members).keys()].map((i) => planPod(this.statefulSet, {
      podName: this.podName(i),
      podIp: this.podIp(i),
      memberDir: path.join(this.workDir, this.podName(i)),
      secrets: this.secrets,
    }));
  }

  public podName(index: number): string {
    return `${this.statefulSet.metadata.name}-${index}`;
  }

  public podIp(index: number): string {
    return `${this.options.ipPrefix}.${11 + index}`;
  }

  /** The member as it runs here. */
  public member(index: number): MemberProcess {
    return this.plans[index];
  }

  public start(index: number): void {
    if (this.running.has(index)) throw new Error(`${this.podName(index)} is already running`);
    const m = this.member(index);
    fs.mkdirSync(path.dirname(m.logFile), { recursive: true });
    materializeVolumes(m);
    const log = fs.openSync(m.logFile, 'a');
    const inner = [
      'mount --bind "$HOSTS" /etc/hosts',
      `exec setpriv --reuid=${m.uid} --regid=${m.gid} ${m.supplementaryGroups.length ? `--groups=${m.supplementaryGroups.join(',')}` : '--clear-groups'} etcd "$@"`,
    ].join(' && ');
    // unshare and sh exec in turn, so the child's pid is etcd's own.
    const child = spawn('unshare', ['-m', 'sh', '-c', inner, 'etcd', ...m.args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOSTS: this.hostsFile },
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    ALL_PIDS.add(child.pid!);
    this.exited.delete(index);
    this.running.set(index, child);
    child.on('exit', (code, signal) => {
      ALL_PIDS.delete(child.pid!);
      if (this.running.get(index) === child) this.running.delete(index);
      this.exited.set(index, `exited with ${signal ?? code}`);
    });
  }

  public startAll(): void {
    for (let i = 0; i < this.members; i++) this.start(i);
  }

  /** Stop one member by its pid: SIGTERM, then SIGKILL after `graceMs`. */
  public async stop(index: number, graceMs = 10000): Promise<void> {
    const child = this.running.get(index);
    if (!child) return;
    const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    process.kill(child.pid!, 'SIGTERM');
    const timer = setTimeout(() => { try { process.kill(child.pid!, 'SIGKILL'); } catch { /* gone */ } }, graceMs);
    await done;
    clearTimeout(timer);
  }

  public async stopAll(graceMs?: number): Promise<void> {
    await Promise.all([...this.running.keys()].map((i) => this.stop(i, graceMs)));
  }

  public isRunning(index: number): boolean {
    return this.running.has(index);
  }

  public clientUrl(index: number): string {
    const args = this.member(index).args;
    return args.find((a) => a.startsWith('--advertise-client-urls='))!.split('=')[1];
  }

  /** Run etcdctl inside a namespace that resolves the pod names, with the given identity. */
  public etcdctl(args: string[], options: { endpoints?: string[]; identity?: ClientIdentity; timeoutMs?: number; commandTimeout?: string } = {}): EtcdctlResult {
    const identity = options.identity ?? this.clientIdentity;
    const endpoints = options.endpoints ?? [...Array(this.members).keys()].map((i) => this.clientUrl(i));
    const tlsArgs = [
      ...(identity.cacert ? [`--cacert=${identity.cacert}`] : []),
      ...(identity.cert ? [`--cert=${identity.cert}`] : []),
      ...(identity.key ? [`--key=${identity.key}`] : []),
    ];
    const result = spawnSync('unshare', ['-m', 'sh', '-c', 'mount --bind "$HOSTS" /etc/hosts && exec etcdctl "$@"', 'etcdctl',
      `--endpoints=${endpoints.join(',')}`, '--dial-timeout=2s', `--command-timeout=${options.commandTimeout ?? '5s'}`, ...tlsArgs, ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOSTS: this.hostsFile, ETCDCTL_API: '3' },
      encoding: 'utf8',
      timeout: options.timeoutMs ?? 15000,
    });
    return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
  }

  /**
   * Wait until each listed member answers a health check through its client URL.
   * Fails early, with the member's log, when a member exits.
   */
  public async waitHealthy(indexes: number[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      for (const i of indexes) {
        if (this.exited.has(i) && !this.running.has(i)) {
          throw new Error(`${this.podName(i)} ${this.exited.get(i)}:\n${this.tail(i)}`);
        }
      }
      // Short attempts: spawnSync blocks, and exits are only noticed between attempts.
      const r = this.etcdctl(['endpoint', 'health'], { endpoints: indexes.map((i) => this.clientUrl(i)), commandTimeout: '2s', timeoutMs: 5000 });
      if (r.status === 0) return;
      last = r.stderr || r.stdout;
      await sleep(500);
    }
    throw new Error(`members ${indexes.map((i) => this.podName(i)).join(', ')} did not become healthy in ${timeoutMs}ms: ${last}\n${indexes.map((i) => this.tail(i)).join('\n')}`);
  }

  /**
   * Evaluate a container probe the way the kubelet does: httpGet (2xx/3xx) or tcpSocket,
   * against `host` or the pod IP, on a numbered or named container port.
   */
  public async probe(index: number, kind: 'livenessProbe' | 'readinessProbe' | 'startupProbe'): Promise<boolean> {
    const m = this.member(index);
    const probe = m.container[kind];
    if (!probe) throw new Error(`${kind} is not declared`);
    const action = probe.httpGet ?? probe.tcpSocket;
    const port = typeof action.port === 'number' ? action.port : m.ports.get(action.port);
    if (port === undefined) throw new Error(`${kind} names port ${action.port}, which the container does not declare`);
    const host = action.host ?? m.podIp;
    if (probe.httpGet) {
      return new Promise((resolve) => {
        const req = http.get({ host, port, path: probe.httpGet.path, timeout: (probe.timeoutSeconds ?? 1) * 1000 }, (res) => {
          res.resume();
          resolve(res.statusCode! >= 200 && res.statusCode! < 400);
        });
        req.on('error', () => resolve(false));
        req.on('timeout', () => { req.destroy(); resolve(false); });
      });
    }
    return new Promise((resolve) => {
      const socket = net.connect({ host, port, timeout: (probe.timeoutSeconds ?? 1) * 1000 }, () => { socket.destroy(); resolve(true); });
      socket.on('error', () => resolve(false));
      socket.on('timeout', () => { socket.destroy(); resolve(false); });
    });
  }

  /** Everything a member has logged (across restarts). */
  public log(index: number): string {
    const file = path.join(this.workDir, this.podName(index), 'etcd.log');
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  }

  /** The last lines of a member's log. */
  public tail(index: number, lines = 15): string {
    const text = this.log(index).trim();
    if (!text) return `(${this.podName(index)}: no log)`;
    return text.split('\n').slice(-lines).map((l) => `  ${this.podName(index)}| ${l}`).join('\n');
  }

  public cleanup(): void {
    fs.rmSync(this.workDir, { recursive: true, force: true });
  }

  private hostsContent(): string {
    const lines = ['127.0.0.1 localhost', '::1 localhost ip6-localhost'];
    const peerService = this.statefulSet.spec.serviceName;
    const namespace = this.statefulSet.metadata.namespace ?? 'default';
    const clusterDomain = this.clusterDomain();
    for (let i = 0; i < this.members; i++) {
      const fqdn = `${this.podName(i)}.${peerService}.${namespace}.svc`;
      lines.push(`${this.podIp(i)} ${fqdn}.${clusterDomain} ${fqdn}`);
    }
    // Client Services resolve to the first member, standing in for the Service VIP.
    for (const svc of this.manifests.filter((m) => m.kind === 'Service' && m.spec.clusterIP !== 'None')) {
      const name = svc.metadata.name;
      lines.push(`${this.podIp(0)} ${name}.${namespace}.svc.${clusterDomain} ${name}.${namespace}.svc ${name}.${namespace} ${name}`);
    }
    return `${lines.join('\n')}\n`;
  }

  private clusterDomain(): string {
    const args: string[] = this.statefulSet.spec.template.spec.containers[0].args;
    const url = args.find((a) => a.startsWith('--initial-advertise-peer-urls='))!.split('=')[1];
    const host = new URL(url.replace('$(POD_NAME)', 'pod')).hostname;
    return host.split('.svc.')[1];
  }

  private writeClientIdentity(): ClientIdentity {
    if (!this.options.clientSecretName) return {};
    const files = this.secrets.get(this.options.clientSecretName);
    if (!files) throw new Error(`harness: client Secret ${this.options.clientSecretName} is not provided by the manifests`);
    const dir = path.join(this.workDir, 'client');
    fs.mkdirSync(dir, { recursive: true });
    const write = (key: string) => {
      const file = path.join(dir, key);
      fs.writeFileSync(file, files[key], { mode: 0o600 });
      return file;
    };
    return { cacert: write('ca.crt'), cert: write('tls.crt'), key: write('tls.key') };
  }
}
