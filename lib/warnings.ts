import { IConstruct } from 'constructs';

/** Metadata type under which warnings are recorded on the construct tree. */
export const WARNING_METADATA = 'cdk8s-etcd:warning';

/**
 * Warn, once, when the app is synthesized: the warning is recorded as construct metadata
 * (so tests and tools can read it) and printed with console.warn (so `cdk8s synth` shows it).
 *
 * @param when checked at synthesis, so state that `add*()` calls change is judged last
 */
export function addWarning(scope: IConstruct, message: string, when: () => boolean = () => true): void {
  let emitted = false;
  scope.node.addValidation({
    validate: () => {
      if (!emitted && when()) {
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
