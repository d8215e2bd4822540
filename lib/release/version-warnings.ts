import { IConstruct } from 'constructs';
import { EtcdConfigError } from '../shared/errors';
import { addWarning } from '../shared/warnings';
import { ADVISORIES } from './advisories';
import { EtcdVersion, KNOWN_LINES, NEWEST_KNOWN_LINE } from './version';

/** The newest patch of each known line, as its constant names it. */
const NEWEST_KNOWN_PATCH: { [minor: number]: EtcdVersion } = {
  4: EtcdVersion.V3_4_45,
  5: EtcdVersion.V3_5_35,
  6: EtcdVersion.V3_6_16,
  7: EtcdVersion.V3_7_3,
};

/** Synth-time warnings for a version's advisories, and for lines newer than this library knows. */
export function warnAboutVersion(scope: IConstruct, version: EtcdVersion): void {
  for (const advisory of version.advisories) addWarning(scope, advisory);
  const newest = NEWEST_KNOWN_PATCH[version.minor];
  if (newest !== undefined && version.patch > newest.patch) {
    addWarning(scope, `version ${version} is newer than ${newest}, the newest 3.${version.minor} release this library knows: check that it exists (a tag that does not exist leaves every member in ImagePullBackOff), or use EtcdVersion.V3_${version.minor}_${newest.patch}`);
  }
  if (!version.isKnownMinor) {
    addWarning(scope, `version ${version} is newer than the releases this library knows (${KNOWN_LINES}): flags and probes are rendered as for ${NEWEST_KNOWN_LINE}, which the new line may not accept`);
  }
}

/**
 * Refuse a release whose advisories break what an `EtcdCluster` member does by itself: add itself as a learner, be
 * promoted, replace a lost volume. Static pods change membership by hand, so they only warn.
 */
export function checkSelfHealingVersion(version: EtcdVersion): void {
  const broken = ADVISORIES.filter((a) => a.breaksMembership && a.affects(version));
  if (broken.length > 0) {
    const newest = NEWEST_KNOWN_PATCH[version.minor];
    throw new EtcdConfigError(`version ${version} is refused for EtcdCluster: its members replace a lost volume and scale through etcd's learners by themselves, and this release has ${broken.map((a) => `"${a.problem}" (fixed in ${a.fixedIn})`).join(', ')}; use ${newest ?? 'a fixed release'}`);
  }
}
