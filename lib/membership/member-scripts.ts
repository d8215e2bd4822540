import { upgradeGateShell } from '../release/upgrade-gate';
import { EtcdVersion } from '../release/version';

/**
 * The shell that decides how a StatefulSet member starts, and the loop beside it that promotes a learner. Both run in
 * the cluster's etcd image, with the busybox copied into the tools volume (`sh`, `httpd`, `wget`, `awk`, `timeout`)
 * and the image's own etcdctl. Neither ever deletes or moves etcd's data.
 *
 * The member list (`$MEMBERS_FILE`, from the members ConfigMap) has one line per member: `name peerUrl clientUrl
 * stateUrl`, and `leaving` after the members a scale-down removes. Every member serves a state answer
 * (`member <token> waiting|forming|formed`) at its `stateUrl`: the start step while it decides, the sidecar for as
 * long as the pod runs. Two marker files beside etcd's data directory, on the member's own volume, say what the
 * answer is: `$FORMING_MARK` (written by the start step when it forms a new cluster) until the member has seen the
 * cluster with a leader, then `$FORMED_MARK`. A member with neither answers `formed`: it restarted from data or
 * joined a cluster that existed (a cluster rendered before the markers existed, too). Only members that are forming
 * let an empty member form with them.
 */

/** Where a member serves its state answer (plain http, on the member's own port). */
export const STATE_PATH = 'cdk8s-etcd-member';
/** Served by the sidecar while its member is a voting member: the sidecar's readiness. */
export const VOTER_PATH = 'cdk8s-etcd-voter';

const COMMON = `say() { echo "$LOG_PREFIX: $*"; }
ctl() { etcdctl --dial-timeout=2s --command-timeout=5s "$@"; }
members=$(cat "$MEMBERS_FILE")
# busybox httpd takes an IPv6 address only in brackets; $(POD_IP) arrives without them.
case $LISTEN in \\[*) ;; *:*:*) LISTEN="[\${LISTEN%:*}]:\${LISTEN##*:}" ;; esac
mkdir -p "$WWW"
publish() { printf 'member %s %s\\n' "$TOKEN" "$1" > "$WWW/.state" && mv "$WWW/.state" "$WWW/${STATE_PATH}"; }
# The line of 'member list -w simple' (ID, status, name, peer URLs, client URLs, is learner) with this member's peer URL.
listed() { printf '%s\\n' "$1" | awk -F', ' -v u="$PEER_URL" '$4 == u'; }`;

/**
 * Decide how this member starts, and write etcd's `--initial-cluster` and `--initial-cluster-state` into
 * `$START_ENV`, which the etcd container reads before it execs etcd:
 * - **restart**: the data directory has data. etcd starts from it. When a running member has a quorum and its member
 *   list no longer has this member (it was removed), the step refuses: the old identity must not come back.
 * - **join**: the data directory is empty and a member whose etcd runs (it answers forming or formed) has a quorum (a
 *   member list and a linearizable read, which works under a NOSPACE alarm too). When the cluster lists this member as
 *   started, its volume was lost: its old ID is removed first. When it is not listed, it is added as a learner (only
 *   while no other learner or unstarted member exists: `--max-learners` is 1; an unstarted member whose peer URL is
 *   in no line of the list, left by a scale-up that was taken back, is removed first). It starts `existing` with the
 *   cluster's member list plus itself; the sidecar promotes it. A leaving member never joins.
 * - **formation**: the data directory is empty, its volume has never seen a formed cluster, no quorum answers, and
 *   every other member, leaving ones included, answers that it waits or is forming: it starts `new` with every member
 *   that is not leaving. Never in a cluster restored from a snapshot (`$MAY_FORM` is not `yes`): its members restore,
 *   and one with an empty directory only joins.
 * - anything else (a member says the cluster formed, but no quorum answers; a member does not answer at all) is waited
 *   for, up to `$WAIT_SECONDS`, and then the step fails, so the kubelet retries it. Silence never bootstraps a cluster.
 */
