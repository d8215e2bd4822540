import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';

/**
 * At most one member voluntarily down at a time. With 3 or more members that always
 * leaves a quorum (and counts already-broken members against the budget); a single
 * member cannot be evicted at all without an outage, so its budget allows none.
 *
 * Members that are not ready may be evicted only while the budget is healthy (`IfHealthyBudget`,
 * Kubernetes' default): a broken member with a quorum of ready peers does not block a drain, but
 * when every member is not ready at once (a leader election, a network blip, a lost quorum), drains
 * wait. With `AlwaysAllow`, two concurrent drains could then evict two of three members in that
 * short window, and the election that would have ended in seconds becomes an outage that needs the
 * evicted members rescheduled, or their volumes, before etcd serves again.
 */
export function renderDisruptionBudget(scope: Construct, metadata: k8s.ObjectMeta, members: number,
  selector: { [key: string]: string }): k8s.KubePodDisruptionBudget {
  return new k8s.KubePodDisruptionBudget(scope, 'DisruptionBudget', {
    metadata,
    spec: {
      maxUnavailable: k8s.IntOrString.fromNumber(members === 1 ? 0 : 1),
      selector: { matchLabels: selector },
      unhealthyPodEvictionPolicy: 'IfHealthyBudget',
    },
  });
}
