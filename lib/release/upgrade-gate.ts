import { EtcdVersion } from './version';

/**
 * The pre-upgrade gate: the checks etcd's upgrade guides ask for before a member moves to the next minor
 * (upgrade_3_6.md and upgrade_3_7.md, "Upgrade requirements" and "Preparation"): every member healthy, and a snapshot
 * backup to go back to. We add "no alarm": a member under NOSPACE or CORRUPT is no cluster to upgrade.
 *
 * One shell function, `upgrade_gate <snapshot file> <endpoint>...`, used by the StatefulSet's start step and by the
 * static-pod script. It returns 0 when every endpoint answers a health check (a linearizable read: it needs the
 * quorum), no alarm is raised, and a snapshot from the first endpoint is saved and verified at the file (etcd's
 * embedded sha256, then `snapshot status`). Otherwise it says why (with `say`) and returns 1, having changed nothing:
 * the snapshot is written as `<file>.part` and renamed only once verified. An existing `<file>` means the gate passed
 * before (a restart), so it is not taken again. It needs `ctl` (etcdctl with the identity), `say`, and busybox's
 * `df`, `stat`, `sha256sum`, `od`, `head`, `tail`.
 */
export function upgradeGateShell(target: EtcdVersion): string {
  const tool = target.snapshotTool;
  return `upgrade_gate() {
  gate_file=$1; shift
  for gate_endpoint in "$@"; do
    gate_health=$(ctl endpoint health --endpoints="$gate_endpoint" 2>&1) || { say "upgrade gate: $gate_endpoint is not healthy ($(echo $gate_health | tail -c 200)); every member must be before one upgrades"; return 1; }
  done
  gate_endpoints=$(echo "$@" | tr ' ' ',')
  gate_alarms=$(ctl alarm list --endpoints="$gate_endpoints" 2>&1) || { say "upgrade gate: etcdctl alarm list failed: $gate_alarms"; return 1; }
  [ -z "$gate_alarms" ] || { say "upgrade gate: alarms are raised ($(echo $gate_alarms)); clear them (etcdctl alarm disarm, after the cause) before an upgrade"; return 1; }
  [ ! -s "$gate_file" ] || { say "upgrade gate: every member is healthy, no alarm; the snapshot $gate_file was taken before"; return 0; }
  gate_db=$(ctl endpoint status -w json --endpoints="$1" 2>/dev/null | sed -n 's/.*"dbSize":\\([0-9]*\\).*/\\1/p')
  # Free KiB (awk would print bytes in exponent notation, which the shell cannot compare).
  gate_free=$(df -Pk "$(dirname "$gate_file")" | awk 'NR == 2 { print $4 }')
  [ -n "$gate_db" ] && [ -n "$gate_free" ] || { say "upgrade gate: could not read the database size of $1 or the free space beside $gate_file"; return 1; }
  [ "$gate_free" -ge $((gate_db / 512 + 1)) ] || { say "upgrade gate: $(dirname "$gate_file") has $gate_free KiB free, and the snapshot ($gate_db bytes) must leave as much for etcd; make room, then the gate tries again"; return 1; }
  ctl snapshot save "$gate_file.part" --endpoints="$1" --command-timeout=600s >/dev/null 2>&1 || { say "upgrade gate: etcdctl snapshot save from $1 failed"; rm -f "$gate_file.part"; return 1; }
  gate_size=$(stat -c %s "$gate_file.part")
  gate_embedded=$(tail -c 32 "$gate_file.part" | od -An -v -tx1 | tr -d ' \\n')
  gate_actual=$(head -c $((gate_size - 32)) "$gate_file.part" | sha256sum | cut -d' ' -f1)
  [ "$gate_embedded" = "$gate_actual" ] || { say "upgrade gate: the snapshot from $1 does not match the sha256 etcd appended"; rm -f "$gate_file.part"; return 1; }
  gate_status=$(${tool} snapshot status "$gate_file.part" -w json 2>&1) || { say "upgrade gate: ${tool} snapshot status refused the snapshot: $gate_status"; rm -f "$gate_file.part"; return 1; }
  mv "$gate_file.part" "$gate_file"
  say "upgrade gate: every member is healthy, no alarm; verified snapshot $gate_file ($gate_size bytes, revision $(printf '%s' "$gate_status" | sed -n 's/.*"revision":\\([0-9]*\\).*/\\1/p'))"
}`;
}

/** The pre-upgrade snapshot's file name for an upgrade: one per upgrade, so a restart does not take another. */
export function preUpgradeSnapshotName(from: EtcdVersion, to: EtcdVersion): string {
  return `pre-upgrade-${from}-to-${to}.db`;
}

/** Whether a change from `from` to `to` moves to another minor: only those run the gate. */
export function changesMinor(from: EtcdVersion, to: EtcdVersion): boolean {
  return from.major !== to.major || from.minor !== to.minor;
}