export function startMemberScript(version: EtcdVersion): string {
  return `set -eu
${COMMON}
${upgradeGateShell(version)}
fail() { echo "$LOG_PREFIX: REFUSED: $*" >&2; exit 1; }
line=$(printf '%s\\n' "$members" | awk -v n="$NAME" '$1 == n')
[ -n "$line" ] || fail "$NAME is not in the member list ($(printf '%s\\n' "$members" | awk '{ print $1 }' | tr '\\n' ' ')): this pod is beyond the cluster's members, so it starts nothing. Nothing was written"
PEER_URL=$(echo "$line" | awk '{ print $2 }')
leaving=$(echo "$line" | awk '{ print $5 }')
formation=$(printf '%s\\n' "$members" | awk '$5 != "leaving" { printf "%s%s=%s", sep, $1, $2; sep = "," }')
write_start() {
  printf "ETCD_INITIAL_CLUSTER_STATE='%s'\\nETCD_INITIAL_CLUSTER='%s'\\n" "$1" "$2" > "$START_ENV.tmp" &&
    mv "$START_ENV.tmp" "$START_ENV" &&
    say "etcd starts with --initial-cluster-state=$1 --initial-cluster=$2"
}
# Every other member's state answer: sets $running (client URLs of members whose etcd runs: forming or formed),
# $formed and $missing (names).
ask() {
  running=""; formed=""; missing=""
  for peer in $(printf '%s\\n' "$members" | awk -v n="$NAME" '$1 != n { print $1 "|" $3 "|" $4 }'); do
    other=\${peer%%|*}; rest=\${peer#*|}; client=\${rest%%|*}; state=\${rest#*|}
    answer=$(timeout 3 wget -q -O - "$state/${STATE_PATH}" 2>/dev/null | head -n 1 || true)
    case "$answer" in
      "member $TOKEN waiting") ;;
      "member $TOKEN forming") running="$running $client" ;;
      "member $TOKEN formed") running="$running $client"; formed="$formed $other" ;;
      *) missing="$missing $other" ;;
    esac
  done
}
# A member whose etcd runs, with a quorum (it sees a leader, and a linearizable read works): sets $endpoint and $list.
# A member without a leader is passed over at once: its status needs no quorum, where a read would wait its timeout.
quorum() {
  for client in $running; do
    leader=$(ctl endpoint status -w json --endpoints="$client" 2>/dev/null | sed -n 's/.*"leader":\\([0-9]*\\).*/\\1/p')
    [ -n "$leader" ] && [ "$leader" != 0 ] || continue
    if list=$(ctl member list -w simple --endpoints="$client" 2>/dev/null) && ctl get cdk8s-etcd-quorum-check --endpoints="$client" >/dev/null 2>&1; then
      endpoint=$client
      return 0
    fi
  done
  return 1
}

# The pre-upgrade gate (upgradeFrom, to another minor: \$UPGRADE_FILE holds \`from to\`): a member with data whose
# image runs the new minor starts once every other member is healthy, no alarm is raised, and a verified snapshot is
# on its own volume (taken once: a restart checks health and alarms again, and keeps the snapshot). Until then its pod
# is not Ready, so the StatefulSet controller replaces no other member. When no quorum answers without this member for
# \$NO_QUORUM_SECONDS (another member failed meanwhile, a whole-cluster restart, a cluster of one), the quorum needs
# it: it copies its own database (consistent, since its etcd is stopped) as the backup and starts.
gate_before_upgrade() {
  [ -s "$UPGRADE_FILE" ] || return 0
  read -r from to < "$UPGRADE_FILE"
  own=$(etcd --version 2>/dev/null | awk '/^etcd Version:/ { print $3 }')
  [ -n "$own" ] || fail "upgrade $from → $to: etcd --version named no release, so this step cannot tell whether $NAME upgrades; etcd did not start"
  [ "\${own%.*}" = "\${to%.*}" ] || { say "upgrade $from → $to: this member runs $own, so it does not pass the gate"; return 0; }
  gate_file="$GATE_DIR/pre-upgrade-$from-to-$to.db"${version.minor >= 7 ? `
  # 3.7 replays this member's WAL from its newest snapshot record, and no longer reads the entries 3.5 wrote when
  # the cluster was created: with no snapshot yet, it panics ("unmarshal should never fail", measured on 3.7.3).
  ls "$DATA_DIR"/member/snap/*.snap >/dev/null 2>&1 || fail "upgrade $from → $to: $DATA_DIR/member/snap has no snapshot yet, so etcd $own would replay the WAL from the cluster's first entries, which 3.5 wrote in a form 3.7 no longer reads, and panic. etcd $own did not start and nothing changed. Put this member back on $from (version $from without upgradeFrom), let every member take a snapshot (tuning.snapshotCount entries: README, Upgrading etcd), then upgrade again"` : ''}
  # One pre-upgrade snapshot per volume: an earlier upgrade's is superseded by this one.
  for old in "$GATE_DIR"/pre-upgrade-*.db; do
    if [ -e "$old" ] && [ "$old" != "$gate_file" ]; then rm -f "$old" && say "upgrade gate: removed $old, an earlier upgrade's snapshot"; fi
  done
  others=$(printf '%s\n' "$members" | awk -v n="$NAME" '$1 != n && $5 != "leaving" { print $3 }')
  gate_deadline=$(( $(date +%s) + WAIT_SECONDS ))
  alone_since=$(date +%s)
  while :; do
    if [ -n "$others" ]; then ask; fi
    if [ -n "$others" ] && quorum; then
      alone_since=$(date +%s)
      upgrade_gate "$gate_file" "$endpoint" $(printf '%s\n' "$others" | grep -vxF "$endpoint" || true) && return 0
    else
      if [ -z "$others" ] || [ $(( $(date +%s) - alone_since )) -ge "$NO_QUORUM_SECONDS" ]; then
        say "upgrade gate: no quorum answers without $NAME\${others:+ (for $NO_QUORUM_SECONDS s)}: the quorum needs it, so it starts without checking the others"
        if [ -s "$gate_file" ]; then
          say "upgrade gate: the snapshot $gate_file was taken before"
        elif upgrade_gate_copy "$DATA_DIR/member/snap/db" "$gate_file"; then
          :
        else
          say "upgrade gate: WARNING: no pre-upgrade backup was kept (see above)"
        fi
        return 0
      fi
      say "upgrade gate: no member answers with a quorum without $NAME; waiting up to $NO_QUORUM_SECONDS s"
    fi
    [ "$(date +%s)" -lt "$gate_deadline" ] || fail "upgrade $from → $to: the gate did not pass in $WAIT_SECONDS s (see above); etcd $own did not start. The kubelet runs this step again; to upgrade without the gate (and, for 3.7, without its WAL check), remove upgradeFrom"
    sleep 2
  done
}

if [ -d "$DATA_DIR/member" ]; then
  ask
  if quorum; then
    mine=$(listed "$list")
    [ -n "$mine" ] || fail "$DATA_DIR holds data, but the cluster ($endpoint) no longer lists $NAME ($PEER_URL): it was removed, and its old identity must not rejoin. Nothing was deleted. To bring $NAME back as a new member, delete its claim (data-$NAME) or move its data away, then delete the pod"
    say "restart: $DATA_DIR holds data, and the cluster ($endpoint) lists $NAME as \${mine%%,*}"
  else
    say "restart: $DATA_DIR holds data; no quorum answers, so $NAME starts from its data (the quorum may need it)"
  fi
  gate_before_upgrade
  write_start existing "$formation"
  exit 0
fi
[ "$leaving" != leaving ] || fail "$NAME is leaving the cluster (a scale-down) and has no data: it does not join. Nothing was written"
if [ -d "$DATA_DIR" ] && [ -n "$(ls -A "$DATA_DIR")" ]; then
  say "$DATA_DIR has no member directory; kept as it is: $(ls -A "$DATA_DIR" | tr '\\n' ' ')"
fi

publish waiting
httpd -f -p "$LISTEN" -h "$WWW" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT

# Joins the cluster at $endpoint; returns 1 to wait and ask again. (Called in an && list, where set -e is off.)
join() {
  mine=$(listed "$list")
  if [ -n "$mine" ] && [ -n "$(echo "$mine" | awk -F', ' '{ print $5 }')" ]; then
    id=\${mine%%,*}
    say "lost volume: $DATA_DIR is empty, and the cluster ($endpoint) lists $NAME as started member $id; removing $id, then adding $NAME back as a learner"
    ctl member remove "$id" --endpoints="$endpoint" || return 1
    list=$(ctl member list -w simple --endpoints="$endpoint") || return 1
    mine=""
  fi
  # An unstarted member no line of the list names (a scale-up taken back before its pod started) holds no data, and
  # would block every later join: it goes.
  for stale in $(printf '%s\\n' "$list" | awk -F', ' -v u="$PEER_URL" '$4 != u && $3 == "" && $5 == "" { print $1 "|" $4 }'); do
    if ! printf '%s\\n' "$members" | awk -v u="\${stale#*|}" '$2 == u { found = 1 } END { exit !found }'; then
      say "removing \${stale%%|*} (\${stale#*|}): added, never started, and no member of the list"
      ctl member remove "\${stale%%|*}" --endpoints="$endpoint" || return 1
      list=$(ctl member list -w simple --endpoints="$endpoint") || return 1
    fi
  done
  others=$(printf '%s\\n' "$list" | awk -F', ' -v u="$PEER_URL" '$4 != u && ($3 == "" || $6 == "true") { print $1 }')
  if [ -z "$mine" ]; then
    if [ -n "$others" ]; then
      say "waiting: the cluster has a learner or an unstarted member ($(echo $others)); one joins at a time"
      return 1
    fi
    say "scale-up: adding $NAME ($PEER_URL) as a learner through $endpoint"
    ctl member add "$NAME" --learner --peer-urls="$PEER_URL" --endpoints="$endpoint" || return 1
    list=$(ctl member list -w simple --endpoints="$endpoint") || return 1
  else
    say "join: the cluster ($endpoint) already lists $NAME as \${mine%%,*}, not started yet"
  fi
  # --initial-cluster names every member: one added at the same moment as this one (3.4 has no learner limit) has no
  # name in the cluster yet, and gets the one the member list gives its peer URL (etcd matches members by peer URL).
  known=$(printf '%s\\n' "$members" | awk '{ printf "%s %s ", $2, $1 }')
  initial=$(printf '%s\\n' "$list" | awk -F', ' -v u="$PEER_URL" -v n="$NAME" -v known="$known" '
    BEGIN { k = split(known, w, " "); for (i = 1; i < k; i += 2) name_of[w[i]] = w[i + 1] }
    { name = ($4 == u) ? n : ($3 != "" ? $3 : name_of[$4]); if (name == "") bad = 1; printf "%s%s=%s", sep, name, $4; sep = "," }
    END { exit bad }') || { say "waiting: a member was added that no line of the list names"; return 1; }
  write_start existing "$initial" || return 1
}

say "$NAME has an empty data directory; asking the other members"
deadline=$(( $(date +%s) + WAIT_SECONDS ))
while :; do
  ask
  if quorum; then
    join && exit 0
  else
    if [ -n "$formed" ]; then
      say "waiting:$formed say the cluster has formed, but no quorum answers; $NAME never bootstraps a new cluster beside it"
    elif [ -n "$missing" ]; then
      say "waiting for$missing to answer"
    elif [ "$MAY_FORM" != yes ]; then
      say "waiting: this cluster forms from a snapshot, so a member with an empty data directory only joins a quorum"
    elif [ -e "$FORMED_MARK" ]; then
      say "waiting: this volume has seen the cluster formed ($FORMED_MARK), so $NAME only joins a quorum"
    else
      say "formation: every other member waits or is forming, and none has formed a cluster"
      echo "$TOKEN" > "$FORMING_MARK"
      write_start new "$formation"
      exit 0
    fi
  fi
  [ "$(date +%s)" -lt "$deadline" ] || fail "no decision in $WAIT_SECONDS s (see above); the kubelet runs this step again"
  sleep 2
done
`;
}

/**
 * Beside etcd for the pod's lifetime: serve this member's state answer, promote it while it is a learner (etcd refuses
 * until the learner has caught up, so it simply asks again), and note on the data volume (`$FORMED_MARK`) once the
 * member is a voter that sees a leader. Whether it sees a leader, and whether it is a learner when no member answers a
 * member list, come from etcd's own metrics (on `$POD_IP:$METRICS_PORT`, plain http), which no certificate or alarm
 * keeps from being read. While the member is a voting member it serves `${VOTER_PATH}`, the sidecar's readiness: a
 * learner's pod is not Ready, on every etcd release (3.4 reports a learner healthy). Only a known learner loses it:
 * an answer that does not come leaves it as it was.
 */
export function memberSidecarScript(): string {
  return `set -u
${COMMON}
case $POD_IP in *:*) metrics_url="http://[$POD_IP]:$METRICS_PORT/metrics" ;; *) metrics_url="http://$POD_IP:$METRICS_PORT/metrics" ;; esac
httpd -f -p "$LISTEN" -h "$WWW" &
others=$(printf '%s\\n' "$members" | awk -v n="$NAME" '$1 != n { printf "%s%s", sep, $3; sep = "," }')
last=""
note() { [ "$1" = "$last" ] || say "$1"; last=$1; }
while :; do
  if [ -e "$FORMED_MARK" ] || [ ! -e "$FORMING_MARK" ]; then publish formed; else publish forming; fi
  metrics=$(timeout 5 wget -q -O - "$metrics_url" 2>/dev/null || true)
  learner=$(printf '%s\\n' "$metrics" | awk '$1 == "etcd_server_is_learner" { print $2 }')
  leader=$(printf '%s\\n' "$metrics" | awk '$1 == "etcd_server_has_leader" { print $2 }')
  # The member list has the last word where a member answers it: measured on 3.4.23, a replaced member's metric said
  # voter while the cluster still listed it as a learner.
  mine=""
  if list=$(ctl member list -w simple --endpoints="\${others:+$others,}$CLIENT_URL" 2>/dev/null); then
    mine=$(listed "$list")
    case "$(echo "$mine" | awk -F', ' '{ print $6 }')" in true) learner=1 ;; false) learner=0 ;; esac
  fi
  if [ "$learner" = 0 ]; then
    touch "$WWW/${VOTER_PATH}"
    if [ "$leader" = 1 ] && [ ! -e "$FORMED_MARK" ]; then
      echo "$TOKEN" > "$FORMED_MARK" && rm -f "$FORMING_MARK"
      note "$NAME is a voting member of a cluster with a leader"
    fi
  elif [ "$learner" = 1 ]; then
    rm -f "$WWW/${VOTER_PATH}"
  fi
  # Neither (etcd did not answer in time: a loaded node): the readiness stays as it was. A voter that turned NotReady
  # for one slow answer would be replaced at once by a rollout (Kubernetes replaces every unavailable pod of the old
  # revision first), even while another member is down.
  if [ "$learner" = 1 ] && [ -n "$mine" ]; then
    id=\${mine%%,*}
    if out=$(ctl member promote "$id" --endpoints="$others" 2>&1); then
      say "promoted $NAME ($id) to a voting member"
    else
      note "$NAME ($id) is a learner; not promoted yet: $(echo "$out" | tail -n 1)"
    fi
  fi
  sleep "$INTERVAL"
done
`;
}
