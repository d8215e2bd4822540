import * as fs from 'fs';
import * as path from 'path';
import { Manifest } from '../../support/synth';
import { SecretFiles } from '../harness/certificates';
import { EtcdHarness } from '../harness/etcd-harness';
import { runJobPod } from '../harness/job-pod';
import { KubeControlPlane } from './control-plane';

/** What the agent knows of a pod it runs: the member index, readiness, restarts (and when it last started), and what it reported. */
interface PodState {
  index: number;
  ready: boolean;
  since: string;
  restarts: number;
  started: number;
  reported: string;
}

/**
 * The kubelet's part for the members of one StatefulSet, so the real controllers drive real etcd: kwok keeps the
 * nodes Ready, and this agent runs the pods the API binds to them with the harness's pod runner (init containers,
 * etcd, volumes, probes), exactly as the API has them, and reports their status back.
 * - A pod bound to a node starts once its claims are Bound and its Secrets exist in the API; the Secret volumes are
 *   written from the API's Secrets. A member's claim is its directory, kept across pods, as a PersistentVolume is.
 * - Status: Running with the pod IP, and Ready from the real readiness probe (its last transition time is when it
 *   changed, which `minReadySeconds` counts from). A container that exits is started again, as restartPolicy
 *   Always does, with its restart counted.
 * - A pod the API deletes is stopped (SIGTERM, then SIGKILL after its grace period), then removed from the API.
 * - A Job's pod (a backup the CronJob controller or `kubectl create job --from` started) runs to its end with the
 *   job runner, and is reported Succeeded or Failed, which the Job controller counts. Each claim is a directory of
 *   its own, kept for the next pod that mounts it.
 */
export class NodeAgent {
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  /** Pods by uid that this agent runs, with the member index, and what it last reported. */
  private readonly pods = new Map<string, PodState>();
  /** Every step the agent took, with its time, for the tests to read (and for failures). */
  public readonly events: string[] = [];
  /** What each Job pod's containers printed, by pod name. */
  public readonly jobLogs = new Map<string, string>();
  /** Job pods already run, by uid. */
  private readonly jobsRun = new Set<string>();
  /** The directory that is each claim (other than the members' own), by name. */
  public readonly claims = new Map<string, string>();

  public constructor(
    private readonly plane: KubeControlPlane,
    private readonly harness: EtcdHarness,
    private readonly namespace: string,
    private readonly statefulSet: string,
  ) {}

  public start(): void {
    this.timer = setInterval(() => {
      if (!this.ticking) this.ticking = this.tick().catch((e: Error) => { this.note(`tick failed: ${e.message}`); }).finally(() => { this.ticking = undefined; });
    }, 500);
  }

