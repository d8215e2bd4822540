import { validateObject } from './support/schema';

// The validator must be able to fail, or every "validated" test proves nothing.
describe('schema validation', () => {
  test('accepts a valid object', () => {
    expect(() => validateObject({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'ok' }, spec: { ports: [{ port: 2379 }] } } as never)).not.toThrow();
  });

  test('rejects a wrongly typed field with its path', () => {
    expect(() => validateObject({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'bad' }, spec: { ports: [{ port: 'x' }] } } as never))
      .toThrow(/Service bad violates the v1 schema: .*ports\/0\/port/);
  });

  test('rejects a StatefulSet missing a required field', () => {
    expect(() => validateObject({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 's' }, spec: { serviceName: 'x', template: {} } } as never))
      .toThrow(/selector/);
  });

  test('refuses kinds it has no schema for', () => {
    expect(() => validateObject({ apiVersion: 'example.com/v1', kind: 'Thing', metadata: { name: 't' } })).toThrow(/no schema known/);
  });
});
