import { App, Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import type { EtcdCluster } from './cluster';
import { EtcdConfigError } from './errors';
import { CLIENT_PORT, ClusterModel } from './model';
import { EtcdNetworkPeer } from './network-peer';
import type { EtcdStaticPodCluster } from './static-pod-cluster';
import { SECRET_FILE_MODE } from './shared';
import { effectiveQuotaBytes } from './tuning';
import { formatUrl } from './url';
import { validateDnsSubdomain } from './validate';

/**
 * The access model: how a job reaches one cluster, resolved once per cluster kind. Backup, restore
 * and defragmentation jobs render from it, so none of them computes an endpoint, a certificate path
 * or a toleration itself.
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
  readonly volume: k8s.Volume;
  readonly mount: k8s.VolumeMount;
}

const ACCESS = new WeakMap<IConstruct, EtcdAccess>();

/** The access model of a cluster construct. */
export function accessOf(cluster: IConstruct): EtcdAccess {
  const access = ACCESS.get(cluster);
  if (!access) {
    throw new EtcdConfigError(`cluster must be an EtcdCluster or EtcdStaticPodCluster (got '${cluster?.node?.path ?? cluster}')`);
  }
  return access;
}

const CLIENT_IDENTITY_DIR = '/etc/etcd/client';

/** A StatefulSet cluster: the pod network, the client Service, the client Secret. */
export function registerStatefulSetAccess(cluster: EtcdCluster, clusterDomain: string): void {
  const clientSecretName = cluster.clientSecretName;
  ACCESS.set(cluster, {
    clusterName: cluster.name,
    namespace: cluster.namespace,
    image: cluster.image,
    model: cluster._model,
    endpoints: cluster.clientEndpoints,
    quotaBytes: effectiveQuotaBytes(cluster._model.tuning),
    // The Service routes only to ready members, so the snapshot comes from a healthy one.
    snapshotEndpoint: formatUrl(cluster.tlsEnabled ? 'https' : 'http',
      `${cluster.clientServiceName}.${cluster.namespace}.svc.${clusterDomain}`, CLIENT_PORT),
    placement: { hostNetwork: false, runAsRoot: false },
    clientIdentity: (secretName?: string) => {
      if (!cluster.tlsEnabled) {
        if (secretName !== undefined) {
          throw new EtcdConfigError(`clientSecretName '${secretName}' is a client certificate, but the cluster's tls is disabled: members accept plain http only; drop clientSecretName or enable tls`);
        }
        return undefined;
      }
      const name = secretName ?? clientSecretName;
      if (name === undefined) {
        throw new EtcdConfigError('the job needs a client certificate, but the cluster has none: EtcdTls.fromSecrets() was given no clientSecretName; give it one, or pass clientSecretName to the job');
      }
      validateDnsSubdomain('clientSecretName', name);
      return {
        caFile: `${CLIENT_IDENTITY_DIR}/ca.crt`,
        certFile: `${CLIENT_IDENTITY_DIR}/tls.crt`,
        keyFile: `${CLIENT_IDENTITY_DIR}/tls.key`,
        volume: { name: 'etcd-client', secret: { secretName: name, defaultMode: SECRET_FILE_MODE } },
        mount: { name: 'etcd-client', mountPath: CLIENT_IDENTITY_DIR, readOnly: true },
      };
    },
    admitClients: (labels) => {
      if (cluster.networkPolicy) cluster.allowClient(EtcdNetworkPeer.pods({ labels }));
    },
    jobScope: () => cluster,
  });
}

const CONTROL_PLANE_TAINTS = ['node-role.kubernetes.io/control-plane', 'node-role.kubernetes.io/master'];

/**
 * Static pods: the job runs on a node of the cluster with host networking and talks to that node's
 * member on loopback, with kubeadm's healthcheck-client certificate from the PKI by hostPath.
 */
export function registerStaticPodAccess(cluster: EtcdStaticPodCluster, namespace: string, loopback: string): void {
  let jobsChart: Chart | undefined;
  ACCESS.set(cluster, {
    clusterName: cluster.node.id.toLowerCase(),
    namespace,
    image: cluster.image,
    model: cluster._model,
    endpoints: cluster.clientEndpoints,
    quotaBytes: effectiveQuotaBytes(cluster._model.tuning),
    snapshotEndpoint: formatUrl('https', loopback, CLIENT_PORT),
    placement: {
      hostNetwork: true,
      runAsRoot: true,
      // Only the nodes that run a member have one on 127.0.0.1.
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: cluster.nodeNames }] }],
          },
        },
      },
      tolerations: CONTROL_PLANE_TAINTS.map((key) => ({ key, operator: 'Exists', effect: 'NoSchedule' })),
      priorityClassName: 'system-cluster-critical',
    },
    clientIdentity: (secretName?: string) => {
      if (secretName !== undefined) {
        throw new EtcdConfigError(`clientSecretName '${secretName}' applies to EtcdCluster: static-pod jobs use kubeadm's healthcheck-client certificate from pkiDir (${cluster.pkiDir})`);
      }
      return {
        caFile: `${cluster.pkiDir}/ca.crt`,
        certFile: `${cluster.pkiDir}/healthcheck-client.crt`,
        keyFile: `${cluster.pkiDir}/healthcheck-client.key`,
        volume: { name: 'etcd-certs', hostPath: { path: cluster.pkiDir, type: 'Directory' } },
        mount: { name: 'etcd-certs', mountPath: cluster.pkiDir, readOnly: true },
      };
    },
    // Host-network pods are not selected by NetworkPolicies.
    admitClients: () => undefined,
    jobScope: () => {
      if (cluster.node.scopes.some((s) => Chart.isChart(s))) return cluster;
      // A static-pod cluster usually sits under the App (its manifests are per-node charts). Its jobs
      // are ordinary objects applied with kubectl, so they get a chart of their own: <id>-jobs.k8s.yaml.
      jobsChart = jobsChart ?? new Chart(App.of(cluster), `${cluster.node.id.toLowerCase()}-jobs`, { namespace });
      return jobsChart;
    },
  });
}
