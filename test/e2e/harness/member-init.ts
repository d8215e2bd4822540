import { ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Manifest, podSpecOf } from '../../support/synth';
import { ContainerContext, ContainerRun, PodSurroundings, materializePodVolumes, startContainer } from './job-pod';

/**
 * Where a member's init containers run, beside the member's own directories. `claims` are the claims other than
 * the member's own (e.g. a snapshot source).
 */
export interface MemberInitContext extends PodSurroundings {
  /** The member's directory: `volumes/<name>` are the volumes its etcd container also mounts. */
  readonly memberDir: string;
  /** The pod's fields for `fieldRef`s. */
  readonly fields: { [fieldPath: string]: string };
}

/** One start of a member's pod: its volumes as host directories, shared by every container of that start. */
export interface PodRun {
  readonly runDir: string;
  readonly volumes: Map<string, string>;
  readonly context: ContainerContext;
}

/**
 * Set up one start of a member's pod. The member's claim, hostPaths and Secrets are the directories its etcd process
 * uses (`<memberDir>/volumes/<name>`, kept across restarts); emptyDirs (and ConfigMaps) are new on every start.
 */
export function preparePodRun(workload: Manifest, ctx: MemberInitContext): PodRun {
  const pod = podSpecOf(workload);
  const security = pod.securityContext ?? {};
  const runDir = fs.mkdtempSync(path.join(ctx.memberDir, 'init-'));
  fs.chmodSync(runDir, 0o755);
  return {
    runDir,
    volumes: initVolumes(workload, pod, ctx, runDir),
    context: {
      runDir,
      hostsFile: ctx.hostsFile,
      secrets: ctx.secrets,
      fields: ctx.fields,
      nodeIp: ctx.nodeIp,
      uid: security.runAsUser ?? 0,
      gid: security.runAsGroup ?? 0,
      fsGroup: security.fsGroup,
      hostNetwork: pod.hostNetwork === true,
    },
  };
}

/**
 * Run a member pod's init containers in order, as the kubelet does before it starts etcd: each chrooted into its
 * image's files, with the pod's volumes. Resolves with every run up to the first that fails.
 */
export async function runInitContainers(workload: Manifest, pod: PodRun, onChild: (child: ChildProcess) => void): Promise<ContainerRun[]> {
  const runs: ContainerRun[] = [];
  for (const container of podSpecOf(workload).initContainers ?? []) {
    // Written as it runs (`liveInitLog`), so a step that waits can be read while it waits.
    const live = liveInitLog(pod);
    fs.writeFileSync(live, `--- init ${container.name} (running)\n`);
    const { child, done } = startContainer(container, pod.volumes, pod.context, live);
    onChild(child);
    const finished = await done;
    const output = fs.readFileSync(live, 'utf8').split('\n').slice(1).join('\n');
    const run = { ...finished, output: `${output}${finished.output}` };
    runs.push(run);
    if (run.exitCode !== 0) break;
  }
  return runs;
}

/** The output of the init container that runs now, in this start of the pod. */
export function liveInitLog(pod: PodRun): string {
  return path.join(pod.runDir, 'init.log');
}

/** The pod's volumes; the member's claim, Secrets and hostPaths are the directories its etcd process uses. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function initVolumes(workload: Manifest, pod: any, ctx: MemberInitContext, runDir: string): Map<string, string> {
  const kept = (name: string) => path.join(ctx.memberDir, 'volumes', name);
  const dirs = materializePodVolumes(pod.volumes ?? [], { ...ctx, runDir }, pod.securityContext?.fsGroup, kept);
  for (const claim of workload.spec.volumeClaimTemplates ?? []) dirs.set(claim.metadata.name, kept(claim.metadata.name));
  return dirs;
}
