package io.github.cdk8s_etcd.examples;

import io.github.cdk8s_etcd.EtcdBackupDestination;
import io.github.cdk8s_etcd.EtcdBackupEncryption;
import io.github.cdk8s_etcd.EtcdBackupOptions;
import io.github.cdk8s_etcd.EtcdBackupRcloneCryptOptions;
import io.github.cdk8s_etcd.EtcdBackupVolumeOptions;
import io.github.cdk8s_etcd.EtcdCluster;
import io.github.cdk8s_etcd.EtcdMonitoringOptions;
import io.github.cdk8s_etcd.EtcdNetworkPeer;
import io.github.cdk8s_etcd.EtcdPodPeerOptions;
import io.github.cdk8s_etcd.EtcdResourcePresetOptions;
import io.github.cdk8s_etcd.EtcdResources;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.cdk8s.App;
import org.cdk8s.Chart;
import org.cdk8s.ChartProps;
import org.cdk8s.Size;
import org.cdk8s.plus28.k8s.Capabilities;
import org.cdk8s.plus28.k8s.Container;
import org.cdk8s.plus28.k8s.DeploymentSpec;
import org.cdk8s.plus28.k8s.KubeDeployment;
import org.cdk8s.plus28.k8s.LabelSelector;
import org.cdk8s.plus28.k8s.ObjectMeta;
import org.cdk8s.plus28.k8s.PodSecurityContext;
import org.cdk8s.plus28.k8s.PodSpec;
import org.cdk8s.plus28.k8s.PodTemplateSpec;
import org.cdk8s.plus28.k8s.SeccompProfile;
import org.cdk8s.plus28.k8s.SecretVolumeSource;
import org.cdk8s.plus28.k8s.SecurityContext;
import org.cdk8s.plus28.k8s.Volume;
import org.cdk8s.plus28.k8s.VolumeMount;

/**
 * The TypeScript example app (examples/main.ts), in Java: a three-member etcd for a hosted control plane, with
 * mutual TLS from cert-manager (the default), hourly encrypted backups, and the kube-apiserver wiring. Writes
 * dist/etcd.k8s.yaml, the same bytes as the TypeScript app.
 */
public final class Main {
    private static final Map<String, String> API_SERVER_LABELS = Map.of("app", "kube-apiserver");
    private static final String ETCD_CLIENT_CERT_DIR = "/etc/kubernetes/pki/etcd-client";

    static Chart buildApp(final App app) {
        Chart chart = new Chart(app, "etcd", ChartProps.builder().namespace("control-plane").build());
        EtcdCluster etcd = EtcdCluster.Builder.create(chart, "etcd")
                .members(3)
                .storageSize(Size.gibibytes(20))
                .storageClassName("fast-ssd")
                .resources(EtcdResources.small(EtcdResourcePresetOptions.builder().guaranteed(true).build()))
                .spreadAcrossZones(true)
                .priorityClassName("system-cluster-critical")
                .clients(List.of(EtcdNetworkPeer.pods(EtcdPodPeerOptions.builder().labels(API_SERVER_LABELS).build())))
                .monitoring(List.of(EtcdNetworkPeer.namespace("monitoring")))
                .build();

        // Hourly snapshots, verified and encrypted, on a volume of their own; the passphrase Secret is yours to create.
        // 48 snapshots as large as the 8 GiB quota would take 392 GiB; a real database is far smaller, so size it.
        etcd.addBackup("backup", EtcdBackupOptions.builder()
                .destinations(List.of(EtcdBackupDestination.volume(
                        EtcdBackupVolumeOptions.builder().storageClassName("fast-ssd").size(Size.gibibytes(64)).build())))
                .encryption(EtcdBackupEncryption.rcloneCrypt(
                        EtcdBackupRcloneCryptOptions.builder().secretName("etcd-backup-key").build()))
                .keepLast(48)
                .build());

        // Nightly defragmentation by etcd-defrag's recommended rule, and monitoring: a PodMonitor, the alerts (the backup's
        // and the defragmentation's included) and a Grafana dashboard, labelled for kube-prometheus-stack to pick up.
        etcd.addDefrag("defrag");
        etcd.addMonitoring(EtcdMonitoringOptions.builder().labels(Map.of("release", "kube-prometheus-stack")).build());

        // The kube-apiserver side of the wiring: mount the client identity where the flags point.
        List<String> command = new ArrayList<>(List.of("kube-apiserver"));
        command.addAll(etcd.kubeApiServerFlags(ETCD_CLIENT_CERT_DIR));
        KubeDeployment.Builder.create(chart, "kube-apiserver")
                .metadata(ObjectMeta.builder().name("kube-apiserver").namespace(etcd.getNamespace()).build())
                .spec(DeploymentSpec.builder()
                        .replicas(2)
                        .selector(LabelSelector.builder().matchLabels(API_SERVER_LABELS).build())
                        .template(PodTemplateSpec.builder()
                                .metadata(ObjectMeta.builder().labels(API_SERVER_LABELS).build())
                                .spec(PodSpec.builder()
                                        .containers(List.of(Container.builder()
                                                .name("kube-apiserver")
                                                .image("registry.k8s.io/kube-apiserver:v1.34.2")
                                                .command(command)
                                                .volumeMounts(List.of(VolumeMount.builder()
                                                        .name("etcd-client").mountPath(ETCD_CLIENT_CERT_DIR).readOnly(true).build()))
                                                .securityContext(SecurityContext.builder()
                                                        .allowPrivilegeEscalation(false)
                                                        .capabilities(Capabilities.builder().drop(List.of("ALL")).build())
                                                        .readOnlyRootFilesystem(true)
                                                        .build())
                                                .build()))
                                        // Pod Security "restricted", as the etcd pods are.
                                        .securityContext(PodSecurityContext.builder()
                                                .runAsNonRoot(true).runAsUser(65532)
                                                .seccompProfile(SeccompProfile.builder().type("RuntimeDefault").build())
                                                .build())
                                        .volumes(List.of(Volume.builder()
                                                .name("etcd-client")
                                                .secret(SecretVolumeSource.builder()
                                                        .secretName(etcd.getClientSecretName()).defaultMode(0440).build())
                                                .build()))
                                        .build())
                                .build())
                        .build())
                .build();
        return chart;
    }

    public static void main(final String[] args) {
        App app = new App();
        buildApp(app);
        app.synth();
    }
}
