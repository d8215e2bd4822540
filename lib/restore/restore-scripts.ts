import { WORK_DIR } from '../jobs/job-tools';
import { STAMP, STEM_RE } from '../jobs/storage/snapshot-names';
import { cryptPasswords } from '../jobs/storage/rclone';

/**
 * The shell steps that start a member from a snapshot, once. Each runs in a named image and uses only
 * what that image has:
 * - `pickSnapshot`: the newest snapshot this member can see, as a candidate. Alpine's busybox `sh` and rclone,
 *   in the rclone image (objectStore, volume); the copied busybox `sh`, in the etcd image (hostPath);
 * - `guardRestore`: the copied busybox `sh` (with `httpd`, `wget`, `timeout`, `awk`) and etcdctl, in the etcd image;
 * - `fetchSnapshot`: alpine's busybox `sh` and rclone, in the rclone image;
 * - `restoreSnapshot`: the copied busybox `sh` and etcdutl (etcdctl on 3.4), in the etcd image.
 * The guard writes its decision and the snapshot every member agreed on; the later steps act only on `restore`.
 */

export const DECISION_FILE = `${WORK_DIR}/decision`;
/** `<stem> <sha256>`: the newest snapshot this member saw, written by the pick step. */
export const CANDIDATE_FILE = `${WORK_DIR}/candidate`;
/** `<stem> <sha256>`: the snapshot every member restores, settled by the guard. */
export const CHOICE_FILE = `${WORK_DIR}/choice`;
/** Where the fetch step puts the chosen snapshot and its record. */
export const FETCHED_DIR = `${WORK_DIR}/restore`;
/** What wget said when a peer did not give the waiting answer: refused and unknown hosts differ from etcd's answer. */
const WGET_ERRORS = `${WORK_DIR}/wget.err`;
/** The path a waiting member answers on (plain http, on its peer port, before etcd listens there). */
export const WAITING_PATH = 'cdk8s-etcd-restore';

/** bbolt's default allocation step: how much the database file may grow on one write. */
const BBOLT_GROWTH_BYTES = 16 * 1024 * 1024;

const HEADER = `set -eu
say() { echo "restore: $*"; }
fail() { echo "restore: REFUSED: $*" >&2; exit 1; }`;

/**
 * A shell function that reads file names on stdin and prints the snapshot to restore: `$SNAPSHOT` when
 * set, otherwise the newest `$SNAPSHOT_ID-<time>` whose record and snapshot (`.db$SUFFIX`) are both listed.
 * A snapshot without its record was never finished by the backup, so it is never chosen.
 */
export const PICK = `pick() {
  listing=$(cat)
  if [ -n "$SNAPSHOT" ]; then
    stems=$SNAPSHOT
  else
    stems=$(printf '%s\\n' "$listing" | sed -n "s/^\\(${STEM_RE}\\)\\.json$/\\1/p" | sort -r)
  fi
  for stem in $stems; do
    if printf '%s\\n' "$listing" | grep -qxF "$stem.json" && printf '%s\\n' "$listing" | grep -qxF "$stem.db$SUFFIX"; then
      echo "$stem"
      return 0
    fi
  done
  return 1
}`;

/** A shell function that prints a field of the backup record in `$record` (its values hold no `"`, `,` or `}`). */
const FIELD = `field() { printf '%s' "$record" | sed -n "s/.*\\"$1\\":\\"\\{0,1\\}\\([^\\",}]*\\).*/\\1/p"; }`;

/**
 * A shell function that refuses a snapshot of `$2` bytes the cluster's quota (`$QUOTA_BYTES`) cannot hold with
 * room for bbolt to grow once (16 MiB, its default allocation step): such a cluster would raise NOSPACE on its first
 * write. The work volume holds 1.25 × the quota, so a snapshot that fits the quota fits there too.
 */
const FITS = `fits() {
  case "$2" in ''|*[!0-9]*) fail "$1 has no size in its record" ;; esac
  [ $(( $2 + ${BBOLT_GROWTH_BYTES} )) -le "$QUOTA_BYTES" ] || fail "$1 is $2 bytes, and this cluster's quota is $QUOTA_BYTES bytes: restored, it would raise NOSPACE on its first write. Restore into a cluster with a larger quota (tuning, storageSize), or defragment the old cluster and back it up again. Nothing was written"
}`;

