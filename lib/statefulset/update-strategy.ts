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
 * The StatefulSet controller replaces one member at a time and waits for that member to be ready, but
 * it does not look at the others: if another member is already down, replacing one more loses quorum.
 * A PodDisruptionBudget does not stop it (the controller deletes pods, it does not evict them). Use a
 * partition, or `onDelete()`, to roll a cluster by hand after checking its health between members.
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
    if (this.partition === undefined) return { type: this.type };
    validateInteger('updateStrategy.partition', this.partition, 0, members);
    return { type: this.type, rollingUpdate: { partition: this.partition } };
  }
}
