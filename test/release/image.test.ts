import { Testing } from 'cdk8s';
import { EtcdCluster, EtcdStaticPodCluster, EtcdVersion } from '../../lib';
import { warningsOf } from '../../lib/shared/warnings';
import { etcdContainer, only, synth } from '../support/synth';

// The image and the version must agree: flags and probes are rendered for `version`, and a binary
// of another line refuses flags it does not know (3.7 refuses every --experimental-* flag 3.5 needs).
const kinds = {
  EtcdCluster: (props: { version?: EtcdVersion; imageRepository?: string; imageTag?: string }) => {
    const chart = Testing.chart();
    const etcd = new EtcdCluster(chart, 'etcd', { clients: [], ...props });
    return { image: etcdContainer(only(synth(chart), 'StatefulSet')).image as string, construct: etcd };
  },
  EtcdStaticPodCluster: (props: { version?: EtcdVersion; imageRepository?: string; imageTag?: string }) => {
    const etcd = new EtcdStaticPodCluster(Testing.app(), 'etcd', { nodes: [{ name: 'cp-1', ip: '10.0.0.11' }], ...props });
    return { image: etcdContainer(synth(etcd.chartFor('cp-1'))[0]).image as string, construct: etcd };
  },
};

describe.each(Object.entries(kinds))('%s image', (_kind, render) => {
  test('defaults to the release image of the version', () => {
    expect(render({}).image).toBe('gcr.io/etcd-development/etcd:v3.6.16');
    expect(render({ version: EtcdVersion.V3_7_3 }).image).toBe('gcr.io/etcd-development/etcd:v3.7.3');
  });

  test.each([
    ['v3.6.16', 'gcr.io/etcd-development/etcd'],
    ['3.6.16-0', 'registry.k8s.io/etcd'],
    ['3.6.16', 'registry.example.com:5000/mirror/etcd'],
  ])('accepts the tag %p of the same release', (imageTag, imageRepository) => {
    const { image, construct } = render({ version: EtcdVersion.of('3.6.16'), imageRepository, imageTag });
    expect(image).toBe(`${imageRepository}:${imageTag}`);
    expect(warningsOf(construct).filter((w) => w.includes('imageTag'))).toEqual([]);
  });

  test.each([
    ['v3.5.21', undefined, "imageTag 'v3.5.21' runs etcd 3.5.21, but version is 3.6.16: flags and probes are rendered for version, and etcd refuses flags it does not know. Set version: EtcdVersion.of('3.5.21'), or use a tag of 3.6.16"],
    ['3.6.4-0', undefined, "imageTag '3.6.4-0' runs etcd 3.6.4, but version is 3.6.16"],
    ['v3.7.3', EtcdVersion.of('3.7.2'), "imageTag 'v3.7.3' runs etcd 3.7.3, but version is 3.7.2"],
    ['latest', undefined, "imageTag 'latest' is mutable: a node may pull an etcd release other than 3.6.16, whose flags the manifests are rendered for. Use a version tag such as 'v3.6.16'"],
    ['Stable', undefined, "imageTag 'Stable' is mutable"],
  ])('refuses the tag %p', (imageTag, version, message) => {
    expect(() => render({ imageTag, version })).toThrow(message);
  });

  test('warns about a tag that names no version, since it cannot be checked', () => {
    const { construct } = render({ imageTag: 'sha-4f2a9c1' });
    expect(warningsOf(construct)).toContainEqual(expect.stringContaining(
      "imageTag 'sha-4f2a9c1' does not name an etcd version, so it cannot be checked against version 3.6.16: make sure the image runs etcd 3.6.16"));
  });
});
