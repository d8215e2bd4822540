/**
 * The tools volume every job and restore step shares: etcd's release images are distroless (no shell), so a
 * first step copies the busybox image's statically linked busybox into an emptyDir that later steps run.
 */

/** Where the busybox copy and its applet links live in every container that mounts the tools volume. */
export const TOOLS_DIR = '/tools';
/** The working directory (an emptyDir) through which the steps of one pod hand files to each other. */
export const WORK_DIR = '/work';

/** Copy busybox where the etcd image can run it, and note when the run started (a backup names its snapshot after it). */
export function prepareTools(): string {
  return `cp /bin/busybox ${TOOLS_DIR}/busybox && ${TOOLS_DIR}/busybox --install -s ${TOOLS_DIR} && date -u +%s > ${WORK_DIR}/started`;
}
