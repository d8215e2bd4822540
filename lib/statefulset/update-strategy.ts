import { k8s } from 'cdk8s-plus-28';
import { validateInteger } from '../shared/validate';

/** Options for {@link EtcdUpdateStrategy.rollingUpdate}. */
export interface EtcdRollingUpdateOptions {
  /**
   * Only members with an ordinal at or above this number are updated. Set it to `members - 1` to
   * update the last member alone, check the cluster, then lower it one member at a time.
   * @default 0 - every member, one at a time
   */
  readonly partition?: number;
}

/**
 * How a changed pod template reaches the members. Only the template rolls: a change of `members` changes no pod (the
 * member list is a ConfigMap each member reads when it starts).
 *
 * The StatefulSet controller replaces one member at a time, highest ordinal first, and moves on when the new one is
 * Ready (`minReadySeconds` is 0: readiness needs a linearizable read). A PodDisruptionBudget does not stop it (the
 * controller deletes pods, it does not evict them). From Kubernetes 1.37 (MaxUnavailableStatefulSet, on by default)
 * it counts members that are not Ready against its budget of one: while a member is down it replaces no other, and a
 * member that is not Ready is replaced first (it is down already). Measured with the real 1.37 controller. Before
 * 1.37 the controller does not look at the other members: change the template only when every member is Ready, or
 * use a partition, or `onDelete()`, and check the cluster's health between members.
 */
export class EtcdUpdateStrategy {
  /** Replace members one at a time, highest ordinal first, from `partition` up. */
  public static rollingUpdate(options: EtcdRollingUpdateOptions = {}): EtcdUpdateStrategy {
    return new EtcdUpdateStrategy('RollingUpdate', options.partition);
  }

  /** Never replace a member by itself: delete each pod when you are ready for it to come back updated. */
  public static onDelete(): EtcdUpdateStrategy {
    return new EtcdUpdateStrategy('OnDelete', undefined);
  }

  private constructor(private readonly type: string, private readonly partition: number | undefined) {}

  /** @internal */
  public _toKube(members: number): k8s.StatefulSetUpdateStrategy {
    if (this.type === 'OnDelete') return { type: this.type };
    const partition = this.partition ?? 0;
    validateInteger('updateStrategy.partition', partition, 0, members);
    // Always written, 0 included. Without `rollingUpdate`, Kubernetes 1.37's controller recreates a missing member
    // from the old revision during a rollout and, with Parallel pod management, deletes it again at once as an
    // unavailable pod of the old revision: measured with the real controller, the member never came back.
    return { type: this.type, rollingUpdate: { partition } };
  }
}
