import { Size } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { EtcdResources } from '../member/resources';
import { EtcdTuning } from '../member/tuning';
import { EtcdVersion } from '../release/version';
import { EtcdSnapshotSource } from '../restore/snapshot-source';
import { EtcdTls } from '../tls/tls';
import { EtcdNetworkPeer } from './network-peer';
import { EtcdPodAntiAffinity } from './scheduling';
import { EtcdUpdateStrategy } from './update-strategy';

/** Properties of an {@link EtcdCluster}. */
export interface EtcdClusterProps {
  /**
   * Base name of every object: the StatefulSet and client Service are `<name>`, the headless
   * peer Service `<name>-peer`, members `<name>-0`, `<name>-1`, ...
   * Must start with a letter (it names Services) and be at most 52 characters (StatefulSet limit).
   * @default - the construct id, lowercased
   */
  readonly name?: string;

  /**
   * Namespace of every object. It is written into each object, because member DNS names
   * and certificates depend on it.
   * @default - the chart's namespace, or `default`
   */
  readonly namespace?: string;

  /**
   * Number of members: 1, 3, 5 or 7. A majority must be up for the cluster to work, so
   * 3 tolerate one failure, 5 two, 7 three. 1 is not highly available.
   * @default 3
   */
  readonly members?: number;

  /**
   * etcd release. Flags and probe endpoints follow it.
   * @default EtcdVersion.DEFAULT
   */
  readonly version?: EtcdVersion;

  /**
   * The release the cluster runs now, while you change `version`: the change is checked against etcd's upgrade rules
   * at synthesis. A new patch of the same line passes; the next minor passes when this is at least the floor etcd's
   * upgrade guide names (3.5.26 before 3.6, 3.6.11 before 3.7, the newest 3.4 before 3.5); a skipped minor, a source
   * below the floor, and a downgrade are refused with the path to take. Remove it once every member runs `version`
   * (README: "Upgrading etcd").
   *
   * When the minor changes, each member gates its own upgrade before its new release starts: every other member must be
   * healthy, no alarm raised, and a verified snapshot of the cluster is saved on the member's volume
   * (`pre-upgrade-<from>-to-<to>.db`, beside the data directory). Until then its pod is not Ready, so the StatefulSet
   * controller replaces no other member. The upgrade lives in the members ConfigMap: setting or removing this prop
   * restarts no member.
   * @default - no check and no gate: nothing says what runs now
   */
  readonly upgradeFrom?: EtcdVersion;

  /**
   * Container image repository. The image must contain `/usr/local/bin/etcd`.
   * @default 'gcr.io/etcd-development/etcd' (etcd's official release images)
   */
  readonly imageRepository?: string;

  /**
   * Container image tag. A tag that names a release (`v3.6.16`, `3.6.16-0`) must match `version`;
   * mutable tags such as `latest` are refused, and other tags warn, because the flags are rendered
   * for `version`.
   * @default - `v<version>`, as etcd's release images are tagged
   */
  readonly imageTag?: string;

  /**
   * The Kubernetes cluster's DNS domain, used in member addresses: the part after `.svc.` in a
   * Service's FQDN, so it never contains a `svc` label.
   * @default 'cluster.local'
   */
  readonly clusterDomain?: string;

  /**
   * `--initial-cluster-token`, which keeps members of different clusters from joining each other
   * while they bootstrap. Changing it changes the pod template and so restarts every member.
   * @default - derived from the namespace and name: stable when the construct moves in code
   */
  readonly initialClusterToken?: string;

  /**
   * How a changed pod template reaches the members. The default replaces one member at a time, highest first; from
   * Kubernetes 1.37 the controller never replaces a Ready member while another is not Ready, before 1.37 it does not
   * look (see EtcdUpdateStrategy, and the README's "Rolling updates").
   * @default EtcdUpdateStrategy.rollingUpdate()
   */
  readonly updateStrategy?: EtcdUpdateStrategy;

  /**
   * Size of each member's data volume. Unless `tuning.quotaBackendBytes` is given, the backend
   * quota is derived from it (8 GiB gives 3.75 GiB; 17 GiB or more gives the 8 GiB maximum).
   *
   * Fixed once the StatefulSet exists: Kubernetes refuses changes to `volumeClaimTemplates`, so a new
   * value fails `kubectl apply`. Grow the claims themselves (`kubectl patch pvc`, where the StorageClass
   * allows expansion), or restore into a new cluster (README: "Fixed at creation").
   * @default Size.gibibytes(8)
   */
  readonly storageSize?: Size;

