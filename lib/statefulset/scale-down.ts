import { EtcdConfigError } from '../shared/errors';
import { validateMemberCount } from '../shared/validate';

/**
 * Check a scale-down (`scaleDownFrom` → `members`): one step at a time (7 → 5 → 3 → 1), so `members` never drops
 * below the quorum of the cluster it shrinks from, and the last step to a single member only when acknowledged.
 * Growing needs no prop: a new member adds itself as a learner, one at a time, so any growth is safe by construction.
 */
export function checkScaleDown(members: number, from: number | undefined, acknowledgeSingleMember: boolean | undefined): void {
  if (from === undefined) {
    if (acknowledgeSingleMember !== undefined) {
      throw new EtcdConfigError(`acknowledgeSingleMember is ${acknowledgeSingleMember}, but no scaleDownFrom is given: it acknowledges a scale-down to 1 member (scaleDownFrom: 3, members: 1); remove it`);
    }
    return;
  }
  validateMemberCount('scaleDownFrom', from);
  if (from <= members) {
    throw new EtcdConfigError(`scaleDownFrom must be above members (got scaleDownFrom ${from}, members ${members}): it names the member count the cluster shrinks from. Growing needs no prop: new members join as learners, one at a time`);
  }
  const quorum = Math.floor(from / 2) + 1;
  if (from - members !== 2) {
    throw new EtcdConfigError(`members ${members} is more than one step below scaleDownFrom ${from} (quorum ${quorum}): shrink one step per apply, ${stepsBetween(from, members)}, waiting for each scale-down Job, so the cluster never drops below the quorum of the one it leaves`);
  }
  if (members === 1 && acknowledgeSingleMember !== true) {
    throw new EtcdConfigError(`members 1 with scaleDownFrom ${from} ends high availability: a single member tolerates no failure, and cannot be evicted without downtime. Set acknowledgeSingleMember: true to go ahead`);
  }
  if (members !== 1 && acknowledgeSingleMember !== undefined) {
    throw new EtcdConfigError(`acknowledgeSingleMember is ${acknowledgeSingleMember}, but members is ${members}: it acknowledges a scale-down to 1 member; remove it`);
  }
}

function stepsBetween(from: number, to: number): string {
  const steps: number[] = [];
  for (let n = from; n >= to; n -= 2) steps.push(n);
  return steps.join(' → ');
}
