/**
 * Remove members from a running cluster before their pods go, one at a time, highest first: the shell of the
 * scale-down Job. It runs in the cluster's etcd image with the copied busybox, and talks only to the members that
 * stay (`$STAY`), so a removed member is never asked anything. `$STAY` and `$REMOVE` are `name|peerUrl|clientUrl`
 * entries.
 *
 * Before anything is removed, the cluster the staying members answer for must be the one the Job expects: it lists
 * every staying member, and no member outside `$STAY` and `$REMOVE` (a wrong `scaleDownFrom`, or another cluster).
 * Before each removal every member that stays must answer a linearizable read (it works under a NOSPACE alarm too):
 * removing a voter from a cluster that already has one member down could take away its quorum. A leader that is to go
 * hands its leadership to a staying member first (`move-leader`), so the removal is not an election. A member that is
 * no longer listed was removed by an earlier attempt and is skipped, unless it still answers as a member of another
 * cluster (the staying members formed anew: nothing is removed, and the Job fails). The Job is safe to run again.
 */
export function removeMembersScript(): string {
  return `set -eu
say() { echo "scale-down: $*"; }
fail() { echo "scale-down: FAILED: $*" >&2; exit 1; }
ctl() { etcdctl --dial-timeout=2s --command-timeout=10s "$@"; }
field() { echo "$1" | cut -d'|' -f"$2"; }
KEEP=$(for e in $STAY; do field "$e" 3; done | tr '\n' ',' | sed 's/,$//')
healthy() {
  for url in $(echo "$KEEP" | tr ',' ' '); do
    ctl get cdk8s-etcd-quorum-check --endpoints="$url" >/dev/null 2>&1 || return 1
  done
}
wait_healthy() {
  i=0
  until healthy; do
    i=$((i + 1))
    [ "$i" -le "$HEALTH_WAIT_SECONDS" ] || return 1
    sleep 1
  done
}
cluster_of() { ctl endpoint status --endpoints="$1" -w json 2>/dev/null | sed -n 's/.*"cluster_id":\\([0-9]*\\).*/\\1/p'; }
list=$(ctl member list -w simple --endpoints="$KEEP") || fail "no member that stays answers ($KEEP); nothing was removed"
known=$(for e in $STAY $REMOVE; do field "$e" 2; done)
for e in $STAY; do
  printf '%s\\n' "$list" | awk -F', ' -v u="$(field "$e" 2)" '$4 == u { found = 1 } END { exit !found }' ||
    fail "the cluster at $KEEP does not list $(field "$e" 1) ($(field "$e" 2)), which stays: it is not the cluster this scale-down expects; nothing was removed"
done
unknown=$(printf '%s\\n' "$list" | awk -F', ' -v known=" $(echo $known) " 'index(known, " " $4 " ") == 0 { printf "%s %s (%s); ", $3, $1, $4 }')
[ -z "$unknown" ] || fail "the cluster has members this scale-down does not know: $unknown is scaleDownFrom the member count the cluster runs with? Nothing was removed"
ours=$(cluster_of "$(field "$(echo $STAY | cut -d' ' -f1)" 3)")
for entry in $REMOVE; do
  name=$(field "$entry" 1); peer=$(field "$entry" 2); client=$(field "$entry" 3)
  list=$(ctl member list -w simple --endpoints="$KEEP") || fail "no member that stays answers ($KEEP); nothing more was removed"
  line=$(printf '%s\\n' "$list" | awk -F', ' -v u="$peer" '$4 == u')
  if [ -z "$line" ]; then
    theirs=$(cluster_of "$client")
    [ -z "$theirs" ] || [ "$theirs" = "$ours" ] || fail "$name is not in the staying members' cluster ($ours), but answers as a member of cluster $theirs: the staying members may have formed a new cluster beside the one with the data. Nothing was removed; stop and compare both before going on"
    say "$name ($peer) is not a member (removed before)"
    continue
  fi
  id=\${line%%,*}
  wait_healthy || fail "a member that stays does not answer a linearizable read: removing $name now could take the quorum away. $name is still a member; fix the others, then run the Job again"
  status=$(ctl endpoint status --endpoints="$client" -w json 2>/dev/null || true)
  member_id=$(printf '%s' "$status" | sed -n 's/.*"member_id":\\([0-9]*\\).*/\\1/p')
  leader=$(printf '%s' "$status" | sed -n 's/.*"leader":\\([0-9]*\\).*/\\1/p')
  if [ -n "$member_id" ] && [ "$member_id" = "$leader" ]; then
    to=$(printf '%s\\n' "$list" | awk -F', ' -v keep=",$KEEP," '$6 != "true" && index(keep, "," $5 ",") { print $1; exit }')
    [ -n "$to" ] || fail "$name leads, and no staying voter was found to hand the leadership to"
    say "$name ($id) leads: moving the leadership to $to first"
    ctl move-leader "$to" --endpoints="$client" || fail "could not move the leadership away from $name; nothing was removed"
  fi
  # etcd refuses a removal for a few seconds after a membership change ("unhealthy cluster": a member active for
  # less than 5 s); ask again, and stop asking once the member is gone.
  i=0
  until ctl member remove "$id" --endpoints="$KEEP"; do
    ctl member list -w simple --endpoints="$KEEP" | grep -q "^$id, " || break
    i=$((i + 1))
    [ "$i" -le "$HEALTH_WAIT_SECONDS" ] || fail "could not remove $name ($id) in $HEALTH_WAIT_SECONDS tries"
    sleep 1
  done
  say "removed $name ($id); its pod goes when the StatefulSet shrinks"
  wait_healthy || fail "the members that stay do not answer a linearizable read $HEALTH_WAIT_SECONDS s after removing $name"
done
say "done: $(ctl member list -w simple --endpoints="$KEEP" | awk -F', ' '{ printf "%s%s", sep, $3; sep = " " }') are the members"
`;
}
