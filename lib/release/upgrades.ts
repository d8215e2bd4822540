import { EtcdConfigError } from '../shared/errors';
import { EtcdVersion } from './version';

/**
 * etcd's upgrade rules, from its upgrade guides (etcd-io/website, `content/en/docs/v3.7/upgrades/`):
 * - one minor at a time ("Upgrades that skip a minor version are not supported and will likely fail",
 *   upgrading-etcd.md);
 * - the patch every member of the current line must run first (the floor below);
 * - once every member runs the new minor, the cluster version moves up and an older binary refuses the data: going
 *   back is `etcdctl downgrade validate|enable` (3.6 and later), not an image change (upgrade_3_6.md, upgrade_3_7.md,
 *   "Rollback").
 */

/** The lowest release of the line before, by the minor it upgrades to, with where etcd says so. */
const FLOORS: { [targetMinor: number]: { floor: string; source: string } } = {
  // upgrade_3_5.md names no patch; the policy is "update to the most recent patch version" (upgrading-etcd.md).
  5: { floor: '3.4.45', source: 'etcd\'s upgrade policy: the most recent 3.4 patch first (upgrading-etcd.md)' },
  6: { floor: '3.5.26', source: 'upgrade_3_6.md: "make sure that all of your 3.5 members are updated to 3.5.26 or later"' },
  7: { floor: '3.6.11', source: 'upgrade_3_7.md: "the running cluster must be v3.6.11 or later"' },
};

/**
 * Flags each minor removed (a member started with one exits at once), from the "Flags removed" of its upgrade guide.
 * The renderer never writes them for that minor; test/member/flags.test.ts checks it against this table.
 */
export const REMOVED_FLAGS: { [minor: number]: { flags: string[]; prefixes: string[] } } = {
  6: { flags: ['enable-v2', 'experimental-enable-v2v3', 'proxy', 'proxy-failure-wait', 'proxy-refresh-interval', 'proxy-dial-timeout', 'proxy-write-timeout', 'proxy-read-timeout'], prefixes: [] },
  // "All deprecated --experimental-* flags have been removed in v3.7" (upgrade_3_7.md).
  7: { flags: [], prefixes: ['experimental-'] },
};

/** The release every member must run before rolling to `to`'s minor, or undefined when no rule is known. */
export function upgradeFloor(to: EtcdVersion): EtcdVersion | undefined {
  const floor = FLOORS[to.minor];
  return floor && EtcdVersion.of(floor.floor);
}

/**
 * Check a change of `version` against etcd's rules, given the release the cluster runs now (`property`, the prop
 * that names it). A patch change within a line passes; the next minor passes from its floor; anything else is refused
 * with the path to take.
 */
export function checkUpgrade(property: string, from: EtcdVersion, to: EtcdVersion): void {
  if (from.minor === to.minor) return;
  if (to.minor < from.minor) {
    const procedure = from.minor >= 6
      ? `etcd's downgrade procedure first (etcdctl downgrade validate 3.${to.minor}, then etcdctl downgrade enable 3.${to.minor}, and wait until every member reports storage version 3.${to.minor}), then set version ${to} without ${property} and apply (this check guards upgrades: unset, nothing says what runs); while some members still run 3.${to.minor} (a rollout half done), that apply alone is enough`
      : `etcd ${from} has no downgrade procedure: restore a snapshot taken with 3.${to.minor} (EtcdSnapshotSource) into a 3.${to.minor} cluster`;
    throw new EtcdConfigError(`version ${to} is older than ${property} ${from}: once every member runs 3.${from.minor}, the cluster version is 3.${from.minor} and a 3.${to.minor} binary refuses its data. Use ${procedure} (README: "Upgrading etcd")`);
  }
  if (to.minor > from.minor + 1) {
    const path: string[] = [];
    for (let minor = from.minor; minor <= to.minor; minor++) path.push(`3.${minor}`);
    throw new EtcdConfigError(`version ${to} skips a minor from ${property} ${from}: etcd upgrades one minor at a time ("upgrades that skip a minor version are not supported and will likely fail"). Upgrade ${path.join(' → ')}, one apply and one finished rollout each`);
  }
  const rule = FLOORS[to.minor];
  const floor = rule && EtcdVersion.of(rule.floor);
  if (floor && !from.isAtLeast(floor.major, floor.minor, floor.patch)) {
    throw new EtcdConfigError(`version ${to} needs every 3.${from.minor} member on ${rule.floor} or later first, and ${property} is ${from} (${rule.source}). Roll to ${rule.floor} or the newest 3.${from.minor} patch, then to ${to}`);
  }
}
