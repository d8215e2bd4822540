import { App, Chart } from 'cdk8s';
import { EtcdCluster, EtcdNetworkPeer } from '../../lib';

// jsii passes an error thrown by a method or static factory to Python, Java and Go as String(error); the binding
// tests (test/bindings) prove the result, these keep the rule visible to the unit loop.
function thrown(attempt: () => unknown): Error {
  try {
    attempt();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

test.each([
  ['a constructor', () => new EtcdCluster(new Chart(new App(), 'etcd'), 'etcd', { members: 4 })],
  ['a static factory', () => EtcdNetworkPeer.ipBlock('10.0.0.0/33')],
])('an error from %s is an Error whose string form is its message alone', (_what, attempt) => {
  const error = thrown(attempt);
  expect(error).toBeInstanceOf(Error);
  expect(error.message).toMatch(/^(members|EtcdNetworkPeer\.ipBlock\(\) cidr) must be /);
  expect(String(error)).toBe(error.message);
  expect(error.stack).toMatch(/^Error: /);
});
