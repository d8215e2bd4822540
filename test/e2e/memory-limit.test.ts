import { Size } from 'cdk8s';
import { EtcdResources } from '../../lib';
import { describeEachLine, ipPrefix } from './harness/environment';
import { EtcdHarness } from './harness/etcd-harness';
import { synthesizeForHarness } from './harness/synthesize';

// GOMEMLIMIT is derived from the memory limit. The Go runtime refuses to start on a value it cannot
// parse, so only a real start proves the rendered value is right.
describeEachLine('a memory limit on real etcd', (line) => {
  test('etcd starts with GOMEMLIMIT at 90% of the limit and serves', async () => {
    const resources = EtcdResources.custom({ cpuRequestMillis: 100, memoryRequest: Size.mebibytes(256), memoryLimit: Size.gibibytes(1) });
    const { etcd, manifests } = synthesizeForHarness(line.version, 1, { resources });
    const h = EtcdHarness.forStatefulSet(manifests, { ipPrefix: ipPrefix(line, 10), clientSecretName: etcd.clientSecretName });
    try {
      await h.startAllAndWait(30000);
      expect(h.processEnv(0).GOMEMLIMIT).toBe('921MiB');
      expect(h.etcdctl(['put', '/e2e/memory', 'ok']).stdout.trim()).toBe('OK');
    } finally {
      await h.dispose();
    }
  }, 60000);
});
