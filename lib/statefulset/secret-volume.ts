import { k8s } from 'cdk8s-plus-28';

/** Mode of files in Secret volumes: owner and group (the pod's fsGroup) may read them, nobody else. */
const SECRET_FILE_MODE = 0o440;

/** A Secret as a volume whose files only the pod's user and fsGroup can read. */
export function secretVolume(name: string, secretName: string): k8s.Volume {
  return { name, secret: { secretName, defaultMode: SECRET_FILE_MODE } };
}