  public async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.ticking;
  }

  private note(event: string): void {
    this.events.push(`${new Date().toISOString()} ${event}`);
  }

  private async tick(): Promise<void> {
    const list = this.plane.kubectl(['get', 'pods', '-n', this.namespace, '-o', 'json']);
    if (list.status !== 0) return;
    const all: Manifest[] = JSON.parse(list.stdout).items;
    const ownedBy = (p: Manifest, kind: string) => p.metadata.ownerReferences?.some((o: { kind: string; name: string }) => o.kind === kind && (kind !== 'StatefulSet' || o.name === this.statefulSet));
    for (const job of all.filter((p) => ownedBy(p, 'Job') && p.spec.nodeName && !this.jobsRun.has(p.metadata.uid) && !p.metadata.deletionTimestamp)) {
      if (this.podCanStart(job)) this.runJob(job);
    }
    const pods = all.filter((p) => ownedBy(p, 'StatefulSet'));
    for (const pod of pods) {
      const uid: string = pod.metadata.uid;
      const index = Number(/-(\d+)$/.exec(pod.metadata.name)![1]);
      const mine = this.pods.get(uid);
      if (pod.metadata.deletionTimestamp) {
        if (mine) {
          this.note(`stopping ${pod.metadata.name} (deleted)`);
          await this.harness.stop(index, (pod.spec.terminationGracePeriodSeconds ?? 30) * 1000);
          this.pods.delete(uid);
        }
        this.plane.kubectl(['delete', 'pod', pod.metadata.name, '-n', this.namespace, '--grace-period=0', '--force', '--wait=false']);
        continue;
      }
      if (!pod.spec.nodeName) continue;
      if (!mine) {
        // The previous pod of this ordinal must be gone first, as the StatefulSet controller itself ensures.
        if ([...this.pods.values()].some((p) => p.index === index)) continue;
        if (!this.podCanStart(pod)) continue;
        this.harness.replaceMember(index, { ...this.harness.memberSpec(index), workload: pod });
        this.harness.start(index);
        this.pods.set(uid, { index, ready: false, since: new Date().toISOString(), restarts: 0, reported: '', started: Date.now() });
        this.note(`started ${pod.metadata.name} on ${pod.spec.nodeName}`);
        continue;
      }
      if (!this.harness.isRunning(index) && !this.harness.isInitializing(index)) {
        // The kubelet backs off a container that keeps failing; 10 s is its first step.
        if (Date.now() - mine.started < 10000) continue;
        mine.started = Date.now();
        mine.restarts += 1;
        this.note(`restarting ${pod.metadata.name} (exited; restart ${mine.restarts})`);
        this.harness.start(index);
      }
      const ready = await this.harness.podReady(index);
      if (ready !== mine.ready) {
        mine.ready = ready;
        mine.since = new Date().toISOString();
        this.note(`${pod.metadata.name} ${ready ? 'Ready' : 'not Ready'}`);
      }
      this.report(pod, mine);
    }
  }

  /** Run a Job's pod to its end (synchronously, as the job runner does), and report how it ended. */
  private runJob(pod: Manifest): void {
    this.jobsRun.add(pod.metadata.uid);
    this.note(`running ${pod.metadata.name}`);
    const runDir = fs.mkdtempSync(path.join(this.harness.workDir, 'job-'));
    fs.chmodSync(runDir, 0o755);
    for (const v of pod.spec.volumes ?? []) {
      const claim = v.persistentVolumeClaim?.claimName;
      if (claim && !this.claims.has(claim)) {
        const dir = path.join(this.harness.workDir, 'claims', claim);
        fs.mkdirSync(dir, { recursive: true });
        // A provisioned volume as the kubelet mounts it for a pod with an fsGroup.
        const fsGroup = pod.spec.securityContext?.fsGroup;
        if (fsGroup !== undefined) fs.chownSync(dir, 0, fsGroup);
        fs.chmodSync(dir, 0o2770);
        this.claims.set(claim, dir);
      }
    }
    // The job runner takes a CronJob; the API's pod is its template.
    const asCronJob: Manifest = { apiVersion: 'batch/v1', kind: 'CronJob', metadata: pod.metadata, spec: { jobTemplate: { spec: { template: { spec: pod.spec } } } } };
    let result: ReturnType<typeof runJobPod>;
    try {
      result = runJobPod(asCronJob, { runDir, hostsFile: this.harness.hostsFile, secrets: this.harness.secretFiles(), claims: this.claims });
    } catch (e) {
      // The pod could not be set up (the kubelet would keep it in ContainerCreating): report it failed, with why.
      result = { succeeded: false, runs: [], log: `pod not started: ${(e as Error).message}` };
    }
    this.jobLogs.set(pod.metadata.name, result.log);
    this.note(`${pod.metadata.name} ${result.succeeded ? 'succeeded' : 'failed'}`);
    const now = new Date().toISOString();
    const terminated = result.runs.map((r) => ({
      name: r.name, image: '', imageID: '', ready: false, restartCount: 0,
      state: { terminated: { exitCode: r.exitCode ?? 137, reason: r.exitCode === 0 ? 'Completed' : 'Error', startedAt: now, finishedAt: now } },
    }));
    const initNames = new Set((pod.spec.initContainers ?? []).map((c: { name: string }) => c.name));
    const status = {
      phase: result.succeeded ? 'Succeeded' : 'Failed',
      conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: now, reason: 'PodCompleted' }],
      initContainerStatuses: terminated.filter((t) => initNames.has(t.name)),
      containerStatuses: terminated.filter((t) => !initNames.has(t.name)),
    };
    this.plane.kubectl(['patch', 'pod', pod.metadata.name, '-n', this.namespace, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
  }

  /** Its claims Bound and its Secrets in the API (written into the harness, which writes the volumes from them). */
  private podCanStart(pod: Manifest): boolean {
    for (const v of pod.spec.volumes ?? []) {
      if (v.persistentVolumeClaim) {
        const claim = this.plane.kubectl(['get', 'pvc', v.persistentVolumeClaim.claimName, '-n', this.namespace, '-o', 'jsonpath={.status.phase}']);
        if (claim.stdout !== 'Bound') return false;
      }
      if (v.configMap) {
        // Read when the pod starts, as the kubelet mounts it (the member list a starting member reads).
        const map = this.plane.kubectl(['get', 'configmap', v.configMap.name, '-n', this.namespace, '-o', 'json']);
        if (map.status !== 0) return false;
        this.harness.addConfigMaps(new Map([[v.configMap.name, JSON.parse(map.stdout).data ?? {}]]));
      }
      if (v.secret) {
        const secret = this.plane.kubectl(['get', 'secret', v.secret.secretName, '-n', this.namespace, '-o', 'json']);
        if (secret.status !== 0) return false;
        const data: { [key: string]: string } = JSON.parse(secret.stdout).data ?? {};
        const files: SecretFiles = Object.fromEntries(Object.entries(data).map(([k, b64]) => [k, Buffer.from(b64, 'base64').toString('utf8')]));
        this.harness.addSecrets(new Map([[v.secret.secretName, files]]));
      }
    }
    return true;
  }

  /** Report the pod's status as the kubelet does, when it changed. */
  private report(pod: Manifest, mine: PodState): void {
    const running = this.harness.isRunning(mine.index);
    const status = String(mine.ready);
    const condition = (type: string, value: boolean, since = mine.since) => ({ type, status: value ? 'True' : 'False', lastTransitionTime: since });
    const podIp = this.harness.member(mine.index).podIp;
    const patch = {
      status: {
        phase: 'Running',
        podIP: podIp,
        podIPs: [{ ip: podIp }],
        hostIP: podIp,
        startTime: pod.metadata.creationTimestamp,
        conditions: [condition('PodScheduled', true), condition('Initialized', running), condition('ContainersReady', mine.ready), condition('Ready', mine.ready)],
        containerStatuses: [{
          name: 'etcd', image: pod.spec.containers[0].image, imageID: '', containerID: `harness://${pod.metadata.uid}/${mine.restarts}`,
          ready: mine.ready, started: running, restartCount: mine.restarts,
          state: running ? { running: { startedAt: mine.since } } : { waiting: { reason: 'PodInitializing' } },
        }],
      },
    };
    const key = `${running}/${status}/${mine.restarts}`;
    if (key === mine.reported) return;
    const r = this.plane.kubectl(['patch', 'pod', pod.metadata.name, '-n', this.namespace, '--subresource=status', '--type=merge', '-p', JSON.stringify(patch)]);
    if (r.status === 0) mine.reported = key;
  }
}
