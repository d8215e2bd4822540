import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { JobPlacement } from '../access/access';

/** What distinguishes one maintenance CronJob from another; the rest is shared policy. */
export interface CronJobSpec {
  readonly name: string;
  readonly namespace: string;
  readonly labels: { [key: string]: string };
  readonly schedule: string;
  readonly timeZone?: string;
  readonly suspend?: boolean;
  readonly startingDeadlineSeconds: number;
  readonly activeDeadlineSeconds: number;
  readonly backoffLimit: number;
  readonly placement: JobPlacement;
  /** Run in order; the first that fails fails the pod. */
  readonly initContainers: k8s.Container[];
  readonly containers: k8s.Container[];
  readonly volumes: k8s.Volume[];
}

/** The distroless convention for an unprivileged user, as the members use. */
const RUN_AS_ID = 65532;
/** Finished Jobs kept for inspection: a failed run stays visible as a failed Job. */
const HISTORY_LIMIT = 3;

/**
 * A maintenance CronJob: one run at a time, bounded history, deadlines, no service-account token,
 * and containers that meet Pod Security "restricted" unless the placement needs root.
 */
export function renderCronJob(scope: Construct, id: string, spec: CronJobSpec): k8s.KubeCronJob {
  return new k8s.KubeCronJob(scope, id, {
    metadata: { name: spec.name, namespace: spec.namespace, labels: spec.labels },
    spec: {
      schedule: spec.schedule,
      timeZone: spec.timeZone,
      suspend: spec.suspend,
      // A run that overlaps the previous one would compete for the same member and destination.
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: spec.startingDeadlineSeconds,
      successfulJobsHistoryLimit: HISTORY_LIMIT,
      failedJobsHistoryLimit: HISTORY_LIMIT,
      jobTemplate: {
        metadata: { labels: spec.labels },
        spec: {
          backoffLimit: spec.backoffLimit,
          activeDeadlineSeconds: spec.activeDeadlineSeconds,
          template: {
            metadata: { labels: spec.labels },
            spec: maintenancePodSpec(spec),
          },
        },
      },
    },
  });
}

/** The pod of a maintenance Job: no service-account token, the placement's network and nodes, hardened containers. */
export function maintenancePodSpec(spec: Pick<CronJobSpec, 'placement' | 'initContainers' | 'containers' | 'volumes'>): k8s.PodSpec {
  const { placement } = spec;
  return {
    restartPolicy: 'Never',
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    hostNetwork: placement.hostNetwork || undefined,
    // Host-network pods still resolve cluster names (an in-cluster object store).
    dnsPolicy: placement.hostNetwork ? 'ClusterFirstWithHostNet' : undefined,
    priorityClassName: placement.priorityClassName,
    affinity: placement.affinity,
    tolerations: placement.tolerations,
    securityContext: placement.runAsRoot
      ? { runAsUser: 0, runAsGroup: 0, seccompProfile: { type: 'RuntimeDefault' } }
      : {
        runAsNonRoot: true,
        runAsUser: RUN_AS_ID,
        runAsGroup: RUN_AS_ID,
        fsGroup: RUN_AS_ID,
        seccompProfile: { type: 'RuntimeDefault' },
      },
    initContainers: spec.initContainers.map((c) => harden(c, placement)),
    containers: spec.containers.map((c) => harden(c, placement)),
    volumes: spec.volumes,
  };
}

function harden(container: k8s.Container, placement: JobPlacement): k8s.Container {
  return {
    imagePullPolicy: 'IfNotPresent',
    ...container,
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      readOnlyRootFilesystem: true,
      runAsNonRoot: placement.runAsRoot ? undefined : true,
      seccompProfile: { type: 'RuntimeDefault' },
    },
  };
}
