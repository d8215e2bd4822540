import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { binariesForImage } from './etcd-lines';

/** Same rule as scripts/build-e2e-tools.sh. */
function toolsCacheDir(): string {
  return path.join(process.env.CDK8S_ETCD_CACHE ?? path.join(os.homedir(), '.cache/cdk8s-etcd'), 'tools');
}

/** Debian's busybox-static: a statically linked busybox, as the official busybox image has. */
const BUSYBOX = '/bin/busybox';

const BUILD_SCRIPT = path.resolve(__dirname, '../../../scripts/build-e2e-tools.sh');

/** A tool's release as scripts/build-e2e-tools.sh pins it (`"<name> v<version> <package>"`): the one place it is written. */
export function pinnedToolVersion(name: string): string {
  const version = new RegExp(`^\\s*"${name} v(\\d+\\.\\d+\\.\\d+) `, 'm').exec(fs.readFileSync(BUILD_SCRIPT, 'utf8'))?.[1];
  if (!version) throw new Error(`harness: ${BUILD_SCRIPT} pins no version of ${name}`);
  return version;
}

/** A tool built by scripts/build-e2e-tools.sh, or why it is missing. */
export function toolBinary(name: string, version: string): { binary?: string; missing?: string } {
  const binary = path.join(toolsCacheDir(), `${name}-${version}`, name);
  if (!fs.existsSync(binary)) return { missing: `${name} ${version} is not built in ${path.dirname(binary)} (run: bash scripts/build-e2e-tools.sh)` };
  return { binary };
}

/** Why the backup scenarios cannot run here (tools missing), or undefined. */
export function backupToolsProblem(rcloneVersion: string): string | undefined {
  if (!isStaticBusybox()) return `${BUSYBOX} is missing or not statically linked (apt-get install -y busybox-static)`;
  return toolBinary('rclone', rcloneVersion).missing ?? toolBinary('versitygw', pinnedToolVersion('versitygw')).missing;
}

function isStaticBusybox(): boolean {
  if (!fs.existsSync(BUSYBOX)) return false;
  const out = spawnSync('file', ['-L', BUSYBOX], { encoding: 'utf8' }).stdout ?? '';
  return out === '' || out.includes('statically linked');
}

/** What an image holds, as files bind-mounted into a root filesystem: `path in image -> host file`, plus symlinks. */
export interface ImageContents {
  readonly files: Map<string, string>;
  readonly symlinks: Map<string, string>;
  /** The image's PATH (its config's Env), which the container gets unless it sets its own. */
  readonly path: string;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The contents of the images the jobs use, and nothing more, so a command the image lacks fails here too:
 * - etcd release images (distroless): `/usr/local/bin/etcd`, `etcdctl`, and `etcdutl` from 3.5;
 * - `busybox:*`: `/bin/busybox` and its applet links in `/bin`;
 * - `rclone/rclone:<v>` (alpine): `/usr/local/bin/rclone` of exactly that release, and alpine's busybox shell.
 * Dynamically linked binaries (Debian's etcd 3.4) bring the libraries they load.
 */
export function imageContents(image: string): ImageContents {
  const files = new Map<string, string>();
  const symlinks = new Map<string, string>();
  const withBusybox = () => {
    files.set('/bin/busybox', BUSYBOX);
    const applets = (spawnSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).stdout ?? '').split('\n').filter(Boolean);
    for (const applet of applets) if (applet !== 'busybox') symlinks.set(`/bin/${applet}`, 'busybox');
  };
  const repository = image.replace(/[:@][^/]*$/, '');
  const tag = /:([^/:@]+)(@|$)/.exec(image)?.[1] ?? '';
  if (/(^|\/)etcd$/.test(repository)) {
    const b = binariesForImage(image);
    files.set('/usr/local/bin/etcd', b.etcd);
    files.set('/usr/local/bin/etcdctl', b.etcdctl);
    if (b.etcdutl) files.set('/usr/local/bin/etcdutl', b.etcdutl);
  } else if (/(^|\/)busybox$/.test(repository)) {
    withBusybox();
  } else if (/(^|\/)rclone\/rclone$/.test(repository)) {
    const { binary, missing } = toolBinary('rclone', tag.replace(/^v/, ''));
    if (!binary) throw new Error(`harness: the image ${image} runs rclone ${tag}: ${missing}`);
    files.set('/usr/local/bin/rclone', binary);
    withBusybox();
  } else {
    throw new Error(`harness: no stand-in for the image ${image}`);
  }
  for (const binary of [...files.values()]) for (const lib of sharedLibraries(binary)) files.set(lib, lib);
  return { files, symlinks, path: DEFAULT_PATH };
}

/** The shared libraries a dynamically linked binary loads (none for static Go binaries and busybox-static). */
function sharedLibraries(binary: string): string[] {
  const out = spawnSync('ldd', [binary], { encoding: 'utf8' });
  if (out.status !== 0) return [];
  return [...out.stdout.matchAll(/(\/\S+)\s+\(0x/g)].map((m) => m[1]);
}
