// The TypeScript static-pod example (examples/static-pods.ts), in Go: kubeadm-style etcd for three control-plane
// nodes. `go run ./static-pods` writes dist/etcd-cp-1.k8s.yaml ... and prints the kube-apiserver flags.
package main

import (
	"fmt"
	"strings"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdk8s-etcd/cdk8s-etcd-go/cdk8setcd"
	"github.com/cdk8s-team/cdk8s-core-go/cdk8s/v2"
)

func buildApp(app cdk8s.App) cdk8setcd.EtcdStaticPodCluster {
	return cdk8setcd.NewEtcdStaticPodCluster(app, jsii.String("etcd"), &cdk8setcd.EtcdStaticPodClusterProps{
		Nodes: &[]*cdk8setcd.EtcdStaticPodNode{
			{Name: jsii.String("cp-1"), Ip: jsii.String("10.0.0.11")},
			{Name: jsii.String("cp-2"), Ip: jsii.String("10.0.0.12")},
			{Name: jsii.String("cp-3"), Ip: jsii.String("10.0.0.13")},
		},
	})
}

func main() {
	app := cdk8s.NewApp(nil)
	etcd := buildApp(app)
	app.Synth()
	// The PKI stays out of the manifests. Write it only where a provisioning tool picks it up:
	//   etcd.GeneratePki(nil).WriteTo(jsii.String("pki"))   // pki/<node>/etc/kubernetes/pki/...
	flags := []string{}
	for _, flag := range *etcd.KubeApiServerFlags() {
		flags = append(flags, *flag)
	}
	fmt.Printf("kube-apiserver flags:\n  %s\n", strings.Join(flags, "\n  "))
}
