/*
 * kube-apiserver is the cluster's main client: like a job, it reaches the members through their client URLs
 * with a client certificate, so its flags sit beside the access model.
 */

/** The kube-apiserver flags that point it at etcd with a client certificate. */
export function apiServerFlags(etcdServers: string, caFile: string, certFile: string, keyFile: string): string[] {
  return [
    `--etcd-servers=${etcdServers}`,
    `--etcd-cafile=${caFile}`,
    `--etcd-certfile=${certFile}`,
    `--etcd-keyfile=${keyFile}`,
  ];
}
