import * as fs from 'fs';
import * as path from 'path';
import { Manifest, etcdContainer, podSpecOf } from '../../support/synth';
import { SecretFiles } from './certificates';
import { EtcdBinaries, binariesForImage } from './etcd-lines';

/** How one etcd container runs on this machine. */
export interface MemberProcess {
  readonly podName: string;
  readonly podIp: string;
  readonly loopbackIp: string;
  /** etcd's arguments after `$(VAR)` expansion and the translations below. */
  readonly args: string[];
  /**
   * etcd runs through a shell in its image (a StatefulSet member reads its start decision first): the harness runs that
   * container chrooted, so `args` keep the container's paths and only the addresses are translated.
   */
  readonly wrapped: boolean;
  /** The binaries of exactly the release the container's image names. */
  readonly binaries: EtcdBinaries;
  /** The container's environment after expansion, as the process gets it. */
  readonly env: { [name: string]: string };
  readonly uid: number;
  readonly gid: number;
  readonly supplementaryGroups: number[];
  readonly logFile: string;
  /** Container port by name, for probes. */
  readonly ports: Map<string, number>;
  /** The directories that stand in for the pod's volumes; written by `materializeVolumes`. */
  readonly volumes: PlannedVolume[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly container: any;
}

/** One volume mount as a host directory. */
export interface PlannedVolume {
  readonly hostDir: string;
  /** Secret files, rewritten on every start; undefined for a persistent directory kept across restarts. */
  readonly files?: SecretFiles;
  /** Files a hostPath already holds on the node, written once into the persistent directory. */
  readonly hostFiles?: SecretFiles;
  readonly mode: number;
  readonly fsGroup?: number;
}

interface PodContext {
  readonly podName: string;
  readonly podIp: string;
  /** The address that stands in for this pod's (or node's) own 127.0.0.1, since members share one host. */
  readonly loopbackIp: string;
  /** Files on the node, by absolute path, for hostPath volumes (e.g. kubeadm's PKI). */
  readonly nodeFiles?: { [path: string]: string };
  /** Per-member directory that holds the member's volumes; kept across restarts. */
  readonly memberDir: string;
  readonly secrets: Map<string, SecretFiles>;
}

/**
 * Kubernetes `$(VAR)` expansion: defined variables are replaced, `$$` escapes, and
 * references to undefined variables stay as they are.
 */
export function expandKubernetesVars(value: string, env: Map<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (match, name?: string) => {
    if (match === '$$') return '$';
    return env.has(name!) ? env.get(name!)! : match;
  });
}

/**
 * Plan a pod of a StatefulSet (or a static Pod) as a host process, without touching the disk:
 * - env values and fieldRefs (pod name, namespace, pod IP), then `$(VAR)` expansion of the args;
 * - every volume mount becomes a member directory: PersistentVolumeClaims persist across restarts,
 *   Secret volumes are written from the Secrets given, with the pod's defaultMode and fsGroup;
 * - paths under a mount path are mapped to that directory (longest mount path first);
 * - listeners on 0.0.0.0 (every interface of the pod) bind the pod IP, and the pod's (or node's) own
 *   127.0.0.1 is a loopback address of its own, since the members share one host;
 * - hostPath volumes hold the files the node has under that path (`nodeFiles`);
 * - the image's tag chooses the etcd binaries: exactly that release, or the plan fails.
 * Nothing else is changed: a wrong flag, path or name fails here as it would in a cluster.
 */
