import { IConstruct } from 'constructs';
import { addWarning } from '../shared/warnings';
import { EtcdVersion, KNOWN_LINES, NEWEST_KNOWN_LINE } from './version';

/** Synth-time warnings for a version's advisories, and for lines newer than this library knows. */
export function warnAboutVersion(scope: IConstruct, version: EtcdVersion): void {
  for (const advisory of version.advisories) addWarning(scope, advisory);
  if (!version.isKnownMinor) {
    addWarning(scope, `version ${version} is newer than the releases this library knows (${KNOWN_LINES}): flags and probes are rendered as for ${NEWEST_KNOWN_LINE}, which the new line may not accept`);
  }
}
