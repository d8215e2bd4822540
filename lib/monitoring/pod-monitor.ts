import { MetricsAccess } from '../access/access';
import { CLUSTER_LABEL } from './alert-rules';

/** A PodMonitor relabeling: keep only some targets, or set a label. */
export type Relabeling = { action: 'keep'; sourceLabels: string[]; regex: string } | { action: 'replace'; targetLabel: string; replacement: string };

/** A prometheus-operator PodMonitor (monitoring.coreos.com/v1), as this library renders it. */
export interface PodMonitorSpec {
  readonly selector: { matchLabels: { [key: string]: string } };
  readonly namespaceSelector: { matchNames: string[] };
  readonly podMetricsEndpoints: {
    port: string;
    path: string;
    scheme: 'http';
    interval: string;
    relabelings: Relabeling[];
  }[];
}

/**
 * Scrape every member's metrics listener (plain http, so no client certificate), and label each series with the
 * cluster (`etcd_cluster="<namespace>/<name>"`), which scopes every alert and dashboard panel to this cluster. Where
 * the pods' labels are not the cluster's own (static pods), only pods on the cluster's nodes are kept.
 */
export function podMonitorSpec(metrics: MetricsAccess, namespace: string, cluster: string, intervalSeconds: number): PodMonitorSpec {
  return {
    selector: { matchLabels: { ...metrics.podLabels } },
    namespaceSelector: { matchNames: [namespace] },
    podMetricsEndpoints: [{
      port: metrics.portName,
      path: '/metrics',
      scheme: 'http',
      interval: `${intervalSeconds}s`,
      relabelings: [
        ...(metrics.nodeNames ? [{ action: 'keep' as const, sourceLabels: ['__meta_kubernetes_pod_node_name'], regex: metrics.nodeNames.map(escapeRegex).join('|') }] : []),
        { action: 'replace', targetLabel: CLUSTER_LABEL, replacement: cluster },
      ],
    }],
  };
}

/** A node name as a literal in Prometheus's (RE2, fully anchored) regex. */
function escapeRegex(name: string): string {
  return name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
