import { IConstruct } from 'constructs';
import type { EtcdBackup } from './jobs/backup';
import type { EtcdBackupOptions } from './jobs/backup-options';
import { EtcdVersion } from './version';

/**
 * An etcd cluster that maintenance jobs can reach: `EtcdCluster` or `EtcdStaticPodCluster`.
 * Each resolves once how a job connects to it (endpoints, client identity, placement), and every
 * job renders from that.
 */
export interface IEtcdCluster extends IConstruct {
  /** etcd release of the members; the jobs run the same release's tools. */
  readonly version: EtcdVersion;
  /** Every member's client URL. */
  readonly clientEndpoints: string[];
  /** The value for kube-apiserver's `--etcd-servers`. */
  readonly etcdServers: string;

  /**
   * Add a scheduled, verified backup of this cluster. Call it again for more backups, e.g. hourly
   * to a volume and daily to object storage.
   * @param id construct id, unique among this cluster's backups; the default CronJob name ends with it
   */
  addBackup(id: string, options: EtcdBackupOptions): EtcdBackup;
}
