import { WORK_DIR } from '../jobs/job-tools';
import { cryptPasswords } from '../jobs/storage/rclone';

/**
 * The shell steps that start a member from a snapshot, once. Each runs in a named image and uses only
 * what that image has:
 * - `guardRestore`: the copied busybox `sh` (with `httpd`, `wget`, `timeout`, `awk`) and etcdctl, in the etcd image;
 * - `fetchSnapshot`: alpine's busybox `sh` and rclone, in the rclone image;
 * - `restoreSnapshot`: the copied busybox `sh` and etcdutl (etcdctl on 3.4), in the etcd image.
 * The guard writes its decision; the later steps act only on `restore`.
 */

export const DECISION_FILE = `${WORK_DIR}/decision`;
/** Where the fetch step puts the chosen snapshot and its record. */
export const FETCHED_DIR = `${WORK_DIR}/restore`;
/** The path a waiting member answers on (plain http, on its peer port, before etcd listens there). */
export const WAITING_PATH = 'cdk8s-etcd-restore';

const HEADER = `set -eu
say() { echo "restore: $*"; }
fail() { echo "restore: REFUSED: $*" >&2; exit 1; }`;

/**
 * A shell function that reads file names on stdin and prints the snapshot to restore: `$SNAPSHOT` when
 * set, otherwise the newest `$CLUSTER-<time>` whose record and snapshot (`.db$SUFFIX`) are both listed.
 * A snapshot without its record was never finished by the backup, so it is never chosen.
 */
export const PICK = `pick() {
  listing=$(cat)
  if [ -n "$SNAPSHOT" ]; then
    stems=$SNAPSHOT
  else
    stems=$(printf '%s\\n' "$listing" | sed -n "s/^\\($CLUSTER-[0-9]\\{8\\}T[0-9]\\{6\\}Z\\)\\.json$/\\1/p" | sort -r)
  fi
  for stem in $stems; do
    if printf '%s\\n' "$listing" | grep -qxF "$stem.json" && printf '%s\\n' "$listing" | grep -qxF "$stem.db$SUFFIX"; then
      echo "$stem"
      return 0
    fi
  done
  return 1
}`;

/**
 * Decide whether this member may restore. Restoring is safe only while the cluster has never formed with
 * this member in it, so:
 * - data in the data directory: start from it, never touch the snapshot;
 * - otherwise every other member must be accounted for: waiting to restore too (its data directory is
 *   empty; it answers on its peer port), or running etcd that does not list this member as started (no
 *   client URLs: etcd's own "already bootstrapped" rule). Any member that lists it as started refuses the
 *   restore; a member that cannot be reached is waited for, up to `$WAIT_SECONDS`, and then the step fails.
 * After deciding, it keeps answering for `LINGER` seconds, longer than one round of asking, so every
 * member still waiting sees it once.
 */
export function guardRestore(): string {
  return `${HEADER}
LINGER=20
data=$DATA_DIR
if [ -d "$data/member" ]; then
  say "$data holds this member's data: starting from it; the snapshot is not used"
  echo start > ${DECISION_FILE}
  exit 0
fi
if [ -d "$data" ] && [ -n "$(ls -A "$data")" ]; then
  say "$data has no member directory; kept as it is: $(ls -A "$data" | tr '\\n' ' ')"
fi
mkdir -p ${WORK_DIR}/www
echo "waiting $TOKEN" > ${WORK_DIR}/www/${WAITING_PATH}
httpd -f -p "$LISTEN" -h ${WORK_DIR}/www &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
say "$NAME has an empty data directory; asking every other member whether the cluster has formed"
seen=" "
deadline=$(( $(date +%s) + WAIT_SECONDS ))
while :; do
  missing=""
  for peer in $PEERS; do
    other=\${peer%%|*}; rest=\${peer#*|}; probe=\${rest%%|*}; client=\${rest#*|}
    [ "$other" = "$NAME" ] && continue
    case "$seen" in *" $other "*) continue ;; esac
    if [ "$(timeout 3 wget -q -O - "$probe/${WAITING_PATH}" 2>/dev/null)" = "waiting $TOKEN" ]; then
      seen="$seen$other "
      say "$other is waiting to restore too"
      continue
    fi
    if members=$(etcdctl member list -w simple --endpoints="$client" --dial-timeout=2s --command-timeout=3s $CONSISTENCY 2>/dev/null); then
      started=$(printf '%s\\n' "$members" | awk -F', ' -v n="$NAME" '$3 == n && $5 != "" { print $5 }')
      [ -z "$started" ] || fail "$NAME has no data, but the running cluster ($client) lists it as started (client URLs $started): it has already been part of the restored cluster, and restoring it again would bring it back under its old identity without the writes it acknowledged. Nothing was written. Replace the member instead (README: 'A member that lost its volume')."
      seen="$seen$other "
      say "$other runs the restored cluster, which has not seen $NAME start"
      continue
    fi
    missing="$missing $other"
  done
  [ -z "$missing" ] && break
  [ "$(date +%s)" -lt "$deadline" ] || fail "no answer from$missing for $WAIT_SECONDS s: $NAME restores only when every member is waiting to restore or runs without having seen it, so that it never restores into a cluster that has formed. Start every member; the kubelet retries this step"
  sleep 2
done
say "every member is accounted for: $NAME restores"
echo restore > ${DECISION_FILE}
sleep $LINGER
`;
}

