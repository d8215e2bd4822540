import { ADVISORIES } from './advisories';

const STRICT_VERSION = /^v?(0|[1-9]\d{0,3})\.(0|[1-9]\d{0,3})\.(0|[1-9]\d{0,3})$/;

/** The newest minor line whose flags and endpoints this library knows. */
const NEWEST_KNOWN_MINOR = 6;

/**
 * An etcd release. Parsed strictly, and refused when Kubernetes calls it unsafe.
 *
 * Everything that depends on the version (flag names, probe endpoints, advisories) is
 * answered here, so the renderers never compare version numbers themselves.
 */
export class EtcdVersion {
  /** etcd 3.5.28: the newest 3.5 patch this library knows, with every listed advisory fixed. */
  public static readonly V3_5_28 = EtcdVersion.of('3.5.28');

  /** etcd 3.6.9: the newest 3.6 patch this library knows, with every listed advisory fixed. */
  public static readonly V3_6_9 = EtcdVersion.of('3.6.9');

  /** The version used when none is given: a current 3.6 release with no known advisory. */
  public static readonly DEFAULT = EtcdVersion.V3_6_9;

  /**
   * Parse a version such as `3.5.24` (a leading `v` is accepted).
   *
   * Throws for malformed strings, for versions below 3.4.22, for 3.5.0 to 3.5.5
   * (versions Kubernetes calls unsafe for production), and for major versions other than 3.
   */
  public static of(version: string): EtcdVersion {
    const match = STRICT_VERSION.exec(String(version).trim());
    if (!match) {
      throw new Error(`version must look like MAJOR.MINOR.PATCH, e.g. 3.5.24 (got '${version}')`);
    }
    const [major, minor, patch] = match.slice(1).map(Number);
    const parsed = new EtcdVersion(major, minor, patch);
    if (major !== 3) {
      throw new Error(`version must be an etcd 3.x release (got ${parsed}): the flags and APIs this library renders are etcd v3's`);
    }
    if (!parsed.isAtLeast(3, 4, 22)) {
      throw new Error(`version ${parsed} is not safe for production: Kubernetes requires etcd 3.4.22+ or 3.5.6+`);
    }
    if (minor === 5 && patch < 6) {
      throw new Error(`version ${parsed} is not safe for production: 3.5.0 to 3.5.5 can corrupt data (inconsistent revisions, online defrag crash); use 3.5.6 or later`);
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
    if (this.minor === 4) return this.patch >= 29;
    if (this.minor === 5) return this.patch >= 11;
    return this.minor > 5;
  }

  /**
   * Whether `/health?serializable=true` answers from the local member without quorum (3.5.3+).
   * etcd 3.4 ignores the parameter: its `/health` fails on every member once quorum is lost.
   */
  public get servesSerializableHealth(): boolean {
    return this.minor >= 5;
  }

  /** Whether experimental features are switched with `--feature-gates` (3.6+) rather than `--experimental-*` flags. */
  public get usesFeatureGates(): boolean {
    return this.minor >= 6;
  }

  /** Whether this library knows the minor line; newer lines are rendered with the newest known flags. */
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
