import { ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Manifest, podSpecOf } from '../../support/synth';
import { ContainerRun, PodSurroundings, materializePodVolumes, startContainer } from './job-pod';

/**
 * Where a member's init containers run, beside the member's own directories. `claims` are the claims other than
 * the member's own (e.g. a snapshot source).
 */
export interface MemberInitContext extends PodSurroundings {
  /** The member's directory: `volumes/<name>` are the volumes its etcd container also mounts. */
  readonly memberDir: string;
  /** The pod's fields for `fieldRef`s. */
  readonly fields: { [fieldPath: string]: string };
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
  const pod = podSpecOf(workload);
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

/** The pod's volumes; the member's claim, Secrets and hostPaths are the directories its etcd process uses. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function initVolumes(workload: Manifest, pod: any, ctx: MemberInitContext, runDir: string): Map<string, string> {
  const kept = (name: string) => path.join(ctx.memberDir, 'volumes', name);
  const dirs = materializePodVolumes(pod.volumes ?? [], { ...ctx, runDir }, pod.securityContext?.fsGroup, kept);
  for (const claim of workload.spec.volumeClaimTemplates ?? []) dirs.set(claim.metadata.name, kept(claim.metadata.name));
  return dirs;
}
