import { BlockList, isIPv4, isIPv6 } from 'net';
import { EtcdConfigError } from '../shared/errors';
import { validateDnsSubdomain, validateMemberCount } from '../shared/validate';

/** A control-plane node as `EtcdStaticPodCluster` takes it (see `EtcdStaticPodNode`). */
interface NodeInput {
  readonly name: string;
  readonly ip: string;
  readonly joinExisting?: boolean;
}

const LOOPBACK = 'a loopback address: only members on the same host can reach it, so this is a single-host development or test cluster, never real control-plane nodes';

/** The chart id, and so the file name, of a node's manifest: `etcd-<node>` with '.' as '-'. */
export function manifestLabel(nodeName: string): string {
  return `etcd-${nodeName.replace(/\./g, '-')}`;
}

/**
 * Address ranges peers cannot (or, for loopback, can only on one host) reach, with the reason. Loopback
 * only warns: members on one host (a development or test cluster) do reach each other there.
 */
const SPECIAL_RANGES = ([
  { cidr: '0.0.0.0/8', family: 'ipv4', why: 'unspecified ("this host"), not an address peers can dial', refuse: true },
  { cidr: '127.0.0.0/8', family: 'ipv4', why: LOOPBACK, refuse: false },
  { cidr: '169.254.0.0/16', family: 'ipv4', why: 'link-local: not routed between nodes, and not stable', refuse: true },
  { cidr: '224.0.0.0/4', family: 'ipv4', why: 'multicast', refuse: true },
  { cidr: '240.0.0.0/4', family: 'ipv4', why: 'reserved, or the broadcast address', refuse: true },
  { cidr: '::/128', family: 'ipv6', why: 'unspecified, not an address peers can dial', refuse: true },
  { cidr: '::1/128', family: 'ipv6', why: LOOPBACK, refuse: false },
  { cidr: 'fe80::/10', family: 'ipv6', why: 'link-local: needs a zone, which a URL peers share cannot carry', refuse: true },
  { cidr: 'ff00::/8', family: 'ipv6', why: 'multicast', refuse: true },
] as const).map((r) => {
  const list = new BlockList();
  const [address, prefix] = r.cidr.split('/');
  list.addSubnet(address, Number(prefix), r.family);
  return { ...r, list };
});

/** Throw unless `ip` is a unicast address another node can dial: not unspecified, link-local or multicast (loopback warns). */
function validateNodeIp(property: string, ip: string, nodeName: string, warn: (message: string) => void): void {
  if (typeof ip !== 'string' || ip.includes('%') || !(isIPv4(ip) || isIPv6(ip))) {
    throw new EtcdConfigError(`${property} must be an IPv4 or IPv6 address without a zone (got '${ip}' for node '${nodeName}')`);
  }
  const family = isIPv4(ip) ? 'ipv4' : 'ipv6';
  const hit = SPECIAL_RANGES.find((r) => r.family === family && r.list.check(ip, family));
  if (hit?.refuse) {
    throw new EtcdConfigError(`${property} must be an address other nodes can reach (got '${ip}' for node '${nodeName}'): it is in ${hit.cidr}, ${hit.why}`);
  }
  if (hit) warn(`${property} '${ip}' of node '${nodeName}' is ${hit.why}`);
}

/**
 * Nodes as etcd needs them: 1, 3, 5 or 7 (or one more while exactly one joins), unique DNS names and
 * unique IPs peers can dial (loopback warns), manifest files that do not collide, and a joining node listed after the
 * members of the running cluster it joins (they exist first; it is added last).
 */