/**
 * Note the snapshot this member would restore (`<stem> <sha256>` from its record) for the guard, which settles
 * one choice for every member. The newest by name is refused when it is stamped in the future (beyond 5
 * minutes of clock difference): a backup whose clock ran ahead named it, and it may hold older data than the
 * real newest. Skipped when the member has data; kept when the step is retried in the same pod. `list` prints the source's file names, `read` prints the file named by `$1`.
 */
export function pickSnapshot(source: { list: string; read: string; records: string }): string {
  return `${HEADER}
${PICK}
${FIELD}
${FITS}
${STAMP}
CLOCK_SLACK=300
[ -d "$DATA_DIR/member" ] && { say "$DATA_DIR holds this member's data: nothing to pick"; exit 0; }
[ -s ${CANDIDATE_FILE} ] && { say "candidate already picked: $(cat ${CANDIDATE_FILE})"; exit 0; }
list() { ${source.list}; }
read_file() { ${source.read}; }
records() { ${source.records}; }
listing=$(list) || fail "could not list $SOURCE_NAME"
stem=$(printf '%s\\n' "$listing" | pick) || fail "$SOURCE_NAME has no \${SNAPSHOT:-snapshot of $SNAPSHOT_ID} with its record (<name>.json and <name>.db$SUFFIX)"
if [ -z "$SNAPSHOT" ]; then
  # Two clusters whose backups write the same names here (the same app in two Kubernetes clusters sharing a prefix):
  # the newest by name may be the other cluster's, so only a named snapshot is taken.
  lineages=$(records 2>/dev/null | tr '}' '\\n' | sed -n 's/.*"lineage":"\\([0-9a-f]*\\)".*/\\1/p' | sort -u)
  [ "$(printf '%s\\n' "$lineages" | grep -c .)" -le 1 ] || fail "the records of $SNAPSHOT_ID-* in $SOURCE_NAME come from $(printf '%s\\n' "$lineages" | grep -c .) clusters (lineages $(echo $lineages)): the newest by name may be another cluster's. Nothing was written. Name the snapshot to restore (snapshot), after checking its record's lineage"
  taken=$(stamp "$stem") || fail "could not read the time in $stem"
  now=$(date -u +%s)
  [ "$taken" -le $((now + CLOCK_SLACK)) ] || fail "the newest snapshot by name, $stem, is stamped $((taken - now)) s after this clock: a backup ran with its clock ahead (or this clock is behind), so the newest by name may not hold the newest data. Nothing was written. Compare the records' revisions and name the snapshot to restore (snapshot), or fix the clock"
fi
record=$(read_file "$stem.json") || fail "could not read $stem.json from $SOURCE_NAME"
sha256=$(field sha256)
printf '%s' "$sha256" | grep -qxE '[0-9a-f]{64}' || fail "$stem.json is not a backup record: $record"
size=$(field sizeBytes)
fits "$stem" "$size"
echo "$stem $sha256" > ${CANDIDATE_FILE}
say "candidate $stem (sha256 $sha256) in $SOURCE_NAME"
`;
}

/**
 * Decide how this member starts, and settle the one snapshot every restoring member uses.
 * - Data in the data directory: start from it; the snapshot is never touched.
 * - Otherwise every other member must be accounted for, by asking its peer port (a member waiting to
 *   restore answers there) and its client port (etcd):
 *   - a member whose cluster lists this one as started: this member has been part of the restored cluster and lost
 *     its volume. Restoring again would bring it back without the writes it acknowledged, so it restores nothing:
 *     it leaves the replacement to the member-start step (`$REPLACES_LOST`, StatefulSets), or refuses (static pods);
 *   - a member whose cluster has a quorum (a linearizable read succeeds): the restored cluster has formed,
 *     so this member joins it with empty data (`--initial-cluster-state=existing`), and the leader sends it
 *     the data. It never restores a snapshot of its own, which could be another one;
 *   - a member whose peer port answers HTTP, but not the waiting answer, runs etcd without a quorum yet (etcd
 *     serves its peer port at once, its client port only with a quorum): it restored the agreed snapshot and
 *     counts as running, so members that missed its 20 s of answering still agree with the others and restore;
 *   - a member that cannot be reached is waited for, up to `$WAIT_SECONDS`, and then the step fails.
 * - When every other member waits to restore (or runs what it restored, without a quorum yet), they agree on
 *   one snapshot: each publishes its choice once it has one; a member without one adopts the one the others
 *   hold, and when none holds one, every member takes the candidate of `$CHOOSER` (the first member).
 *   A member restores only when every waiting member publishes the same choice, and then keeps publishing it
 *   for `LINGER` seconds, longer than one round of asking, so every member still waiting sees it. Two
 *   different choices held at once (a member replaced at the wrong moment) refuse the restore.
 */