export function planPod(workload: Manifest, ctx: PodContext): MemberProcess {
  const podSpec = podSpecOf(workload);
  const container = etcdContainer(workload);
  const namespace = workload.metadata.namespace ?? 'default';

  const command: string[] = container.command ?? [];
  // A shell that ends by exec'ing etcd with its arguments ("$@"), named etcd ($0).
  const wrapped = command.length === 4 && command[1] === '-c' && /exec \/usr\/local\/bin\/etcd "\$@"$/.test(command[2]) && command[3] === 'etcd';
  if (!wrapped && (command.length < 1 || path.basename(command[0]) !== 'etcd')) {
    throw new Error(`harness: expected the container to run etcd, directly or through exec, got ${JSON.stringify(command)}`);
  }
  // kubeadm puts the flags in command, the StatefulSet in args; the kubelet runs command + args.
  const flags: string[] = [...(wrapped ? [] : command.slice(1)), ...(container.args ?? [])];

  const env = containerEnv(container, {
    fields: { 'metadata.name': ctx.podName, 'metadata.namespace': namespace, 'status.podIP': ctx.podIp },
  });

  const podSecurity = podSpec.securityContext ?? {};
  const containerSecurity = container.securityContext ?? {};
  const uid = containerSecurity.runAsUser ?? podSecurity.runAsUser ?? 0;
  const gid = containerSecurity.runAsGroup ?? podSecurity.runAsGroup ?? 0;
  const fsGroup: number | undefined = podSecurity.fsGroup;

  // Volumes: claim templates (StatefulSet) and pod volumes.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const volumes = new Map<string, any>();
  for (const claim of workload.spec.volumeClaimTemplates ?? []) volumes.set(claim.metadata.name, { persistentVolumeClaim: true });
  for (const v of podSpec.volumes ?? []) volumes.set(v.name, v);

  const mounts: { mountPath: string; hostDir: string }[] = [];
  const planned: PlannedVolume[] = [];
  for (const mount of container.volumeMounts ?? []) {
    const volume = volumes.get(mount.name);
    if (!volume) throw new Error(`harness: volume mount ${mount.name} has no volume`);
    // An emptyDir is new on every start of the pod: the run that starts the pod makes it (job-pod.ts).
    if (volume.emptyDir) continue;
    const hostDir = path.join(ctx.memberDir, 'volumes', mount.name);
    if (volume.persistentVolumeClaim) {
      planned.push({ hostDir, mode: 0o2770, fsGroup });
    } else if (volume.hostPath) {
      // The node's files under the hostPath, e.g. the PKI a provisioning tool put there.
      planned.push({ hostDir, mode: 0o755, hostFiles: nodeFilesUnder(ctx.nodeFiles, volume.hostPath.path) });
    } else if (volume.secret) {
      const files = ctx.secrets.get(volume.secret.secretName);
      if (!files) throw new Error(`harness: Secret ${volume.secret.secretName} is mounted but nothing provides it`);
      // `items` projects only the keys named, as the kubelet does.
      const items: { key: string; path: string }[] | undefined = volume.secret.items;
      const missing = items?.filter((i) => files[i.key] === undefined).map((i) => i.key) ?? [];
      if (missing.length > 0) throw new Error(`harness: Secret ${volume.secret.secretName} has no key ${missing.join(', ')}`);
      const projected = items ? Object.fromEntries(items.map((i) => [i.path, files[i.key]])) : files;
      planned.push({ hostDir, files: projected, mode: volume.secret.defaultMode ?? 0o644, fsGroup });
    } else {
      throw new Error(`harness: unsupported volume type for ${mount.name}`);
    }
    mounts.push({ mountPath: mount.mountPath.replace(/\/+$/, ''), hostDir });
  }
  mounts.sort((a, b) => b.mountPath.length - a.mountPath.length);

  const mapPaths = (value: string) => value.replace(/(^|[=,:])(\/[^,=\s]*)/g, (whole, lead: string, p: string) => {
    const m = mounts.find((x) => p === x.mountPath || p.startsWith(`${x.mountPath}/`));
    return m ? lead + m.hostDir + p.slice(m.mountPath.length) : whole;
  });
  const args = flags.map((a: string) => (wrapped ? expandKubernetesVars(a, env) : mapPaths(expandKubernetesVars(a, env)))
    .split('://0.0.0.0:').join(`://${ctx.podIp}:`)
    .split('://127.0.0.1:').join(`://${ctx.loopbackIp}:`));

  const ports = new Map<string, number>();
  for (const p of container.ports ?? []) if (p.name) ports.set(p.name, p.containerPort);

  return {
    podName: ctx.podName,
    podIp: ctx.podIp,
    loopbackIp: ctx.loopbackIp,
    args,
    wrapped,
    binaries: binariesForImage(container.image),
    env: Object.fromEntries(env),
    uid,
    gid,
    supplementaryGroups: fsGroup !== undefined ? [fsGroup] : [],
    logFile: path.join(ctx.memberDir, 'etcd.log'),
    ports,
    volumes: planned,
    container,
  };
}

