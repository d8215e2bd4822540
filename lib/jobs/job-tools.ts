import { k8s } from 'cdk8s-plus-28';
import { MIB } from '../member/tuning';
/**
 * The tools volume every job and restore step shares: etcd's release images are distroless (no shell), so a
 * first step copies the busybox image's statically linked busybox into an emptyDir that later steps run.
 */

/** Where the busybox copy and its applet links live in every container that mounts the tools volume. */
export const TOOLS_DIR = '/tools';
/**
 * What a step that only runs busybox and etcdctl needs (copying the tools, deciding how a member starts, the member
 * sidecar, removing members): etcdctl peaks well below 128 MiB.
 */
export const SMALL_STEP_RESOURCES: k8s.ResourceRequirements = {
  requests: { cpu: k8s.Quantity.fromString('10m'), memory: k8s.Quantity.fromString('32Mi') },
  limits: { memory: k8s.Quantity.fromString('128Mi') },
};

/** The working directory (an emptyDir) through which the steps of one pod hand files to each other. */
export const WORK_DIR = '/work';
/** The tools volume's size: busybox and its links. */
export const TOOLS_MIB = 16;

/**
 * Copy busybox where the etcd image can run it, and (`stamp`) note in the work volume when the run started: a backup
 * names its snapshot after it.
 */
export function prepareTools(stamp: boolean = true): string {
  const copy = `cp /bin/busybox ${TOOLS_DIR}/busybox && ${TOOLS_DIR}/busybox --install -s ${TOOLS_DIR}`;
  return stamp ? `${copy} && date -u +%s > ${WORK_DIR}/started` : copy;
}

/**
 * The work volume of a pod that holds one snapshot (a backup's, or a restoring member's fetched copy), in MiB:
 * a snapshot is at most as large as the quota, plus room for etcd's appended hash and rclone's encryption.
 */
export function workVolumeMib(quotaBytes: number): number {
  return Math.ceil((quotaBytes * 1.25) / MIB);
}

/** Room for container logs and the tools copy, beside the emptyDirs a step writes. */
const EPHEMERAL_MARGIN_MIB = 64;

/**
 * `resources` with an ephemeral-storage request and limit that cover the pod's emptyDirs (`emptyDirMib` in all),
 * so the scheduler places the pod on a node with that much disk free, and the kubelet evicts it, rather than the
 * node filling up, when a step writes more. Set on every container of the pod: a pod's request is the largest
 * of its init containers' and the sum of its app containers', so each step declares the whole.
 */
export function withEphemeralStorage(resources: k8s.ResourceRequirements | undefined, emptyDirMib: number): k8s.ResourceRequirements {
  const storage = k8s.Quantity.fromString(`${emptyDirMib + EPHEMERAL_MARGIN_MIB}Mi`);
  return {
    ...resources,
    requests: { ...resources?.requests, 'ephemeral-storage': storage },
    limits: { ...resources?.limits, 'ephemeral-storage': storage },
  };
}
