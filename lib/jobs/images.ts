import { MUTABLE_TAGS, REPOSITORY_PATTERN, TAG_PATTERN } from '../release/image';
import { EtcdConfigError } from '../shared/errors';

/**
 * The small, pinned images the jobs use beside the cluster's own etcd image (which brings etcdctl
 * and etcdutl of the cluster's release, and nothing else: it is distroless).
 */
export const DEFAULT_IMAGES = {
  /** Its busybox is statically linked (musl), so a copy runs inside the distroless etcd image. */
  busybox: 'busybox:1.37.0-musl',
  /** Alpine-based: rclone (a static Go binary) and a busybox shell. */
  rclone: 'rclone/rclone:1.76.0',
};

const IMAGE = new RegExp(`^${REPOSITORY_PATTERN}(:${TAG_PATTERN})?(@sha256:[a-f0-9]{64})?$`);
/** rclone also publishes a moving `beta` tag. */
const MOVING_TAGS = new Set([...MUTABLE_TAGS, 'beta']);

/** Throw unless `image` is pinned: a tag that names a release, or a digest. */
export function validatePinnedImage(property: string, image: string, example: string): string {
  const tag = typeof image === 'string' ? /:([^/:@]+)(@|$)/.exec(image)?.[1] : undefined;
  const digest = typeof image === 'string' && image.includes('@sha256:');
  if (typeof image !== 'string' || !IMAGE.test(image) || (!digest && (tag === undefined || MOVING_TAGS.has(tag.toLowerCase())))) {
    throw new EtcdConfigError(`${property} must be an image pinned by a version tag or digest, e.g. '${example}' (got '${image}'): the job's commands are written for that image's contents`);
  }
  return image;
}
