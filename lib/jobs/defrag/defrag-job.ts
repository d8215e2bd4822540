import { Chart, Cron, Size } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import { accessOf, etcdctlEnv } from '../../access/access';
import { EtcdResources } from '../../member/resources';
import { MIB } from '../../member/tuning';
import { ADVISORIES } from '../../release/advisories';
import { EtcdConfigError } from '../../shared/errors';
import { requireSecret, tlsKeys } from '../../shared/required-secrets';
import { validateServiceName } from '../../shared/validate';
import { addWarning } from '../../shared/warnings';
import { renderCronJob } from '../cron-job';
import { DEFAULT_IMAGES, validatePinnedImage } from '../images';
import { TOOLS_DIR, TOOLS_MIB, prepareTools, withEphemeralStorage } from '../job-tools';
import { recordScheduledJob } from '../job-registry';
import { validateSchedule, validateTimeZone, wholeSeconds } from '../schedule';
import { EtcdDefragOptions } from './defrag-options';
import { EtcdDefragRule } from './defrag-rule';
import { defragScript } from './defrag-script';

/** A CronJob's Jobs are named `<name>-<minutes since epoch>` (11 more characters) and must stay DNS labels. */
const MAX_NAME_LENGTH = 52;
/** The slowest rate a healthy member rewrites its database at (a slow disk), bytes per second. */
const SLOWEST_DEFRAG_RATE = 8 * MIB;
/** How long a defragmented member may take to answer with a leader and a linearizable read again. */
const WAIT_SECONDS = 120;
/** The defragmentation of each cluster, by construct path: one per cluster. */
const DEFRAGS = new WeakMap<IConstruct, string>();

/** What a rendered defragmentation gives the `EtcdDefrag` construct to publish. */
export interface RenderedDefrag {
  readonly name: string;
  readonly cronJob: k8s.KubeCronJob;
  readonly onDemandCommand: string;
  readonly rule: EtcdDefragRule;
}

/**
 * How long one member's `etcdctl defrag` may take: a database as large as the quota rewritten at the slowest healthy
 * rate, plus a minute. A member that does not finish in that time fails the run, and no other member is touched.
 */
export function defragTimeoutSeconds(quotaBytes: number): number {
  return 60 + Math.ceil(quotaBytes / SLOWEST_DEFRAG_RATE);
}

/**
 * Render a defragmentation CronJob from the cluster's access model (the same endpoints, client identity and placement
 * as the backup). See `defragScript` for what one run does.
 */
