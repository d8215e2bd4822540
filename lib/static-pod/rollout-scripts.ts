import { ClusterModel } from '../member/model';
import { preUpgradeSnapshotName, upgradeGateShell } from '../release/upgrade-gate';
import { EtcdVersion } from '../release/version';

/** A node of a static-pod cluster as its member runs there. */
export interface RolloutNode {
  readonly name: string;
  readonly clientUrl: string;
}

/** etcdctl with kubeadm's healthcheck-client identity, unless ETCDCTL_* already name one. */
function etcdctlWith(pkiDir: string): string {
  return `ETCDCTL_CACERT=\${ETCDCTL_CACERT:-${pkiDir}/ca.crt} ETCDCTL_CERT=\${ETCDCTL_CERT:-${pkiDir}/healthcheck-client.crt} ETCDCTL_KEY=\${ETCDCTL_KEY:-${pkiDir}/healthcheck-client.key} etcdctl --dial-timeout=2s --command-timeout=5s`;
}

/**
 * A shell script that prints the nodes in the order to roll their manifests: every follower first (in node order),
 * the node whose member leads last, so the cluster elects a leader once, not once per node. It asks every member for
 * its status when it runs: leadership moves, so run it right before a rollout. It fails, printing nothing, unless
 * every member answers.
 */
export function rolloutOrderScript(model: ClusterModel, nodes: RolloutNode[], pkiDir: string): string {
  const endpoints = nodes.map((n) => n.clientUrl).join(',');
  // Quoted: an IPv6 URL's brackets would otherwise be a glob.
  const cases = nodes.map((n) => `    "${n.clientUrl}") echo ${n.name} ;;`).join('\n');
  return `set -eu
node_of() {
  case "$1" in
${cases}
  esac
}
status=$(${etcdctlWith(pkiDir)} --endpoints=${endpoints} endpoint status -w json)
# One line per member: its endpoint, its member ID and the leader's.
rows=$(printf '%s' "$status" | sed 's/{"Endpoint"/\\n&/g' | sed -n 's/.*"Endpoint":"\\([^"]*\\)".*"member_id":\\([0-9]*\\).*"leader":\\([0-9]*\\).*/\\1 \\2 \\3/p')
[ "$(printf '%s\\n' "$rows" | grep -c .)" -eq ${model.members.length} ] || { echo "not every member answered: $rows" >&2; exit 1; }
leader=""
for row in $(printf '%s\\n' "$rows" | tr ' ' '|'); do
  endpoint=\${row%%|*}; ids=\${row#*|}
  if [ "\${ids%%|*}" = "\${ids#*|}" ]; then leader=$(node_of "$endpoint"); else node_of "$endpoint"; fi
done
[ -n "$leader" ] || { echo "no member leads" >&2; exit 1; }
echo "$leader"
`;
}

/**
 * A shell script that asks (up to `attempts` times, a second apart) until every member answers a linearizable health
 * check: run it after each node's manifest, before the next.
 */
export function healthCheckScript(nodes: RolloutNode[], pkiDir: string, attempts: number): string {
  const endpoints = nodes.map((n) => n.clientUrl).join(',');
  return `i=0; until ${etcdctlWith(pkiDir)} --endpoints=${endpoints} endpoint health; do i=$((i + 1)); [ "$i" -lt ${attempts} ] || exit 1; sleep 1; done`;
}

/**
 * A shell script for the operator to run once before the first node of an upgrade to another minor: it exits 0 only
 * when every member is healthy, no alarm is raised, and a verified snapshot is saved to
 * `$SNAPSHOT_DIR/pre-upgrade-<from>-to-<to>.db` (default: the current directory; the same gate the StatefulSet's
 * start step runs). It needs etcdctl and, for the snapshot check, etcdutl on PATH. Any other exit stops the rollout
 * before a node changes.
 */
export function upgradeGateScript(from: EtcdVersion, to: EtcdVersion, nodes: RolloutNode[], pkiDir: string): string {
  return `set -u
say() { echo "$*" >&2; }
ctl() { ${etcdctlWith(pkiDir)} "$@"; }
${upgradeGateShell(to)}
upgrade_gate "\${SNAPSHOT_DIR:-.}/${preUpgradeSnapshotName(from, to)}" ${nodes.map((n) => n.clientUrl).join(' ')}
`;
}
