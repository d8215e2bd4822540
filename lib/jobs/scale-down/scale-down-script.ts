/**
 * Remove members from a running cluster before their pods go, one at a time, highest first: the shell of the
 * scale-down Job. It runs in the cluster's etcd image with the copied busybox, and talks only to the members that
 * stay (`$KEEP`), so a removed member is never asked anything.
 *
 * Before each removal every member that stays must be healthy: removing a voter from a cluster that already has one
 * member down could take away its quorum. A leader that is to go hands its leadership to a staying member first
 * (`move-leader`), so the removal is not an election. After each removal the staying members must be healthy again
 * before the next. A member that is no longer listed was removed by an earlier attempt, and is skipped. The Job is
 * safe to run again.
 */
export function removeMembersScript(): string {
  return `set -eu
say() { echo "scale-down: $*"; }
fail() { echo "scale-down: FAILED: $*" >&2; exit 1; }
ctl() { etcdctl --dial-timeout=2s --command-timeout=10s "$@"; }
healthy() {
  for url in $(echo "$KEEP" | tr ',' ' '); do
    ctl endpoint health --endpoints="$url" >/dev/null 2>&1 || return 1
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
for entry in $REMOVE; do
  name=\${entry%%|*}; rest=\${entry#*|}; peer=\${rest%%|*}; client=\${rest#*|}
  list=$(ctl member list -w simple --endpoints="$KEEP") || fail "no member that stays answers ($KEEP); nothing more was removed"
  line=$(printf '%s\\n' "$list" | awk -F', ' -v u="$peer" '$4 == u')
  if [ -z "$line" ]; then
    say "$name ($peer) is not a member (removed before)"
    continue
  fi
  id=\${line%%,*}
  wait_healthy || fail "a member that stays is not healthy: removing $name now could take the quorum away. $name is still a member; fix the others, then run the Job again"
  status=$(ctl endpoint status --endpoints="$client" -w json 2>/dev/null || true)
  member_id=$(printf '%s' "$status" | sed -n 's/.*"member_id":\\([0-9]*\\).*/\\1/p')
  leader=$(printf '%s' "$status" | sed -n 's/.*"leader":\\([0-9]*\\).*/\\1/p')
  if [ -n "$member_id" ] && [ "$member_id" = "$leader" ]; then
    to=$(printf '%s\\n' "$list" | awk -F', ' -v keep=",$KEEP," '$6 != "true" && index(keep, "," $5 ",") { print $1; exit }')
    [ -n "$to" ] || fail "$name leads, and no staying voter was found to hand the leadership to"
    say "$name ($id) leads: moving the leadership to $to first"
    ctl move-leader "$to" --endpoints="$client" || fail "could not move the leadership away from $name; nothing was removed"
  fi
  ctl member remove "$id" --endpoints="$KEEP" || fail "could not remove $name ($id)"
  say "removed $name ($id); its pod goes when the StatefulSet shrinks"
  wait_healthy || fail "the members that stay are not healthy $HEALTH_WAIT_SECONDS s after removing $name"
done
say "done: $(ctl member list -w simple --endpoints="$KEEP" | awk -F', ' '{ printf "%s%s", sep, $3; sep = " " }') are the members"
`;
}
