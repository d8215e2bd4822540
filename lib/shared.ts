import { createHash } from 'crypto';
import { IConstruct } from 'constructs';
import { EtcdConfigError } from './errors';
import { EtcdVersion, KNOWN_LINES, NEWEST_KNOWN_LINE } from './version';
import { addWarning } from './warnings';

/** Mode of files in Secret volumes: owner and group (the pod's fsGroup) may read them, nobody else. */
export const SECRET_FILE_MODE = 0o440;

const TOKEN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * `--initial-cluster-token`: the one given, or one derived from what identifies the cluster
 * (namespace and name), so it is stable across syntheses and when the construct moves in code,
 * and different for every cluster.
 */
export function clusterToken(name: string, namespace: string, given?: string): string {
  if (given !== undefined) {
    if (typeof given !== 'string' || !TOKEN.test(given)) {
      throw new EtcdConfigError(`initialClusterToken must be up to 128 letters, digits, '.', '_' and '-', starting with a letter or digit (got '${given}')`);
    }
    return given;
  }
  const digest = createHash('sha256').update(`${namespace}/${name}`).digest('hex');
  return `${name}-${namespace}-${digest.slice(0, 10)}`;
}

/** Synth-time warnings for a version's advisories, and for lines newer than this library knows. */
export function warnAboutVersion(scope: IConstruct, version: EtcdVersion): void {
  for (const advisory of version.advisories) addWarning(scope, advisory);
  if (!version.isKnownMinor) {
    addWarning(scope, `version ${version} is newer than the releases this library knows (${KNOWN_LINES}): flags and probes are rendered as for ${NEWEST_KNOWN_LINE}, which the new line may not accept`);
  }
}

/** The kube-apiserver flags that point it at etcd with a client certificate. */
export function apiServerFlags(etcdServers: string, caFile: string, certFile: string, keyFile: string): string[] {
  return [
    `--etcd-servers=${etcdServers}`,
    `--etcd-cafile=${caFile}`,
    `--etcd-certfile=${certFile}`,
    `--etcd-keyfile=${keyFile}`,
  ];
}

/**
 * A whole number of seconds as a Go duration in the largest exact unit (`1h`, `90m`, `45s`), as
 * etcd's retention flag and cert-manager's fields read them (etcd takes a bare number as hours).
 */
export function goDuration(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/** Throw unless `value` is a clean absolute path (no whitespace, `..`, `//` or trailing slash). */
export function validateAbsolutePath(property: string, value: string): void {
  if (typeof value !== 'string' || !/^\/[^\s]*$/.test(value) || /(^|\/)\.\.?(\/|$)/.test(value) || value.includes('//') || (value.length > 1 && value.endsWith('/'))) {
    throw new EtcdConfigError(`${property} must be an absolute path without spaces, '.', '..', '//' or a trailing '/' (got '${value}')`);
  }
}
