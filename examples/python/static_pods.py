"""The TypeScript static-pod example (examples/static-pods.ts), in Python: kubeadm-style etcd for three
control-plane nodes. `python static_pods.py` writes dist/etcd-cp-1.k8s.yaml ... and prints the kube-apiserver flags.
"""
from cdk8s import App

from cdk8s_etcd import EtcdStaticPodCluster, EtcdStaticPodNode


def build_app(app: App) -> EtcdStaticPodCluster:
    return EtcdStaticPodCluster(
        app,
        "etcd",
        nodes=[
            EtcdStaticPodNode(name="cp-1", ip="10.0.0.11"),
            EtcdStaticPodNode(name="cp-2", ip="10.0.0.12"),
            EtcdStaticPodNode(name="cp-3", ip="10.0.0.13"),
        ],
    )


if __name__ == "__main__":
    app = App()
    etcd = build_app(app)
    app.synth()
    # The PKI stays out of the manifests. Write it only where a provisioning tool picks it up:
    #   etcd.generate_pki().write_to("pki")   # pki/<node>/etc/kubernetes/pki/...
    print("kube-apiserver flags:\n  " + "\n  ".join(etcd.kube_api_server_flags()))