/**
 * Write a planned pod's volumes as the kubelet would: persistent directories group-owned by the
 * fsGroup with the setgid bit (created once, kept across restarts), Secret files with defaultMode.
 */
export function materializeVolumes(pod: MemberProcess): void {
  for (const v of pod.volumes) {
    if (v.files === undefined) {
      if (fs.existsSync(v.hostDir)) continue;
      fs.mkdirSync(v.hostDir, { recursive: true });
      if (v.fsGroup !== undefined) {
        fs.chownSync(v.hostDir, 0, v.fsGroup);
        fs.chmodSync(v.hostDir, v.mode);
      }
      writeNodeFiles(v.hostDir, v.hostFiles ?? {});
    } else {
      fs.rmSync(v.hostDir, { recursive: true, force: true });
      writeSecretFiles(v.hostDir, v.files, v.mode, v.fsGroup);
    }
  }
}

/** Where an env value may come from: the pod's fields (fieldRef) and Secrets (secretKeyRef). */
export interface EnvSources {
  readonly fields?: { [fieldPath: string]: string };
  readonly secrets?: Map<string, SecretFiles>;
}

/** A container's environment as the kubelet builds it: values with `$(VAR)` expansion, fieldRefs, secretKeyRefs. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function containerEnv(container: any, sources: EnvSources): Map<string, string> {
  const env = new Map<string, string>();
  for (const e of container.env ?? []) {
    if (e.value !== undefined || e.valueFrom === undefined) {
      // The API server drops an empty value (omitempty): a variable with neither is set, and empty.
      env.set(e.name, expandKubernetesVars(e.value ?? '', env));
    } else if (e.valueFrom?.fieldRef) {
      const field = e.valueFrom.fieldRef.fieldPath;
      const value = sources.fields?.[field];
      if (value === undefined) throw new Error(`harness: unsupported fieldRef ${field}`);
      env.set(e.name, value);
    } else if (e.valueFrom?.secretKeyRef) {
      const ref = e.valueFrom.secretKeyRef;
      const value = sources.secrets?.get(ref.name)?.[ref.key];
      if (value === undefined) throw new Error(`harness: ${container.name} reads ${ref.name}/${ref.key}, which no Secret provides`);
      env.set(e.name, value);
    } else {
      throw new Error(`harness: unsupported env source for ${e.name}`);
    }
  }
  return env;
}

/** The node's files under a hostPath, by path relative to it. */
export function nodeFilesUnder(nodeFiles: { [file: string]: string } | undefined, hostPath: string): SecretFiles {
  const prefix = `${hostPath.replace(/\/+$/, '')}/`;
  const files: SecretFiles = {};
  for (const [file, content] of Object.entries(nodeFiles ?? {})) {
    if (file.startsWith(prefix)) files[file.slice(prefix.length)] = content;
  }
  return files;
}

/** Files a provisioning tool put on a node: private keys readable by root only, as kubeadm writes them. */
export function writeNodeFiles(dir: string, files: SecretFiles): void {
  for (const [file, content] of Object.entries(files)) {
    const target = path.join(dir, file);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, content, { mode: file.endsWith('.key') ? 0o600 : 0o644 });
  }
}

/** A Secret volume as the kubelet writes it: each key a file with the volume's defaultMode, group-owned by the fsGroup. */
export function writeSecretFiles(dir: string, files: SecretFiles, mode: number, fsGroup: number | undefined): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  for (const [key, content] of Object.entries(files)) {
    const file = path.join(dir, key);
    fs.writeFileSync(file, content);
    fs.chmodSync(file, mode);
    if (fsGroup !== undefined) fs.chownSync(file, 0, fsGroup);
  }
}
