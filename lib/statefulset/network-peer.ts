import { isIP } from 'net';
import { k8s } from 'cdk8s-plus-28';
import { EtcdConfigError } from '../shared/errors';
import { validateDnsLabel, validateLabels } from '../shared/validate';

/** Which pods may connect, by labels, optionally in other namespaces. */
export interface EtcdPodPeerOptions {
  /** Labels the connecting pods carry. Must not be empty. */
  readonly labels: { [key: string]: string };

  /**
   * Namespace the pods run in.
   * @default - the etcd cluster's namespace (unless `namespaceLabels` is given)
   */
  readonly namespace?: string;

  /**
   * Labels of the namespaces the pods run in. Mutually exclusive with `namespace`.
   * @default - the etcd cluster's namespace (unless `namespace` is given)
   */
  readonly namespaceLabels?: { [key: string]: string };
}

/**
 * A source of traffic admitted by the etcd NetworkPolicy.
 *
 * Access to etcd's client port is access to everything the cluster stores, so sources
 * are declared explicitly; `anywhere()` is the deliberate opt-out.
 */
export class EtcdNetworkPeer {
  /** Pods with the given labels (in the etcd namespace unless told otherwise). */
  public static pods(options: EtcdPodPeerOptions): EtcdNetworkPeer {
    if (!options.labels || Object.keys(options.labels).length === 0) {
      throw new EtcdConfigError('EtcdNetworkPeer.pods() labels must not be empty: an empty selector admits every pod; use EtcdNetworkPeer.namespace() or anywhere() to say that explicitly');
    }
    if (options.namespace !== undefined && options.namespaceLabels !== undefined) {
      throw new EtcdConfigError(`EtcdNetworkPeer.pods() takes namespace or namespaceLabels, not both (got namespace '${options.namespace}')`);
    }
    validateLabels('EtcdNetworkPeer.pods() labels', options.labels);
    if (options.namespace !== undefined) validateDnsLabel('EtcdNetworkPeer.pods() namespace', options.namespace);
    if (options.namespaceLabels !== undefined) {
      if (Object.keys(options.namespaceLabels).length === 0) {
        throw new EtcdConfigError('EtcdNetworkPeer.pods() namespaceLabels must not be empty: an empty selector admits pods of every namespace; say so with anywhere() or leave namespaceLabels out for the etcd namespace');
      }
      validateLabels('EtcdNetworkPeer.pods() namespaceLabels', options.namespaceLabels);
    }
    return new EtcdNetworkPeer({
      podSelector: { matchLabels: { ...options.labels } },
      namespaceSelector: namespaceSelector(options.namespace, options.namespaceLabels),
    }, `pods ${JSON.stringify(options.labels)}`);
  }

  /** Every pod in the named namespace. */
  public static namespace(name: string): EtcdNetworkPeer {
    validateDnsLabel('EtcdNetworkPeer.namespace() name', name);
    return new EtcdNetworkPeer({ namespaceSelector: namespaceSelector(name, undefined) }, `namespace ${name}`);
  }

  /**
   * Sources by IP range, for clients no pod or namespace selector can match: a kube-apiserver or node
   * agent on the host network, or something outside the cluster.
   * @param cidr an IPv4 or IPv6 range, e.g. `10.0.0.0/24`
   * @param exceptCidrs ranges inside `cidr` to leave out
   */
  public static ipBlock(cidr: string, exceptCidrs: string[] = []): EtcdNetworkPeer {
    const range = parseCidr('EtcdNetworkPeer.ipBlock() cidr', cidr);
    for (const e of exceptCidrs) {
      const inner = parseCidr('EtcdNetworkPeer.ipBlock() exceptCidrs', e);
      if (inner.family !== range.family || inner.prefix <= range.prefix || !inside(inner, range)) {
        throw new EtcdConfigError(`EtcdNetworkPeer.ipBlock() exceptCidrs must be ranges strictly inside ${cidr} (got '${e}')`);
      }
    }
    return new EtcdNetworkPeer({ ipBlock: { cidr, except: exceptCidrs.length > 0 ? [...exceptCidrs] : undefined } }, `ipBlock ${cidr}`);
  }

  /** Any source at all, inside or outside the cluster: the explicit opt-out of client filtering. */
  public static anywhere(): EtcdNetworkPeer {
    return new EtcdNetworkPeer(undefined, 'anywhere');
  }

  private constructor(
    private readonly peer: k8s.NetworkPolicyPeer | undefined,
    /** A short description for messages. */
    public readonly description: string,
  ) {}

  /** Whether this peer admits every source. */
  public get isAnywhere(): boolean {
    return this.peer === undefined;
  }

  /** @internal */
  public _toKube(): k8s.NetworkPolicyPeer | undefined {
    return this.peer;
  }
}

function namespaceSelector(name: string | undefined, labels: { [key: string]: string } | undefined): k8s.LabelSelector | undefined {
  if (name !== undefined) return { matchLabels: { 'kubernetes.io/metadata.name': name } };
  if (labels !== undefined) return { matchLabels: { ...labels } };
  return undefined;
}

interface Cidr {
  readonly family: 4 | 6;
  readonly bits: bigint;
  readonly prefix: number;
}

/** A CIDR as Kubernetes accepts it: an address of its family, a prefix length in range, no host bits set. */
function parseCidr(property: string, cidr: string): Cidr {
  const [address, prefixText, extra] = typeof cidr === 'string' ? cidr.split('/') : [];
  const family = isIP(address ?? '');
  const width = family === 4 ? 32 : 128;
  const prefix = Number(prefixText);
  if (!family || extra !== undefined || !/^\d{1,3}$/.test(prefixText ?? '') || prefix > width || address.includes('%') || (family === 6 && address.includes('.'))) {
    throw new EtcdConfigError(`${property} must be an IPv4 or IPv6 range such as '10.0.0.0/24' or 'fd00::/64' (got '${cidr}')`);
  }
  const bits = toBits(address, family as 4 | 6);
  const hostMask = (1n << BigInt(width - prefix)) - 1n;
  if ((bits & hostMask) !== 0n) {
    throw new EtcdConfigError(`${property} must not set host bits after the prefix (got '${cidr}'): Kubernetes rejects it`);
  }
  return { family: family as 4 | 6, bits, prefix };
}

function toBits(address: string, family: 4 | 6): bigint {
  if (family === 4) return address.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const expanded = tail === undefined ? groups(head) : [...groups(head), ...Array(8 - groups(head).length - groups(tail).length).fill('0'), ...groups(tail)];
  return expanded.reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group, 16)), 0n);
}

function inside(inner: Cidr, outer: Cidr): boolean {
  const width = inner.family === 4 ? 32 : 128;
  const shift = BigInt(width - outer.prefix);
  return (inner.bits >> shift) === (outer.bits >> shift);
}
