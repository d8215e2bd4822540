// The TypeScript example app (examples/main.ts), in Go: a three-member etcd for a hosted control plane, with
// mutual TLS from cert-manager (the default), hourly encrypted backups, and the kube-apiserver wiring.
//
//	go run ./main    # writes dist/etcd.k8s.yaml, the same bytes as the TypeScript app
package main

import (
	"github.com/aws/jsii-runtime-go"
	"github.com/cdk8s-etcd/cdk8s-etcd-go/cdk8setcd"
	"github.com/cdk8s-team/cdk8s-core-go/cdk8s/v2"
	"github.com/cdk8s-team/cdk8s-plus-go/cdk8splus28/v2/k8s"
)

var apiServerLabels = map[string]*string{"app": jsii.String("kube-apiserver")}

const etcdClientCertDir = "/etc/kubernetes/pki/etcd-client"

func buildApp(app cdk8s.App) cdk8s.Chart {
	chart := cdk8s.NewChart(app, jsii.String("etcd"), &cdk8s.ChartProps{Namespace: jsii.String("control-plane")})
	etcd := cdk8setcd.NewEtcdCluster(chart, jsii.String("etcd"), &cdk8setcd.EtcdClusterProps{
		Members:           jsii.Number(3),
		StorageSize:       cdk8s.Size_Gibibytes(jsii.Number(20)),
		StorageClassName:  jsii.String("fast-ssd"),
		Resources:         cdk8setcd.EtcdResources_Small(&cdk8setcd.EtcdResourcePresetOptions{Guaranteed: jsii.Bool(true)}),
		SpreadAcrossZones: jsii.Bool(true),
		PriorityClassName: jsii.String("system-cluster-critical"),
		Clients:           &[]cdk8setcd.EtcdNetworkPeer{cdk8setcd.EtcdNetworkPeer_Pods(&cdk8setcd.EtcdPodPeerOptions{Labels: &apiServerLabels})},
		Monitoring:        &[]cdk8setcd.EtcdNetworkPeer{cdk8setcd.EtcdNetworkPeer_Namespace(jsii.String("monitoring"))},
	})

	// Hourly snapshots, verified and encrypted, on a volume of their own; the passphrase Secret is yours to create.
	// 48 snapshots as large as the 8 GiB quota would take 392 GiB; a real database is far smaller, so size it.
	etcd.AddBackup(jsii.String("backup"), &cdk8setcd.EtcdBackupOptions{
		Destinations: &[]cdk8setcd.EtcdBackupDestination{
			cdk8setcd.EtcdBackupDestination_Volume(&cdk8setcd.EtcdBackupVolumeOptions{StorageClassName: jsii.String("fast-ssd"), Size: cdk8s.Size_Gibibytes(jsii.Number(64))}),
		},
		Encryption: cdk8setcd.EtcdBackupEncryption_RcloneCrypt(&cdk8setcd.EtcdBackupRcloneCryptOptions{SecretName: jsii.String("etcd-backup-key")}),
		KeepLast:   jsii.Number(48),
	})

	// Nightly defragmentation by etcd-defrag's recommended rule, and monitoring: a PodMonitor, the alerts (the backup's
	// and the defragmentation's included) and a Grafana dashboard, labelled for kube-prometheus-stack to pick up.
	etcd.AddDefrag(jsii.String("defrag"), nil)
	etcd.AddMonitoring(&cdk8setcd.EtcdMonitoringOptions{Labels: &map[string]*string{"release": jsii.String("kube-prometheus-stack")}})

	// The kube-apiserver side of the wiring: mount the client identity where the flags point.
	command := append([]*string{jsii.String("kube-apiserver")}, *etcd.KubeApiServerFlags(jsii.String(etcdClientCertDir))...)
	k8s.NewKubeDeployment(chart, jsii.String("kube-apiserver"), &k8s.KubeDeploymentProps{
		Metadata: &k8s.ObjectMeta{Name: jsii.String("kube-apiserver"), Namespace: etcd.Namespace()},
		Spec: &k8s.DeploymentSpec{
			Replicas: jsii.Number(2),
			Selector: &k8s.LabelSelector{MatchLabels: &apiServerLabels},
			Template: &k8s.PodTemplateSpec{
				Metadata: &k8s.ObjectMeta{Labels: &apiServerLabels},
				Spec: &k8s.PodSpec{
					Containers: &[]*k8s.Container{{
						Name:    jsii.String("kube-apiserver"),
						Image:   jsii.String("registry.k8s.io/kube-apiserver:v1.34.2"),
						Command: &command,
						VolumeMounts: &[]*k8s.VolumeMount{{
							Name: jsii.String("etcd-client"), MountPath: jsii.String(etcdClientCertDir), ReadOnly: jsii.Bool(true),
						}},
						SecurityContext: &k8s.SecurityContext{
							AllowPrivilegeEscalation: jsii.Bool(false),
							Capabilities:             &k8s.Capabilities{Drop: &[]*string{jsii.String("ALL")}},
							ReadOnlyRootFilesystem:   jsii.Bool(true),
						},
					}},
					// Pod Security "restricted", as the etcd pods are.
					SecurityContext: &k8s.PodSecurityContext{
						RunAsNonRoot: jsii.Bool(true), RunAsUser: jsii.Number(65532),
						SeccompProfile: &k8s.SeccompProfile{Type: jsii.String("RuntimeDefault")},
					},
					Volumes: &[]*k8s.Volume{{
						Name:   jsii.String("etcd-client"),
						Secret: &k8s.SecretVolumeSource{SecretName: etcd.ClientSecretName(), DefaultMode: jsii.Number(0o440)},
					}},
				},
			},
		},
	})
	return chart
}

func main() {
	app := cdk8s.NewApp(nil)
	buildApp(app)
	app.Synth()
}
