import { k8s } from 'cdk8s-plus-28';

/**
 * How snapshots are named where they are kept, for the backup that writes them and the restore that reads them:
 * `<namespace>.<cluster>-<UTC time, 20261121T020000Z>` plus `.db` (`.db.rclone` when encrypted) and `.json`.
 * Both parts are DNS labels, which hold no '.', so the dot separates them unambiguously. The namespace is part of
 * the name because a cluster's name alone repeats: two `etcd` clusters in two namespaces sharing a bucket prefix
 * would otherwise read, count and delete each other's snapshots.
 */

/** What every snapshot of the cluster `name` in `namespace` is named from: `<namespace>.<name>`. */
export function snapshotId(namespace: string, name: string): string {
  return `${namespace}.${name}`;
}

/** A snapshot taken at `stamp` (`YYYYMMDDTHHMMSSZ`). */
export function snapshotName(id: string, stamp: string): string {
  return `${id}-${stamp}`;
}

/**
 * The env the scripts name snapshots with: `SNAPSHOT_ID`, and `SNAPSHOT_ID_RE`, the same as a basic regular
 * expression (its '.' escaped), for `sed` and `grep`.
 */
export function snapshotIdEnv(id: string): k8s.EnvVar[] {
  return [
    { name: 'SNAPSHOT_ID', value: id },
    { name: 'SNAPSHOT_ID_RE', value: id.replace(/\./g, '\\.') },
  ];
}

/** A basic regular expression, for the scripts, that matches exactly one of this cluster's snapshot names. */
export const STEM_RE = '$SNAPSHOT_ID_RE-[0-9]\\{8\\}T[0-9]\\{6\\}Z';

/**
 * A shell function that prints, in seconds since the epoch, the time a snapshot name `$1` carries. busybox
 * `date -D`, which alpine and the copied busybox both have.
 */
export const STAMP = `stamp() { date -u -D '%Y%m%dT%H%M%SZ' -d "\${1#"$SNAPSHOT_ID"-}" +%s; }`;
