/** What the control-plane scenarios share: zones, and local volumes as a cluster without a provisioner has them. */

export const ZONES = ['zone-a', 'zone-b', 'zone-c'];

/** A local PersistentVolume pinned to a node, of a no-provisioner class. */
export function localVolume(name: string, node: string, className: string, size: string): object {
  return {
    apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name },
    spec: {
      capacity: { storage: size }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain', storageClassName: className,
      local: { path: `/mnt/${name}` },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } },
    },
  };
}

/**
 * The StorageClasses `local-etcd` and `local-backup` (bound once the pod is scheduled, so the scheduler chooses the
 * node and the volume follows), and a 10 GiB `local-etcd` volume on each of `nodes` nodes, `node-0`, `node-1`, ...
 */
export function localStorage(nodes: number): object[] {
  const storageClass = (name: string) => ({
    apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name },
    provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'WaitForFirstConsumer',
  });
  return [
    storageClass('local-etcd'), storageClass('local-backup'),
    ...[...Array(nodes).keys()].map((i) => localVolume(`etcd-node-${i}`, `node-${i}`, 'local-etcd', '10Gi')),
  ];
}
