import { EtcdVersion } from '../../release/version';
import { WORK_DIR } from '../job-tools';
import { cryptPasswords } from '../storage/rclone';
import { STAMP, STEM_RE } from '../storage/snapshot-names';

/**
 * The shell steps of a backup. Each runs in a named image under a named shell, and uses only what
 * that image has (see the README's table):
 * - `prepareTools`: busybox's own `sh`, in the busybox image;
 * - `takeSnapshot`: the copied busybox `sh` (with `timeout`), in the distroless etcd image (for etcdctl);
 * - `verifySnapshot`: the copied busybox `sh`, in the distroless etcd image (for etcdutl or etcdctl);
 * - `storeSnapshot`: alpine's busybox `sh`, in the rclone image.
 */

export const SCRATCH_DIR = '/scratch';
/** Written by etcdctl; renamed once verified. */
export const SNAPSHOT_FILE = `${WORK_DIR}/snapshot.db`;
/** Verified snapshots wait here for the store step: `<name>.db` and `<name>.json`. */
const OUT_DIR = `${WORK_DIR}/out`;
/** The version the member reports, as the snapshot step read it (the record's `etcdVersion`). */
const SERVER_VERSION_FILE = `${WORK_DIR}/server-version`;
/** The etcd cluster ID the member reports (the record's `clusterId`, for people: hex in etcd's logs, decimal here). */
const CLUSTER_ID_FILE = `${WORK_DIR}/cluster-id`;
/**
 * The key that names the cluster's lineage: 32 random hex digits the first backup writes into etcd. etcd's own cluster
 * ID is a hash of the peer URLs and the token, so the same app deployed to two Kubernetes clusters gets the same one;
 * the lineage tells them apart. Retention touches only snapshots of this lineage, and a restore refuses to choose
 * among several.
 */
export const LINEAGE_KEY = '/cdk8s-etcd/lineage';
/** The lineage the snapshot step read (the record's `lineage`). */
const LINEAGE_FILE = `${WORK_DIR}/lineage`;

/**
 * Snapshot one member, only once it has shown it is part of a quorum. etcd serves a snapshot without a leader,
 * so a member cut off from its peers (or a cluster that lost quorum) would hand out a stale one that then
 * becomes the newest restore point. A linearizable read from the same endpoint needs the leader to confirm
 * its term with a quorum, so it fails exactly then. The snapshot is bounded by `$SNAPSHOT_TIMEOUT` (see
 * `snapshotTimeoutSeconds`): a member that accepts connections but does not serve would hold the run until
 * the Job's deadline and end it without a reason. When the endpoint is a Service (`$BALANCED`), every step
 * talks to the member that answered first, by its own URL, so the quorum check, the version in the record and
 * the snapshot are of one member. `$ETCDCTL_*` carry the endpoint's TLS files.
 */
