import { k8s } from 'cdk8s-plus-28';
import { EtcdVersion } from '../release/version';

/** The three probes of an etcd container. */
export interface EtcdProbes {
  readonly liveness: k8s.Probe;
  readonly readiness: k8s.Probe;
  readonly startup: k8s.Probe;
}

/** Where the plain-http metrics listener can be reached by the kubelet. */
export interface ProbeTarget {
  readonly port: k8s.IntOrString;
  /** @default - the pod IP */
  readonly host?: string;
  /** The backend quota: the larger the database can be, the longer a member may take to open it. */
  readonly quotaBytes: number;
}

// kubeadm's timings: generous timeouts, because a slow disk makes etcd answer slowly, not die.
const LIVENESS = { initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 15, failureThreshold: 8 };
const READINESS = { periodSeconds: 1, timeoutSeconds: 15, failureThreshold: 3 };
const STARTUP = { initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 15, failureThreshold: 24 };

/** The quota the base startup budget (250 s) is for: etcd's default. */
const STARTUP_BASE_QUOTA_BYTES = 2 * 1024 ** 3;
/**
 * Startup time allowed per GiB of quota above that. A member opens its database and replays its log before it
 * serves: measured (bench/startup-budget.sh) at 2.6 to 3.7 s for a 1.3 to 1.5 GB database with 1.15 GB of log on
 * 3.5, 3.6 and 3.7, from a warm page cache on a local disk. 60 s per GiB leaves room for a cold cache on a disk
 * that reads 20 MB/s.
 */
const STARTUP_SECONDS_PER_GIB = 60;

/** Startup probe failures allowed: the base 250 s, and more for a quota above 2 GiB (up to 610 s at 8 GiB). */
export function startupFailureThreshold(quotaBytes: number): number {
  const extraGib = Math.max(0, quotaBytes - STARTUP_BASE_QUOTA_BYTES) / 1024 ** 3;
  return STARTUP.failureThreshold + Math.ceil((extraGib * STARTUP_SECONDS_PER_GIB) / STARTUP.periodSeconds);
}

/**
 * Probes on the metrics listener, following what the version serves.
 *
 * Liveness and startup never need quorum: restarting a member does not bring quorum back, a crash
 * loop makes recovery harder, and members that start minutes apart (image pulls, pending pods), or a
 * learner catching up before its promotion, must not be killed while they wait. Readiness does need
 * quorum: a member is ready when it can serve linearizable reads. On 3.5.19+ and every 3.6 and 3.7,
 * `/readyz` also fails on a learner, which serves no client requests until it is promoted.
 */
export function renderProbes(version: EtcdVersion, target: ProbeTarget): EtcdProbes {
  const { alive, ready } = checksFor(version, target);
  return {
    liveness: { ...alive, ...LIVENESS },
    readiness: { ...ready, ...READINESS },
    startup: { ...alive, ...STARTUP, failureThreshold: startupFailureThreshold(target.quotaBytes) },
  };
}

type Check = Pick<k8s.Probe, 'httpGet' | 'tcpSocket'>;

/** The check that needs no quorum (`alive`) and the one that does (`ready`). */
function checksFor(version: EtcdVersion, target: ProbeTarget): { alive: Check; ready: Check } {
  const get = (path: string): Check => ({ httpGet: { path, port: target.port, host: target.host, scheme: 'HTTP' } });
  if (version.servesLivezAndReadyz) {
    return { alive: get('/livez'), ready: get('/readyz') };
  }
  if (version.servesSerializableHealth) {
    return { alive: get('/health?exclude=NOSPACE&serializable=true'), ready: get('/health?serializable=false') };
  }
  // etcd 3.4 before 3.4.29: every /health variant needs quorum, so the no-quorum check only
  // asks whether the listener accepts connections.
  return { alive: { tcpSocket: { port: target.port, host: target.host } }, ready: get('/health') };
}
