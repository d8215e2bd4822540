const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const REPOSITORY = /^[a-z0-9]+([._-]+[a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-]+[a-z0-9]+)*)*$/;

/** `repository:tag`, after checking both parts are well-formed. */
export function validateImage(repository: string, tag: string): string {
  if (!REPOSITORY.test(repository)) {
    throw new Error(`imageRepository must be an image repository without tag or digest, e.g. 'registry.example.com/etcd' (got '${repository}')`);
  }
  if (!TAG.test(tag)) {
    throw new Error(`imageTag must be a tag of up to 128 letters, digits, '_', '.' and '-', e.g. 'v3.6.9' (got '${tag}')`);
  }
  return `${repository}:${tag}`;
}
