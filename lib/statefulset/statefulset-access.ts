import { Construct } from 'constructs';
import { EtcdAccess, accessFromModel } from '../access/access';
import { CLIENT_PORT, ClusterModel, schemeOf } from '../member/model';
import { EtcdConfigError } from '../shared/errors';
import { formatUrl } from '../shared/url';
import { validateDnsSubdomain } from '../shared/validate';
import { secretVolume } from './secret-volume';

const CLIENT_IDENTITY_DIR = '/etc/etcd/client';

/** What a StatefulSet cluster tells the access model about itself. */
export interface StatefulSetAccessInput {
  /** The cluster construct: its jobs go beside it, in its chart. */
  readonly scope: Construct;
  readonly clusterName: string;
  readonly namespace: string;
  readonly image: string;
  readonly model: ClusterModel;
  readonly clientServiceName: string;
  readonly clusterDomain: string;
  /** The cluster's client Secret, when it has one. */
  readonly clientSecretName?: string;
  /** Admit a job's pods to the client port (a no-op without the NetworkPolicy). */
  readonly admitClients: (labels: { [key: string]: string }) => void;
  /** The member pods' selector labels. */
  readonly podLabels: { [key: string]: string };
  /** Why the NetworkPolicy keeps every scraper from the metrics port, when it does. */
  readonly metricsNotAdmitted: () => string | undefined;
}

/** A StatefulSet cluster's access model: the pod network, the client Service, the client Secret. */
export function statefulSetAccess(input: StatefulSetAccessInput): EtcdAccess {
  const { model } = input;
  const tlsEnabled = model.tls !== undefined;
  return {
    ...accessFromModel(model),
    clusterName: input.clusterName,
    namespace: input.namespace,
    image: input.image,
    // The Service routes only to ready members, so the snapshot comes from a healthy one.
    snapshotEndpoint: formatUrl(schemeOf(model.tls),
      `${input.clientServiceName}.${input.namespace}.svc.${input.clusterDomain}`, CLIENT_PORT),
    snapshotEndpointBalanced: true,
    placement: { hostNetwork: false, runAsRoot: false },
    clientIdentity: (secretName?: string) => {
      if (!tlsEnabled) {
        if (secretName !== undefined) {
          throw new EtcdConfigError(`clientSecretName '${secretName}' is a client certificate, but the cluster's tls is disabled: members accept plain http only; drop clientSecretName or enable tls`);
        }
        return undefined;
      }
      const name = secretName ?? input.clientSecretName;
      if (name === undefined) {
        throw new EtcdConfigError('the job needs a client certificate, but the cluster has none: EtcdTls.fromSecrets() was given no clientSecretName; give it one, or pass clientSecretName to the job');
      }
      validateDnsSubdomain('clientSecretName', name);
      return {
        caFile: `${CLIENT_IDENTITY_DIR}/ca.crt`,
        certFile: `${CLIENT_IDENTITY_DIR}/tls.crt`,
        keyFile: `${CLIENT_IDENTITY_DIR}/tls.key`,
        volumes: [secretVolume('etcd-client', name)],
        mounts: [{ name: 'etcd-client', mountPath: CLIENT_IDENTITY_DIR, readOnly: true }],
      };
    },
    admitClients: input.admitClients,
    jobScope: () => input.scope,
    metrics: { podLabels: input.podLabels, portName: 'metrics', unreachable: () => undefined, notAdmitted: input.metricsNotAdmitted },
  };
}
