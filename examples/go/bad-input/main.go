// What mistakes look like from Go: the synth-time errors a TypeScript user gets arrive as ordinary panics whose
// value is an error with the same message, from a constructor, a method and a static factory alike, so recover()
// handles them. A check that runs when the app is synthesized fails inside cdk8s's App.Synth(), whose own Error jsii
// passes on as "Error: <message>". Prints {"constructor"|"method"|"static"|"synth": {"type", "message"}} as JSON.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdk8s-etcd/cdk8s-etcd-go/cdk8setcd"
	"github.com/cdk8s-team/cdk8s-core-go/cdk8s/v2"
)

func caught(attempt func()) (result map[string]string) {
	defer func() {
		err, ok := recover().(error)
		if !ok {
			fmt.Fprintln(os.Stderr, "expected a panic with an error value")
			os.Exit(1)
		}
		result = map[string]string{"type": fmt.Sprintf("%T", err), "message": err.Error()}
	}()
	attempt()
	return nil
}

func main() {
	app := cdk8s.NewApp(nil)
	chart := cdk8s.NewChart(app, jsii.String("etcd"), nil)
	etcd := cdk8setcd.NewEtcdCluster(chart, jsii.String("etcd"), nil)
	out, _ := json.Marshal(map[string]map[string]string{
		"constructor": caught(func() {
			cdk8setcd.NewEtcdCluster(chart, jsii.String("even"), &cdk8setcd.EtcdClusterProps{Members: jsii.Number(4)})
		}),
		"method": caught(func() {
			etcd.AddBackup(jsii.String("backup"), &cdk8setcd.EtcdBackupOptions{
				Destinations: &[]cdk8setcd.EtcdBackupDestination{cdk8setcd.EtcdBackupDestination_Volume(nil)},
				Encryption:   cdk8setcd.EtcdBackupEncryption_RcloneCrypt(&cdk8setcd.EtcdBackupRcloneCryptOptions{SecretName: jsii.String("etcd-backup-key")}),
				KeepLast:     jsii.Number(0),
			})
		}),
		"static": caught(func() { cdk8setcd.EtcdNetworkPeer_IpBlock(jsii.String("10.0.0.0/33"), nil) }),
		// The same cluster again in a second chart: every object would be written twice.
		"synth": caught(func() {
			cdk8setcd.NewEtcdCluster(cdk8s.NewChart(app, jsii.String("again"), nil), jsii.String("etcd"), nil)
			app.Synth()
		}),
	})
	fmt.Println(string(out))
}
