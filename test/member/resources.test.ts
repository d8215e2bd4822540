import { Size } from 'cdk8s';
import { EtcdResources } from '../../lib';

const kube = (r: EtcdResources) => JSON.parse(JSON.stringify(r._toKube(), (_k, v) => (v && v.value !== undefined ? v.value : v)));

describe('EtcdResources', () => {
  test('minimal requests a little and limits nothing', () => {
    expect(kube(EtcdResources.minimal())).toEqual({ requests: { cpu: '250m', memory: '512Mi' } });
  });

  test.each([
    ['small', EtcdResources.small(), '2000m', '8Gi'],
    ['medium', EtcdResources.medium(), '4000m', '16Gi'],
    ['large', EtcdResources.large(), '8000m', '32Gi'],
    ['xlarge', EtcdResources.xlarge(), '16000m', '64Gi'],
  ])('%s follows the hardware guide and caps memory (Burstable)', (_name, r, cpu, memory) => {
    expect(kube(r)).toEqual({ requests: { cpu, memory }, limits: { memory } });
    expect(r.isGuaranteed).toBe(false);
  });

  test('guaranteed sets every limit equal to its request', () => {
    const r = EtcdResources.medium({ guaranteed: true });
    expect(kube(r)).toEqual({ requests: { cpu: '4000m', memory: '16Gi' }, limits: { cpu: '4000m', memory: '16Gi' } });
    expect(r.isGuaranteed).toBe(true);
  });

  test('custom', () => {
    const r = EtcdResources.custom({ cpuRequestMillis: 500, memoryRequest: Size.gibibytes(1), cpuLimitMillis: 500, memoryLimit: Size.mebibytes(1024) });
    expect(kube(r)).toEqual({ requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '500m', memory: '1024Mi' } });
    expect(r.isGuaranteed).toBe(true);
  });

  test.each([
    [{ cpuRequestMillis: 0, memoryRequest: Size.gibibytes(1) }, 'resources.cpuRequestMillis must be a whole number at least 1 (got 0)'],
    [{ cpuRequestMillis: 500, cpuLimitMillis: 250, memoryRequest: Size.gibibytes(1) }, 'resources.cpuLimitMillis must be a whole number of millicores, at least resources.cpuRequestMillis (500) (got 250): Kubernetes rejects a limit below the request'],
    [{ cpuRequestMillis: 500, memoryRequest: Size.gibibytes(2), memoryLimit: Size.gibibytes(1) }, 'resources.memoryLimit must not be below resources.memoryRequest (2Gi) (got 1Gi)'],
  ])('refuses %p', (props, message) => {
    expect(() => EtcdResources.custom(props)).toThrow(message);
  });
});
