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
 * Advisories for releases that are not refused outright (see the field guide's version table).
 * Versions the library refuses (< 3.4.22, 3.5.0-3.5.5) need no entry here.
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
    problem: 'authentication can be bypassed when etcd auth is enabled',
    fixedIn: '3.5.28 / 3.6.9',
    affects: (v) => onLine(5, 0, 27)(v) || onLine(6, 0, 8)(v),
  },
  {
    problem: 'the 3.4 line is end of life since 3.4.45 (June 2026) and gets no more fixes',
    fixedIn: '3.5 or 3.6',
    affects: (v) => v.minor === 4,
  },
];