  /**
   * StorageClass of the data volumes. etcd wants low-latency disks (SSD).
   *
   * Fixed once the StatefulSet exists (it is part of `volumeClaimTemplates`, which Kubernetes refuses to
   * change); moving to another class means a new cluster (README: "Fixed at creation").
   * @default - the cluster's default StorageClass
   */
  readonly storageClassName?: string;

  /**
   * Transport security. The default is mutual TLS on the client and peer planes with
   * certificates from cert-manager; `EtcdTls.disabled()` is plain http and warns.
   * @default EtcdTls.certManager()
   */
  readonly tls?: EtcdTls;

  /**
   * The name every peer certificate must be valid for (`--peer-cert-allowed-hostname`). The peer port then refuses a
   * client certificate (kube-apiserver's, a job's) even when the same CA signed it, because a client certificate
   * carries no member name. Every peer certificate this library has issued covers the first member's name; with
   * `EtcdTls.fromSecrets()`, the peer certificate must too (it needs every member's name). An empty string turns the
   * check off: any certificate the peer CA signed is then a peer.
   * @default - the first member's name, `<name>-0.<name>-peer.<namespace>.svc.<clusterDomain>`
   */
  readonly peerCertAllowedHostname?: string;

  /**
   * Timing, quota, compaction and corruption checks.
   * @default - see EtcdTuning
   */
  readonly tuning?: EtcdTuning;

  /**
   * CPU and memory for each member.
   * @default EtcdResources.minimal()
   */
  readonly resources?: EtcdResources;

  /**
   * Keeping members on different nodes.
   * @default EtcdPodAntiAffinity.REQUIRED (with more than one member)
   */
  readonly podAntiAffinity?: EtcdPodAntiAffinity;

  /**
   * Spread members evenly over zones (`topology.kubernetes.io/zone`, max skew 1).
   * Nodes without the zone label are not used.
   * @default false
   */
  readonly spreadAcrossZones?: boolean;

  /**
   * Node labels members must run on.
   * @default - any node
   */
  readonly nodeSelector?: { [key: string]: string };

  /**
   * Tolerations, e.g. to run on dedicated or control-plane nodes.
   * @default - none
   */
  readonly tolerations?: k8s.Toleration[];

  /**
   * PriorityClass of the members, so they are not preempted by less important pods.
   * @default - none
   */
  readonly priorityClassName?: string;

  /**
   * Create a NetworkPolicy that admits peer traffic only from members, client traffic only
   * from `clients` and metrics scrapes only from `monitoring`. Without it, `clients` and
   * `monitoring` cannot be given.
   * @default true
   */
  readonly networkPolicy?: boolean;

  /**
   * Who may connect to the client port. More can be added with `allowClient()`.
   * `EtcdNetworkPeer.anywhere()` turns filtering off.
   * @default - nobody (a warning is printed)
   */
  readonly clients?: EtcdNetworkPeer[];

  /**
   * Who may scrape the metrics port (Prometheus).
   * @default - nobody
   */
  readonly monitoring?: EtcdNetworkPeer[];

  /**
   * Start from a snapshot an `EtcdBackup` wrote, instead of empty. Each member restores it once, while
   * the cluster has never formed with it, and starts from its data ever after (see the README's
   * restore runbook). The cluster should have a new name: the old cluster's volumes stay untouched.
   * @default - the cluster starts empty
   */
  readonly restoreFrom?: EtcdSnapshotSource;

  /**
   * The member count the cluster runs with now, while it shrinks to `members` (one step: 7 → 5, 5 → 3 or 3 → 1). The
   * StatefulSet keeps that many pods, and a Job (`scaleDownJob`) removes the members above `members` from etcd, one at
   * a time, highest first, leader last. Apply, wait for the Job to complete, then remove this prop: only then does the
   * StatefulSet delete the removed members' pods (their claims stay, see the README's membership section). Growing
   * needs no prop: a new member adds itself as a learner and is promoted once it has caught up.
   * @default - no scale-down
   */
  readonly scaleDownFrom?: number;

  /**
   * Acknowledge that a scale-down to a single member (`scaleDownFrom: 3`, `members: 1`) ends high availability.
   * @default - a scale-down to 1 member is refused
   */
  readonly acknowledgeSingleMember?: boolean;

  /**
   * The busybox image whose statically linked busybox the member steps copy into the etcd image (which has no
   * shell), to decide how each member starts and to promote a learner.
   * @default 'busybox:1.37.0-musl'
   */
  readonly busyboxImage?: string;
}
