import { Lazy } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { CLIENT_PORT, MEMBER_STATE_PORT, METRICS_PORT, PEER_PORT } from '../member/model';
import { EtcdNetworkPeer } from './network-peer';

/**
 * The NetworkPolicy of a StatefulSet cluster: the peer and member-state ports only from members, the client port from
 * members (a starting member asks the others whether the cluster has formed, and adds itself) and `clients()`,
 * metrics only from `monitoring()`. Both are read at synthesis, after every `allow*()`.
 */
export function renderNetworkPolicy(scope: Construct, metadata: k8s.ObjectMeta, selectorLabels: { [key: string]: string },
  clients: () => EtcdNetworkPeer[], monitoring: () => EtcdNetworkPeer[]): k8s.KubeNetworkPolicy {
  const port = (n: number): k8s.NetworkPolicyPort => ({ port: k8s.IntOrString.fromNumber(n), protocol: 'TCP' });
  const rule = (peers: EtcdNetworkPeer[], n: number): k8s.NetworkPolicyIngressRule[] => {
    if (peers.length === 0) return [];
    if (peers.some((p) => p.isAnywhere)) return [{ ports: [port(n)] }];
    return [{ from: peers.map((p) => p._toKube()!), ports: [port(n)] }];
  };
  return new k8s.KubeNetworkPolicy(scope, 'NetworkPolicy', {
    metadata,
    spec: {
      podSelector: { matchLabels: selectorLabels },
      policyTypes: ['Ingress'],
      ingress: Lazy.any({
        produce: () => [
          { from: [{ podSelector: { matchLabels: selectorLabels } }], ports: [port(PEER_PORT), port(CLIENT_PORT), port(MEMBER_STATE_PORT)] },
          ...rule(clients(), CLIENT_PORT),
          ...rule(monitoring(), METRICS_PORT),
        ],
      }) as unknown as k8s.NetworkPolicyIngressRule[],
    },
  });
}
