/** The kube-apiserver flags that point it at etcd with a client certificate. */
export function apiServerFlags(etcdServers: string, caFile: string, certFile: string, keyFile: string): string[] {
  return [
    `--etcd-servers=${etcdServers}`,
    `--etcd-cafile=${caFile}`,
    `--etcd-certfile=${certFile}`,
    `--etcd-keyfile=${keyFile}`,
  ];
}
