package io.github.cdk8s_etcd.examples;

import io.github.cdk8s_etcd.EtcdStaticPodCluster;
import io.github.cdk8s_etcd.EtcdStaticPodNode;
import java.util.List;
import org.cdk8s.App;

/**
 * The TypeScript static-pod example (examples/static-pods.ts), in Java: kubeadm-style etcd for three control-plane
 * nodes. Writes dist/etcd-cp-1.k8s.yaml ... and prints the kube-apiserver flags.
 */
public final class StaticPods {
    static EtcdStaticPodCluster buildApp(final App app) {
        return EtcdStaticPodCluster.Builder.create(app, "etcd")
                .nodes(List.of(
                        EtcdStaticPodNode.builder().name("cp-1").ip("10.0.0.11").build(),
                        EtcdStaticPodNode.builder().name("cp-2").ip("10.0.0.12").build(),
                        EtcdStaticPodNode.builder().name("cp-3").ip("10.0.0.13").build()))
                .build();
    }

    public static void main(final String[] args) {
        App app = new App();
        EtcdStaticPodCluster etcd = buildApp(app);
        app.synth();
        // The PKI stays out of the manifests. Write it only where a provisioning tool picks it up:
        //   etcd.generatePki().writeTo("pki");   // pki/<node>/etc/kubernetes/pki/...
        System.out.println("kube-apiserver flags:\n  " + String.join("\n  ", etcd.kubeApiServerFlags()));
    }
}
