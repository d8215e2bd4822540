/**
 * The tools volume every job and restore step shares: etcd's release images are distroless (no shell), so a
 * first step copies the busybox image's statically linked busybox into an emptyDir that later steps run.
 */

/** Where the busybox copy and its applet links live in every container that mounts the tools volume. */
export const TOOLS_DIR = '/tools';
/** The scratch directory the steps of one run hand files through. */
export const WORK_DIR = '/work';

/** Copy busybox where the etcd image can run it, and note when the run started (it names the snapshot). */
export function prepareTools(): string {
  return `cp /bin/busybox ${TOOLS_DIR}/busybox && ${TOOLS_DIR}/busybox --install -s ${TOOLS_DIR} && date -u +%s > ${WORK_DIR}/started`;
}
