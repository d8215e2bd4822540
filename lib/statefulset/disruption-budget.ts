import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';

/**
 * At most one member voluntarily down at a time. With 3 or more members that always
 * leaves a quorum (and counts already-broken members against the budget); a single
 * member cannot be evicted at all without an outage, so its budget allows none.
 * Members that are not ready may always be evicted, so a broken member never blocks a drain;
 * while quorum is lost every member is not ready, and evicting one loses nothing more (its
 * volume is kept).
 */
export function renderDisruptionBudget(scope: Construct, metadata: k8s.ObjectMeta, members: number,
  selector: { [key: string]: string }): k8s.KubePodDisruptionBudget {
  return new k8s.KubePodDisruptionBudget(scope, 'DisruptionBudget', {
    metadata,
    spec: {
      maxUnavailable: k8s.IntOrString.fromNumber(members === 1 ? 0 : 1),
      selector: { matchLabels: selector },
      // A member that is already broken must not block node drains: evicting it costs nothing more.
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  });
}
