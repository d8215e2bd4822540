import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Manifest } from '../../support/synth';
import { SecretFiles } from './certificates';
import { containerEnv, expandKubernetesVars, nodeFilesUnder, writeNodeFiles, writeSecretFiles } from './pod';
import { imageContents } from './tools';

/** What the cluster around a pod provides, for the job runner and the member init runner alike. */
export interface PodSurroundings {
  /** /etc/hosts inside the containers (resolves the members and the client Service). */
  readonly hostsFile: string;
  /** Secrets by name, for volumes and `secretKeyRef`s. */
  readonly secrets: Map<string, SecretFiles>;
  /** PersistentVolumeClaims by name: the directory that is the volume (kept across runs). */
  readonly claims: Map<string, string>;
  /** ConfigMaps by name, for volumes. */
  readonly configMaps?: Map<string, SecretFiles>;
  /** Files on the node, by absolute path (hostPath volumes). */
  readonly nodeFiles?: { [file: string]: string };
  /**
   * Host-network pods: the address that answers for the node's own 127.0.0.1. Members share one host, so
   * the harness maps a node's loopback URLs to its IP, which its certificate names (as it names 127.0.0.1).
   */
  readonly nodeIp?: string;
}

/** Where a Job's pod runs here, and what the cluster around it provides. */
export interface JobPodContext extends PodSurroundings {
  /** A fresh directory for this run: volumes and root filesystems. */
  readonly runDir: string;
  /** Called after each container that succeeds, with the volume directories: the place to tamper with files. */
  readonly afterContainer?: (container: string, volumes: Map<string, string>) => void;
  readonly timeoutMs?: number;
}

export interface ContainerRun {
  readonly name: string;
  readonly exitCode: number | null;
  readonly output: string;
}

export interface JobPodResult {
  /** Every init container and then the container succeeded. */
  readonly succeeded: boolean;
  readonly runs: ContainerRun[];
  /** Every container's output, labelled, for failure messages. */
  readonly log: string;
}

/**
 * Run a CronJob's pod as the kubelet would, on this host: init containers in order, then the container;
 * each in a private mount namespace, chrooted into a read-only root filesystem that holds exactly what its
 * image holds, with the pod's volumes mounted at their paths, as the pod's user, with the container's env
 * (values and secretKeyRefs) and command. The first failing container fails the pod.
 */
export function runJobPod(cronJob: Manifest, ctx: JobPodContext): JobPodResult {
  const pod = cronJob.spec.jobTemplate.spec.template.spec;
  const security = pod.securityContext ?? {};
  const uid: number = security.runAsUser ?? 0;
  const gid: number = security.runAsGroup ?? 0;
  const fsGroup: number | undefined = security.fsGroup;
  const volumes = materializePodVolumes(pod.volumes ?? [], ctx, fsGroup);
  const runs: ContainerRun[] = [];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  for (const container of [...(pod.initContainers ?? []), ...pod.containers] as any[]) {
    const run = runContainer(container, volumes, { ...ctx, uid, gid, fsGroup, hostNetwork: pod.hostNetwork === true });
    runs.push(run);
    if (run.exitCode !== 0) break;
    ctx.afterContainer?.(container.name, volumes);
  }
  const expected = (pod.initContainers ?? []).length + pod.containers.length;
  return {
    succeeded: runs.length === expected && runs.every((r) => r.exitCode === 0),
    runs,
    log: runs.map((r) => `--- ${r.name} (exit ${r.exitCode})\n${r.output}`).join('\n'),
  };
}

