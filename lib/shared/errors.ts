/**
 * What every check in this library throws: an Error whose string form is its message alone.
 *
 * jsii hands an error thrown by a method or a static factory to Python, Java and Go as `String(error)`, which for
 * a plain Error is `Error: <message>`. With this class those users read exactly the message TypeScript users do
 * (test/bindings). The stack, `name` and `instanceof Error` are unchanged.
 */
export class EtcdConfigError extends Error {
  public override toString(): string {
    return this.message;
  }
}
