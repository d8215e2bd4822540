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
}

// kubeadm's timings: generous timeouts, because a slow disk makes etcd answer slowly, not die.
const LIVENESS = { initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 15, failureThreshold: 8 };
const READINESS = { periodSeconds: 1, timeoutSeconds: 15, failureThreshold: 3 };
const STARTUP = { initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 15, failureThreshold: 24 };

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
    startup: { ...alive, ...STARTUP },
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
