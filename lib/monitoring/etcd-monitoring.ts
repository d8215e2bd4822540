import { ApiObject, Duration, Lazy } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import { accessOf } from '../access/access';
import { IEtcdCluster } from '../jobs/cluster-jobs';
import { scheduledJobsOf } from '../jobs/job-registry';
import { EtcdConfigError } from '../shared/errors';
import { addWarning } from '../shared/warnings';
import { validateLabels } from '../shared/validate';
import { renderAlertGroups, resolveAlertOptions } from './alert-rules';
import { renderDashboard } from './dashboard';
import { EtcdMonitoringOptions } from './monitoring-options';
import { podMonitorSpec } from './pod-monitor';

const DEFAULT_RUNBOOK = 'https://github.com/cdk8s-etcd/cdk8s-etcd/blob/main/README.md';
/** The monitoring of each cluster, by construct path: one per cluster, or every alert would fire twice. */
const MONITORED = new WeakMap<IConstruct, string>();

/** Properties of an {@link EtcdMonitoring}. */
export interface EtcdMonitoringProps extends EtcdMonitoringOptions {
  /** The cluster to monitor: an `EtcdCluster`, or an `EtcdStaticPodCluster` with `metricsOnNodeIp`. */
  readonly cluster: IEtcdCluster;
}

/**
 * Monitoring for one etcd cluster, for prometheus-operator and Grafana: a PodMonitor for every member's metrics
 * listener, a PrometheusRule with etcd's mixin alerts and this library's (quota, fragmentation, learners, version
 * skew, and each backup's freshness and failures from kube-state-metrics), and a dashboard ConfigMap. Every alert
 * and panel is scoped to this cluster by the `etcd_cluster` label the PodMonitor sets. The rules and the dashboard
 * are rendered at synthesis, so backups and a defragmentation added after this construct are included.
 */
export class EtcdMonitoring extends Construct {
  /** The PodMonitor. */
  public readonly podMonitor: ApiObject;
  /** The PrometheusRule. */
  public readonly prometheusRule: ApiObject;
  /** The ConfigMap holding the Grafana dashboard, unless `dashboard` is false. */
  public readonly dashboardConfigMap?: k8s.KubeConfigMap;
  /** The value of the `etcd_cluster` label on this cluster's series and alerts: `<namespace>/<name>`. */
  public readonly clusterLabelValue: string;

  public constructor(scope: Construct, id: string, props: EtcdMonitoringProps) {
    super(scope, id);
    const cluster = props.cluster;
    const access = accessOf(cluster);
    const earlier = MONITORED.get(cluster);
    if (earlier !== undefined) {
      throw new EtcdConfigError(`cluster '${cluster.node.path}' already has monitoring, '${earlier}': one per cluster, or every alert would fire twice`);
    }
    MONITORED.set(cluster, this.node.path);
    const unreachable = access.metrics.unreachable();
    if (unreachable !== undefined) throw new EtcdConfigError(`monitoring of '${cluster.node.path}' cannot scrape its members: ${unreachable}`);
    addWarning(this, `monitoring of '${cluster.node.path}': ${access.metrics.notAdmitted()}`, () => access.metrics.notAdmitted() !== undefined);

    const labels = { ...(props.labels ?? {}) };
    validateLabels('labels', labels);
    const dashboardLabels = { ...(props.dashboardLabels ?? { grafana_dashboard: '1' }) };
    validateLabels('dashboardLabels', dashboardLabels);
    const runbookBaseUrl = props.runbookBaseUrl ?? DEFAULT_RUNBOOK;
    if (!/^https?:\/\/[^\s#]+$/.test(runbookBaseUrl)) {
      throw new EtcdConfigError(`runbookBaseUrl must be an http(s) URL without a fragment (got '${runbookBaseUrl}'): each alert appends #alert-<name>`);
    }
    const intervalSeconds = scrapeSeconds(props.scrapeInterval ?? Duration.seconds(30));
    const thresholds = resolveAlertOptions(props.alerts ?? {});

    this.clusterLabelValue = `${access.namespace}/${access.clusterName}`;
    const metadata = (name: string, extra: { [key: string]: string }) => ({
      name,
      namespace: access.namespace,
      labels: { 'app.kubernetes.io/name': 'etcd', 'app.kubernetes.io/instance': access.clusterName, 'app.kubernetes.io/managed-by': 'cdk8s-etcd', ...extra },
    });
    this.podMonitor = new ApiObject(this, 'PodMonitor', {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PodMonitor',
      metadata: metadata(access.clusterName, labels),
      spec: podMonitorSpec(access.metrics, access.namespace, this.clusterLabelValue, intervalSeconds),
    });
    const context = () => ({
      cluster: this.clusterLabelValue,
      quotaBytes: access.quotaBytes,
      memberCount: access.model.members.length,
      scrapeIntervalSeconds: intervalSeconds,
      jobs: scheduledJobsOf(cluster),
      runbookUrl: (alert: string) => `${runbookBaseUrl}#alert-${alert.toLowerCase()}`,
    });
    this.prometheusRule = new ApiObject(this, 'PrometheusRule', {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: metadata(access.clusterName, labels),
      spec: { groups: Lazy.any({ produce: () => renderAlertGroups(context(), thresholds) }) },
    });
    if (props.dashboard ?? true) {
      this.dashboardConfigMap = new k8s.KubeConfigMap(this, 'Dashboard', {
        metadata: metadata(`${access.clusterName}-dashboard`, dashboardLabels),
        data: {
          [`etcd-${access.namespace}-${access.clusterName}.json`]: Lazy.any({
            produce: () => JSON.stringify(renderDashboard(this.clusterLabelValue, access.quotaBytes, scheduledJobsOf(cluster)), undefined, 2),
          }) as unknown as string,
        },
      });
    }
  }
}

function scrapeSeconds(duration: Duration): number {
  let seconds: number;
  try {
    seconds = duration.toSeconds({ integral: false });
  } catch {
    seconds = NaN;
  }
  if (!Number.isInteger(seconds) || seconds < 5 || seconds > 75) {
    throw new EtcdConfigError(`scrapeInterval must be whole seconds from 5 to 75 (got ${duration?.toHumanString?.()}): shorter loads the members, and the alerts' 5-minute rate() windows need four samples`);
  }
  return seconds;
}
