import { App, Chart } from 'cdk8s';
import { EtcdBackupDestination, EtcdBackupEncryption, EtcdCluster, EtcdNetworkPeer } from '../../lib';
import { ErrorCase } from './languages';

function messageOf(attempt: () => unknown): string {
  try {
    attempt();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected an error');
}

/** The messages a TypeScript user reads for the cases every language's bad-input probe tries. */
export function typescriptErrorMessages(outdir: string): Record<ErrorCase, string> {
  const app = new App({ outdir });
  const chart = new Chart(app, 'etcd');
  const etcd = new EtcdCluster(chart, 'etcd');
  return {
    constructor: messageOf(() => new EtcdCluster(chart, 'even', { members: 4 })),
    method: messageOf(() => etcd.addBackup('backup', {
      destinations: [EtcdBackupDestination.volume()],
      encryption: EtcdBackupEncryption.rcloneCrypt({ secretName: 'etcd-backup-key' }),
      keepLast: 0,
    })),
    static: messageOf(() => EtcdNetworkPeer.ipBlock('10.0.0.0/33')),
    synth: messageOf(() => {
      new EtcdCluster(new Chart(app, 'again'), 'etcd');
      app.synth();
    }),
  };
}