export function takeSnapshot(): string {
  return `set -eu
fail() { echo "backup: FAILED: $*" >&2; exit 1; }
status=$(etcdctl --endpoints="$ENDPOINT" --dial-timeout=10s --command-timeout=15s endpoint status -w simple) || fail "endpoint status of $ENDPOINT failed"
id=$(printf '%s\\n' "$status" | awk -F', ' 'NR == 1 { print $2 }')
version=$(printf '%s\\n' "$status" | awk -F', ' 'NR == 1 { print $3 }')
printf '%s' "$version" | grep -qE '^[0-9]+\\.[0-9]+\\.[0-9]+' || fail "endpoint status of $ENDPOINT reports no version: $status"
member=$ENDPOINT
if [ "$BALANCED" = true ]; then
  # A Service may send each connection to another member: every step talks to the one that answered.
  members=$(etcdctl --endpoints="$ENDPOINT" --dial-timeout=10s --command-timeout=15s member list -w simple $CONSISTENCY) || fail "could not list the members through $ENDPOINT: without a quorum (3.5 asks the leader) there is no member to snapshot safely. Nothing was stored"
  member=$(printf '%s\\n' "$members" | awk -F', ' -v id="$id" '$1 == id { split($5, urls, ","); print urls[1] }')
  [ -n "$member" ] || fail "member $id, which answered at $ENDPOINT, is not in the member list: $members"
fi
read=$(etcdctl --endpoints="$member" --dial-timeout=10s --command-timeout=15s get --consistency=l /cdk8s-etcd/backup-quorum-check -w json) || fail "$member did not answer a linearizable read within 15 s: it has no quorum (cut off from its peers, or the cluster lost quorum), so its snapshot could miss acknowledged writes. Nothing was stored"
cluster_id=$(printf '%s' "$read" | sed -n 's/.*"cluster_id":\\([0-9][0-9]*\\).*/\\1/p')
[ -n "$cluster_id" ] || fail "the linearizable read from $member reports no cluster ID: $read"
ctl() { etcdctl --endpoints="$member" --dial-timeout=10s --command-timeout=15s "$@"; }
lineage=$(ctl get --consistency=l ${LINEAGE_KEY} --print-value-only) || fail "could not read ${LINEAGE_KEY} from $member"
if [ -z "$lineage" ]; then
  # The first backup of this cluster names its lineage: random, written only if absent, so every later run reads
  # the same one (it travels in the snapshots, so a cluster restored from them continues it).
  fresh=$(head -c 16 /dev/urandom | od -An -v -tx1 | tr -d ' \n')
  printf 'create("%s") = "0"\n\nput %s %s\n\n\n' ${LINEAGE_KEY} ${LINEAGE_KEY} "$fresh" | ctl txn > /dev/null \
    || fail "could not write ${LINEAGE_KEY} on $member: the first backup names the cluster's lineage there, so the backup's client needs write access to that one key"
  lineage=$(ctl get --consistency=l ${LINEAGE_KEY} --print-value-only) || fail "could not read ${LINEAGE_KEY} from $member"
fi
printf '%s' "$lineage" | grep -qxE '[0-9a-f]{32}' || fail "${LINEAGE_KEY} on $member holds '$lineage', not a lineage (32 hex digits); restore it, or delete it to name a new one"
echo "$version" > ${SERVER_VERSION_FILE}
echo "$cluster_id" > ${CLUSTER_ID_FILE}
echo "$lineage" > ${LINEAGE_FILE}
echo "backup: $member (etcd $version) has a quorum; taking the snapshot"
timeout "$SNAPSHOT_TIMEOUT" etcdctl --endpoints="$member" --dial-timeout=10s snapshot save ${SNAPSHOT_FILE} || fail "etcdctl snapshot save from $member failed, or did not finish within $SNAPSHOT_TIMEOUT s"
`;
}

/**
 * Verify the snapshot before anything is stored, then name it and write its record:
 * 1. etcd's embedded sha256 (what restore checks; `snapshot status` does not);
 * 2. `snapshot status`: bbolt's integrity check, revision and key count;
 * 3. optionally a trial restore into scratch space;
 * 4. the sha256 of the whole file, recorded for the restore to check after decryption.
 */
export function verifySnapshot(version: EtcdVersion, trialRestore: boolean): string {
  const tool = version.snapshotTool;
  const trial = trialRestore ? `
${tool} snapshot restore "$snap" --data-dir=${SCRATCH_DIR}/trial --name=trial \\
  --initial-cluster=trial=http://127.0.0.1:2380 --initial-advertise-peer-urls=http://127.0.0.1:2380 \\
  --initial-cluster-token=trial > ${SCRATCH_DIR}/trial.log 2>&1 || { cat ${SCRATCH_DIR}/trial.log >&2; fail "a trial restore of the snapshot failed"; }
[ -s ${SCRATCH_DIR}/trial/member/snap/db ] || fail "the trial restore wrote no database"
echo "backup: trial restore passed"` : '';
  return `set -eu
fail() { echo "backup: FAILED: $*" >&2; exit 1; }
snap=${SNAPSHOT_FILE}
[ -s "$snap" ] || fail "no snapshot at $snap"
size=$(stat -c %s "$snap")
[ $((size % 512)) -eq 32 ] || fail "the snapshot ($size bytes) does not end with etcd's sha256: a database is a multiple of 512 bytes, and etcd appends 32"
embedded=$(tail -c 32 "$snap" | od -An -v -tx1 | tr -d ' \\n')
actual=$(head -c $((size - 32)) "$snap" | sha256sum | cut -d' ' -f1)
[ "$embedded" = "$actual" ] || fail "the snapshot's contents do not match the sha256 etcd appended ($actual, not $embedded): it is corrupt"
status=$(${tool} snapshot status "$snap" --write-out=json) || fail "${tool} snapshot status refused the snapshot"
field() { printf '%s' "$status" | sed -n "s/.*\\"$1\\":\\([0-9][0-9]*\\).*/\\1/p"; }
revision=$(field revision)
keys=$(field totalKey)
hash=$(field hash)
[ -n "$revision" ] && [ -n "$keys" ] && [ -n "$hash" ] || fail "unexpected output of ${tool} snapshot status: $status"
echo "backup: snapshot of revision $revision with $keys keys, $size bytes"${trial}
sha256=$(sha256sum "$snap" | cut -d' ' -f1)
started=$(cat ${WORK_DIR}/started)
name="$SNAPSHOT_ID-$(date -u -d "@$started" +%Y%m%dT%H%M%SZ)"
mkdir -p ${OUT_DIR}
mv "$snap" "${OUT_DIR}/$name.db"
printf '{"cluster":"%s","namespace":"%s","clusterId":"%s","lineage":"%s","snapshot":"%s","createdAt":"%s","etcdVersion":"%s","revision":%s,"totalKeys":%s,"sizeBytes":%s,"hash":%s,"sha256":"%s","encryption":"%s","trialRestore":%s}\\n' \\
  "$CLUSTER" "$NAMESPACE" "$(cat ${CLUSTER_ID_FILE})" "$(cat ${LINEAGE_FILE})" "$name.db$SNAPSHOT_SUFFIX" "$(date -u -d "@$started" +%Y-%m-%dT%H:%M:%SZ)" "$(cat ${SERVER_VERSION_FILE})" \\
  "$revision" "$keys" "$size" "$hash" "$sha256" "$ENCRYPTION" "${trialRestore}" > "${OUT_DIR}/$name.json"
echo "backup: verified $name.db (sha256 $sha256)"
`;
}

