import { App, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { EtcdAccess, accessFromModel } from '../access/access';
import { CLIENT_PORT, ClusterModel } from '../member/model';
import { EtcdConfigError } from '../shared/errors';
import { formatUrl } from '../shared/url';

const CONTROL_PLANE_TAINTS = ['node-role.kubernetes.io/control-plane', 'node-role.kubernetes.io/master'];

/** What a static-pod cluster tells the access model about itself. */
export interface StaticPodAccessInput {
  /** The cluster construct: its jobs go beside it when it is in a chart, else into `<clusterName>-jobs`. */
  readonly scope: Construct;
  readonly clusterName: string;
  readonly namespace: string;
  readonly image: string;
  readonly model: ClusterModel;
  readonly nodeNames: string[];
  readonly pkiDir: string;
  /** The members' loopback address, where a job on the node reaches its member. */
  readonly loopback: string;
  /** kubeadm's labels on the etcd static pod (and so on its mirror pod). */
  readonly podLabels: { [key: string]: string };
  /** Whether the members serve /metrics on the node's IP too. */
  readonly metricsOnNodeIp: boolean;
}

/**
 * Static pods: the job runs on a node of the cluster with host networking and talks to that node's
 * member on loopback, with kubeadm's healthcheck-client certificate from the PKI by hostPath.
 */
export function staticPodAccess(input: StaticPodAccessInput): EtcdAccess {
  const { scope, clusterName, namespace, pkiDir } = input;
  let jobsChart: Chart | undefined;
  return {
    ...accessFromModel(input.model),
    clusterName,
    namespace,
    image: input.image,
    snapshotEndpoint: formatUrl('https', input.loopback, CLIENT_PORT),
    snapshotEndpointBalanced: false,
    placement: {
      hostNetwork: true,
      runAsRoot: true,
      // Only the nodes that run a member have one on 127.0.0.1.
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            // One term per node (terms are ORed): the API server allows one value in a field selector's In.
            nodeSelectorTerms: input.nodeNames.map((node) => ({ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] })),
          },
        },
      },
      tolerations: CONTROL_PLANE_TAINTS.map((key) => ({ key, operator: 'Exists', effect: 'NoSchedule' })),
      priorityClassName: 'system-cluster-critical',
    },
    clientIdentity: (secretName?: string) => {
      if (secretName !== undefined) {
        throw new EtcdConfigError(`clientSecretName '${secretName}' applies to EtcdCluster: static-pod jobs use kubeadm's healthcheck-client certificate from pkiDir (${pkiDir})`);
      }
      // One hostPath per file: the directory also holds the etcd CA's key, which a backup must never see.
      const files = { 'etcd-ca-crt': `${pkiDir}/ca.crt`, 'etcd-client-crt': `${pkiDir}/healthcheck-client.crt`, 'etcd-client-key': `${pkiDir}/healthcheck-client.key` };
      return {
        caFile: files['etcd-ca-crt'],
        certFile: files['etcd-client-crt'],
        keyFile: files['etcd-client-key'],
        volumes: Object.entries(files).map(([name, file]) => ({ name, hostPath: { path: file, type: 'File' } })),
        mounts: Object.entries(files).map(([name, file]) => ({ name, mountPath: file, readOnly: true })),
      };
    },
    // Host-network pods are not selected by NetworkPolicies.
    admitClients: () => undefined,
    jobScope: () => {
      if (scope.node.scopes.some((s) => Chart.isChart(s))) return scope;
      // A static-pod cluster usually sits under the App (its manifests are per-node charts). Its jobs
      // are ordinary objects applied with kubectl, so they get a chart of their own: <id>-jobs.k8s.yaml.
      jobsChart = jobsChart ?? new Chart(App.of(scope), `${clusterName}-jobs`, { namespace });
      return jobsChart;
    },
    metrics: {
      podLabels: input.podLabels,
      portName: 'metrics',
      nodeNames: input.nodeNames,
      unreachable: () => (input.metricsOnNodeIp ? undefined
        : 'metricsOnNodeIp is false: the members serve /metrics on 127.0.0.1:2381 only (kubeadm\'s default), which Prometheus on another pod cannot reach; set metricsOnNodeIp: true'),
      // Host-network pods are not selected by NetworkPolicies: the node's firewall decides.
      notAdmitted: () => undefined,
    },
  };
}
