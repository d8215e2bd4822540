/**
 * Validates synthesized objects against the real Kubernetes OpenAPI schemas (kubernetes-models).
 * An object whose kind has no schema here fails: nothing we generate goes unchecked.
 */
type Validatable = { validate(): void };
type ModelClass = new (data: unknown) => Validatable;

const MODEL_PACKAGES: { [group: string]: string } = {
  '': 'kubernetes-models',
  'apps': 'kubernetes-models',
  'batch': 'kubernetes-models',
  'policy': 'kubernetes-models',
  'networking.k8s.io': 'kubernetes-models',
  'rbac.authorization.k8s.io': 'kubernetes-models',
  'cert-manager.io': '@kubernetes-models/cert-manager',
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator',
};

function modelFor(apiVersion: string, kind: string): ModelClass {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const pkg = MODEL_PACKAGES[group];
  if (!pkg) throw new Error(`no schema known for ${apiVersion} ${kind}`);
  const modulePath = group === '' ? `${pkg}/${version}/${kind}` : `${pkg}/${group}/${version}/${kind}`;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(modulePath) as { [name: string]: ModelClass };
  if (!mod[kind]) throw new Error(`no schema known for ${apiVersion} ${kind}`);
  return mod[kind];
}

/** Throws, naming the object and the JSON path, when `obj` violates its kind's schema. */
export function validateObject(obj: { apiVersion: string; kind: string; metadata?: { name?: string } }): void {
  const Model = modelFor(obj.apiVersion, obj.kind);
  try {
    new Model(obj).validate();
  } catch (e) {
    throw new Error(`${obj.kind} ${obj.metadata?.name} violates the ${obj.apiVersion} schema: ${(e as Error).message}`);
  }
}
