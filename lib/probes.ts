import { k8s } from 'cdk8s-plus-28';
import { EtcdVersion } from './version';

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
 * Liveness never needs quorum: restarting a member does not bring quorum back and a
 * crash loop makes recovery harder. Readiness and startup do (a member is ready when it
 * can serve linearizable reads).
 */
export function renderProbes(version: EtcdVersion, target: ProbeTarget): EtcdProbes {
  const get = (path: string) => ({ httpGet: { path, port: target.port, host: target.host, scheme: 'HTTP' } });
  if (version.servesLivezAndReadyz) {
    return {
      liveness: { ...get('/livez'), ...LIVENESS },
      readiness: { ...get('/readyz'), ...READINESS },
      startup: { ...get('/readyz'), ...STARTUP },
    };
  }
  if (version.servesSerializableHealth) {
    return {
      liveness: { ...get('/health?exclude=NOSPACE&serializable=true'), ...LIVENESS },
      readiness: { ...get('/health?serializable=false'), ...READINESS },
      startup: { ...get('/health?serializable=false'), ...STARTUP },
    };
  }
  // etcd 3.4 before 3.4.29: every /health variant needs quorum, so liveness only checks
  // that the listener accepts connections.
  return {
    liveness: { tcpSocket: { port: target.port, host: target.host }, ...LIVENESS },
    readiness: { ...get('/health'), ...READINESS },
    startup: { ...get('/health'), ...STARTUP },
  };
}
