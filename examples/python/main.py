"""The TypeScript example app (examples/main.ts), in Python: a three-member etcd for a hosted control plane,
with mutual TLS from cert-manager (the default), hourly encrypted backups, and the kube-apiserver wiring.

    python main.py        # writes dist/etcd.k8s.yaml, the same bytes as the TypeScript app
"""
from cdk8s import App, Chart, Size
from cdk8s_plus_28 import k8s

from cdk8s_etcd import (
    EtcdBackupDestination,
    EtcdBackupEncryption,
    EtcdCluster,
    EtcdNetworkPeer,
    EtcdResources,
)

API_SERVER_LABELS = {"app": "kube-apiserver"}
ETCD_CLIENT_CERT_DIR = "/etc/kubernetes/pki/etcd-client"


def build_app(app: App) -> Chart:
    chart = Chart(app, "etcd", namespace="control-plane")
    etcd = EtcdCluster(
        chart,
        "etcd",
        members=3,
        storage_size=Size.gibibytes(20),
        storage_class_name="fast-ssd",
        resources=EtcdResources.small(guaranteed=True),
        spread_across_zones=True,
        priority_class_name="system-cluster-critical",
        clients=[EtcdNetworkPeer.pods(labels=API_SERVER_LABELS)],
        monitoring=[EtcdNetworkPeer.namespace("monitoring")],
    )

    # Hourly snapshots, verified and encrypted, on a volume of their own; the passphrase Secret is yours to create.
    # 48 snapshots as large as the 8 GiB quota would take 392 GiB; a real database is far smaller, so size it.
    etcd.add_backup(
        "backup",
        destinations=[EtcdBackupDestination.volume(storage_class_name="fast-ssd", size=Size.gibibytes(64))],
        encryption=EtcdBackupEncryption.rclone_crypt(secret_name="etcd-backup-key"),
        keep_last=48,
    )

    # Nightly defragmentation by etcd-defrag's recommended rule, and monitoring: a PodMonitor, the alerts (the backup's
    # and the defragmentation's included) and a Grafana dashboard, labelled for kube-prometheus-stack to pick up.
    etcd.add_defrag("defrag")
    etcd.add_monitoring(labels={"release": "kube-prometheus-stack"})

    # The kube-apiserver side of the wiring: mount the client identity where the flags point.
    k8s.KubeDeployment(
        chart,
        "kube-apiserver",
        metadata=k8s.ObjectMeta(name="kube-apiserver", namespace=etcd.namespace),
        spec=k8s.DeploymentSpec(
            replicas=2,
            selector=k8s.LabelSelector(match_labels=API_SERVER_LABELS),
            template=k8s.PodTemplateSpec(
                metadata=k8s.ObjectMeta(labels=API_SERVER_LABELS),
                spec=k8s.PodSpec(
                    containers=[
                        k8s.Container(
                            name="kube-apiserver",
                            image="registry.k8s.io/kube-apiserver:v1.34.2",
                            command=["kube-apiserver", *etcd.kube_api_server_flags(ETCD_CLIENT_CERT_DIR)],
                            volume_mounts=[
                                k8s.VolumeMount(name="etcd-client", mount_path=ETCD_CLIENT_CERT_DIR, read_only=True)
                            ],
                            security_context=k8s.SecurityContext(
                                allow_privilege_escalation=False,
                                capabilities=k8s.Capabilities(drop=["ALL"]),
                                read_only_root_filesystem=True,
                            ),
                        )
                    ],
                    # Pod Security "restricted", as the etcd pods are.
                    security_context=k8s.PodSecurityContext(
                        run_as_non_root=True, run_as_user=65532, seccomp_profile=k8s.SeccompProfile(type="RuntimeDefault")
                    ),
                    volumes=[
                        k8s.Volume(
                            name="etcd-client",
                            secret=k8s.SecretVolumeSource(secret_name=etcd.client_secret_name, default_mode=0o440),
                        )
                    ],
                ),
            ),
        ),
    )
    return chart


if __name__ == "__main__":
    app = App()
    build_app(app)
    app.synth()
