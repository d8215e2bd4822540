import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** One etcd release line the real-etcd suite runs on, and where its binaries are. */
export interface EtcdLine {
  /** `3.N`. */
  readonly line: string;
  /** The exact release, e.g. `3.6.16`: manifests are synthesized for it. */
  readonly version: string;
  /** Where the binaries come from, for messages. */
  readonly source: string;
  /** Directory holding `etcd` and `etcdctl` (and `etcdutl` from 3.5), when they are present and of `version`. */
  readonly binDir?: string;
  /** Why the binaries are not usable, when they are not. */
  readonly missing?: string;
  /** Second octet of the loopback addresses this line's scenarios use (127.<octet>.N.x), so lines can run side by side. */
  readonly octet: number;
}

const REPO = path.resolve(__dirname, '../../..');
const LINES_DIR = path.join(REPO, 'test/e2e/etcd-lines');
/** Debian's etcd 3.4 (`apt-get install etcd-server etcd-client`). */
const DEBIAN_BIN = '/usr/bin';

/** Same rule as scripts/build-etcd-lines.sh. */
function etcdCacheDir(): string {
  return path.join(process.env.CDK8S_ETCD_CACHE ?? path.join(os.homedir(), '.cache/cdk8s-etcd'), 'etcd');
}

/** The release an etcd binary reports, or undefined when it does not run. */
function binaryVersion(binary: string): string | undefined {
  if (!fs.existsSync(binary)) return undefined;
  const out = spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout ?? '';
  return /etcd Version: (\d+\.\d+\.\d+)/.exec(out)?.[1];
}

function lineOf(version: string): { line: string; octet: number } {
  const minor = Number(version.split('.')[1]);
  return { line: `3.${minor}`, octet: minor - 4 };
}

/** Debian's package: whatever 3.4 release it installs. */
function debianLine(): EtcdLine {
  const source = "Debian's etcd-server and etcd-client packages";
  const version = binaryVersion(path.join(DEBIAN_BIN, 'etcd'));
  if (!version) {
    return { line: '3.4', version: '3.4.23', source, octet: 0, missing: 'etcd is not installed (apt-get install -y etcd-server etcd-client)' };
  }
  const missing = fs.existsSync(path.join(DEBIAN_BIN, 'etcdctl')) ? undefined : 'etcdctl is not installed (apt-get install -y etcd-client)';
  return { ...lineOf(version), version, source, binDir: missing ? undefined : DEBIAN_BIN, missing };
}

/** A line built from etcd's Go modules: the version is the one its wrapper module's go.mod pins. */
function builtLine(goMod: string): EtcdLine {
  const text = fs.readFileSync(goMod, 'utf8');
  const version = /^\s*go\.etcd\.io\/etcd\/server\/v3 v(\d+\.\d+\.\d+)\s/m.exec(text)?.[1];
  if (!version) throw new Error(`harness: ${goMod} does not pin go.etcd.io/etcd/server/v3 to a release`);
  const source = `etcd's Go modules (${path.relative(REPO, goMod)})`;
  const binDir = path.join(etcdCacheDir(), version);
  const absent = ['etcd', 'etcdctl', 'etcdutl'].filter((b) => !fs.existsSync(path.join(binDir, b)));
  if (absent.length > 0) {
    return { ...lineOf(version), version, source, missing: `${absent.join(', ')} ${version} not built in ${binDir} (run: bash scripts/build-etcd-lines.sh)` };
  }
  const reported = binaryVersion(path.join(binDir, 'etcd'));
  if (reported !== version) {
    return { ...lineOf(version), version, source, missing: `${binDir}/etcd reports ${reported ?? 'no version'}, not ${version}` };
  }
  return { ...lineOf(version), version, source, binDir };
}

let discovered: EtcdLine[] | undefined;

/** Every line the suite runs on, oldest first: Debian's 3.4, then each wrapper module under test/e2e/etcd-lines/. */
export function etcdLines(): EtcdLine[] {
  if (!discovered) {
    const built = fs.readdirSync(LINES_DIR)
      .filter((d) => fs.existsSync(path.join(LINES_DIR, d, 'go.mod')))
      .map((d) => builtLine(path.join(LINES_DIR, d, 'go.mod')));
    discovered = [debianLine(), ...built].sort((a, b) => a.octet - b.octet);
  }
  return discovered;
}

/** An image tag's etcd release: `v3.6.16`, `3.6.16-0` and `3.6.16` name 3.6.16. */
function imageVersion(image: string): string | undefined {
  return /:v?(\d+\.\d+\.\d+)(?:[-_.+][^/:]*)?$/.exec(image)?.[1];
}

/** The binaries of a given release, or why there are none. Never another release's binaries. */
export interface EtcdBinaries {
  readonly version: string;
  readonly etcd: string;
  readonly etcdctl: string;
  /** etcdutl, from 3.5 (3.4 has none). */
  readonly etcdutl?: string;
}

/**
 * The binaries that stand in for a container image: the release its tag names, and only that release.
 * Throws when the tag names no release or one whose binaries are not here.
 */
export function binariesForImage(image: string): EtcdBinaries {
  const version = imageVersion(image);
  if (!version) throw new Error(`harness: the image ${image} does not name an etcd release, so no binaries can stand in for it`);
  const line = etcdLines().find((l) => l.version === version && l.binDir);
  if (!line) {
    const have = etcdLines().filter((l) => l.binDir).map((l) => l.version).join(', ') || 'none';
    throw new Error(`harness: the image ${image} runs etcd ${version}, but this machine has no etcd ${version} binaries (it has: ${have})`);
  }
  return {
    version,
    etcd: stageForPodUsers(path.join(line.binDir!, 'etcd'), version),
    etcdctl: path.join(line.binDir!, 'etcdctl'),
    etcdutl: fs.existsSync(path.join(line.binDir!, 'etcdutl')) ? path.join(line.binDir!, 'etcdutl') : undefined,
  };
}

/**
 * The cache usually lives under root's home, which a pod's non-root user cannot traverse: copy the
 * binary once to a world-readable place (atomically, since Jest workers run side by side).
 */
function stageForPodUsers(binary: string, version: string): string {
  if (binary.startsWith(`${DEBIAN_BIN}/`)) return binary;
  const dir = path.join(os.tmpdir(), 'cdk8s-etcd-bin', version);
  const staged = path.join(dir, path.basename(binary));
  if (fs.existsSync(staged) && fs.statSync(staged).size === fs.statSync(binary).size) return staged;
  fs.mkdirSync(dir, { recursive: true });
  fs.chmodSync(path.dirname(dir), 0o755);
  fs.chmodSync(dir, 0o755);
  const tmp = `${staged}.${process.pid}`;
  fs.copyFileSync(binary, tmp);
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, staged);
  return staged;
}