export function validateNodes<T extends NodeInput>(nodes: T[], warn: (message: string) => void): T[] {
  if (!Array.isArray(nodes) || nodes.length === 0) {
    throw new EtcdConfigError('nodes must list 1, 3, 5 or 7 control-plane nodes (got none)');
  }
  const joining = nodes.filter((n) => n.joinExisting);
  if (joining.length > 1) {
    throw new EtcdConfigError(`nodes may have at most one node with joinExisting (got ${joining.map((n) => n.name).join(', ')}): etcd changes membership one member at a time`);
  }
  if (joining.length === 1 && nodes.length === 1) {
    throw new EtcdConfigError(`nodes must include the running members that ${joining[0].name} joins (got only ${joining[0].name})`);
  }
  if (joining.length === 1 && nodes[nodes.length - 1] !== joining[0]) {
    throw new EtcdConfigError(`nodes must list the joining node '${joining[0].name}' last, after the members of the running cluster it joins (got it before '${nodes[nodes.indexOf(joining[0]) + 1].name}'): it can only join once they exist`);
  }
  // Growing passes through an even size (3 -> 4 -> 5), one joining node at a time.
  const growing = joining.length === 1 && nodes.length % 2 === 0 && nodes.length <= 8;
  if (!growing) validateMemberCount('nodes', nodes.length);
  const names = new Set<string>();
  const ips = new Map<string, string>();
  const labels = new Map<string, string>();
  nodes.forEach((node, i) => {
    validateDnsSubdomain(`nodes[${i}].name`, node.name);
    if (names.has(node.name)) throw new EtcdConfigError(`nodes[${i}].name must be unique (got '${node.name}' twice)`);
    names.add(node.name);
    const label = manifestLabel(node.name);
    if (label.length > 63) throw new EtcdConfigError(`nodes[${i}].name '${node.name}' is too long: its manifest name '${label}' must be at most 63 characters`);
    if (labels.has(label)) throw new EtcdConfigError(`nodes[${i}].name: '${labels.get(label)}' and '${node.name}' would share the manifest file ${label}.k8s.yaml`);
    labels.set(label, node.name);
    validateNodeIp(`nodes[${i}].ip`, node.ip, node.name, warn);
    const canonical = isIPv6(node.ip) ? new URL(`http://[${node.ip}]/`).hostname : node.ip;
    if (ips.has(canonical)) throw new EtcdConfigError(`nodes[${i}].ip must be unique (got ${node.ip} for both '${ips.get(canonical)}' and '${node.name}')`);
    ips.set(canonical, node.name);
  });
  return nodes;
}

/** Directories etcd's data must never be, or be inside of: the system, and Kubernetes' own state. */
const SYSTEM_DIRS = ['/', '/bin', '/boot', '/dev', '/etc', '/home', '/lib', '/lib64', '/opt', '/proc', '/root', '/run', '/sbin', '/srv',
  '/sys', '/tmp', '/usr', '/var', '/var/lib', '/var/log', '/etc/kubernetes', '/var/lib/kubelet'];
/** Directories the data dir must not be inside: the kubelet reads every file in the manifests directory as a pod. */
const NOT_INSIDE = ['/etc/kubernetes/manifests', '/proc', '/sys', '/dev', '/boot'];

const within = (child: string, parent: string) => child === parent || child.startsWith(parent === '/' ? '/' : `${parent}/`);

/** Throw unless the data dir is a directory of its own: not a system directory, and apart from every certificate directory. */
export function validateDataDir(dataDir: string, certificateDirs: { [property: string]: string }): void {
  if (SYSTEM_DIRS.includes(dataDir)) {
    throw new EtcdConfigError(`dataDir must be a directory of its own, such as '/var/lib/etcd' (got '${dataDir}'): it is a system directory, and etcd takes its data dir over (mode 0700)`);
  }
  const inside = NOT_INSIDE.find((dir) => within(dataDir, dir));
  if (inside) throw new EtcdConfigError(`dataDir must not be inside ${inside} (got '${dataDir}')`);
  for (const [property, dir] of Object.entries(certificateDirs)) {
    if (within(dataDir, dir) || within(dir, dataDir)) {
      throw new EtcdConfigError(`dataDir and ${property} must be apart, neither inside the other (got dataDir '${dataDir}', ${property} '${dir}'): etcd's data directory holds only its data, and a restore or wipe of it must never touch certificates`);
    }
  }
}
