import { App } from 'cdk8s';
import { EtcdStaticPodCluster } from '../lib';

/**
 * kubeadm-style etcd for three control-plane nodes: `cdk8s synth -a "npx ts-node examples/static-pods.ts"`
 * writes dist/etcd-cp-1.k8s.yaml ... to copy to each node's /etc/kubernetes/manifests/etcd.yaml.
 */
export function buildApp(app: App): EtcdStaticPodCluster {
  return new EtcdStaticPodCluster(app, 'etcd', {
    nodes: [
      { name: 'cp-1', ip: '10.0.0.11' },
      { name: 'cp-2', ip: '10.0.0.12' },
      { name: 'cp-3', ip: '10.0.0.13' },
    ],
  });
}

if (require.main === module) {
  const app = new App();
  const etcd = buildApp(app);
  app.synth();
  // The PKI stays out of the manifests. Write it only where a provisioning tool picks it up:
  //   etcd.generatePki().writeTo('pki');   // pki/<node>/etc/kubernetes/pki/...
  console.log(`kube-apiserver flags:\n  ${etcd.kubeApiServerFlags().join('\n  ')}`);
}
