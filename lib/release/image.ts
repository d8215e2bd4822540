import { IConstruct } from 'constructs';
import { EtcdConfigError } from '../shared/errors';
import { addWarning } from '../shared/warnings';
import { EtcdVersion } from './version';

/** etcd's release images, published by etcd's release process for every release as `v<version>`. */
const DEFAULT_IMAGE_REPOSITORY = 'gcr.io/etcd-development/etcd';

/** The OCI reference grammar's tag and repository (registry host, optional port, path), unanchored. */
export const TAG_PATTERN = '[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}';
export const REPOSITORY_PATTERN = '[a-z0-9]+([._-]+[a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-]+[a-z0-9]+)*)*';
const TAG = new RegExp(`^${TAG_PATTERN}$`);
const REPOSITORY = new RegExp(`^${REPOSITORY_PATTERN}$`);
/**
 * A tag that names an etcd release: etcd's `v3.6.16`, kubeadm's `3.6.16-0`, or a mirror's `3.6.16`.
 * Anything after the patch number is a packaging suffix.
 */
const VERSION_TAG = /^v?(\d+)\.(\d+)\.(\d+)(?:[-_.+].*)?$/;
/** Tags that move from release to release. */
export const MUTABLE_TAGS = new Set(['latest', 'stable', 'main', 'master', 'edge', 'nightly', 'canary']);

/**
 * `repository:tag` for the etcd image, after checking both parts are well-formed and that the tag
 * runs the version the flags and probes are rendered for. The default tag is `v<version>`.
 */
export function resolveImage(scope: IConstruct, version: EtcdVersion, repository: string = DEFAULT_IMAGE_REPOSITORY,
  tag: string = `v${version}`): string {
  if (typeof repository !== 'string' || !REPOSITORY.test(repository)) {
    throw new EtcdConfigError(`imageRepository must be an image repository without tag or digest, e.g. 'registry.example.com/etcd' (got '${repository}')`);
  }
  if (typeof tag !== 'string' || !TAG.test(tag)) {
    throw new EtcdConfigError(`imageTag must be a tag of up to 128 letters, digits, '_', '.' and '-', e.g. 'v${version}' (got '${tag}')`);
  }
  const named = VERSION_TAG.exec(tag);
  if (named) {
    const tagVersion = named.slice(1, 4).map(Number).join('.');
    if (tagVersion !== version.toString()) {
      throw new EtcdConfigError(`imageTag '${tag}' runs etcd ${tagVersion}, but version is ${version}: flags and probes are rendered for version, and etcd refuses flags it does not know. `
        + `Set version: EtcdVersion.of('${tagVersion}'), or use a tag of ${version}`);
    }
  } else if (MUTABLE_TAGS.has(tag.toLowerCase())) {
    throw new EtcdConfigError(`imageTag '${tag}' is mutable: a node may pull an etcd release other than ${version}, whose flags the manifests are rendered for. Use a version tag such as 'v${version}'`);
  } else {
    addWarning(scope, `imageTag '${tag}' does not name an etcd version, so it cannot be checked against version ${version}: make sure the image runs etcd ${version}`);
  }
  return `${repository}:${tag}`;
}
