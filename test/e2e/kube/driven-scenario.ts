import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Size, Testing, Yaml } from 'cdk8s';
import { EtcdBackupDestination, EtcdBackupEncryption, EtcdCluster, EtcdClusterProps, EtcdPeerCaMigration, EtcdTls, EtcdVersion } from '../../../lib';
import { Manifest, synth } from '../../support/synth';
import { RCLONE_VERSION } from '../backup-scenario';
import { SecretFiles, issueCertificates } from '../harness/certificates';
import { EtcdHarness } from '../harness/etcd-harness';
import { startWriter, stopAllWriters } from '../harness/writer';
import { backupToolsProblem } from '../harness/tools';
import { KubeControlPlane, kubeDir, kubeProblem, kubeVersion } from './control-plane';
import { ZONES, localStorage, localVolume } from './fixtures';
import { NodeAgent } from './node-agent';

/**
 * The real StatefulSet controller, scheduler and disruption controller drive real etcd: three nodes kept Ready by
 * kwok, whose pods the node agent runs with the harness's pod runner. On the default line and on 3.7.
 */

const problem = kubeProblem() ?? (process.getuid?.() === 0 ? undefined : 'needs root (the pod runner)');
const NAMESPACE = 'etcd';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The scenarios on one etcd release; `subnet` keeps its members' addresses (127.10.<subnet>.x) apart from other files'. */
export function describeDriven(version: EtcdVersion, subnet: number): void {
  if (problem && process.env.CI !== 'true') {
    test.skip(`real controllers driving real etcd ${version} (${problem})`, () => undefined);
    return;
  }
  describe(`Kubernetes ${kubeVersion()} controllers drive etcd ${version}`, () => {
    let plane: KubeControlPlane;
    let harness: EtcdHarness;
    let agent: NodeAgent;
    const props: EtcdClusterProps = { version, members: 3, spreadAcrossZones: true, storageClassName: 'local-etcd', storageSize: Size.gibibytes(10) };
    /** The TLS the cluster runs with now: the peer CA test moves it to a peer CA of its own, and later applies keep it. */
    let tlsNow: EtcdTls | undefined;
    const manifestsWith = (extra: Partial<EtcdClusterProps>): Manifest[] => {
      const chart = new Chart(Testing.app(), 'etcd', { namespace: NAMESPACE });
      const etcd = new EtcdCluster(chart, 'etcd', { ...props, tls: tlsNow, ...extra });
      // Suspended: it runs only when a test starts a Job from it, never at the top of an hour.
      etcd.addBackup('backup', {
        suspend: true,
        destinations: [EtcdBackupDestination.volume({ storageClassName: 'local-backup', size: Size.gibibytes(50) })],
        encryption: EtcdBackupEncryption.rcloneCrypt({ secretName: 'backup-key' }),
      });
      return synth(chart);
    };
    const apply = (manifests: Manifest[]) => plane.kubectlOk(['apply', '--server-side', '--field-manager=cdk8s-etcd', '--validate=strict', '-f', '-'], Yaml.stringify(...manifests));
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const pods = (): any[] => plane.getJson(['pods', '-n', NAMESPACE, '-l', 'app.kubernetes.io/name=etcd']).items;
    const readyPods = () => pods().filter((p) => !p.metadata.deletionTimestamp && p.status.conditions?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True'));
    const status = () => plane.getJson(['statefulset', 'etcd', '-n', NAMESPACE]).status;
    /** Every member Ready: what the controller calls available (minReadySeconds is 0). */
    const allAvailable = (n = 3) => plane.waitUntil(`${n} members available`, () => status().availableReplicas === n, 120000);
    const rolledOut = () => plane.waitUntil('the rollout to finish', () => {
      const s = status();
      return s.updatedReplicas === 3 && s.currentRevision === s.updateRevision && s.availableReplicas === 3;
    }, 240000);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const listed = (): any[] => {
      const r = harness.etcdctl(['member', 'list', '-w', 'json'], { endpoints: [0, 1, 2].map((i) => harness.clientUrl(i)) });
      return r.status === 0 ? JSON.parse(r.stdout.replace(/"ID":(\d+)/g, '"ID":"$1"')).members : [];
    };
    const voters = () => listed().filter((m) => m.name && !m.isLearner).map((m) => m.name).sort();
    /** The most members down at once since then: stopped by the agent, and not Ready again yet. */
    const mostDownSince = (eventsBefore: number) => {
      const down = new Set<string>();
      let most = 0;
      for (const e of agent.events.slice(eventsBefore)) {
        const stopping = /stopping (\S+)/.exec(e);
        const ready = /(\S+) Ready$/.exec(e);
        if (stopping) down.add(stopping[1]);
        if (ready) down.delete(ready[1]);
        most = Math.max(most, down.size);
      }
      return most;
    };
    const stoppedSince = (eventsBefore: number) => agent.events.slice(eventsBefore).filter((e) => e.includes('stopping')).map((e) => /stopping (\S+)/.exec(e)![1]);
    const writeSecrets = (secrets: Map<string, SecretFiles>) => plane.kubectlOk(['apply', '--server-side', '-f', '-'], Yaml.stringify(...[...secrets].map(([name, files]) => ({
      apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name, namespace: NAMESPACE },
      data: Object.fromEntries(Object.entries(files).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    }))));
    const memberIds = () => harness.etcdctl(['member', 'list', '-w', 'simple']).stdout.trim().split('\n').map((l) => l.split(', ')[0]).sort();

    beforeAll(async () => {
      if (problem) throw new Error(`CI=true and ${problem}`);
      const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-driven-'));
      plane = await KubeControlPlane.start({ workDir, controllers: true, harnessNodes: true });
      // Five nodes over three zones (a, b, c, a, b): room for five members, one per node, no zone with a majority.
      for (let i = 0; i < 5; i++) plane.addFakeNode({ name: `node-${i}`, zone: ZONES[i % ZONES.length], runBy: 'harness' });
      plane.kubectlOk(['apply', '--server-side', '-f', path.join(kubeDir(), 'crds', 'cert-manager')]);
      plane.kubectlOk(['apply', '--server-side', '-f', '-'], Yaml.stringify(...localStorage(5), localVolume('backup-node-0', 'node-0', 'local-backup', '50Gi')));
      plane.kubectlOk(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']);
      await plane.restrictedNamespace(NAMESPACE);
      const manifests = manifestsWith({});
      // The harness knows five pods' addresses (the scale-up's too); the member list says three.
      harness = EtcdHarness.forStatefulSet(manifestsWith({ members: 5 }), { ipPrefix: `127.10.${subnet}`, clientSecretName: 'etcd-client' });
      // As cert-manager would: the Certificates' Secrets, written through the API (the agent reads them back).
      writeSecrets(harness.secretFiles());
      apply(manifests);
      agent = new NodeAgent(plane, harness, NAMESPACE, 'etcd');
      agent.start();
    }, 180000);

    afterAll(async () => {
      // A test that failed midway leaves its writer running.
      stopAllWriters();
      await agent?.stop();
      await harness?.dispose(2000);
      await plane?.stop();
    }, 60000);

    test('the StatefulSet controller forms a 3-member cluster: every pod Ready from its real readiness probe, one per zone', async () => {
      const started = Date.now();
      await plane.waitUntil('three Ready members', () => readyPods().length === 3, 120000);
      await harness.waitHealthy([0, 1, 2], 30000);
      console.log(`${version}: 3 members Ready through the API ${Date.now() - started} ms after the agent started`);
      expect(memberIds()).toHaveLength(3);
      expect(new Set(pods().map((p) => p.spec.nodeName)).size).toBe(3);
    }, 150000);

    test('a backup Job from the CronJob, run by the real Job controller, succeeds and stores a verified, encrypted snapshot', async () => {
      const tools = backupToolsProblem(RCLONE_VERSION);
      if (tools) throw new Error(`the backup needs its tools: ${tools}`);
      plane.kubectlOk(['create', 'secret', 'generic', 'backup-key', '-n', NAMESPACE, '--from-literal=passphrase=correct horse battery staple', '--from-literal=salt=q3Vb9yR2mXkP8sLw4TzN0aE6']);
      const started = Date.now();
      plane.kubectlOk(['create', 'job', '--from=cronjob/etcd-backup', 'etcd-backup-manual', '-n', NAMESPACE]);
      await plane.waitUntil('the backup Job to end', () => {
        const s = plane.getJson(['job', 'etcd-backup-manual', '-n', NAMESPACE]).status ?? {};
        return (s.succeeded ?? 0) + (s.failed ?? 0) > 0;
      }, 120000).catch((e: Error) => {
        const jobPods = plane.kubectl(['get', 'pods', '-n', NAMESPACE, '-l', 'job-name=etcd-backup-manual', '-o', 'wide']).stdout;
        const events = plane.kubectl(['get', 'events', '-n', NAMESPACE]).stdout.split('\n').filter((l) => /backup|FailedScheduling/.test(l)).join('\n');
        throw new Error(`${e.message}\n${jobPods}\n${events}\n${agent.events.join('\n')}`);
      });
      const job = plane.getJson(['job', 'etcd-backup-manual', '-n', NAMESPACE]);
      const log = [...agent.jobLogs.values()].join('\n');
      console.log(`${version}: the backup Job succeeded=${job.status.succeeded ?? 0} in ${Date.now() - started} ms`);
      expect(log).toContain('backup: done');
      expect(job.status.succeeded).toBe(1);
      expect(job.status.conditions.some((c: { type: string; status: string }) => c.type === 'Complete' && c.status === 'True')).toBe(true);
      const claim = agent.claims.get('etcd-backup')!;
      const records = fs.readdirSync(claim).filter((f) => /^etcd\.etcd-\d{8}T\d{6}Z\.json$/.test(f));
      expect(records).toHaveLength(1);
      const record = JSON.parse(fs.readFileSync(path.join(claim, records[0]), 'utf8'));
      expect(record).toMatchObject({ cluster: 'etcd', namespace: NAMESPACE, etcdVersion: version.toString(), encryption: 'rclone-crypt' });
      expect(record.lineage).toMatch(/^[0-9a-f]{32}$/);
      expect(fs.existsSync(path.join(claim, records[0].replace(/\.json$/, '.db.rclone')))).toBe(true);
    }, 180000);

    test('a deleted member is recreated by the controller and rejoins with its data, as the same member', async () => {
      const before = memberIds();
      expect(harness.etcdctl(['put', '/driven/before-delete', 'kept']).status).toBe(0);
      const old = pods().find((p) => p.metadata.name === 'etcd-1');
      const started = Date.now();
      plane.kubectlOk(['delete', 'pod', 'etcd-1', '-n', NAMESPACE, '--wait=false']);
      await plane.waitUntil('etcd-1 recreated and Ready', () => readyPods().some((p) => p.metadata.name === 'etcd-1' && p.metadata.uid !== old.metadata.uid), 120000);
      console.log(`${version}: etcd-1 deleted, recreated and Ready in ${Date.now() - started} ms`);
      await harness.waitHealthy([1], 30000);
      expect(memberIds()).toEqual(before);
      // Served from etcd-1's own data: a serializable read answers locally.
      const read = harness.etcdctl(['get', '/driven/before-delete', '--print-value-only', '--consistency=s'], { endpoints: [harness.clientUrl(1)] });
      expect(read.stdout.trim()).toBe('kept');
    }, 150000);

    test('a template change rolls the members one at a time, highest first, and a write every second succeeds throughout', async () => {
      await allAvailable();
      const writer = startWriter(harness, 'roll');
      const eventsBefore = agent.events.length;
      const started = Date.now();
      apply(manifestsWith({ tuning: { snapshotCount: 20000 } }));
      await rolledOut();
      const seconds = Math.round((Date.now() - started) / 1000);
      const writes = await writer.stop();
      console.log(`${version}: rollout of 3 members in ${seconds} s; order ${stoppedSince(eventsBefore).join(', ')}; ${writes.ok} writes, ${writes.failed.length} failed`);
      expect(stoppedSince(eventsBefore)).toEqual(['etcd-2', 'etcd-1', 'etcd-0']);
      expect(mostDownSince(eventsBefore)).toBe(1);
      expect(writes.failed).toEqual([]);
      // Writes kept coming (each takes its own time on a loaded machine, then a 1 s pause).
      expect(writes.ok).toBeGreaterThan(seconds / 3);
      for (const p of pods()) expect(p.spec.containers[0].args).toContain('--snapshot-count=20000');
    }, 300000);

    test('with one member down, a template change replaces only that member, and no write fails', async () => {
      await allAvailable();
      // etcd-0 down: its node cordoned and its pod deleted, so the controller's new etcd-0 stays Pending.
      const node = pods().find((p) => p.metadata.name === 'etcd-0').spec.nodeName;
      plane.kubectlOk(['cordon', node]);
      plane.kubectlOk(['delete', 'pod', 'etcd-0', '-n', NAMESPACE, '--wait=false']);
      await plane.waitUntil('etcd-0 Pending', () => pods().some((p) => p.metadata.name === 'etcd-0' && !p.metadata.deletionTimestamp && p.status.phase === 'Pending'), 60000);
      const writer = startWriter(harness, 'down');
      const eventsBefore = agent.events.length;
      apply(manifestsWith({ tuning: { snapshotCount: 30000 } }));
      // Long enough for a rollout of the two live members, were the controller to do it.
      let touched: string[];
      try {
        await sleep(40000);
        touched = stoppedSince(eventsBefore);
        console.log(`${version}: with etcd-0 down, the controller replaced [${touched.join(', ')}] in 40 s; updatedReplicas ${status().updatedReplicas}`);
      } finally {
        // Whatever happened, the next scenarios start from three members.
        plane.kubectlOk(['uncordon', node]);
      }
      expect(touched).toEqual([]);
      await rolledOut();
      const writes = await writer.stop();
      console.log(`${version}: ... then, uncordoned, it finished the rollout; ${writes.ok} writes, ${writes.failed.length} failed`);
      expect(writes.failed).toEqual([]);
    }, 420000);

    test('a template change right after two members restarted replaces them one at a time (they are available once Ready), and no write fails', async () => {
      await allAvailable();
      // Restart etcd-1 and etcd-2 (as after a node reboot), and change the template as soon as they are Ready again.
      // With minReadySeconds 10 this replaced all three within 5 s (Kubernetes 1.37 deletes every unavailable pod of
      // the old revision at once) and a write failed; with 0, a Ready member is available.
      const uids = new Map(pods().map((p) => [p.metadata.name, p.metadata.uid]));
      plane.kubectlOk(['delete', 'pod', 'etcd-1', 'etcd-2', '-n', NAMESPACE, '--wait=false']);
      await plane.waitUntil('etcd-1 and etcd-2 back and Ready', () => readyPods().filter((p) => p.metadata.uid !== uids.get(p.metadata.name)).length === 2, 90000);
      const writer = startWriter(harness, 'restarted');
      const eventsBefore = agent.events.length;
      apply(manifestsWith({ tuning: { snapshotCount: 40000 } }));
      await sleep(5000);
      const atOnce = stoppedSince(eventsBefore);
      await rolledOut();
      const writes = await writer.stop();
      console.log(`${version}: restarted: within 5 s of the change the controller replaced [${atOnce.join(', ')}]; then ${stoppedSince(eventsBefore).join(', ')}; at most ${mostDownSince(eventsBefore)} down at once; ${writes.failed.length} of ${writes.ok + writes.failed.length} writes failed`);
      expect(mostDownSince(eventsBefore)).toBe(1);
      // Every member once; a member that was not Ready at that moment (an election after the restarts) goes first.
      expect(stoppedSince(eventsBefore).sort()).toEqual(['etcd-0', 'etcd-1', 'etcd-2']);
      expect(writes.failed).toEqual([]);
    }, 420000);

    test('a member whose volume is lost comes back by itself: the controller recreates its pod, it rejoins as a learner under a new ID and is promoted', async () => {
      await allAvailable();
      const oldId = listed().find((m) => m.name === 'etcd-1').ID;
      // etcd-1's node cordoned and its pod deleted, so the new pod waits while its volume is wiped.
      const node = pods().find((p) => p.metadata.name === 'etcd-1').spec.nodeName;
      plane.kubectlOk(['cordon', node]);
      plane.kubectlOk(['delete', 'pod', 'etcd-1', '-n', NAMESPACE, '--wait=false']);
      await plane.waitUntil('etcd-1 Pending', () => pods().some((p) => p.metadata.name === 'etcd-1' && !p.metadata.deletionTimestamp && p.status.phase === 'Pending'), 60000);
      const data = harness.volumeDir(1, 'data');
      for (const entry of fs.readdirSync(data)) fs.rmSync(path.join(data, entry), { recursive: true, force: true });
      const writer = startWriter(harness, 'lost-volume');
      const started = Date.now();
      plane.kubectlOk(['uncordon', node]);
      await plane.waitUntil('etcd-1 a voter under a new ID', () => {
        const me = listed().find((m) => m.name === 'etcd-1');
        return me !== undefined && me.ID !== oldId && !me.isLearner;
      }, 180000);
      await allAvailable();
      const seconds = Math.round((Date.now() - started) / 1000);
      const writes = await writer.stop();
      console.log(`${version}: lost volume: etcd-1 rejoined under a new ID and was promoted ${seconds} s after its node came back; ${writes.ok} writes, ${writes.failed.length} failed`);
      expect(writes.failed).toEqual([]);
      expect(harness.log(1)).toContain('member-start: lost volume: ');
      expect(harness.sidecarLog(1)).toContain('member-sidecar: promoted etcd-1');
      expect(voters()).toEqual(['etcd-0', 'etcd-1', 'etcd-2']);
    }, 300000);

    test('members 3 → 5 → 3 by re-applying, with the scale-down Job run by the real Job controller; no pod restarts and no write fails', async () => {
      await allAvailable();
      const uids = new Map(pods().map((p) => [p.metadata.name, p.metadata.uid]));
      const writer = startWriter(harness, 'scale');
      const eventsBefore = agent.events.length;
      let started = Date.now();
      apply(manifestsWith({ members: 5, tuning: { snapshotCount: 40000 } }));
      await plane.waitUntil('five voters', () => voters().length === 5, 300000);
      await allAvailable(5);
      const up = Math.round((Date.now() - started) / 1000);
      // The member list is not in the pod template: the three running members were not touched.
      expect(stoppedSince(eventsBefore)).toEqual([]);
      for (const [name, uid] of uids) expect(pods().find((p) => p.metadata.name === name).metadata.uid).toBe(uid);

      started = Date.now();
      apply(manifestsWith({ members: 3, scaleDownFrom: 5, tuning: { snapshotCount: 40000 } }));
      await plane.waitUntil('the scale-down Job to complete', () => {
        const s = plane.getJson(['job', 'etcd-scale-down-5-to-3', '-n', NAMESPACE]).status ?? {};
        return (s.succeeded ?? 0) > 0 || (s.failed ?? 0) > 2;
      }, 180000);
      expect(plane.getJson(['job', 'etcd-scale-down-5-to-3', '-n', NAMESPACE]).status.succeeded).toBe(1);
      expect(voters()).toEqual(['etcd-0', 'etcd-1', 'etcd-2']);
      apply(manifestsWith({ members: 3, tuning: { snapshotCount: 40000 } }));
      await plane.waitUntil('two pods gone', () => pods().length === 3, 120000);
      const down = Math.round((Date.now() - started) / 1000);
      const writes = await writer.stop();
      const jobLog = [...agent.jobLogs.entries()].filter(([name]) => name.startsWith('etcd-scale-down')).map(([, log]) => log).join('\n');
      console.log(`${version}: 3 → 5 in ${up} s, 5 → 3 (Job, then the StatefulSet) in ${down} s; ${writes.ok} writes, ${writes.failed.length} failed`);
      expect([...jobLog.matchAll(/removed (etcd-\d)/g)].map((m) => m[1])).toEqual(['etcd-4', 'etcd-3']);
      expect(writes.failed).toEqual([]);
      expect(stoppedSince(eventsBefore).sort()).toEqual(['etcd-3', 'etcd-4']);
      // Their claims stay (whenScaled: Retain): the README says to delete them before growing again.
      const claims = plane.getJson(['pvc', '-n', NAMESPACE]).items.map((c: { metadata: { name: string } }) => c.metadata.name);
      expect(claims).toEqual(expect.arrayContaining(['data-etcd-3', 'data-etcd-4']));
    }, 600000);

    // The running cluster moves to a peer CA of its own in the three applies the README gives; later tests keep it.
    test('a peer CA of its own in three applies (peerCaMigration): each rolls one member at a time, highest first, and no write fails', async () => {
      await allAvailable();
      // As cert-manager would: the peer chain's certificate, written through the API (the harness's wildcard names).
      const steps = [EtcdPeerCaMigration.TRUST_BOTH, EtcdPeerCaMigration.PRESENT_PEER_CA, undefined];
      const isolated = issueCertificates(manifestsWith({ members: 5, tls: EtcdTls.certManager({ separatePeerCa: true }) })).get('etcd-peer-isolated')!;
      writeSecrets(new Map([['etcd-peer-isolated', isolated]]));
      const writer = startWriter(harness, 'peer-ca');
      const started = Date.now();
      for (const peerCaMigration of steps) {
        const tls = EtcdTls.certManager({ separatePeerCa: true, peerCaMigration });
        const eventsBefore = agent.events.length;
        const revision = status().updateRevision;
        apply(manifestsWith({ tls }));
        await plane.waitUntil('the new revision', () => status().updateRevision !== revision, 60000);
        await rolledOut();
        expect(stoppedSince(eventsBefore)).toEqual(['etcd-2', 'etcd-1', 'etcd-0']);
        expect(mostDownSince(eventsBefore)).toBe(1);
        tlsNow = tls;
      }
      const seconds = Math.round((Date.now() - started) / 1000);
      const writes = await writer.stop();
      console.log(`${version}: a peer CA of its own in 3 rollouts by the StatefulSet controller, ${seconds} s; ${writes.ok} writes, ${writes.failed.length} failed, the slowest ${writes.slowestMs} ms`);
      expect(writes.failed).toEqual([]);
      for (const p of pods()) {
        expect(p.spec.volumes.find((v: { name: string }) => v.name === 'tls-peer').secret.secretName).toBe('etcd-peer-isolated');
        expect(p.spec.containers[0].args).toContain('--peer-trusted-ca-file=/etc/etcd/tls/peer/ca.crt');
      }
      await harness.waitHealthy([0, 1, 2], 30000);
    }, 900000);

    if (version.minor === 5) {
      test('an upgrade to 3.6 by re-applying with upgradeFrom: the controller replaces one member at a time, each passes the gate, and no write fails', async () => {
        await allAvailable();
        const target = EtcdVersion.V3_6_16;
        const writer = startWriter(harness, 'upgrade');
        const eventsBefore = agent.events.length;
        const started = Date.now();
        apply(manifestsWith({ version: target, upgradeFrom: version }));
        await rolledOut();
        const seconds = Math.round((Date.now() - started) / 1000);
        const writes = await writer.stop();
        console.log(`${version} → ${target} by the StatefulSet controller in ${seconds} s; order ${stoppedSince(eventsBefore).join(', ')}; at most ${mostDownSince(eventsBefore)} down; ${writes.ok} writes, ${writes.failed.length} failed, the slowest ${writes.slowestMs} ms`);
        expect(stoppedSince(eventsBefore)).toEqual(['etcd-2', 'etcd-1', 'etcd-0']);
        expect(mostDownSince(eventsBefore)).toBe(1);
        expect(writes.failed).toEqual([]);
        for (const p of pods()) expect(p.spec.containers[0].image).toBe(`gcr.io/etcd-development/etcd:v${target}`);
        const reported = harness.etcdctl(['endpoint', 'status', '-w', 'json'], { endpoints: [0, 1, 2].map((i) => harness.clientUrl(i)) });
        expect([...reported.stdout.matchAll(/"version":"([^"]+)"/g)].map((m) => m[1])).toEqual([`${target}`, `${target}`, `${target}`]);
        for (const i of [0, 1, 2]) {
          expect(harness.log(i)).toContain(`upgrade gate: verified snapshot /var/lib/etcd/pre-upgrade-${version}-to-${target}.db`);
        }
      }, 420000);
    }
  });
}
