import { k8s } from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import { ClusterModel, clientEndpointsOf } from '../member/model';
import { effectiveQuotaBytes } from '../member/tuning';
import { EtcdConfigError } from '../shared/errors';

/**
 * The access model: how a job reaches one running cluster, resolved once per cluster kind
 * (statefulset/statefulset-access.ts, static-pod/static-pod-access.ts). Every job renders from it (the
 * backup today), so none of them computes an endpoint, a certificate path or a toleration itself. The
 * restore is no job: its steps run inside the members' own pods and render from the member model.
 */
export interface EtcdAccess {
  /** Names snapshots and the jobs' objects. */
  readonly clusterName: string;
  /** Namespace of the jobs. */
  readonly namespace: string;
  /** The cluster's etcd image: the jobs run the same release's etcdctl and etcdutl from it. */
  readonly image: string;
  /** The member model: version, members, token, data dir, quota. */
  readonly model: ClusterModel;
  /** Every member's client URL. */
  readonly endpoints: string[];
  /** The backend quota the members run with (`--quota-backend-bytes`, or etcd's default): the largest a database gets. */
  readonly quotaBytes: number;
  /** The one endpoint a snapshot is taken from (etcd streams a snapshot from exactly one member). */
  readonly snapshotEndpoint: string;
  /**
   * Whether `snapshotEndpoint` may reach a different member on every connection (a Service): the job then asks
   * it which member answered and talks to that member's own URL for every step.
   */
  readonly snapshotEndpointBalanced: boolean;
  /** Where the jobs' pods run. */
  readonly placement: JobPlacement;
  /**
   * The client certificate as files in a job's container, with the volume that puts them there;
   * undefined when the cluster runs without TLS.
   * @param secretName another client Secret (kubernetes.io/tls) to use instead of the cluster's
   */
  clientIdentity(secretName?: string): ClientIdentity | undefined;
  /** Admit pods with these labels to the client port (the NetworkPolicy), where there is one. */
  admitClients(labels: { [key: string]: string }): void;
  /** Where `cluster.add*()` creates a job: inside a Chart, so its objects are written. */
  jobScope(): Construct;
  /** How Prometheus reaches each member's metrics listener. */
  readonly metrics: MetricsAccess;
}

/** Each member's metrics listener as a scraper sees it: plain http, no client certificate. */
export interface MetricsAccess {
  /** Labels every member's pod carries (a static pod's mirror pod included). */
  readonly podLabels: { [key: string]: string };
  /** The named container port of the metrics listener. */
  readonly portName: string;
  /**
   * The nodes the members run on, when `podLabels` alone do not tell this cluster's pods from another's (kubeadm's
   * static pod labels are the same on every cluster).
   */
  readonly nodeNames?: string[];
  /** Why a scraper off the node cannot reach the listener, when it cannot (read at synthesis). */
  unreachable(): string | undefined;
  /** Why the NetworkPolicy keeps every scraper out, when it does (read at synthesis). */
  notAdmitted(): string | undefined;
}

/** The parts of an access model that follow from the member model alone, the same for every cluster kind. */
export function accessFromModel(model: ClusterModel): Pick<EtcdAccess, 'model' | 'endpoints' | 'quotaBytes'> {
  return { model, endpoints: clientEndpointsOf(model), quotaBytes: effectiveQuotaBytes(model.tuning) };
}

/** Where a job's pod runs. */
export interface JobPlacement {
  /** Host networking, to reach a static pod's member on the node's 127.0.0.1. */
  readonly hostNetwork: boolean;
  /** kubeadm's private keys are readable by root only, so a job that reads them runs as root. */
  readonly runAsRoot: boolean;
  readonly affinity?: k8s.Affinity;
  readonly tolerations?: k8s.Toleration[];
  readonly priorityClassName?: string;
}

/** A client certificate as files in the job's container. */
export interface ClientIdentity {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** Exactly what holds those three files, and nothing else (never a CA key). */
  readonly volumes: k8s.Volume[];
  readonly mounts: k8s.VolumeMount[];
}

/** etcdctl's environment for a client identity (`ETCDCTL_CACERT`, `_CERT`, `_KEY`); none without TLS. */
export function etcdctlEnv(identity: ClientIdentity | undefined): k8s.EnvVar[] {
  return identity ? [
    { name: 'ETCDCTL_CACERT', value: identity.caFile },
    { name: 'ETCDCTL_CERT', value: identity.certFile },
    { name: 'ETCDCTL_KEY', value: identity.keyFile },
  ] : [];
}

const ACCESS = new WeakMap<IConstruct, EtcdAccess>();

/** Each cluster kind registers its access model when it is constructed; jobs read it back from here. */
export function registerAccess(cluster: IConstruct, access: EtcdAccess): void {
  ACCESS.set(cluster, access);
}

/** The access model of a cluster construct. */
export function accessOf(cluster: IConstruct): EtcdAccess {
  const access = ACCESS.get(cluster);
  if (!access) {
    throw new EtcdConfigError(`cluster must be an EtcdCluster or EtcdStaticPodCluster (got '${cluster?.node?.path ?? cluster}')`);
  }
  return access;
}