export function guardRestore(): string {
  return `${HEADER}
LINGER=20
# busybox httpd takes an IPv6 address only in brackets; $(POD_IP) arrives without them.
case $LISTEN in \\[*) ;; *:*:*) LISTEN="[\${LISTEN%:*}]:\${LISTEN##*:}" ;; esac
data=$DATA_DIR
if [ -d "$data/member" ]; then
  say "$data holds this member's data: starting from it; the snapshot is not used"
  echo start > ${DECISION_FILE}
  exit 0
fi
if [ -d "$data" ] && [ -n "$(ls -A "$data")" ]; then
  say "$data has no member directory; kept as it is: $(ls -A "$data" | tr '\\n' ' ')"
fi
candidate=$(cat ${CANDIDATE_FILE} 2>/dev/null || true)
mine=$(cat ${CHOICE_FILE} 2>/dev/null || true)
www=${WORK_DIR}/www
mkdir -p $www
publish() {
  if [ -n "$mine" ]; then what="choice $mine"; else what="candidate \${candidate:--}"; fi
  printf 'waiting %s\\n%s\\n' "$TOKEN" "$what" > $www/.answer && mv $www/.answer $www/${WAITING_PATH}
}
publish
httpd -f -p "$LISTEN" -h $www &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
say "$NAME has an empty data directory; asking every other member whether the cluster has formed"
deadline=$(( $(date +%s) + WAIT_SECONDS ))
while :; do
  missing=""; formed=""; running=""; views=""; disagreeing=""
  for peer in $PEERS; do
    other=\${peer%%|*}; rest=\${peer#*|}; probe=\${rest%%|*}; client=\${rest#*|}
    [ "$other" = "$NAME" ] && continue
    answer=$(timeout 3 wget -q -O - "$probe/${WAITING_PATH}" 2>${WGET_ERRORS} || true)
    if [ "$(printf '%s\\n' "$answer" | head -n 1)" = "waiting $TOKEN" ]; then
      views="$views$other $(printf '%s\\n' "$answer" | sed -n 2p)
"
      continue
    fi
    if members=$(etcdctl member list -w simple --endpoints="$client" --dial-timeout=2s --command-timeout=3s $CONSISTENCY 2>/dev/null); then
      started=$(printf '%s\\n' "$members" | awk -F', ' -v n="$NAME" '$3 == n && $5 != "" { print $5 }')
      if [ -n "$started" ]; then
        lost="$NAME has no data, but the running cluster ($client) lists it as started (client URLs $started): it has been part of the restored cluster and lost its volume, and restoring again would bring it back without the writes it acknowledged"
        [ "$REPLACES_LOST" = yes ] || fail "$lost. Nothing was written. Replace the member instead (README: 'A member that lost its volume')."
        say "$lost; it restores nothing, and the member-start step replaces it under a new member ID"
        echo join > ${DECISION_FILE}
        exit 0
      fi
      if etcdctl endpoint health --endpoints="$client" --dial-timeout=2s --command-timeout=3s >/dev/null 2>&1; then
        formed="$formed $other"
      else
        running="$running $other"
      fi
      continue
    fi
    # Something answers HTTP on its peer port, but not the waiting answer: its etcd runs what it restored and
    # waits for a quorum (etcd serves clients only once it has one), so it is accounted for.
    if grep -qE 'server returned error|error getting response' ${WGET_ERRORS}; then
      running="$running $other"
      continue
    fi
    missing="$missing $other"
  done
  if [ -n "$formed" ]; then
    say "the restored cluster has formed ($formed have a quorum) without $NAME: it joins with an empty data directory and gets the data from the leader; it restores nothing"
    echo join > ${DECISION_FILE}
    exit 0
  fi
  if [ -z "$missing" ]; then
    held=$( { printf '%s' "$views" | awk '$2 == "choice" { print $3 "@" $4 }'; [ -z "$mine" ] || echo "\${mine% *}@\${mine#* }"; } | sort -u)
    case "$(printf '%s\\n' "$held" | grep -c .)" in
      0)
        if [ -n "$running" ]; then
          fail "$running already run what they restored, and no member still holds the snapshot they agreed on, so $NAME cannot know which one to restore. Nothing was written. Start the other members so the cluster forms; $NAME then joins it"
        fi
        if [ "$NAME" = "$CHOOSER" ]; then
          mine=$candidate
        else
          mine=$(printf '%s' "$views" | awk -v c="$CHOOSER" '$1 == c && $2 == "candidate" && $3 != "-" { print $3 " " $4 }')
        fi
        [ -n "$mine" ] || fail "$CHOOSER, which picks the snapshot for every member, has no candidate: see its restore-pick step"
        say "taking $CHOOSER's pick: \${mine% *} (sha256 \${mine#* })"
        ;;
      1)
        mine="\${held%@*} \${held#*@}"
        say "adopting the snapshot the other members chose: \${mine% *} (sha256 \${mine#* })"
        ;;
      *)
        fail "members hold different snapshots to restore: $(echo $held) (one was replaced while they agreed). Nothing was written. Delete the pods of every member that has not started, so they agree again"
        ;;
    esac
    echo "$mine" > ${CHOICE_FILE}
    publish
    disagreeing=$(printf '%s' "$views" | awk -v s="\${mine% *}" -v h="\${mine#* }" '$2 != "choice" || $3 != s || $4 != h { printf " %s", $1 }')
    [ -z "$disagreeing" ] && break
  fi
  [ "$(date +%s)" -lt "$deadline" ] || fail "no answer from$missing, or no agreement from$disagreeing, for $WAIT_SECONDS s: $NAME restores only when every member waits to restore the same snapshot, or runs without having seen it, so that it never restores into a cluster that has formed or restores another snapshot. Start every member; the kubelet retries this step"
  sleep 2
done
say "every member is accounted for and agrees: $NAME restores \${mine% *} (sha256 \${mine#* })"
echo restore > ${DECISION_FILE}
sleep $LINGER
`;
}

