import { k8s } from 'cdk8s-plus-28';

/** Mode of files in Secret volumes: owner and group (the pod's fsGroup) may read them, nobody else. */
const SECRET_FILE_MODE = 0o440;

/**
 * A Secret as a volume whose files only the pod's user and fsGroup can read.
 * @param keys only these keys, when the pod needs no other (a CA certificate without its neighbour's key)
 */
export function secretVolume(name: string, secretName: string, keys?: string[]): k8s.Volume {
  return { name, secret: { secretName, defaultMode: SECRET_FILE_MODE, items: keys?.map((key) => ({ key, path: key })) } };
}
