import { EtcdDefragRule } from './defrag-rule';

/**
 * The defragmentation run, etcd-defrag's semantics with the etcd image's own etcdctl under the copied busybox `sh`:
 * 1. list the members; abort unless their client URLs are exactly the cluster's (`$ENDPOINTS`, from the model);
 *    learners are left out;
 * 2. abort, having defragmented nothing, unless every voting member answers with a leader and a linearizable read
 *    (which works under NOSPACE, so that alarm alone does not stop the run), and no other alarm is raised;
 * 3. compact once to the current revision only when asked (`--physical`: the space is free before the rule looks);
 *    evaluate the rule per member (awk, over typed values);
 * 4. defragment the matching members one at a time: before each, every voter must answer again and no other alarm
 *    may be raised (a defragmenting member stops keeping up, so a second member down would cost the quorum); a
 *    follower while one is left, the leader last, read again before each pick; each bounded by `$DEFRAG_TIMEOUT`,
 *    then up to `$WAIT_SECONDS` for that member to answer again; stop at the first member that fails;
 * 5. disarm NOSPACE once every member is below `$DISARM_BELOW` of the quota and it is the only alarm;
 * 6. exit non-zero if any member failed; one line per member with its size before and after.
 */
export function defragScript(rule: EtcdDefragRule): string {
  return `set -eu
say() { echo "defrag: $*"; }
fail() { echo "defrag: FAILED: $*" >&2; exit 1; }
ctl() { etcdctl --dial-timeout=5s --command-timeout=15s "$@"; }
field() { printf '%s' "$2" | sed -n "s/.*\\"$1\\":\\([0-9][0-9]*\\).*/\\1/p" | head -n 1; }
# One member's status as five numbers, "dbSize dbSizeInUse memberId leaderId revision" (0 for a field etcd left
# out), or a failure when it does not answer.
status_of() {
  s=$(ctl endpoint status -w json --endpoints="$1" 2>/dev/null) || return 1
  size=$(field dbSize "$s"); id=$(field member_id "$s")
  [ -n "$size" ] && [ -n "$id" ] || return 1
  inuse=$(field dbSizeInUse "$s"); lead=$(field leader "$s"); rev=$(field revision "$s")
  echo "$size \${inuse:-0} $id \${lead:-0} \${rev:-0}"
}
# A member with a leader that serves a linearizable read (works under NOSPACE).
answers() {
  st=$(status_of "$1") || return 1
  set -- "$1" $st
  [ "$5" != 0 ] || return 1
  ctl get --consistency=l cdk8s-etcd-defrag-check --endpoints="$1" >/dev/null 2>&1
}
# The alarms raised, one per line (stdout only: client warnings go to stderr).
alarms() { ctl alarm list --endpoints="$ENDPOINTS" 2>/dev/null; }
# Every voter answers, and no alarm but NOSPACE: checked before the first member and before each next one.
check_all() {
  for ep in $voters; do
    answers "$ep" || fail "$ep does not answer with a leader and a linearizable read ($1): a member is down or the cluster has no quorum; stopped$2"
  done
  raised=$(alarms) || fail "etcdctl alarm list failed ($1); stopped$2"
  other=$(printf '%s\\n' "$raised" | grep . | grep -v 'alarm:NOSPACE' || true)
  [ -z "$other" ] || fail "alarms other than NOSPACE are raised ($(echo "$other" | tr '\\n' ' ')) ($1); stopped$2"
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
check_all "before the run" "; nothing was defragmented"
had_nospace=no
case "$raised" in *alarm:NOSPACE*) had_nospace=yes ;; esac

# 3. Compaction when asked, then the rule, per member.
if [ "$COMPACT" = true ]; then
  st=$(status_of "$(echo $voters | cut -d' ' -f1)") || fail "no status to compact from; nothing was defragmented"
  set -- $st
  say "compacting to revision $5 (compact: true)"
  out=$(ctl compaction "$5" --physical --command-timeout="\${DEFRAG_TIMEOUT}s" --endpoints="$ENDPOINTS" 2>&1) || case "$out" in *"required revision has been compacted"*) ;; *) fail "compaction to $5 failed: $(echo "$out" | tail -n 1)";; esac
fi
matches() {
  awk -v dbSize="$1" -v dbSizeInUse="$2" -v dbQuota="$QUOTA_BYTES" 'BEGIN {
    dbSizeFree = dbSize - dbSizeInUse; dbQuotaUsage = dbSize / dbQuota
    exit !(${rule.expression})
  }'
}
todo=""
for ep in $voters; do
  st=$(status_of "$ep") || fail "$ep gave no status; nothing was defragmented"
  set -- $st
  if matches "$1" "$2"; then
    todo="$todo $ep"
  else
    say "$ep: dbSize $1, in use $2: the rule (${rule.description}) does not hold, left alone"
  fi
done

# 4. One at a time: every voter answers first; a follower while one is left, the leader last, asked again each time.
done_count=0
while [ -n "$todo" ]; do
  [ "$done_count" = 0 ] || check_all "before the next member" " after $done_count member(s)"
  next=""
  for ep in $todo; do
    st=$(status_of "$ep") || fail "$ep gave no status; stopped after $done_count member(s)"
    set -- $st
    if [ "$3" != "$4" ]; then next=$ep; break; fi
  done
  [ -n "$next" ] || next=$(echo $todo | cut -d' ' -f1)
  todo=$(echo $todo | tr ' ' '\\n' | grep -vxF "$next" | tr '\\n' ' ' || true)
  st=$(status_of "$next") || fail "$next gave no status; stopped after $done_count member(s)"
  set -- $st
  before=$1; role=follower; [ "$3" != "$4" ] || role=leader
  started=$(date +%s)
  if ! out=$(timeout "$DEFRAG_TIMEOUT" etcdctl --endpoints="$next" --dial-timeout=5s --command-timeout="\${DEFRAG_TIMEOUT}s" defrag 2>&1); then
    fail "$next ($role): defragmentation failed after $(( $(date +%s) - started )) s: $(echo "$out" | tail -n 1); the rest are left alone"
  fi
  took=$(( $(date +%s) - started ))
  deadline=$(( $(date +%s) + WAIT_SECONDS ))
  until answers "$next"; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "$next did not answer again within $WAIT_SECONDS s after its defragmentation; the rest are left alone"
    sleep 1
  done
  st=$(status_of "$next") || fail "$next gave no status after its defragmentation"
  set -- $st
  say "$next ($role): dbSize $before → $1 (in use $2), in $took s"
  done_count=$((done_count + 1))
done

# 5. NOSPACE, once every member is below the threshold and it is the only alarm.
raised=$(alarms) || fail "etcdctl alarm list failed after the run"
case "$raised" in
  *alarm:NOSPACE*)
    other=$(printf '%s\\n' "$raised" | grep . | grep -v 'alarm:NOSPACE' || true)
    [ -z "$other" ] || fail "NOSPACE not disarmed: other alarms are raised ($(echo "$other" | tr '\\n' ' '))"
    above=""
    for ep in $voters; do
      st=$(status_of "$ep") || fail "$ep gave no status; NOSPACE not disarmed"
      set -- $st
      awk -v s="$1" -v q="$QUOTA_BYTES" -v t="$DISARM_BELOW" 'BEGIN { exit !(s / q < t) }' || above="$above $ep"
    done
    if [ -z "$above" ]; then
      ctl alarm disarm --endpoints="$ENDPOINTS" >/dev/null || fail "etcdctl alarm disarm failed"
      say "NOSPACE disarmed: every member is below $DISARM_BELOW of the quota"
    else
      say "NOSPACE stays:$above at or above $DISARM_BELOW of the quota"
    fi
    ;;
  *) [ "$had_nospace" = no ] || say "NOSPACE was disarmed meanwhile" ;;
esac
say "done"
`;
}