/**
 * Each pod volume as a host directory: emptyDirs fresh under `runDir`, claims as given, Secrets and hostPaths
 * written. With `kept`, Secrets and hostPaths go to the directory it names (a member's, kept across restarts;
 * a hostPath's files are written only when it is new).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function materializePodVolumes(specs: any[], ctx: VolumeSources, fsGroup: number | undefined, kept?: (volume: string) => string): Map<string, string> {
  const dirs = new Map<string, string>();
  for (const v of specs) {
    const fresh = path.join(ctx.runDir, 'volumes', v.name);
    if (v.emptyDir) {
      fs.mkdirSync(fresh, { recursive: true });
      fs.chmodSync(fresh, 0o777);
      dirs.set(v.name, fresh);
    } else if (v.persistentVolumeClaim) {
      // A member's own claim (a StatefulSet pod's, as the API has it) is its kept directory.
      const claim = ctx.claims.get(v.persistentVolumeClaim.claimName) ?? kept?.(v.name);
      if (!claim) throw new Error(`harness: no volume for the claim ${v.persistentVolumeClaim.claimName}`);
      dirs.set(v.name, claim);
    } else if (v.secret) {
      const files = ctx.secrets.get(v.secret.secretName) ?? (v.secret.optional ? {} : undefined);
      if (!files) throw new Error(`harness: Secret ${v.secret.secretName} is mounted but nothing provides it`);
      const dir = kept?.(v.name) ?? fresh;
      // items: only the keys listed, under the paths given (as the kubelet projects them).
      const projected = v.secret.items
        ? Object.fromEntries(v.secret.items.flatMap((item: { key: string; path: string }) => {
          // An optional Secret's missing keys are left out, as the kubelet leaves them out.
          if (files[item.key] === undefined && v.secret.optional) return [];
          if (files[item.key] === undefined) throw new Error(`harness: Secret ${v.secret.secretName} has no key ${item.key}`);
          return [[item.path, files[item.key]]];
        }))
        : files;
      writeSecretFiles(dir, projected, v.secret.defaultMode ?? 0o644, fsGroup);
      dirs.set(v.name, dir);
    } else if (v.configMap) {
      const files = ctx.configMaps?.get(v.configMap.name);
      if (!files) throw new Error(`harness: ConfigMap ${v.configMap.name} is mounted but nothing provides it`);
      writeSecretFiles(fresh, files, v.configMap.defaultMode ?? 0o644, undefined);
      dirs.set(v.name, fresh);
    } else if (v.hostPath?.type === 'File') {
      // One file of the node's, mounted as a file.
      const content = ctx.nodeFiles?.[v.hostPath.path];
      if (content === undefined) throw new Error(`harness: hostPath ${v.hostPath.path} (File) does not exist on the node`);
      fs.mkdirSync(path.dirname(fresh), { recursive: true });
      fs.writeFileSync(fresh, content, { mode: 0o600 });
      dirs.set(v.name, fresh);
    } else if (v.hostPath) {
      const dir = kept?.(v.name) ?? fresh;
      const files = nodeFilesUnder(ctx.nodeFiles, v.hostPath.path);
      if (!kept || !fs.existsSync(dir)) {
        if (v.hostPath.type === 'Directory' && Object.keys(files).length === 0) throw new Error(`harness: hostPath ${v.hostPath.path} does not exist on the node`);
        fs.mkdirSync(dir, { recursive: true });
        writeNodeFiles(dir, files);
      }
      dirs.set(v.name, dir);
    } else {
      throw new Error(`harness: unsupported volume ${JSON.stringify(v)}`);
    }
  }
  return dirs;
}

/** What a pod's volumes are made from. */
export interface VolumeSources extends Pick<PodSurroundings, 'secrets' | 'claims' | 'nodeFiles' | 'configMaps'> {
  readonly runDir: string;
}

/** Where one container runs: the pod's user, volumes as host directories, and the node around it. */
export interface ContainerContext extends Pick<PodSurroundings, 'hostsFile' | 'secrets' | 'nodeIp'> {
  readonly runDir: string;
  readonly uid: number;
  readonly gid: number;
  readonly fsGroup?: number;
  readonly hostNetwork: boolean;
  readonly timeoutMs?: number;
  /** Pod fields for `fieldRef`s (a member's name and IP). */
  readonly fields?: { [fieldPath: string]: string };
}

