import { EtcdTls } from '../../lib';
import { describeEachLine, ipPrefix } from './harness/environment';
import { EtcdHarness } from './harness/etcd-harness';
import { synthesizeForHarness } from './harness/synthesize';

describeEachLine('TLS sources on real etcd', (line) => {
  test('EtcdTls.generate(): the Secrets in the manifests form a mutual-TLS cluster', async () => {
    const { etcd, manifests } = synthesizeForHarness(line.version, 3, { tls: EtcdTls.generate() });
    expect(manifests.filter((m) => m.kind === 'Certificate')).toEqual([]);
    const h = EtcdHarness.forStatefulSet(manifests, { ipPrefix: ipPrefix(line, 9), clientSecretName: etcd.clientSecretName });
    try {
      await h.startAllAndWait(60000);
      expect(h.etcdctl(['put', '/e2e/generated', 'yes']).stdout.trim()).toBe('OK');
      expect(h.etcdctl(['get', '/e2e/generated', '--print-value-only', '--consistency=l']).stdout.trim()).toBe('yes');
    } finally {
      await h.dispose();
    }
  }, 90000);
});
