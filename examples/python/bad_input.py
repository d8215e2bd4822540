"""What mistakes look like from Python: the synth-time errors a TypeScript user gets arrive as ordinary
exceptions (RuntimeError) with the same message, from a constructor, a method and a static factory alike. A check
that runs when the app is synthesized fails inside cdk8s's App.synth(), whose own Error jsii passes on as
"Error: <message>". Prints {"constructor"|"method"|"static"|"synth": {"type", "message"}} as JSON.
"""
import json
from typing import Callable

from cdk8s import App, Chart

from cdk8s_etcd import EtcdBackupDestination, EtcdBackupEncryption, EtcdCluster, EtcdNetworkPeer


def caught(attempt: Callable[[], object]) -> dict:
    try:
        attempt()
    except Exception as error:  # the ordinary base class: nothing jsii-specific to import
        return {"type": type(error).__name__, "message": str(error)}
    raise SystemExit("expected an exception")


def same_cluster_twice() -> None:
    # The same cluster again in a second chart: every object would be written twice.
    EtcdCluster(Chart(app, "again"), "etcd")
    app.synth()


app = App()
chart = Chart(app, "etcd")
etcd = EtcdCluster(chart, "etcd")
print(json.dumps({
    "constructor": caught(lambda: EtcdCluster(chart, "even", members=4)),
    "method": caught(lambda: etcd.add_backup(
        "backup",
        destinations=[EtcdBackupDestination.volume()],
        encryption=EtcdBackupEncryption.rclone_crypt(secret_name="etcd-backup-key"),
        keep_last=0,
    )),
    "static": caught(lambda: EtcdNetworkPeer.ip_block("10.0.0.0/33")),
    "synth": caught(same_cluster_twice),
}))
