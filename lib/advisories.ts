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
  affects(version: VersionNumbers): boolean;
}

/** Patch range [from, to] on one minor line, inclusive. */
function onLine(minor: number, from: number, to: number) {
  return (v: VersionNumbers) => v.minor === minor && v.patch >= from && v.patch <= to;
}

/**
 * Advisories for releases that are not refused outright, from etcd's CHANGELOG-3.4 to -3.7 and, for
 * 3.5.34+, 3.6.15+ and 3.7.2+ (released after the newest CHANGELOG we could read), from the source
 * differences between patches. Versions the library refuses (< 3.4.22, 3.5.0-3.5.5) need no entry.
 * Fixes that only matter with options this library never renders (v2 discovery, gRPC proxy,
 * `--listen-client-http-urls` with CRLs) are left out.
 */
export const ADVISORIES: readonly Advisory[] = [
  {
    problem: 'the revision can go backwards after a compaction panic',
    fixedIn: '3.5.14',
    affects: onLine(5, 0, 13),
  },
  {
    problem: 'data can be corrupted when applySnapshot and defrag run together',
    fixedIn: '3.4.38 / 3.5.23 / 3.6.5',
    affects: (v) => onLine(4, 0, 37)(v) || onLine(5, 0, 22)(v) || onLine(6, 0, 4)(v),
  },
  {
    problem: 'learner or zombie members break the upgrade to 3.6',
    fixedIn: '3.5.26',
    affects: onLine(5, 1, 25),
  },
  {
    problem: 'bootstrap fails while replaying a learner promotion',
    fixedIn: '3.6.4',
    affects: onLine(6, 0, 3),
  },
  {
    problem: 'authentication can be bypassed when etcd auth is enabled (CVE-2026-33413, CVE-2026-33343)',
    fixedIn: '3.5.28 / 3.6.9',
    affects: (v) => onLine(5, 0, 27)(v) || onLine(6, 0, 8)(v),
  },
  {
    problem: 'RBAC can be bypassed through PrevKv or lease attachment in nested transactions when etcd auth is enabled',
    fixedIn: '3.5.30 / 3.6.11',
    affects: (v) => onLine(5, 0, 29)(v) || onLine(6, 0, 10)(v),
  },
  {
    problem: 'a member cannot be added while another member is down, even with quorum (blocks replacing a failed member)',
    fixedIn: '3.5.30 / 3.6.11',
    affects: (v) => onLine(5, 0, 29)(v) || onLine(6, 0, 10)(v),
  },
  {
    problem: 'a member update can promote a learner before it has caught up',
    fixedIn: '3.5.31 / 3.6.12',
    affects: (v) => onLine(5, 0, 30)(v) || onLine(6, 0, 11)(v),
  },
  {
    problem: 'a client that never finishes its TLS handshake holds its connection open (GHSA-6vch-q96h-7gc3), and watches can return keys outside a user\'s read permission (GHSA-xg4h-6gfc-h4m8)',
    fixedIn: '3.5.33 / 3.6.14 / 3.7.1',
    affects: (v) => onLine(5, 0, 32)(v) || onLine(6, 0, 13)(v) || onLine(7, 0, 0)(v),
  },
  {
    problem: 'a member that crashes right after receiving a snapshot from the leader can fail to restart (the snapshot file was not made durable before its WAL record)',
    fixedIn: '3.5.35 / 3.6.15 / 3.7.2',
    affects: (v) => onLine(5, 0, 34)(v) || onLine(6, 0, 14)(v) || onLine(7, 0, 1)(v),
  },
  {
    problem: 'a hash check that runs while a snapshot is being applied can use the closed backend and crash the member',
    fixedIn: '3.5.35 / 3.6.16 / 3.7.3',
    affects: (v) => onLine(5, 0, 34)(v) || onLine(6, 0, 15)(v) || onLine(7, 0, 2)(v),
  },
  {
    problem: 'streamed range responses can carry a corrupted key',
    fixedIn: '3.7.3',
    affects: onLine(7, 0, 2),
  },
  {
    problem: 'the 3.4 line is end of life since 3.4.45 (June 2026) and gets no more fixes',
    fixedIn: '3.5, 3.6 or 3.7',
    affects: (v) => v.minor === 4,
  },
];
