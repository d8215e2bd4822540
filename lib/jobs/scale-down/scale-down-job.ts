import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { EtcdAccess, etcdctlEnv } from '../../access/access';
import { MemberModel } from '../../member/model';
import { maintenancePodSpec } from '../cron-job';
import { SMALL_STEP_RESOURCES, TOOLS_DIR, TOOLS_MIB, prepareTools } from '../job-tools';
import { removeMembersScript } from './scale-down-script';

/** How long the Job waits for the staying members to be healthy, before and after each removal. */
const HEALTH_WAIT_SECONDS = 120;
/**
 * A finished Job is deleted after an hour, so taking the same step again later (5 → 3 after a 3 → 5) creates and runs
 * it anew, where a completed Job of that name would be left as it is and remove nothing.
 */
const TTL_SECONDS_AFTER_FINISHED = 3600;

const entry = (m: MemberModel) => `${m.name}|${m.peerUrl}|${m.clientUrl}`;

/** What a scale-down removes. */
export interface ScaleDown {
  /** The member count the cluster runs with now. */
  readonly from: number;
  /** The members that leave, highest ordinal first. */
  readonly leaving: MemberModel[];
  readonly busyboxImage: string;
}

/**
 * A one-shot Job that removes the leaving members from etcd (see `removeMembersScript`), while the StatefulSet still
 * keeps their pods. Named for the step it takes (`<cluster>-scale-down-5-to-3`), so a later scale-down is a new Job.
 */
export function renderScaleDownJob(scope: Construct, access: EtcdAccess, scaleDown: ScaleDown): k8s.KubeJob {
  const to = access.model.members.length;
  const name = `${access.clusterName}-scale-down-${scaleDown.from}-to-${to}`;
  const labels = {
    'app.kubernetes.io/name': 'etcd-scale-down',
    'app.kubernetes.io/instance': access.clusterName,
    'app.kubernetes.io/managed-by': 'cdk8s-etcd',
  };
  access.admitClients(labels);
  const identity = access.clientIdentity();
  const tools: k8s.VolumeMount = { name: 'tools', mountPath: TOOLS_DIR };
  return new k8s.KubeJob(scope, 'ScaleDown', {
    metadata: { name, namespace: access.namespace, labels },
    spec: {
      // Each attempt is idempotent: removed members are skipped.
      backoffLimit: 3,
      ttlSecondsAfterFinished: TTL_SECONDS_AFTER_FINISHED,
      activeDeadlineSeconds: 1800,
      template: {
        metadata: { labels },
        spec: maintenancePodSpec({
          placement: access.placement,
          initContainers: [{ name: 'tools', image: scaleDown.busyboxImage, command: ['/bin/busybox', 'sh', '-c', prepareTools(false)], volumeMounts: [tools], resources: SMALL_STEP_RESOURCES }],
          containers: [{
            name: 'remove-members',
            image: access.image,
            command: [`${TOOLS_DIR}/sh`, '-c', removeMembersScript()],
            env: [
              { name: 'PATH', value: `/usr/local/bin:${TOOLS_DIR}` },
              { name: 'STAY', value: access.model.members.map(entry).join(' ') },
              { name: 'REMOVE', value: scaleDown.leaving.map(entry).join(' ') },
              { name: 'HEALTH_WAIT_SECONDS', value: String(HEALTH_WAIT_SECONDS) },
              ...etcdctlEnv(identity),
            ],
            volumeMounts: [tools, ...(identity?.mounts ?? [])],
            resources: SMALL_STEP_RESOURCES,
          }],
          volumes: [{ name: 'tools', emptyDir: { sizeLimit: k8s.Quantity.fromString(`${TOOLS_MIB}Mi`) } }, ...(identity?.volumes ?? [])],
        }),
      },
    },
  });
}