/** One destination as the store step sees it. */
export interface StoreTarget {
  /** rclone path of the destination directory, e.g. `dest1:bucket/prefix/`. */
  readonly directory: string;
  /** rclone path the snapshot is written through: a crypt remote over `directory`, or `directory`. */
  readonly snapshotPath: string;
  /** The crypt remote's number (`sealed<n>`), whose password the script sets from the passphrase. */
  readonly cryptIndex?: number;
}

/**
 * The destinations as env for `storeSnapshot`: user values (a bucket, prefix or directory may hold `'`, `(`, `)`
 * or `$`) reach the shell only as quoted variables, never as script text.
 */
export function storeTargetEnv(targets: StoreTarget[]): { name: string; value: string }[] {
  return targets.flatMap((t, i) => [
    { name: `STORE_PATH_${i + 1}`, value: t.snapshotPath },
    { name: `STORE_DIR_${i + 1}`, value: t.directory },
  ]);
}

/**
 * Store the verified snapshot in every destination, read each copy back (through the crypt remote, so
 * decrypted) and compare its sha256, write its record last (a snapshot without a record is never taken
 * as good), and only then apply retention. Retention neither counts nor deletes a snapshot stamped after
 * this run's clock: with a clock running behind, every real snapshot is "in the future", and one stamped
 * by a clock that ran ahead would otherwise take a place of the real history in `keepLast` for as long as
 * it exists. `keepWithin` counts ages from the newest earlier snapshot, so a run whose clock is ahead does
 * not find the whole history expired.
 *
 * Reading back costs one download of each copy, but it is the only check that cannot pass without
 * comparing content: `rclone check` and `cryptcheck` compare hashes, and an S3 multipart upload (above
 * rclone's 200 MiB cutoff) has no content hash on the server. rclone then compares the MD5 it put in the
 * object's metadata at upload (the e2e run corrupts such an object, and `cryptcheck` finds 0 differences),
 * or reports "hashes could not be checked"; it exits 0 either way.
 */
