import { EtcdConfigError } from '../shared/errors';
import { ADVISORIES } from './advisories';

const STRICT_VERSION = /^v?(0|[1-9]\d{0,3})\.(0|[1-9]\d{0,3})\.(0|[1-9]\d{0,3})$/;

/** The newest minor line whose flags and endpoints this library knows (checked against that line's `etcd --help`). */
const NEWEST_KNOWN_MINOR = 7;
/** The lines this library knows, for messages. */
export const KNOWN_LINES = `3.4 to 3.${NEWEST_KNOWN_MINOR}`;
/** The newest line this library knows, as `3.N`. */
export const NEWEST_KNOWN_LINE = `3.${NEWEST_KNOWN_MINOR}`;

/**
 * An etcd release. Parsed strictly, and refused when Kubernetes calls it unsafe.
 *
 * Everything that depends on the version (flag names, probe endpoints, advisories) is
 * answered here, so the renderers never compare version numbers themselves.
 */
export class EtcdVersion {
  /**
   * etcd 3.4.45: the last 3.4 release. The line is end of life, so it always carries a warning.
   */
  public static readonly V3_4_45 = EtcdVersion.of('3.4.45');

  /** etcd 3.5.35: the newest 3.5 patch this library knows, with every listed advisory fixed. */
  public static readonly V3_5_35 = EtcdVersion.of('3.5.35');

  /** etcd 3.6.16: the newest 3.6 patch this library knows, with every listed advisory fixed. */
  public static readonly V3_6_16 = EtcdVersion.of('3.6.16');

  /** etcd 3.7.3: the newest 3.7 patch this library knows, with every listed advisory fixed. */
  public static readonly V3_7_3 = EtcdVersion.of('3.7.3');

  /**
   * etcd 3.5.28.
   * @deprecated it now has advisories (fixed in 3.5.30 and later): use `V3_5_35`.
   */
  public static readonly V3_5_28 = EtcdVersion.of('3.5.28');

  /**
   * etcd 3.6.9.
   * @deprecated it now has advisories (fixed in 3.6.11 and later): use `V3_6_16`.
   */
  public static readonly V3_6_9 = EtcdVersion.of('3.6.9');

  /**
   * The version used when none is given: the newest patch of 3.6, the mature line, with no known
   * advisory. 3.7 (first released 2026-07-08) is supported and tested; choose it with `V3_7_3`.
   */
  public static readonly DEFAULT = EtcdVersion.V3_6_16;

  /**
   * Parse a version such as `3.5.24` (a leading `v` is accepted).
   *
   * Throws for malformed strings, for versions below 3.4.22, for 3.5.0 to 3.5.5
   * (versions Kubernetes calls unsafe for production), and for major versions other than 3.
   */
  public static of(version: string): EtcdVersion {
    const match = STRICT_VERSION.exec(String(version).trim());
    if (!match) {
      throw new EtcdConfigError(`version must look like MAJOR.MINOR.PATCH, e.g. 3.5.24 (got '${version}')`);
    }
    const [major, minor, patch] = match.slice(1).map(Number);
    const parsed = new EtcdVersion(major, minor, patch);
    if (major !== 3) {
      throw new EtcdConfigError(`version must be an etcd 3.x release (got ${parsed}): the flags and APIs this library renders are etcd v3's`);
    }
    if (!parsed.isAtLeast(3, 4, 22)) {
      throw new EtcdConfigError(`version ${parsed} is not safe for production: Kubernetes requires etcd 3.4.22+ or 3.5.6+`);
    }
    if (minor === 5 && patch < 6) {
      throw new EtcdConfigError(`version ${parsed} is not safe for production: 3.5.0 to 3.5.5 can corrupt data (inconsistent revisions, online defrag crash); use 3.5.6 or later`);
    }
    return parsed;
  }

  private constructor(
    /** Major version number. */
    public readonly major: number,
    /** Minor version number. */
    public readonly minor: number,
    /** Patch version number. */
    public readonly patch: number,
  ) {}

  /** Whether this version is the given one or newer. */
  public isAtLeast(major: number, minor: number, patch: number): boolean {
    if (this.major !== major) return this.major > major;
    if (this.minor !== minor) return this.minor > minor;
    return this.patch >= patch;
  }

  /**
   * Whether the metrics listener serves `/livez` and `/readyz`
   * (3.4.29+, 3.5.11+ and every 3.6 release).
   */
  public get servesLivezAndReadyz(): boolean {
    return this.hasChangeFrom([4, 29], [5, 11]);
  }

  /**
   * Whether `/health?serializable=true` answers from the local member without quorum (3.5.3+).
   * etcd 3.4 ignores the parameter: its `/health` fails on every member once quorum is lost.
   */
  public get servesSerializableHealth(): boolean {
    return this.minor >= 5;
  }

  /**
   * Whether `/readyz` includes the `non_learner` check (3.5.19+ and every 3.6 and 3.7 release), so a
   * learner is never ready until it is promoted.
   */
  public get readyzRefusesLearners(): boolean {
    return this.hasChangeFrom([5, 19]);
  }

  /**
   * Whether features are switched with `--feature-gates` and the graduated flag names
   * (`--watch-progress-notify-interval`), 3.6 and later. 3.6 still accepts the old
   * `--experimental-*` flags with a deprecation notice; 3.7 removed them, so etcd refuses to start.
   */
  public get usesFeatureGates(): boolean {
    return this.minor >= 6;
  }

  /**
   * The offline snapshot tool: `etcdutl` from 3.5 (3.6 removed `etcdctl snapshot status|restore`);
   * 3.4 has only `etcdctl`.
   */
  public get snapshotTool(): string {
    return this.minor >= 5 ? 'etcdutl' : 'etcdctl';
  }

  /**
   * Whether a restore can move the revision forward (`--bump-revision` with `--mark-compacted`):
   * etcdctl 3.4.27+, etcdutl 3.5.10+, every 3.6 and 3.7 release.
   */
  public get restoreCanBumpRevision(): boolean {
    return this.hasChangeFrom([4, 27], [5, 10]);
  }

  /**
   * Whether `etcdctl member list` can answer from the local member (`--consistency=s`, 3.6+). 3.5 always
   * asks the leader, so it needs quorum; 3.4 always answers locally.
   */
  public get memberListTakesConsistency(): boolean {
    return this.minor >= 6;
  }

  /**
   * Whether this release has a change that shipped in the given `[minor, patch]` releases of 3.x (oldest line
   * first) and is in every later minor line; lines older than the first given do not have it.
   */
  private hasChangeFrom(...firstReleases: Array<[number, number]>): boolean {
    const [newestMinor] = firstReleases[firstReleases.length - 1];
    if (this.minor > newestMinor) return true;
    const first = firstReleases.find(([minor]) => minor === this.minor);
    return first !== undefined && this.patch >= first[1];
  }

  /** Whether this library knows the minor line. Newer lines are rendered with the newest known flags. */
  public get isKnownMinor(): boolean {
    return this.minor <= NEWEST_KNOWN_MINOR;
  }

  /** Known problems of this release, one sentence each with the fix version. Empty when there are none. */
  public get advisories(): string[] {
    return ADVISORIES.filter((a) => a.affects(this)).map((a) => `etcd ${this}: ${a.problem} (fixed in ${a.fixedIn})`);
  }

  /** The version as `MAJOR.MINOR.PATCH`, without a leading `v`. */
  public toString(): string {
    return `${this.major}.${this.minor}.${this.patch}`;
  }
}