interface RunContext extends JobPodContext, ContainerContext {}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function runContainer(container: any, volumes: Map<string, string>, ctx: RunContext): ContainerRun {
  const { args, env } = containerInvocation(container, volumes, ctx);
  const result = spawnSync('unshare', args, { env, encoding: 'utf8', timeout: ctx.timeoutMs ?? 120000 });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? `\nharness: ${result.error.message}` : ''}`;
  return { name: container.name, exitCode: result.status, output };
}

/**
 * Start one container without waiting for it (members' init containers wait for each other). With `logFile`, its
 * output goes there (a long-running container) instead of into the run's output.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function startContainer(container: any, volumes: Map<string, string>, ctx: ContainerContext, logFile?: string): { child: ChildProcess; done: Promise<ContainerRun> } {
  const { args, env } = containerInvocation(container, volumes, ctx);
  const log = logFile === undefined ? undefined : fs.openSync(logFile, 'a');
  // A process group of its own, so stopping the container stops what its shell started (as a cgroup would).
  const child = spawn('unshare', args, { env, stdio: ['ignore', log ?? 'pipe', log ?? 'pipe'], detached: true });
  if (log !== undefined) fs.closeSync(log);
  let output = '';
  child.stdout?.on('data', (d) => { output += d; });
  child.stderr?.on('data', (d) => { output += d; });
  const done = new Promise<ContainerRun>((resolve) => {
    child.on('error', (e) => resolve({ name: container.name, exitCode: null, output: `${output}\nharness: ${e.message}` }));
    child.on('close', (code, signal) => resolve({ name: container.name, exitCode: code, output: signal ? `${output}\nharness: killed by ${signal}` : output }));
  });
  return { child, done };
}

/** The `unshare` arguments and host environment that run a container as the kubelet would. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function containerInvocation(container: any, volumes: Map<string, string>, ctx: ContainerContext): { args: string[]; env: { [k: string]: string } } {
  const image = imageContents(container.image);
  const root = path.join(ctx.runDir, 'rootfs', container.name);
  fs.mkdirSync(root, { recursive: true });
  fs.chmodSync(root, 0o755);
  const binds: [string, string, boolean][] = [];
  const mountPoint = (inImage: string, isDir: boolean) => {
    const target = path.join(root, inImage);
    fs.mkdirSync(isDir ? target : path.dirname(target), { recursive: true, mode: 0o755 });
    if (!isDir && !fs.existsSync(target)) fs.writeFileSync(target, '');
  };
  for (const [inImage, host] of image.files) {
    mountPoint(inImage, false);
    binds.push([host, inImage, true]);
  }
  for (const [link, target] of image.symlinks) {
    mountPoint(link, false);
    fs.rmSync(path.join(root, link));
    fs.symlinkSync(target, path.join(root, link));
  }
  for (const dir of ['/dev', '/proc', '/tmp']) mountPoint(dir, true);
  mountPoint('/etc/hosts', false);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  for (const m of (container.volumeMounts ?? []) as any[]) {
    const host = volumes.get(m.name);
    if (!host) throw new Error(`harness: ${container.name} mounts ${m.name}, which the pod does not declare`);
    mountPoint(m.mountPath, fs.statSync(host).isDirectory());
    binds.push([host, m.mountPath, m.readOnly === true]);
  }

  const toNode = (value: string) => (ctx.hostNetwork && ctx.nodeIp ? value.split('://127.0.0.1:').join(`://${ctx.nodeIp}:`) : value);
  // URLs of the node's own 127.0.0.1, in args or env, reach the node's address here.
  const env = new Map([...containerEnv(container, { secrets: ctx.secrets, fields: ctx.fields })].map(([k, v]) => [k, toNode(v)]));
  if (!env.has('PATH')) env.set('PATH', image.path);
  const argv: string[] = [...(container.command ?? []), ...(container.args ?? [])].map((a: string) => toNode(expandKubernetesVars(a, env)));

  const script = [
    'set -e',
    'mount --bind "$ROOT" "$ROOT"',
    ...(container.securityContext?.readOnlyRootFilesystem ? ['mount -o remount,bind,ro "$ROOT"'] : []),
    'mount --rbind /dev "$ROOT/dev"',
    'mount --bind /proc "$ROOT/proc"',
    'mount --bind "$HOSTS" "$ROOT/etc/hosts"',
    ...binds.flatMap(([, inImage, ro], i) => {
      const lines = [`mount --bind "$BIND_${i}" "$ROOT${inImage}"`];
      if (ro) lines.push(`mount -o remount,bind,ro "$ROOT${inImage}"`);
      return lines;
    }),
    // The container gets exactly its own env: `env -i` with its assignments, then chroot.
    'exec env -i "$@"',
  ].join('\n');
  const hostEnv: { [k: string]: string } = { PATH: process.env.PATH ?? '/usr/bin:/bin', ROOT: root, HOSTS: ctx.hostsFile };
  binds.forEach(([host], i) => { hostEnv[`BIND_${i}`] = host; });
  const chroot = [CHROOT, `--userspec=${ctx.uid}:${ctx.gid}`, ...(ctx.fsGroup !== undefined ? [`--groups=${ctx.fsGroup}`] : []), root];
  return { args: ['-m', 'sh', '-c', script, 'pod', ...[...env].map(([k, v]) => `${k}=${v}`), ...chroot, ...argv], env: hostEnv };
}

const CHROOT = spawnSync('sh', ['-c', 'command -v chroot'], { encoding: 'utf8' }).stdout.trim() || '/usr/sbin/chroot';
