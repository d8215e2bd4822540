import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { Manifest, only, podSpecOf } from '../../support/synth';
import { SecretFiles, configMapsInManifests, issueCertificates, secretsInManifests } from './certificates';
import { binariesForImage } from './etcd-lines';
import { startContainer } from './job-pod';
import { PodRun, liveInitLog, preparePodRun, runInitContainers } from './member-init';
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

/** A container probe, by its field name. */
export type ProbeKind = 'livenessProbe' | 'readinessProbe' | 'startupProbe';

export interface HarnessOptions {
  /** First three octets of the members' loopback addresses, e.g. `127.0.3`; members get .11, .12, ... */
  readonly ipPrefix: string;
  /** The Secret holding the client identity (EtcdCluster.clientSecretName), when TLS is on. */
  readonly clientSecretName?: string;
}

/** One member: the workload it comes from and where it runs. */
export interface MemberSpec {
  readonly podName: string;
  readonly podIp: string;
  /** Stands in for the member's own 127.0.0.1. */
  readonly loopbackIp: string;
  readonly workload: Manifest;
  /** Files on the member's node, by absolute path (hostPath volumes). */
  readonly nodeFiles?: { [path: string]: string };
}

const ALL_PIDS = new Set<number>();
process.on('exit', () => ALL_PIDS.forEach((pid) => {
  try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  try { process.kill(-pid, 'SIGKILL'); } catch { /* not a group leader */ }
}));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs the etcd members of synthesized manifests as real processes on loopback addresses,
 * each in a private mount namespace whose /etc/hosts resolves the pod DNS names.
 * Every process is started and stopped by its own pid.
 */
export class EtcdHarness {
  /** Members of a StatefulSet: pod DNS names resolve to 127.0.N.11, .12, ... */
  public static forStatefulSet(manifests: Manifest[], options: HarnessOptions): EtcdHarness {
    const sts = only(manifests, 'StatefulSet');
    const members: MemberSpec[] = [...Array(sts.spec.replicas as number).keys()].map((i) => ({
      podName: `${sts.metadata.name}-${i}`,
      podIp: `${options.ipPrefix}.${11 + i}`,
      loopbackIp: `${options.ipPrefix}.${111 + i}`,
      workload: sts,
    }));
    const secrets = new Map([...secretsInManifests(manifests), ...issueCertificates(manifests)]);
    const clientFiles = options.clientSecretName ? secrets.get(options.clientSecretName) : undefined;
    if (options.clientSecretName && !clientFiles) throw new Error(`harness: client Secret ${options.clientSecretName} is not provided by the manifests`);
    const harness = new EtcdHarness(members, secrets, statefulSetHosts(manifests, members), clientFiles);
    harness.addConfigMaps(configMapsInManifests(manifests));
    return harness;
  }

  /**
   * Static pods on host-network nodes whose IPs are loopback addresses; each node's own
   * 127.0.0.1 is 127.0.N.111, .112, ... `nodeFiles` are what each node has on disk (the PKI).
   */
  public static forStaticPods(members: MemberSpec[], client: ClientFiles): EtcdHarness {
    return new EtcdHarness(members, new Map(), '127.0.0.1 localhost\n', { 'ca.crt': client.ca, 'tls.crt': client.cert, 'tls.key': client.key });
  }

  public readonly workDir: string;
  public readonly hostsFile: string;
  public readonly clientIdentity: ClientIdentity;
  private readonly running = new Map<number, ChildProcess>();
  private readonly exited = new Map<number, string>();
  private readonly initializing = new Map<number, { children: Set<ChildProcess>; done: Promise<void>; run?: PodRun }>();
  /** PersistentVolumeClaims the pods mount besides their own (e.g. a snapshot source), by name. */
  public readonly claims = new Map<string, string>();
  /** ConfigMaps the pods mount, by name. */
  private readonly configMaps = new Map<string, SecretFiles>();
  /** Each member's other containers (sidecars), for as long as its etcd runs. */
  private readonly sidecars = new Map<number, ChildProcess[]>();
  private plans: MemberProcess[];

