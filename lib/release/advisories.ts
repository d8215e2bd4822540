/** The parts of a version an advisory range looks at. */
interface VersionNumbers {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
}

/** One known etcd problem: which releases it affects and which release fixes it. */
export interface Advisory {
  readonly problem: string;
  readonly fixedIn: string;
  /**
   * It breaks adding, promoting or replacing a member, which an `EtcdCluster` member does by itself, so badly that
   * the cluster needs an expert afterwards: refused for `EtcdCluster`.
   */
  readonly breaksMembership?: boolean;
  affects(version: VersionNumbers): boolean;
}

/**
 * A problem fixed in the given releases, one per minor line: every earlier patch of those lines is affected,
 * from `since` on when it started later than the line's first release. The fix versions are written once,
 * so the message and the range cannot disagree.
 */
function fixedIn(problem: string, releases: string[], since?: string, breaksMembership?: boolean): Advisory {
  const fixes = releases.map(numbers);
  const start = since === undefined ? undefined : numbers(since);
  return {
    problem,
    fixedIn: releases.join(' / '),
    breaksMembership,
    affects: (v) => fixes.some((f) => v.minor === f.minor && v.patch < f.patch)
      && (start === undefined || v.minor !== start.minor || v.patch >= start.patch),
  };
}

function numbers(release: string): VersionNumbers {
  const [major, minor, patch] = release.split('.').map(Number);
  return { major, minor, patch };
}

/**
 * Advisories for releases that are not refused outright, from etcd's CHANGELOG-3.4 to -3.7 and, for
 * 3.5.34+, 3.6.15+ and 3.7.2+ (released after the newest CHANGELOG we could read), from the source
 * differences between patches. Versions the library refuses (< 3.4.22, 3.5.0-3.5.5) need no entry.
 * Fixes that only matter with options this library never renders (v2 discovery, gRPC proxy,
 * `--listen-client-http-urls` with CRLs) are left out.
 */
export const ADVISORIES: readonly Advisory[] = [
  fixedIn('the revision can go backwards after a compaction panic', ['3.5.14']),
  fixedIn('data can be corrupted when applySnapshot and defrag run together', ['3.4.38', '3.5.23', '3.6.5']),
  fixedIn('learner or zombie members break the upgrade to 3.6', ['3.5.26'], '3.5.1'),
  fixedIn('bootstrap fails while replaying a learner promotion', ['3.6.4'], undefined, true),
  fixedIn('authentication can be bypassed when etcd auth is enabled (CVE-2026-33413, CVE-2026-33343)', ['3.5.28', '3.6.9']),
  fixedIn('RBAC can be bypassed through PrevKv or lease attachment in nested transactions when etcd auth is enabled', ['3.5.30', '3.6.11']),
  // A member-start that cannot add itself waits and asks again, and `member update` is never used: warnings.
  fixedIn('a member cannot be added while another member is down, even with quorum (blocks replacing a failed member)', ['3.5.30', '3.6.11']),
  fixedIn('a member update can promote a learner before it has caught up', ['3.5.31', '3.6.12']),
  fixedIn('a client that never finishes its TLS handshake holds its connection open (GHSA-6vch-q96h-7gc3), and watches can return keys outside a user\'s read permission (GHSA-xg4h-6gfc-h4m8)', ['3.5.33', '3.6.14', '3.7.1']),
  fixedIn('a member that crashes right after receiving a snapshot from the leader can fail to restart (the snapshot file was not made durable before its WAL record)', ['3.5.35', '3.6.15', '3.7.2']),
  fixedIn('a hash check that runs while a snapshot is being applied can use the closed backend and crash the member', ['3.5.35', '3.6.16', '3.7.3']),
  fixedIn('streamed range responses can carry a corrupted key', ['3.7.3']),
  {
    problem: 'the 3.4 line is end of life since 3.4.45 (June 2026) and gets no more fixes',
    fixedIn: '3.5, 3.6 or 3.7',
    affects: (v) => v.minor === 4,
  },
];
