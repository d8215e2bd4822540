import { k8s } from 'cdk8s-plus-28';
import { validateDnsLabel } from './validate';

/** Which pods may connect, by labels, optionally in other namespaces. */
export interface EtcdPodPeerOptions {
  /** Labels the connecting pods carry; must not be empty. */
  readonly labels: { [key: string]: string };

  /**
   * Namespace the pods run in.
   * @default - the etcd cluster's namespace (unless `namespaceLabels` is given)
   */
  readonly namespace?: string;

  /**
   * Labels of the namespaces the pods run in; mutually exclusive with `namespace`.
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
      throw new Error('EtcdNetworkPeer.pods() labels must not be empty: an empty selector admits every pod; use EtcdNetworkPeer.namespace() or anywhere() to say that explicitly');
    }
    if (options.namespace !== undefined && options.namespaceLabels !== undefined) {
      throw new Error(`EtcdNetworkPeer.pods() takes namespace or namespaceLabels, not both (got namespace '${options.namespace}')`);
    }
    if (options.namespace !== undefined) validateDnsLabel('EtcdNetworkPeer.pods() namespace', options.namespace);
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
