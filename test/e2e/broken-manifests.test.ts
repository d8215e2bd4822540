import { Manifest, only } from '../support/synth';
import { describeEachLine, ipPrefix } from './harness/environment';
import { EtcdHarness } from './harness/etcd-harness';
import { synthesizeForHarness } from './harness/synthesize';

// The harness must fail what would fail in a cluster; otherwise its green runs prove nothing.
describeEachLine('the real-etcd harness rejects broken manifests', (line) => {
  // Members now decide how they start before etcd runs (member-start), which takes seconds more under load.
  const FAIL_WITHIN_MS = 45000;

  async function expectNoCluster(manifests: Manifest[], clientSecretName: string | undefined, ipPrefix: string, failure: RegExp) {
    const h = EtcdHarness.forStatefulSet(manifests, { ipPrefix, clientSecretName });
    try {
      await expect(h.startAllAndWait(FAIL_WITHIN_MS)).rejects.toThrow(failure);
    } finally {
      // Members of a cluster that never formed are slow to stop gracefully, and nothing is worth keeping.
      await h.dispose(1000);
    }
  }

  test('a member name removed from the certificates', async () => {
    const { etcd, manifests } = synthesizeForHarness(line.version, 3);
    for (const name of ['etcd-server', 'etcd-peer']) {
      const cert = only(manifests, 'Certificate', name);
      cert.spec.dnsNames = cert.spec.dnsNames.filter((n: string) => !n.startsWith('etcd-2.') && !n.startsWith('*.'));
    }
    await expectNoCluster(manifests, etcd.clientSecretName, ipPrefix(line, 7), /did not become healthy[\s\S]*(certificate is valid for|x509)/);
  }, FAIL_WITHIN_MS + 20000);

  test('an image of a release whose binaries are not here: the plan fails, no other binary stands in', () => {
    const { etcd, manifests } = synthesizeForHarness(line.version, 3);
    const container = only(manifests, 'StatefulSet').spec.template.spec.containers[0];
    const [major, minor, patch] = line.version.split('.').map(Number);
    container.image = `gcr.io/etcd-development/etcd:v${major}.${minor}.${patch + 1}`;
    expect(() => EtcdHarness.forStatefulSet(manifests, { ipPrefix: ipPrefix(line, 7), clientSecretName: etcd.clientSecretName }))
      .toThrow(`the image ${container.image} runs etcd ${major}.${minor}.${patch + 1}, but this machine has no etcd ${major}.${minor}.${patch + 1} binaries`);
    container.image = 'gcr.io/etcd-development/etcd:latest';
    expect(() => EtcdHarness.forStatefulSet(manifests, { ipPrefix: ipPrefix(line, 7), clientSecretName: etcd.clientSecretName }))
      .toThrow('does not name an etcd release');
  });

  test('a wrong entry in the member list (the --initial-cluster each member computes from it)', async () => {
    const { etcd, manifests } = synthesizeForHarness(line.version, 3);
    const list = only(manifests, 'ConfigMap', 'etcd-members');
    list.data.members = list.data.members.replace(/(etcd-2 https:\/\/\S+):2380/, '$1:2390');
    expect(list.data.members).toContain(':2390');
    await expectNoCluster(manifests, etcd.clientSecretName, ipPrefix(line, 8), /etcd-2 exited with 1[\s\S]*initial-cluster/);
  }, FAIL_WITHIN_MS + 20000);
});
