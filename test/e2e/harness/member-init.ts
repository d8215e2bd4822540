import { ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Manifest } from '../../support/synth';
import { SecretFiles } from './certificates';
import { ContainerRun, startContainer } from './job-pod';
import { nodeFilesUnder, writeNodeFiles, writeSecretFiles } from './pod';

/** Where a member's init containers run, beside the member's own directories. */
export interface MemberInitContext {
  /** The member's directory: `volumes/<name>` are the volumes its etcd container also mounts. */
  readonly memberDir: string;
  readonly hostsFile: string;
  readonly secrets: Map<string, SecretFiles>;
  /** PersistentVolumeClaims by name, other than the member's own (e.g. a snapshot source). */
  readonly claims: Map<string, string>;
  readonly nodeFiles?: { [file: string]: string };
  /** The pod's fields for `fieldRef`s. */
  readonly fields: { [fieldPath: string]: string };
  /** A host-network pod's node IP (see JobPodContext.nodeIp). */
  readonly nodeIp?: string;
  /** Called with each container process, so the harness can stop it. */
  readonly onChild: (child: ChildProcess) => void;
}

/**
 * Run a member pod's init containers in order, as the kubelet does before it starts etcd: each chrooted
 * into its image's files, with the pod's volumes. The member's claim, hostPaths and Secrets are the
 * directories its etcd process uses (`<memberDir>/volumes/<name>`, kept across restarts); emptyDirs are
 * new on every start. Resolves with every run up to the first that fails.
 */
export async function runInitContainers(workload: Manifest, ctx: MemberInitContext): Promise<ContainerRun[]> {
  const pod = workload.kind === 'Pod' ? workload.spec : workload.spec.template.spec;
  const security = pod.securityContext ?? {};
  const runDir = fs.mkdtempSync(path.join(ctx.memberDir, 'init-'));
  fs.chmodSync(runDir, 0o755);
  const volumes = initVolumes(workload, pod, ctx, runDir);
  const runs: ContainerRun[] = [];
  for (const container of pod.initContainers ?? []) {
    const { child, done } = startContainer(container, volumes, {
      runDir,
      hostsFile: ctx.hostsFile,
      secrets: ctx.secrets,
      fields: ctx.fields,
      nodeIp: ctx.nodeIp,
      uid: security.runAsUser ?? 0,
      gid: security.runAsGroup ?? 0,
      fsGroup: security.fsGroup,
      hostNetwork: pod.hostNetwork === true,
    });
    ctx.onChild(child);
    const run = await done;
    runs.push(run);
    if (run.exitCode !== 0) break;
  }
  return runs;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function initVolumes(workload: Manifest, pod: any, ctx: MemberInitContext, runDir: string): Map<string, string> {
  const dirs = new Map<string, string>();
  const persistent = (name: string) => path.join(ctx.memberDir, 'volumes', name);
  for (const claim of workload.spec.volumeClaimTemplates ?? []) dirs.set(claim.metadata.name, persistent(claim.metadata.name));
  const fsGroup: number | undefined = pod.securityContext?.fsGroup;
  for (const v of pod.volumes ?? []) {
    if (v.emptyDir) {
      const dir = path.join(runDir, 'volumes', v.name);
      fs.mkdirSync(dir, { recursive: true });
      fs.chmodSync(dir, 0o777);
      dirs.set(v.name, dir);
    } else if (v.persistentVolumeClaim) {
      const claim = ctx.claims.get(v.persistentVolumeClaim.claimName);
      if (!claim) throw new Error(`harness: no volume for the claim ${v.persistentVolumeClaim.claimName}`);
      dirs.set(v.name, claim);
    } else if (v.secret) {
      const files = ctx.secrets.get(v.secret.secretName);
      if (!files) throw new Error(`harness: Secret ${v.secret.secretName} is mounted but nothing provides it`);
      writeSecretFiles(persistent(v.name), files, v.secret.defaultMode ?? 0o644, fsGroup);
      dirs.set(v.name, persistent(v.name));
    } else if (v.hostPath) {
      const dir = persistent(v.name);
      const files = nodeFilesUnder(ctx.nodeFiles, v.hostPath.path);
      if (!fs.existsSync(dir)) {
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