  private constructor(private members: MemberSpec[], private readonly secrets: Map<string, SecretFiles>, hosts: string, clientFiles: SecretFiles | undefined) {
    this.workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'etcd-e2e-'));
    // Traversable like the kubelet's volume directories, so etcd can run as the pod's non-root user.
    fs.chmodSync(this.workDir, 0o755);
    this.hostsFile = path.join(this.workDir, 'hosts');
    fs.writeFileSync(this.hostsFile, hosts);
    this.clientIdentity = clientFiles ? this.writeClientIdentity(clientFiles) : {};
    this.plans = members.map((m) => this.plan(m));
  }

  public get size(): number {
    return this.members.length;
  }

  public podName(index: number): string {
    return this.members[index].podName;
  }

  /** The member as it runs here. */
  public member(index: number): MemberProcess {
    return this.plans[index];
  }

  /** Put another member in a stopped member's place (its directory stays, for inspection). */
  public replaceMember(index: number, spec: MemberSpec): void {
    if (this.running.has(index)) throw new Error(`${this.podName(index)} is still running`);
    this.members = this.members.map((m, i) => (i === index ? spec : m));
    this.plans = this.plans.map((p, i) => (i === index ? this.plan(spec) : p));
    this.exited.delete(index);
  }

  /**
   * Start a member as the kubelet starts its pod: its init containers in order (chrooted into their
   * images, in the background, since members' init containers may wait for each other), then etcd.
   * An init container that fails leaves the member exited, with its output in the member's log.
   */
  public start(index: number): void {
    if (this.running.has(index) || this.initializing.has(index)) throw new Error(`${this.podName(index)} is already running`);
    // A pod whose etcd exited (a removed member) starts again without the sidecars of its last start.
    this.killSidecars(index);
    const m = this.member(index);
    fs.mkdirSync(path.dirname(m.logFile), { recursive: true });
    materializeVolumes(m);
    const spec = this.members[index];
    const pod = podSpecOf(spec.workload);
    if (!(pod.initContainers ?? []).length) {
      this.spawnEtcd(index);
      return;
    }
    this.exited.delete(index);
    const children = new Set<ChildProcess>();
    const onChild = (child: ChildProcess) => {
      children.add(child);
      ALL_PIDS.add(child.pid!);
      child.on('exit', () => { ALL_PIDS.delete(child.pid!); children.delete(child); });
    };
    let run: PodRun;
    const init = Promise.resolve().then(() => {
      run = preparePodRun(spec.workload, {
        memberDir: path.join(this.workDir, spec.podName),
        hostsFile: this.hostsFile,
        secrets: this.secrets,
        claims: this.claims,
        configMaps: this.configMaps,
        nodeFiles: spec.nodeFiles,
        fields: { 'metadata.name': spec.podName, 'metadata.namespace': spec.workload.metadata.namespace ?? 'default', 'status.podIP': spec.podIp },
        nodeIp: pod.hostNetwork ? spec.podIp : undefined,
      });
      const entry = this.initializing.get(index);
      if (entry) entry.run = run;
      return runInitContainers(spec.workload, run, onChild);
    }).then((runs) => {
      fs.appendFileSync(m.logFile, runs.map((r) => `--- init ${r.name} (exit ${r.exitCode})\n${r.output}`).join('\n'));
      this.initializing.delete(index);
      const failed = runs.find((r) => r.exitCode !== 0);
      if (failed) this.exited.set(index, `init container ${failed.name} exited with ${failed.exitCode}`);
      else this.spawnEtcd(index, run);
    }, (err: Error) => {
      // The kubelet could not set the pod up (a volume it cannot mount): nothing in it runs.
      fs.appendFileSync(m.logFile, `--- pod not started: ${err.message}\n`);
      this.initializing.delete(index);
      this.exited.set(index, err.message);
    });
    this.initializing.set(index, { children, done: init });
  }

  /** Wait until a member's init containers have finished (at once when it has none or they are done). */
  public async initDone(index: number): Promise<void> {
    await this.initializing.get(index)?.done;
  }

  /**
   * Start etcd: directly, with its flags' paths mapped to the member's directories; or, when the container runs etcd
   * through a shell (a StatefulSet member reads its start decision first), exactly as the kubelet would, chrooted
   * into its image with the pod run's volumes, beside the pod's other containers (the member sidecar).
   */
  private spawnEtcd(index: number, run?: PodRun): void {
    const m = this.member(index);
    let child: ChildProcess;
    if (m.wrapped) {
      if (!run) throw new Error(`${m.podName}: etcd runs through a shell, which needs the pod's volumes`);
      const pod = podSpecOf(this.members[index].workload);
      // Listeners on the pod's own addresses (members share one host), as planPod translates them.
      const etcd = { ...m.container, args: m.args };
      child = startContainer(etcd, run.volumes, run.context, m.logFile).child;
      const others = pod.containers.filter((c: { name: string }) => c.name !== 'etcd')
        .map((c: { name: string }) => startContainer(c, run.volumes, run.context, path.join(path.dirname(m.logFile), `${c.name}.log`)).child);
      others.forEach((c: ChildProcess) => ALL_PIDS.add(c.pid!));
      this.sidecars.set(index, others);
    } else {
      const log = fs.openSync(m.logFile, 'a');
      const inner = [
        'mount --bind "$HOSTS" /etc/hosts',
        `exec setpriv --reuid=${m.uid} --regid=${m.gid} ${m.supplementaryGroups.length ? `--groups=${m.supplementaryGroups.join(',')}` : '--clear-groups'} "$MEMBER_BINARY" "$@"`,
      ].join(' && ');
      // unshare and sh exec in turn, so the child's pid is etcd's own.
      child = spawn('unshare', ['-m', 'sh', '-c', inner, 'etcd', ...m.args], {
        env: { ...m.env, PATH: process.env.PATH ?? '/usr/bin:/bin', HOSTS: this.hostsFile, MEMBER_BINARY: m.binaries.etcd },
        stdio: ['ignore', log, log],
      });
      fs.closeSync(log);
    }
    ALL_PIDS.add(child.pid!);
    this.exited.delete(index);
    this.running.set(index, child);
    child.on('exit', (code, signal) => {
      ALL_PIDS.delete(child.pid!);
      if (this.running.get(index) === child) this.running.delete(index);
      this.exited.set(index, `exited with ${signal ?? code}`);
    });
  }

  /** What a member's sidecar has logged (across restarts). */
  public sidecarLog(index: number, container = 'member-sidecar'): string {
    const file = path.join(this.workDir, this.podName(index), `${container}.log`);
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  }

  /** ConfigMaps the pods mount (the API's, for the node agent), by name. */
  public addConfigMaps(configMaps: Map<string, SecretFiles>): void {
    for (const [name, files] of configMaps) this.configMaps.set(name, files);
  }

  public startAll(): void {
    for (let i = 0; i < this.size; i++) this.start(i);
  }

  /** Start every member and wait until all of them are healthy. */
  public async startAllAndWait(timeoutMs: number): Promise<void> {
    this.startAll();
    await this.waitHealthy([...Array(this.size).keys()], timeoutMs);
  }

  /** Stop every member and remove the work directory. */
  public async dispose(graceMs?: number): Promise<void> {
    await this.stopAll(graceMs);
    this.cleanup();
  }

  /** Stop one member by its pid: SIGTERM, then SIGKILL after `graceMs`. */
  public async stop(index: number, graceMs = 10000): Promise<void> {
    const init = this.initializing.get(index);
    if (init) {
      init.children.forEach((c) => { try { process.kill(-c.pid!, 'SIGKILL'); } catch { /* gone */ } });
      await init.done;
    }
    this.killSidecars(index);
    const child = this.running.get(index);
    if (!child) return;
    const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    process.kill(child.pid!, 'SIGTERM');
    const timer = setTimeout(() => { try { process.kill(child.pid!, 'SIGKILL'); } catch { /* gone */ } }, graceMs);
    await done;
    clearTimeout(timer);
  }

  public async stopAll(graceMs?: number): Promise<void> {
    await Promise.all([...new Set([...this.running.keys(), ...this.initializing.keys(), ...this.sidecars.keys()])].map((i) => this.stop(i, graceMs)));
  }

  /** The pod's other containers go with it (the kubelet stops them together), whether etcd still runs or not. */
  private killSidecars(index: number): void {
    for (const sidecar of this.sidecars.get(index) ?? []) {
      try { process.kill(-sidecar.pid!, 'SIGKILL'); } catch { /* gone */ }
    }
    this.sidecars.delete(index);
  }

  /** The environment a running member's etcd process really has (from /proc). */
  public processEnv(index: number): { [name: string]: string } {
    const child = this.running.get(index);
    if (!child) throw new Error(`${this.podName(index)} is not running`);
    const entries = fs.readFileSync(`/proc/${child.pid}/environ`, 'utf8').split('\0').filter(Boolean);
    return Object.fromEntries(entries.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  }

  /** Secrets that exist beside the manifests' own (e.g. a passphrase), by name. */
  public addSecrets(secrets: Map<string, SecretFiles>): void {
    for (const [name, files] of secrets) this.secrets.set(name, files);
  }

  /** The host directory that is a member's volume (its claim, or a hostPath on its node). */
  public volumeDir(index: number, volume: string): string {
    return path.join(this.workDir, this.podName(index), 'volumes', volume);
  }

  /** The Secrets the members' manifests provide (and cert-manager would issue), by name. */
  public secretFiles(): Map<string, SecretFiles> {
    return new Map(this.secrets);
  }

  public isRunning(index: number): boolean {
    return this.running.has(index);
  }

  /** Whether a member's init containers are still running. */
  public isInitializing(index: number): boolean {
    return this.initializing.has(index);
  }

  /** Where and from what a member runs. */
  public memberSpec(index: number): MemberSpec {
    return this.members[index];
  }

  public clientUrl(index: number): string {
    const args = this.member(index).args;
    return args.find((a) => a.startsWith('--advertise-client-urls='))!.split('=')[1];
  }

  /**
   * Run a script the library renders for operators (`rolloutOrderScript`, `healthCheckScript`, `upgradeGateScript`)
   * as the README says: on a node, with etcdctl and etcdutl of `release` (default: the first member's) on PATH and
   * this harness's client identity in `ETCDCTL_*`.
   */
  public runOperatorScript(script: string, options: { release?: string; env?: { [name: string]: string }; timeoutMs?: number } = {}): { status: number | null; stdout: string; stderr: string } {
    const binaries = options.release ? binariesForImage(`gcr.io/etcd-development/etcd:v${options.release}`) : this.member(0).binaries;
    const bin = fs.mkdtempSync(path.join(this.workDir, 'bin-'));
    fs.symlinkSync(binaries.etcdctl, path.join(bin, 'etcdctl'));
    if (binaries.etcdutl) fs.symlinkSync(binaries.etcdutl, path.join(bin, 'etcdutl'));
    const identity = this.clientIdentity;
    const r = spawnSync('sh', ['-c', script], {
      encoding: 'utf8',
      timeout: options.timeoutMs ?? 150000,
      env: {
        PATH: `${bin}:${process.env.PATH}`,
        ...(identity.cacert ? { ETCDCTL_CACERT: identity.cacert } : {}),
        ...(identity.cert ? { ETCDCTL_CERT: identity.cert } : {}),
        ...(identity.key ? { ETCDCTL_KEY: identity.key } : {}),
        ...options.env,
      },
    });
    fs.rmSync(bin, { recursive: true, force: true });
    return { status: r.status, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
  }

  /** Run etcdctl inside a namespace that resolves the pod names, with the given identity. */
  public etcdctl(args: string[], options: { endpoints?: string[]; identity?: ClientIdentity; timeoutMs?: number; commandTimeout?: string; input?: string } = {}): EtcdctlResult {
    const identity = options.identity ?? this.clientIdentity;
    const endpoints = options.endpoints ?? [...Array(this.size).keys()].map((i) => this.clientUrl(i));
    const tlsArgs = [
      ...(identity.cacert ? [`--cacert=${identity.cacert}`] : []),
      ...(identity.cert ? [`--cert=${identity.cert}`] : []),
      ...(identity.key ? [`--key=${identity.key}`] : []),
    ];
    // The cluster's own release of etcdctl: the first member's image names it.
    const result = spawnSync('unshare', ['-m', 'sh', '-c', 'mount --bind "$HOSTS" /etc/hosts && exec "$CLIENT_BINARY" "$@"', 'etcdctl',
      `--endpoints=${endpoints.join(',')}`, '--dial-timeout=2s', `--command-timeout=${options.commandTimeout ?? '5s'}`, ...tlsArgs, ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOSTS: this.hostsFile, CLIENT_BINARY: this.member(0).binaries.etcdctl },
      encoding: 'utf8',
      input: options.input,
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
          throw new Error(`${this.podName(i)} ${this.exited.get(i)}:\n${this.tail(i, 80)}`);
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
   * Whether the pod is Ready as the kubelet decides it: etcd runs, and every container's readiness probe passes (etcd's
   * and the member sidecar's).
   */
  public async podReady(index: number): Promise<boolean> {
    if (!this.isRunning(index)) return false;
    const m = this.member(index);
    for (const container of podSpecOf(this.members[index].workload).containers) {
      if (container.readinessProbe && !(await this.probe(index, 'readinessProbe', container.name === m.container.name ? undefined : container))) return false;
    }
    return true;
  }

  /**
   * Evaluate a container probe the way the kubelet does: httpGet (2xx/3xx) or tcpSocket,
   * against `host` or the pod IP, on a numbered or named container port.
   * @param container another container of the pod (default: etcd's)
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  public async probe(index: number, kind: ProbeKind, container?: any): Promise<boolean> {
    const { probe, host, port } = this.probeTarget(index, kind, container);
    if (probe.httpGet) {
      const status = await this.get(host, port, probe.httpGet.path, probe.timeoutSeconds);
      return status !== undefined && status >= 200 && status < 400;
    }
    return new Promise((resolve) => {
      const socket = net.connect({ host, port, timeout: (probe.timeoutSeconds ?? 1) * 1000 }, () => { socket.destroy(); resolve(true); });
      socket.on('error', () => resolve(false));
      socket.on('timeout', () => { socket.destroy(); resolve(false); });
    });
  }

  /** The HTTP status of another path on the host and port a probe targets (undefined when nothing answers). */
  public async httpStatus(index: number, kind: ProbeKind, path: string): Promise<number | undefined> {
    const { probe, host, port } = this.probeTarget(index, kind);
    return this.get(host, port, path, probe.timeoutSeconds);
  }

  /** Where the kubelet sends a probe: the given host (a node's 127.0.0.1 is its loopback stand-in) or the pod IP. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private probeTarget(index: number, kind: ProbeKind, container?: any): { probe: any; host: string; port: number } {
    const m = this.member(index);
    const probe = (container ?? m.container)[kind];
    if (!probe) throw new Error(`${kind} is not declared`);
    const action = probe.httpGet ?? probe.tcpSocket;
    const ports = container ? new Map<string, number>((container.ports ?? []).map((p: { name: string; containerPort: number }) => [p.name, p.containerPort])) : m.ports;
    const port = typeof action.port === 'number' ? action.port : ports.get(action.port);
    if (port === undefined) throw new Error(`${kind} names port ${action.port}, which the container does not declare`);
    const host = action.host === undefined ? m.podIp : action.host === '127.0.0.1' ? m.loopbackIp : action.host;
    return { probe, host, port };
  }

  private get(host: string, port: number, urlPath: string, timeoutSeconds = 1): Promise<number | undefined> {
    return new Promise((resolve) => {
      const req = http.get({ host, port, path: urlPath, timeout: timeoutSeconds * 1000 }, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on('error', () => resolve(undefined));
      req.on('timeout', () => { req.destroy(); resolve(undefined); });
    });
  }

  /** Poll a probe once a second until it passes; fails with the member's log after `timeoutMs`. */
  public async waitForProbe(index: number, kind: ProbeKind, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await this.probe(index, kind))) {
      if (Date.now() > deadline) throw new Error(`${this.podName(index)}: ${kind} did not pass within ${timeoutMs}ms\n${this.tail(index)}`);
      await sleep(1000);
    }
  }

  /** Every member's every probe: one row per member and kind, with whether it passed. */
  public async probeAll(): Promise<{ member: string; kind: string; ok: boolean }[]> {
    const rows = [];
    for (let i = 0; i < this.size; i++) {
      for (const kind of ['livenessProbe', 'readinessProbe', 'startupProbe'] as ProbeKind[]) {
        rows.push({ member: this.podName(i), kind, ok: await this.probe(i, kind) });
      }
    }
    return rows;
  }

  /** Everything a member has logged (across restarts). */
  public log(index: number): string {
    const file = path.join(this.workDir, this.podName(index), 'etcd.log');
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  }

  /** The last lines of a member's log (and of the init container that runs now, while it starts). */
  public tail(index: number, lines = 15): string {
    const run = this.initializing.get(index)?.run;
    const live = run && fs.existsSync(liveInitLog(run)) ? fs.readFileSync(liveInitLog(run), 'utf8') : '';
    const text = `${this.log(index)}${live}`.trim();
    if (!text) return `(${this.podName(index)}: no log)`;
    return text.split('\n').slice(-lines).map((l) => `  ${this.podName(index)}| ${l}`).join('\n');
  }

  public cleanup(): void {
    fs.rmSync(this.workDir, { recursive: true, force: true });
  }

  private plan(spec: MemberSpec): MemberProcess {
    return planPod(spec.workload, {
      podName: spec.podName,
      podIp: spec.podIp,
      loopbackIp: spec.loopbackIp,
      nodeFiles: spec.nodeFiles,
      memberDir: path.join(this.workDir, spec.podName),
      secrets: this.secrets,
    });
  }

  private writeClientIdentity(files: SecretFiles): ClientIdentity {
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

/** PEM files of a client identity. */
export interface ClientFiles {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/** A static pod on a node whose IP is a loopback address 127.0.N.x; its own 127.0.0.1 becomes 127.0.N.(100+x). */
export function staticPodMember(node: string, ip: string, pod: Manifest, nodeFiles: { [path: string]: string }): MemberSpec {
  const octets = ip.split('.');
  if (octets[0] !== '127' || octets.length !== 4 || Number(octets[3]) > 150) {
    throw new Error(`harness: static-pod node IPs must be loopback addresses 127.x.y.z with z <= 150 (got ${ip})`);
  }
  return { podName: node, podIp: ip, loopbackIp: `${octets.slice(0, 3).join('.')}.${Number(octets[3]) + 100}`, workload: pod, nodeFiles };
}

/** /etc/hosts for a StatefulSet: member FQDNs (with and without the cluster domain) and the client Services. */
function statefulSetHosts(manifests: Manifest[], members: MemberSpec[]): string {
  const sts = only(manifests, 'StatefulSet');
  const lines = ['127.0.0.1 localhost', '::1 localhost ip6-localhost'];
  const namespace = sts.metadata.namespace ?? 'default';
  const args: string[] = sts.spec.template.spec.containers[0].args;
  const peerUrl = args.find((a) => a.startsWith('--initial-advertise-peer-urls='))!.split('=')[1];
  const clusterDomain = new URL(peerUrl.replace('$(POD_NAME)', 'pod')).hostname.split('.svc.')[1];
  for (const m of members) {
    const fqdn = `${m.podName}.${sts.spec.serviceName}.${namespace}.svc`;
    lines.push(`${m.podIp} ${fqdn}.${clusterDomain} ${fqdn}`);
  }
  // Client Services resolve to the first member, standing in for the Service VIP.
  for (const svc of manifests.filter((m) => m.kind === 'Service' && m.spec.clusterIP !== 'None')) {
    const name = svc.metadata.name;
    lines.push(`${members[0].podIp} ${name}.${namespace}.svc.${clusterDomain} ${name}.${namespace}.svc ${name}.${namespace} ${name}`);
  }
  return `${lines.join('\n')}\n`;
}
