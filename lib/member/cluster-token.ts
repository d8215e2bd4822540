import { createHash } from 'crypto';
import { EtcdConfigError } from '../shared/errors';

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
