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
 * How a changed pod template reaches the members.
 *
 * The StatefulSet controller replaces one member at a time, highest ordinal first, and waits until the new one has
 * been ready for `minReadySeconds`. A PodDisruptionBudget does not stop it (the controller deletes pods, it does not
 * evict them). Measured with Kubernetes 1.37's controller (MaxUnavailableStatefulSet on) and Parallel pod management:
 * while a member is down it replaces no other; but every member of the old revision that is not *available* (not
 * Ready, or Ready for less than `minReadySeconds`) is replaced at once, outside the one-at-a-time budget. So change
 * the template only when every member has been ready for a while (`availableReplicas` equals `members`); older
 * controllers do not look at the other members at all. Use a partition, or `onDelete()`, to roll a cluster by hand
 * after checking its health between members.
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