/** Choose the snapshot in the source, and copy it (decrypted, when it was encrypted) with its record into work. */
export function fetchSnapshot(encrypted: boolean): string {
  return `${HEADER}
${PICK}
[ "$(cat ${DECISION_FILE})" = restore ] || { say "nothing to fetch"; exit 0; }${cryptPasswords(encrypted ? [1] : [])}
listing=$(rclone lsf --files-only "$SOURCE") || fail "could not list $SOURCE_NAME"
stem=$(printf '%s\\n' "$listing" | pick) || fail "$SOURCE_NAME has no \${SNAPSHOT:-snapshot of $CLUSTER} with its record (<name>.json and <name>.db$SUFFIX)"
mkdir -p ${FETCHED_DIR}
rclone copyto "$SOURCE$stem.json" "${FETCHED_DIR}/$stem.json" || fail "could not read $stem.json from $SOURCE_NAME"
rclone copyto "$SNAPSHOT_PATH$stem.db" "${FETCHED_DIR}/$stem.db" || fail "could not read $stem.db$SUFFIX from $SOURCE_NAME\${SUFFIX:+ (a wrong passphrase fails here)}"
say "fetched $stem from $SOURCE_NAME"
`;
}

/**
 * Check the chosen snapshot against its record, then restore it into a staging directory inside the
 * data directory and move etcd's `member` directory into place (a rename: etcd never sees half a restore).
 * A staging directory of an interrupted attempt is kept, not deleted, and named in the log.
 */
export function restoreSnapshot(tool: string): string {
  return `${HEADER}
${PICK}
[ "$(cat ${DECISION_FILE})" = restore ] || { say "starting from the data directory"; exit 0; }
stem=$(ls -1 "$SNAPSHOT_DIR" | pick) || fail "$SNAPSHOT_DIR has no \${SNAPSHOT:-snapshot of $CLUSTER} with its record (<name>.json and <name>.db)"
snap="$SNAPSHOT_DIR/$stem.db"
record=$(cat "$SNAPSHOT_DIR/$stem.json")
field() { printf '%s' "$record" | sed -n "s/.*\\"$1\\":\\"\\{0,1\\}\\([^\\",}]*\\).*/\\1/p"; }
expected=$(field sha256)
revision=$(field revision)
taken_with=$(field etcdVersion)
[ -n "$expected" ] && [ -n "$revision" ] && [ -n "$taken_with" ] || fail "$stem.json is not a backup record: $record"
actual=$(sha256sum "$snap" | cut -d' ' -f1)
[ "$actual" = "$expected" ] || fail "$stem.db has sha256 $actual, but its record says $expected: the snapshot is not the one the backup verified. Nothing was written"
[ "\${taken_with%.*}" = "\${ETCD_VERSION%.*}" ] || fail "$stem was taken with etcd $taken_with and this cluster runs $ETCD_VERSION: etcd restores snapshots within a minor line. Restore with version \${taken_with}, then upgrade. Nothing was written"
for earlier in "$DATA_DIR"/.restore-*; do
  [ -e "$earlier" ] && say "kept $earlier from an interrupted attempt (never used by etcd; remove it once the cluster runs)"
done
mkdir -p "$DATA_DIR"
chmod 700 "$DATA_DIR"
stage="$DATA_DIR/.restore-$(date +%s)"
say "restoring $stem (revision $revision, etcd $taken_with) as $NAME\${BUMP:+, revision bumped by $BUMP}"
${tool} snapshot restore "$snap" --name="$NAME" --data-dir="$stage" \\
  --initial-cluster="$INITIAL_CLUSTER" --initial-cluster-token="$TOKEN" --initial-advertise-peer-urls="$PEER_URL" \\
  \${BUMP:+--bump-revision=$BUMP --mark-compacted} || fail "${tool} snapshot restore failed; $stage is kept for inspection"
mv "$stage/member" "$DATA_DIR/member"
rmdir "$stage"
say "restored $stem into $DATA_DIR"
`;
}
