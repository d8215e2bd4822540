import { EtcdVersion } from './version';

/**
 * The pre-upgrade gate: the checks etcd's upgrade guides ask for before a member moves to the next minor
 * (upgrade_3_6.md and upgrade_3_7.md, "Upgrade requirements" and "Preparation"): every member healthy, and a snapshot
 * backup to go back to. We add "no alarm": a member under NOSPACE or CORRUPT is no cluster to upgrade.
 *
 * Shell functions for the StatefulSet's start step and the static-pod script. They need `ctl` (etcdctl with the
 * identity), `say`, and busybox's `df`, `stat`, `sha256sum`, `od`, `head`, `tail`, `cp`:
 * - `upgrade_gate <snapshot file> <endpoint>...` returns 0 when every endpoint answers a health check (a
 *   linearizable read: it needs the quorum), no alarm is raised, and the snapshot file exists: taken from the first
 *   endpoint when it does not yet (etcd's appended sha256 and `snapshot status` checked before it gets its name).
 * - `upgrade_gate_copy <database> <snapshot file>` keeps a verified copy of a stopped member's own database.
 *
 * Either says why it fails (with `say`) and returns 1, having kept nothing unverified. A snapshot needs room: the
 * free space must exceed its size by `$GATE_KEEP_FREE` bytes (the StatefulSet keeps the quota free, so the database
 * can still grow to it and be defragmented), by its size again when unset.
 */
export function upgradeGateShell(target: EtcdVersion): string {
  const tool = target.snapshotTool;
  return `gate_room() {
  # Free KiB (awk would print bytes in exponent notation, which the shell cannot compare).
  gate_free=$(df -Pk "$(dirname "$2")" | awk 'NR == 2 { print $4 }')
  [ -n "$gate_free" ] || { say "upgrade gate: could not read the free space beside $2"; return 1; }
  [ "$gate_free" -ge $(( ($1 + \${GATE_KEEP_FREE:-$1}) / 1024 + 1 )) ] || { say "upgrade gate: $(dirname "$2") has $gate_free KiB free, and the snapshot ($1 bytes) must leave \${GATE_KEEP_FREE:-$1} bytes for etcd; make room, then the gate tries again"; return 1; }
}
gate_verified() {
  gate_status=$(${tool} snapshot status "$1" -w json 2>&1) || { say "upgrade gate: ${tool} snapshot status refused the snapshot: $gate_status"; rm -f "$1"; return 1; }
  mv "$1" "$2" || { say "upgrade gate: could not name the snapshot $2"; rm -f "$1"; return 1; }
  say "upgrade gate: verified snapshot $2 ($(stat -c %s "$2") bytes, revision $(printf '%s' "$gate_status" | sed -n 's/.*"revision":\\([0-9]*\\).*/\\1/p'))"
}
upgrade_gate() {
  gate_file=$1; shift
  for gate_endpoint in "$@"; do
    gate_health=$(ctl endpoint health --endpoints="$gate_endpoint" 2>&1) || { say "upgrade gate: $gate_endpoint is not healthy ($(echo $gate_health | tail -c 200)); every member must be before one upgrades"; return 1; }
  done
  gate_endpoints=$(echo "$@" | tr ' ' ',')
  gate_alarms=$(ctl alarm list --endpoints="$gate_endpoints" 2>&1) || { say "upgrade gate: etcdctl alarm list failed: $gate_alarms"; return 1; }
  [ -z "$gate_alarms" ] || { say "upgrade gate: alarms are raised ($(echo $gate_alarms)); clear them (etcdctl alarm disarm, after the cause) before an upgrade"; return 1; }
  [ ! -s "$gate_file" ] || { say "upgrade gate: every member is healthy, no alarm; the snapshot $gate_file was taken before"; return 0; }
  gate_db=$(ctl endpoint status -w json --endpoints="$1" 2>/dev/null | sed -n 's/.*"dbSize":\\([0-9]*\\).*/\\1/p')
  [ -n "$gate_db" ] || { say "upgrade gate: could not read the database size of $1"; return 1; }
  gate_room "$gate_db" "$gate_file" || return 1
  # etcdctl writes <name>.part and renames it: the snapshot is <file>.unverified until checked.
  gate_part="$gate_file.unverified"
  ctl snapshot save "$gate_part" --endpoints="$1" --command-timeout=600s >/dev/null 2>&1 || { say "upgrade gate: etcdctl snapshot save from $1 failed"; rm -f "$gate_part" "$gate_part.part"; return 1; }
  gate_size=$(stat -c %s "$gate_part")
  gate_embedded=$(tail -c 32 "$gate_part" | od -An -v -tx1 | tr -d ' \\n')
  gate_actual=$(head -c $((gate_size - 32)) "$gate_part" | sha256sum | cut -d' ' -f1)
  [ "$gate_embedded" = "$gate_actual" ] || { say "upgrade gate: the snapshot from $1 does not match the sha256 etcd appended"; rm -f "$gate_part"; return 1; }
  say "upgrade gate: every member is healthy, no alarm"
  gate_verified "$gate_part" "$gate_file"
}
upgrade_gate_copy() {
  [ -s "$1" ] || { say "upgrade gate: no database at $1 to copy"; return 1; }
  gate_room "$(stat -c %s "$1")" "$2" || return 1
  cp "$1" "$2.unverified" || { say "upgrade gate: could not copy $1"; rm -f "$2.unverified"; return 1; }
  # A database file carries no appended sha256: restore it with --skip-hash-check.
  gate_verified "$2.unverified" "$2"
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
