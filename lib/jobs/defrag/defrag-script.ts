import { EtcdDefragRule } from './defrag-rule';

/**
 * The defragmentation run, etcd-defrag's semantics with the etcd image's own etcdctl under the copied busybox `sh`:
 * 1. list the members; abort unless their client URLs are exactly the cluster's (`$ENDPOINTS`, from the model);
 *    learners are left out;
 * 2. abort, having defragmented nothing, unless every voting member answers with a leader and a linearizable read
 *    (which works under NOSPACE, so that alarm alone does not stop the run), and no other alarm is raised;
 * 3. evaluate the rule per member (awk, over typed values); compact once to the current revision only when asked;
 * 4. defragment the matching members one at a time: a follower while one is left, the leader last, with the leader
 *    read again before each pick; each bounded by `$DEFRAG_TIMEOUT`, then wait until that member answers again;
 *    stop at the first member that fails;
 * 5. disarm NOSPACE once every member is below `$DISARM_BELOW` of the quota;
 * 6. exit non-zero if any member failed; one line per member with its size before and after.
 */
export function defragScript(rule: EtcdDefragRule): string {
  return `set -eu
say() { echo "defrag: $*"; }
fail() { echo "defrag: FAILED: $*" >&2; exit 1; }
ctl() { etcdctl --dial-timeout=5s --command-timeout=15s "$@"; }
field() { printf '%s' "$2" | sed -n "s/.*\\"$1\\":\\([0-9][0-9]*\\).*/\\1/p" | head -n 1; }
# One member's status as "dbSize dbSizeInUse memberId leaderId revision", or nothing.
status_of() {
  s=$(ctl endpoint status -w json --endpoints="$1" 2>/dev/null) || return 1
  echo "$(field dbSize "$s") $(field dbSizeInUse "$s") $(field member_id "$s") $(field leader "$s") $(field revision "$s")"
}
# A member with a leader that serves a linearizable read (works under NOSPACE).
answers() {
  st=$(status_of "$1") || return 1
  set -- "$1" $st
  [ -n "\${5:-}" ] && [ "$5" != 0 ] || return 1
  ctl get --consistency=l cdk8s-etcd-defrag-check --endpoints="$1" >/dev/null 2>&1
}

# 1. The members, against the model.
list=$(ctl member list -w simple --endpoints="$ENDPOINTS") || fail "no member answered a member list at $ENDPOINTS; nothing was defragmented"
listed=$(printf '%s\\n' "$list" | awk -F', ' '{ print $5 }' | tr ',' '\\n' | grep . | sort | tr '\\n' ' ')
expected=$(echo "$ENDPOINTS" | tr ',' '\\n' | sort | tr '\\n' ' ')
[ "$listed" = "$expected" ] || fail "the cluster's members ($listed) are not the ones this job was rendered for ($expected): a membership change is under way or the job is stale; nothing was defragmented"
voters=$(printf '%s\\n' "$list" | awk -F', ' '$6 != "true" { split($5, u, ","); print u[1] }')
learners=$(printf '%s\\n' "$list" | awk -F', ' '$6 == "true" { print $3 }' | tr '\\n' ' ')
[ -z "$learners" ] || say "learners left alone: $learners"

# 2. Every voter answers, and no alarm but NOSPACE.
for ep in $voters; do
  answers "$ep" || fail "$ep does not answer with a leader and a linearizable read: a member is down or the cluster has no quorum; nothing was defragmented"
done
alarms=$(ctl alarm list --endpoints="$ENDPOINTS" 2>&1) || fail "etcdctl alarm list failed: $alarms"
others=$(printf '%s\\n' "$alarms" | grep . | grep -v 'alarm:NOSPACE' || true)
[ -z "$others" ] || fail "alarms other than NOSPACE are raised ($(echo $others)); nothing was defragmented"

# 3. The rule, per member.
matches() {
  awk -v dbSize="$1" -v dbSizeInUse="$2" -v dbQuota="$QUOTA_BYTES" 'BEGIN {
    dbSizeFree = dbSize - dbSizeInUse; dbQuotaUsage = dbSize / dbQuota
    exit !(${rule.expression})
  }'
}
todo=""
for ep in $voters; do
  set -- $(status_of "$ep")
  if matches "$1" "$2"; then
    todo="$todo $ep"
  else
    say "$ep: dbSize $1, in use $2: the rule (${rule.description}) does not hold, left alone"
  fi
done
if [ -n "$todo" ] && [ "$COMPACT" = true ]; then
  set -- $(status_of "$(echo $todo | cut -d' ' -f1)")
  say "compacting to revision $5 (compact: true)"
  out=$(ctl compaction "$5" --endpoints="$ENDPOINTS" 2>&1) || case "$out" in *"required revision has been compacted"*) ;; *) fail "compaction to $5 failed: $out";; esac
fi

# 4. One at a time: a follower while one is left, the leader last, asked again before each pick.
failed=""
while [ -n "$todo" ]; do
  next=""
  for ep in $todo; do
    set -- $(status_of "$ep") || true
    if [ "\${3:-}" != "\${4:-x}" ]; then next=$ep; break; fi
  done
  [ -n "$next" ] || next=$(echo $todo | cut -d' ' -f1)
  todo=$(echo $todo | tr ' ' '\\n' | grep -vxF "$next" | tr '\\n' ' ' || true)
  todo=\${todo% }
  set -- $(status_of "$next")
  before=$1; role=follower; [ "$3" = "$4" ] && role=leader
  started=$(date +%s)
  if ! out=$(timeout "$DEFRAG_TIMEOUT" etcdctl --endpoints="$next" --dial-timeout=5s --command-timeout="\${DEFRAG_TIMEOUT}s" defrag 2>&1); then
    failed="$failed $next"
    say "$next ($role): defragmentation failed after $(( $(date +%s) - started )) s: $(echo $out | tail -c 300); the rest are left alone"
    break
  fi
  took=$(( $(date +%s) - started ))
  i=0
  until answers "$next"; do
    i=$((i + 1))
    [ "$i" -lt "$WAIT_SECONDS" ] || { failed="$failed $next"; say "$next did not answer again within $WAIT_SECONDS s after its defragmentation; the rest are left alone"; break 2; }
    sleep 1
  done
  set -- $(status_of "$next")
  say "$next ($role): dbSize $before → $1 (in use $2), in $took s"
done

# 5. NOSPACE, once every member is below the threshold.
if printf '%s\\n' "$alarms" | grep -q 'alarm:NOSPACE' || ctl alarm list --endpoints="$ENDPOINTS" 2>/dev/null | grep -q 'alarm:NOSPACE'; then
  above=""
  for ep in $voters; do
    set -- $(status_of "$ep")
    awk -v s="$1" -v q="$QUOTA_BYTES" -v t="$DISARM_BELOW" 'BEGIN { exit !(s / q < t) }' || above="$above $ep"
  done
  if [ -z "$above" ]; then
    ctl alarm disarm --endpoints="$ENDPOINTS" >/dev/null && say "NOSPACE disarmed: every member is below $DISARM_BELOW of the quota"
  else
    say "NOSPACE stays:$above at or above $DISARM_BELOW of the quota"
  fi
fi

# 6.
[ -z "$failed" ] || fail "defragmentation failed on$failed"
say "done"
`;
}
