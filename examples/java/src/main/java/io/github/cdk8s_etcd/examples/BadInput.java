package io.github.cdk8s_etcd.examples;

import io.github.cdk8s_etcd.EtcdBackupDestination;
import io.github.cdk8s_etcd.EtcdBackupEncryption;
import io.github.cdk8s_etcd.EtcdBackupOptions;
import io.github.cdk8s_etcd.EtcdBackupRcloneCryptOptions;
import io.github.cdk8s_etcd.EtcdCluster;
import io.github.cdk8s_etcd.EtcdNetworkPeer;
import java.util.List;
import org.cdk8s.App;
import org.cdk8s.Chart;

/**
 * What mistakes look like from Java: the synth-time errors a TypeScript user gets arrive as ordinary unchecked
 * exceptions (RuntimeException) whose message starts with the same text, from a constructor, a method and a static
 * factory alike. jsii's Java runtime appends the JavaScript stack to the message; JSII_NOSTACK=1 leaves it out. A
 * check that runs when the app is synthesized fails inside cdk8s's App.synth(), whose own Error jsii passes on as
 * "Error: &lt;message&gt;". Prints {"constructor"|"method"|"static"|"synth": {"type", "message"}} as JSON.
 */
public final class BadInput {
    public static void main(final String[] args) {
        App app = new App();
        Chart chart = new Chart(app, "etcd");
        EtcdCluster etcd = EtcdCluster.Builder.create(chart, "etcd").build();
        System.out.println("{"
                + "\"constructor\": " + caught(() -> EtcdCluster.Builder.create(chart, "even").members(4).build()) + ", "
                + "\"method\": " + caught(() -> etcd.addBackup("backup", EtcdBackupOptions.builder()
                        .destinations(List.of(EtcdBackupDestination.volume()))
                        .encryption(EtcdBackupEncryption.rcloneCrypt(
                                EtcdBackupRcloneCryptOptions.builder().secretName("etcd-backup-key").build()))
                        .keepLast(0)
                        .build())) + ", "
                + "\"static\": " + caught(() -> EtcdNetworkPeer.ipBlock("10.0.0.0/33")) + ", "
                // The same cluster again in a second chart: every object would be written twice.
                + "\"synth\": " + caught(() -> {
                    EtcdCluster.Builder.create(new Chart(app, "again"), "etcd").build();
                    app.synth();
                })
                + "}");
    }

    private static String caught(final Runnable attempt) {
        try {
            attempt.run();
        } catch (RuntimeException e) {
            return "{\"type\": " + quote(e.getClass().getName()) + ", \"message\": " + quote(e.getMessage()) + "}";
        }
        throw new IllegalStateException("expected an exception");
    }

    private static String quote(final String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n").replace("\t", "\\t") + "\"";
    }
}