export function storeSnapshot(targets: StoreTarget[]): string {
  const passwords = cryptPasswords(targets.flatMap((t) => (t.cryptIndex === undefined ? [] : [t.cryptIndex])), true);
  return `set -eu
fail() { echo "backup: FAILED: $*" >&2; exit 1; }
${STAMP}
cd ${OUT_DIR}
set -- *.json
[ "$#" -eq 1 ] && [ -f "$1" ] || fail "expected one verified snapshot in ${OUT_DIR}"
name=\${1%.json}${passwords}
lineage=$(cat ${LINEAGE_FILE})
sha256=$(sha256sum "$name.db" | cut -d' ' -f1)
store() {
  rclone copyto "$name.db" "$1$name.db" || fail "could not write $name.db to $2"
  stored=$(rclone cat "$1$name.db" | sha256sum | cut -d' ' -f1)
  [ "$stored" = "$sha256" ] || fail "the copy in $2 reads back (decrypted) with sha256 $stored, not the snapshot's $sha256: it is not stored intact"
  rclone copyto "$name.json" "$2$name.json" || fail "could not write $name.json to $2"
  echo "backup: stored $name in $2 (read back: sha256 $sha256)"
}
prune() {
  listed=$(rclone lsf --files-only --include "/$SNAPSHOT_ID-*.json" "$1") || fail "could not list $1"
  named=$(printf '%s\\n' "$listed" | sed -n "s/^\\(${STEM_RE}\\)\\.json$/\\1/p" | sort -r)
  # Only snapshots whose record names this lineage count and go: another cluster writing the same names here (the
  # same app in two Kubernetes clusters sharing a prefix) keeps its history, and so does this one. A record that cannot
  # be read (a concurrent run deleted it) leaves its snapshot unowned: kept.
  # One record per line, whether or not a file ends with a newline (records hold no '}' but their last).
  raw=$(rclone cat --max-depth 1 --include "/$SNAPSHOT_ID-*.json" "$1") || echo "backup: not every record in $1 could be read: snapshots whose record was not read are kept"
  records=$(printf '%s\\n' "$raw" | tr '}' '\\n')
  stems=
  for stem in $named; do
    owner=$(printf '%s\\n' "$records" | grep -F "\\"snapshot\\":\\"$stem.db" | sed -n 's/.*"lineage":"\\([0-9a-f]*\\)".*/\\1/p' | head -n 1)
    if [ "$owner" = "$lineage" ]; then stems="$stems $stem"; continue; fi
    echo "backup: retention keeps $stem and does not count it: its record names lineage \${owner:-(none)}, not this cluster's ($lineage). Give each cluster its own destination"
  done
  now=$(date -u +%s)
  # Ages count from the newest earlier snapshot that is not in this clock's future, not from this clock: a run
  # whose clock is ahead would otherwise find the whole history older than keepWithin.
  ref=$now
  for stem in $stems; do
    [ "$stem" = "$name" ] && continue
    taken=$(stamp "$stem") || fail "could not read the time in $stem"
    if [ "$taken" -le "$now" ]; then ref=$taken; break; fi
  done
  i=0
  for stem in $stems; do
    taken=$(stamp "$stem") || fail "could not read the time in $stem"
    if [ "$stem" != "$name" ] && [ "$taken" -gt "$now" ]; then
      echo "backup: retention keeps $stem and does not count it: it is stamped $((taken - now)) s after this run's clock"
      continue
    fi
    i=$((i + 1))
    [ "$i" -eq 1 ] && continue
    [ "$stem" = "$name" ] && continue
    [ -n "$KEEP_LAST" ] && [ "$i" -le "$KEEP_LAST" ] && continue
    if [ -n "$KEEP_WITHIN_SECONDS" ]; then
      [ $((ref - taken)) -lt "$KEEP_WITHIN_SECONDS" ] && continue
    fi
    # delete --include, not deletefile: a concurrent run (an on-demand one beside the schedule) may have deleted it.
    rclone delete --max-depth 1 --include "/$stem.json" "$1" || fail "could not delete $stem.json from $1"
    rclone delete --max-depth 1 --include "/$stem.db" --include "/$stem.db.rclone" "$1" || fail "could not delete $stem.db from $1"
    echo "backup: retention removed $stem from $1"
  done
  # A snapshot without its record is what a run that did not finish left behind. Once no run that started
  # then can still be going (twice the Job's deadline), it goes; the record's absence kept it out of every restore.
  halves=$(rclone lsf --files-only --include "/$SNAPSHOT_ID-*.db" --include "/$SNAPSHOT_ID-*.db.rclone" "$1") || fail "could not list $1"
  for file in $halves; do
    stem=\${file%.rclone}; stem=\${stem%.db}
    printf '%s\\n' "$stem" | grep -qx "${STEM_RE}" || continue
    printf '%s\\n' "$listed" | grep -qxF "$stem.json" && continue
    [ "$stem" = "$name" ] && continue
    taken=$(stamp "$stem") || continue
    [ $((now - taken)) -gt "$UNFINISHED_GRACE_SECONDS" ] || continue
    rclone delete --max-depth 1 --include "/$file" "$1" || fail "could not delete $file from $1"
    echo "backup: removed $file from $1: a run that did not finish left it without a record"
  done
}
${targets.map((_, i) => `store "$STORE_PATH_${i + 1}" "$STORE_DIR_${i + 1}"`).join('\n')}
${targets.map((_, i) => `prune "$STORE_DIR_${i + 1}"`).join('\n')}
echo "backup: done"
`;
}