export function renderDefrag(defrag: Construct, id: string, cluster: IConstruct, props: EtcdDefragOptions): RenderedDefrag {
  if (!defrag.node.scopes.some((s) => Chart.isChart(s))) {
    throw new EtcdConfigError(`EtcdDefrag '${id}' must be created inside a Chart, so its objects are written: use cluster.addDefrag(), or new EtcdDefrag(chart, '${id}', ...)`);
  }
  const access = accessOf(cluster);
  const earlier = DEFRAGS.get(cluster);
  if (earlier !== undefined) {
    throw new EtcdConfigError(`cluster '${cluster.node.path}' already has a defragmentation, '${earlier}': one per cluster, because the CronJob's Forbid policy keeps one run at a time only within one CronJob, and two runs could each be defragmenting a member at once. Give the one its rule and schedule`);
  }
  DEFRAGS.set(cluster, defrag.node.path);
  const name = props.name ?? `${access.clusterName}-${id.toLowerCase()}`;
  validateServiceName(props.name === undefined ? `name (derived from the cluster name and the id '${id}'; set name explicitly)` : 'name', name, MAX_NAME_LENGTH);
  const schedule = validateSchedule('schedule', props.schedule ?? Cron.schedule({ minute: '30', hour: '3' }));
  if (props.timeZone !== undefined) validateTimeZone('timeZone', props.timeZone);
  const rule = props.rule ?? EtcdDefragRule.recommended();
  if (!(rule instanceof EtcdDefragRule)) throw new EtcdConfigError('rule must be an EtcdDefragRule, from its static methods (EtcdDefragRule.recommended(), quotaUsageAbove(), ...)');
  const disarmBelow = props.disarmBelowQuotaUsage ?? 0.9;
  if (typeof disarmBelow !== 'number' || !Number.isFinite(disarmBelow) || disarmBelow <= 0 || disarmBelow >= 1) {
    throw new EtcdConfigError(`disarmBelowQuotaUsage must be a fraction of the quota between 0 and 1, exclusive (got ${disarmBelow})`);
  }
  const busyboxImage = validatePinnedImage('busyboxImage', props.busyboxImage ?? DEFAULT_IMAGES.busybox, DEFAULT_IMAGES.busybox);
  const identity = access.clientIdentity(props.clientSecretName);
  if (props.clientSecretName !== undefined) {
    const use = { name: props.clientSecretName, namespace: access.namespace, type: 'kubernetes.io/tls' as const, keys: tlsKeys('the client'), usedBy: `CronJob ${name} (defrag)` };
    for (const owner of [cluster, defrag]) requireSecret(owner, use);
  }
  for (const advisory of ADVISORIES.filter((a) => /defrag/.test(a.problem) && a.affects(access.model.version))) {
    addWarning(defrag, `etcd ${access.model.version}: ${advisory.problem} (fixed in ${advisory.fixedIn}); upgrade before defragmenting on a schedule`);
  }

  const labels = {
    'app.kubernetes.io/name': 'etcd-defrag',
    'app.kubernetes.io/instance': name,
    'app.kubernetes.io/part-of': access.clusterName,
    'app.kubernetes.io/managed-by': 'cdk8s-etcd',
  };
  access.admitClients(labels);
  const perMember = defragTimeoutSeconds(access.quotaBytes);
  const members = access.endpoints.length;
  // One member's defragmentation, its wait, and a minute for the checks around it: the least a run needs.
  const oneMember = perMember + WAIT_SECONDS + 60;
  const activeDeadlineSeconds = props.activeDeadline === undefined
    ? members * (perMember + WAIT_SECONDS) + 300
    : wholeSeconds('activeDeadline', props.activeDeadline, oneMember, `one member's defragmentation may take ${perMember} s at this quota, and its wait ${WAIT_SECONDS} s`);
  const resources = withEphemeralStorage(EtcdResources.custom({ cpuRequestMillis: 10, memoryRequest: Size.mebibytes(64), memoryLimit: Size.mebibytes(256) })._toKube(), TOOLS_MIB);
  const tools: k8s.VolumeMount = { name: 'tools', mountPath: TOOLS_DIR };
  const onDemandCommand = `kubectl --namespace ${access.namespace} create job --from=cronjob/${name} ${name}-$(date +%s)`;
  recordScheduledJob(cluster, { kind: 'defrag', name, namespace: access.namespace, schedule, timeZone: props.timeZone, activeDeadlineSeconds, rulePromql: (m) => rule._promql(m) });
  const cronJob = renderCronJob(defrag, 'Resource', {
    name,
    namespace: access.namespace,
    labels,
    schedule,
    timeZone: props.timeZone,
    suspend: props.suspend,
    startingDeadlineSeconds: 600,
    activeDeadlineSeconds,
    // A run that failed on a member stops there; the next scheduled run looks again.
    backoffLimit: 0,
    placement: access.placement,
    initContainers: [
      { name: 'tools', image: busyboxImage, command: ['/bin/busybox', 'sh', '-c', prepareTools(false)], volumeMounts: [tools], resources },
    ],
    containers: [{
      name: 'defrag',
      image: access.image,
      command: [`${TOOLS_DIR}/sh`, '-c', defragScript(rule)],
      env: [
        { name: 'PATH', value: `/usr/local/bin:${TOOLS_DIR}` },
        { name: 'ENDPOINTS', value: access.endpoints.join(',') },
        { name: 'QUOTA_BYTES', value: String(access.quotaBytes) },
        { name: 'COMPACT', value: String(props.compact ?? false) },
        { name: 'DISARM_BELOW', value: String(disarmBelow) },
        { name: 'DEFRAG_TIMEOUT', value: String(perMember) },
        { name: 'WAIT_SECONDS', value: String(WAIT_SECONDS) },
        ...etcdctlEnv(identity),
      ],
      volumeMounts: [tools, ...(identity?.mounts ?? [])],
      resources,
    }],
    volumes: [
      { name: 'tools', emptyDir: { sizeLimit: k8s.Quantity.fromString(`${TOOLS_MIB}Mi`) } },
      ...(identity?.volumes ?? []),
    ],
  });
  return { name, cronJob, onDemandCommand, rule };
}
