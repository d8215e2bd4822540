import { IConstruct } from 'constructs';

/** Context key (or `CDK8S_ETCD_STRICT=true`) that turns this library's warnings into synthesis errors. */
const STRICT_CONTEXT_KEY = 'cdk8s-etcd:strict';

/**
 * Whether warnings fail synthesis: `app.node.setContext('cdk8s-etcd:strict', true)`, or the environment
 * variable `CDK8S_ETCD_STRICT=true` (for CI, without changing code).
 */
function isStrict(scope: IConstruct): boolean {
  const context = scope.node.tryGetContext(STRICT_CONTEXT_KEY);
  return context === true || context === 'true' || process.env.CDK8S_ETCD_STRICT === 'true';
}

/** Metadata type under which warnings are recorded on the construct tree. */
export const WARNING_METADATA = 'cdk8s-etcd:warning';

/**
 * Warn, once, when the app is synthesized: the warning is recorded as construct metadata
 * (so tests and tools can read it) and printed with console.warn (so `cdk8s synth` shows it).
 * In strict mode (see `isStrict`) it fails synthesis instead.
 *
 * @param when checked at synthesis, so state that `add*()` calls change is judged last
 */
export function addWarning(scope: IConstruct, message: string, when: () => boolean = () => true): void {
  let emitted = false;
  scope.node.addValidation({
    validate: () => {
      if (!emitted && when()) {
        if (isStrict(scope)) return [`${message} (strict mode: cdk8s-etcd warnings fail synthesis)`];
        emitted = true;
        scope.node.addMetadata(WARNING_METADATA, message);
        console.warn(`[cdk8s-etcd] WARNING ${scope.node.path}: ${message}`);
      }
      return [];
    },
  });
}

/** Every warning recorded on this construct and its children (after synthesis). */
export function warningsOf(scope: IConstruct): string[] {
  return scope.node.findAll()
    .flatMap((c) => c.node.metadata)
    .filter((m) => m.type === WARNING_METADATA)
    .map((m) => String(m.data));
}
