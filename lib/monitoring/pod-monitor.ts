import { MetricsAccess } from '../access/access';
import { CLUSTER_LABEL } from './alert-rules';

/** A prometheus-operator PodMonitor (monitoring.coreos.com/v1), as this library renders it. */
export interface PodMonitorSpec {
  readonly selector: { matchLabels: { [key: string]: string } };
  readonly namespaceSelector: { matchNames: string[] };
  readonly podMetricsEndpoints: {
    port: string;
    path: string;
    scheme: 'http';
    interval: string;
    relabelings: { action: 'replace'; targetLabel: string; replacement: string }[];
  }[];
}

/**
 * Scrape every member's metrics listener (plain http, so no client certificate), and label each series with the
 * cluster (`etcd_cluster="<namespace>/<name>"`), which scopes every alert and dashboard panel to this cluster.
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
      relabelings: [{ action: 'replace', targetLabel: CLUSTER_LABEL, replacement: cluster }],
    }],
  };
}
