import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Cron, Size, Testing, Yaml } from 'cdk8s';
import { EtcdBackupDestination, EtcdBackupEncryption, EtcdCluster, EtcdTls } from '../../../lib';
import { synth } from '../../support/synth';
import { KubeControlPlane, kubeProblem, kubeVersion } from './control-plane';
import { ZONES, localStorage, localVolume } from './fixtures';

/**
 * What the real controllers do with what we generate, on three fake nodes (kwok), one per zone, with local volumes:
 * the StatefulSet controller creates the members and their claims, the scheduler spreads them, the disruption
 * controller's budget refuses the eviction that would break quorum, and the CronJob controller starts a backup. kwok
 * only fakes the pods' status: nothing runs in them (the etcd-driving scenarios run the pods for real).
 */

const problem = kubeProblem();
const NAMESPACE = 'etcd';

if (problem && process.env.CI !== 'true') {
  test.skip(`Kubernetes controllers (${problem})`, () => undefined);
} else {
  describe(`the real controllers of Kubernetes ${kubeVersion()} with our manifests, on fake nodes`, () => {
    let plane: KubeControlPlane;
    const pods = () => plane.getJson(['pods', '-n', NAMESPACE, '-l', 'app.kubernetes.io/name=etcd']).items;
    const ready = (pod: { status: { conditions?: { type: string; status: string }[] } }) =>
      pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

    beforeAll(async () => {
      if (problem) throw new Error(`CI=true and ${problem}`);
      plane = await KubeControlPlane.start({ workDir: fs.mkdtempSync(path.join(os.tmpdir(), 'kube-controllers-')), controllers: true, fakeNodes: true });
      ZONES.forEach((zone, i) => plane.addFakeNode({ name: `node-${i}`, zone }));
      plane.kubectlOk(['apply', '--server-side', '-f', '-'], Yaml.stringify(...localStorage(3), localVolume('backup-node-0', 'node-0', 'local-backup', '50Gi')));
      await plane.restrictedNamespace(NAMESPACE);

      const chart = new Chart(Testing.app(), 'etcd', { namespace: NAMESPACE });
      const etcd = new EtcdCluster(chart, 'etcd', {
        members: 3, spreadAcrossZones: true, storageClassName: 'local-etcd', storageSize: Size.gibibytes(10), tls: EtcdTls.generate(),
      });
      etcd.addBackup('backup', {
        schedule: Cron.schedule({ minute: '*' }),
        destinations: [EtcdBackupDestination.volume({ storageClassName: 'local-backup', size: Size.gibibytes(50) })],
        encryption: EtcdBackupEncryption.none(),
      });
      plane.kubectlOk(['apply', '--server-side', '--field-manager=cdk8s-etcd', '--validate=strict', '-f', '-'], Yaml.stringify(...synth(chart)));
    }, 120000);

    afterAll(async () => {
      await plane?.stop();
    }, 60000);

    test('the StatefulSet controller creates three members and their claims; the scheduler puts one in each zone, beside its volume', async () => {
      const started = Date.now();
      await plane.waitUntil('three Ready members', () => pods().filter(ready).length === 3, 90000);
      console.log(`controllers: 3 members Ready ${Date.now() - started} ms after the apply`);
      const nodes = plane.getJson(['nodes']).items;
      const zoneOf = (node: string) => nodes.find((n: { metadata: { name: string } }) => n.metadata.name === node).metadata.labels['topology.kubernetes.io/zone'];
      const placed = pods().map((p: { metadata: { name: string }; spec: { nodeName: string } }) => [p.metadata.name, zoneOf(p.spec.nodeName)]);
      expect(new Set(placed.map(([, zone]: string[]) => zone))).toEqual(new Set(ZONES));
      const claims = plane.getJson(['pvc', '-n', NAMESPACE]).items.filter((c: { metadata: { name: string } }) => c.metadata.name.startsWith('data-etcd-'));
      expect(claims.map((c: { status: { phase: string } }) => c.status.phase)).toEqual(['Bound', 'Bound', 'Bound']);
      for (const pod of pods()) {
        const claim = claims.find((c: { metadata: { name: string } }) => c.metadata.name === `data-${pod.metadata.name}`);
        const pv = plane.getJson(['pv', claim.spec.volumeName]);
        expect(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values).toEqual([pod.spec.nodeName]);
      }
    }, 120000);

    test('the budget lets one member be evicted, and refuses the second while the first is not back', async () => {
      await plane.waitUntil('the budget to allow one disruption', () => plane.getJson(['pdb', 'etcd', '-n', NAMESPACE]).status?.disruptionsAllowed === 1, 60000);
      // Drain the first member's node: cordoned, its member cannot come back (its volume is on that node).
      const first = pods().find((p: { metadata: { name: string } }) => p.metadata.name === 'etcd-0');
      plane.kubectlOk(['cordon', first.spec.nodeName]);
      expect(evict(plane, 'etcd-0').status).toBe(0);
      await plane.waitUntil('etcd-0 recreated and Pending', () => {
        const pod = pods().find((p: { metadata: { name: string; uid: string } }) => p.metadata.name === 'etcd-0');
        return pod !== undefined && pod.metadata.uid !== first.metadata.uid && pod.status.phase === 'Pending';
      }, 60000);
      await plane.waitUntil('the budget to allow none', () => plane.getJson(['pdb', 'etcd', '-n', NAMESPACE]).status?.disruptionsAllowed === 0, 60000);
      // A concurrent drain of a second node: refused, or the cluster would run on one member of three.
      const second = evict(plane, 'etcd-1');
      expect(second.status).not.toBe(0);
      expect(second.stderr).toContain('Cannot evict pod as it would violate the pod\'s disruption budget');
      expect(pods().filter(ready).map((p: { metadata: { name: string } }) => p.metadata.name).sort()).toEqual(['etcd-1', 'etcd-2']);
      // Uncordoned, the member comes back on its node, and the budget allows one disruption again.
      plane.kubectlOk(['uncordon', first.spec.nodeName]);
      await plane.waitUntil('three Ready members again', () => pods().filter(ready).length === 3, 60000);
      await plane.waitUntil('the budget to allow one again', () => plane.getJson(['pdb', 'etcd', '-n', NAMESPACE]).status?.disruptionsAllowed === 1, 60000);
    }, 240000);

    test('the CronJob controller starts the backup on schedule; its pod is placed with its disk declared', async () => {
      await plane.waitUntil('a Job from the CronJob', () => plane.getJson(['jobs', '-n', NAMESPACE]).items.length > 0, 90000);
      const [job] = plane.getJson(['jobs', '-n', NAMESPACE]).items;
      expect(job.metadata.ownerReferences[0]).toMatchObject({ kind: 'CronJob', name: 'etcd-backup' });
      await plane.waitUntil('the backup pod placed', () => plane.getJson(['pods', '-n', NAMESPACE, '-l', `job-name=${job.metadata.name}`]).items.some((p: { spec: { nodeName?: string } }) => p.spec.nodeName), 60000);
      const [pod] = plane.getJson(['pods', '-n', NAMESPACE, '-l', `job-name=${job.metadata.name}`]).items;
      expect(pod.spec.containers[0].resources.requests['ephemeral-storage']).toBeDefined();
      // kwok completes a Job's pods without running them; the Job controller counts that.
      await plane.waitUntil('the Job to succeed', () => (plane.getJson(['job', job.metadata.name, '-n', NAMESPACE]).status?.succeeded ?? 0) >= 1, 60000);
    }, 180000);
  });
}

/** The eviction API, as `kubectl drain` calls it. */
function evict(plane: KubeControlPlane, pod: string) {
  return plane.kubectl(['create', '--raw', `/api/v1/namespaces/${NAMESPACE}/pods/${pod}/eviction`, '-f', '-'],
    JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace: NAMESPACE } }));
}