/** Copy the agreed snapshot (decrypted, when it was encrypted) with its record from the source into work. */
export function fetchSnapshot(encrypted: boolean): string {
  return `${HEADER}
[ "$(cat ${DECISION_FILE})" = restore ] || { say "nothing to fetch"; exit 0; }${cryptPasswords(encrypted ? [1] : [], false)}
read -r stem sha256 < ${CHOICE_FILE}
mkdir -p ${FETCHED_DIR}
rclone copyto "$SOURCE$stem.json" "${FETCHED_DIR}/$stem.json" || fail "could not read $stem.json from $SOURCE_NAME"
rclone copyto "$SNAPSHOT_PATH$stem.db" "${FETCHED_DIR}/$stem.db" || fail "could not read $stem.db$SUFFIX from $SOURCE_NAME\${SUFFIX:+ (a wrong passphrase fails here)}"
say "fetched $stem from $SOURCE_NAME"
`;
}

/**
 * Check the agreed snapshot against its record and the agreed sha256, then restore it into a staging directory
 * inside the data directory and move etcd's `member` directory into place (a rename: etcd never sees half a
 * restore). A staging directory of an interrupted attempt is kept, not deleted, and named in the log.
 */
export function restoreSnapshot(tool: string): string {
  return `${HEADER}
${FIELD}
${FITS}
[ "$(cat ${DECISION_FILE})" = restore ] || { say "starting from the data directory, or joining with an empty one"; exit 0; }
read -r stem agreed < ${CHOICE_FILE}
snap="$SNAPSHOT_DIR/$stem.db"
[ -f "$snap" ] && [ -f "$SNAPSHOT_DIR/$stem.json" ] || fail "$SNAPSHOT_DIR has no $stem.db and $stem.json, the snapshot every member agreed to restore: copy both there. Nothing was written"
record=$(cat "$SNAPSHOT_DIR/$stem.json")
expected=$(field sha256)
revision=$(field revision)
taken_with=$(field etcdVersion)
[ -n "$expected" ] && [ -n "$revision" ] && [ -n "$taken_with" ] || fail "$stem.json is not a backup record: $record"
[ "$expected" = "$agreed" ] || fail "$stem.json says sha256 $expected, but the members agreed on $stem with sha256 $agreed: the record changed since. Nothing was written"
fits "$stem.db" "$(stat -c %s "$snap")"
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
# The fetched copy has done its job; the pod keeps its emptyDir for as long as it runs.
if [ "$SNAPSHOT_DIR" = ${FETCHED_DIR} ]; then rm -f "$snap"; fi
`;
}
