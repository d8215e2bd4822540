import { isIPv6 } from 'net';
import { App, Chart, Size } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import { accessOf, registerAccess } from '../access/access';
import { apiServerFlags } from '../access/kube-apiserver';
import { EtcdBackupOptions } from '../jobs/backup/backup-options';
import { EtcdBackup, EtcdDefrag, IEtcdCluster } from '../jobs/cluster-jobs';
import { EtcdDefragOptions } from '../jobs/defrag/defrag-options';
import { EtcdMonitoring } from '../monitoring/etcd-monitoring';
import { EtcdMonitoringOptions } from '../monitoring/monitoring-options';
import { clusterToken } from '../member/cluster-token';
import { renderEtcdFlags } from '../member/flags';
import { ClusterModel, METRICS_PORT, MemberModel, TlsFiles, clientEndpointsOf, hostMember } from '../member/model';
import { renderProbes } from '../member/probes';
import { EtcdResources } from '../member/resources';
import { EtcdTuning, effectiveQuotaBytes, resolveTuning } from '../member/tuning';
import { resolveImage } from '../release/image';
import { changesMinor } from '../release/upgrade-gate';
import { checkUpgrade } from '../release/upgrades';
import { EtcdVersion } from '../release/version';
import { warnAboutVersion } from '../release/version-warnings';
import { KUBEADM_DATA_DIR, PreparedRestore, prepareRestore, renderRestoreSteps } from '../restore/restore-steps';
import { EtcdSnapshotSource } from '../restore/snapshot-source';
import { checkObjectCollisions, markNodeLocal } from '../shared/app-checks';
import { EtcdConfigError } from '../shared/errors';
import { EtcdRequiredSecret, requiredSecretsOf } from '../shared/required-secrets';
import { validateAbsolutePath, validateDnsLabel, validateDnsSubdomain } from '../shared/validate';
import { addWarning } from '../shared/warnings';
import { EtcdKubeadmPki, EtcdKubeadmPkiOptions, generateKubeadmPki, kubeadmPeerFiles } from '../tls/kubeadm-pki';
import { peerAllowedHostname } from '../tls/tls';
import { healthCheckScript, rolloutOrderScript, upgradeGateScript } from './rollout-scripts';
import { staticPodAccess } from './static-pod-access';
import { manifestLabel, validateDataDir, validateNodes } from './static-pod-validation';

/** A control-plane node that runs an etcd member. */
export interface EtcdStaticPodNode {
  /** Node name, also the member name (`--name`). A DNS-1123 subdomain, unique in the cluster. */
  readonly name: string;
  /** Node IP (IPv4 or IPv6) the member advertises to peers and clients. Unique in the cluster. */
  readonly ip: string;
  /**
   * The node joins a running cluster, to replace a removed member or to grow the cluster.
   * Its manifest gets `--initial-cluster-state=existing` and an `--initial-cluster` of the other
   * nodes plus itself. Run `memberAddCommand(name)` against the cluster before starting it.
   * At most one node joins at a time.
   * @default false
   */
  readonly joinExisting?: boolean;
}

/** Properties of an {@link EtcdStaticPodCluster}. */
export interface EtcdStaticPodClusterProps {
  /** The control-plane nodes: 1, 3, 5 or 7 (an even count only while one node joins). */
  readonly nodes: EtcdStaticPodNode[];

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
   * (README: "Upgrading etcd"). When the minor changes, `upgradeGateScript` is the gate to run before the first node.
   * @default - no check and no gate: nothing says what runs now
   */
  readonly upgradeFrom?: EtcdVersion;

  /**
   * Container image repository. For kubeadm's image use `registry.k8s.io/etcd` with a tag Kubernetes
   * publishes (e.g. `3.6.4-0`), and set `version` to the same release.
   * @default 'gcr.io/etcd-development/etcd' (etcd's official release images, published for every release)
   */
  readonly imageRepository?: string;

  /**
   * Container image tag. A tag that names a release (`v3.6.16`, `3.6.16-0`) must match `version`;
   * mutable tags such as `latest` are refused, and other tags warn, because the flags are rendered
   * for `version`.
   * @default - `v<version>`
   */
  readonly imageTag?: string;

  /**
   * Namespace of the static pods.
   * @default 'kube-system'
   */
  readonly namespace?: string;

  /**
   * Data directory on each node (hostPath).
   *
   * On kubeadm nodes, `kubeadm upgrade apply|node` rewrites `etcd.yaml` from kubeadm's `etcd.local.dataDir`
   * (`/var/lib/etcd` by default): with another directory here, run it with `--etcd-upgrade=false`, and set
   * `etcd.local.dataDir` in the `kubeadm-config` ConfigMap to this value, or the next upgrade starts etcd from the
   * other directory (after a restore, the old cluster's data). Synthesis warns.
   * @default '/var/lib/etcd'
   */
  readonly dataDir?: string;

  /**
   * Directory with etcd's certificates on each node (hostPath), with kubeadm's file names:
   * `ca.crt`, `server.crt`/`.key`, `peer.crt`/`.key`, `healthcheck-client.crt`/`.key` (with `separatePeerCa`,
   * `peer-ca.crt` and `peer-isolated.crt`/`.key` instead of `peer.crt`/`.key`).
   * @default '/etc/kubernetes/pki/etcd'
   */
  readonly pkiDir?: string;

  /**
   * The name every peer certificate must be valid for (`--peer-cert-allowed-hostname`). kubeadm's peer certificates
   * (and `generatePki()`'s) carry `localhost` among their names, and its client certificates (the API server's, the
   * health check's) carry no name, so with the default the peer port refuses a client certificate although one CA
   * signs both. An empty string turns the check off, as kubeadm has it: any certificate the CA signed is a peer.
   * @default 'localhost'
   */
  readonly peerCertAllowedHostname?: string;

  /**
   * Trust a CA of the peer plane's own on the peer port (`--peer-trusted-ca-file=<pkiDir>/peer-ca.crt`), instead of
   * kubeadm's single etcd CA, so that no client certificate is a peer. The members present `peer-isolated.crt`,
   * which `generatePki()` signs with that CA: kubeadm knows nothing of it, and `kubeadm certs renew` re-signs
   * `peer.crt` with `ca.crt`, so the members do not read `peer.crt`. Renew with `generatePki()` given both CAs
   * (README: "A CA of the peer plane's own"). `kubeadm join --control-plane` writes kubeadm's own etcd manifest and
   * peer certificate: add nodes with this library's manifests and PKI instead.
   *
   * For a new cluster. On a running one, a member on the new peer CA and one on the old do not trust each other
   * (etcd reads its trusted CA once at start).
   * @default false - kubeadm's single CA signs both planes
   */
  readonly separatePeerCa?: boolean;

  /**
   * Directory with kube-apiserver's etcd client certificate (`apiserver-etcd-client.crt`/`.key`).
   * @default '/etc/kubernetes/pki'
   */
  readonly apiServerPkiDir?: string;

  /**
   * Timing, quota, compaction and corruption checks.
   * @default - see EtcdTuning; the quota is etcd's default (2 GiB) unless given
   */
  readonly tuning?: EtcdTuning;

  /**
   * CPU and memory of each member.
   * @default - kubeadm's requests: 100m CPU, 100 MiB memory
   */
  readonly resources?: EtcdResources;

  /**
   * PriorityClass of the static pods.
   * @default 'system-node-critical'
   */
  readonly priorityClassName?: string;

  /**
   * `--initial-cluster-token`. Changing it changes every manifest, and the kubelet restarts a static
   * pod whose manifest changes.
   * @default - derived from the namespace and the construct id: stable when the construct moves in code
   */
  readonly initialClusterToken?: string;

  /**
   * Start from a snapshot instead of empty: each node's manifest restores it once into a new, empty
   * `dataDir`, while the cluster has never formed with that member, and starts from its data ever after.
   * Follow the README's runbook (stop the API servers first). Once every member runs, write the manifests
   * without it (keep `dataDir` and `initialClusterToken`), one node at a time (README: "After a restore").
   * @default - the cluster starts empty
   */
  readonly restoreFrom?: EtcdSnapshotSource;

  /**
   * Serve `/metrics` on each node's IP (`http://<ip>:2381`) as well as on `127.0.0.1:2381`, and name that port
   * `metrics` in the pod, so that Prometheus on another pod can scrape it (`addMonitoring` needs it). kubeadm binds
   * the metrics listener to loopback only. The listener is plain http and serves metrics and health, never keys;
   * restrict port 2381 to your monitoring at the node's firewall, as no NetworkPolicy selects host-network pods.
   * @default false
   */
  readonly metricsOnNodeIp?: boolean;
}

/** Which cluster made each node's chart, for the message when two clusters claim a node. */
const NODE_CHART_OWNERS = new WeakMap<IConstruct, string>();

/** kubeadm's labels on the etcd static pod. */
const KUBEADM_LABELS = { component: 'etcd', 'tier': 'control-plane' };
const ADVERTISE_ANNOTATION = 'kubeadm.kubernetes.io/etcd.advertise-client-urls';

/**
 * kubeadm-compatible etcd static pods: one manifest per control-plane node, rendered from the
 * same member model as `EtcdCluster`.
 *
 * Each node's manifest is a Chart directly under the App, named `etcd-<node>` (dots become '-'),
 * so `cdk8s synth` writes `dist/etcd-<node>.k8s.yaml`: copy it to the node's
 * `/etc/kubernetes/manifests/etcd.yaml`.
 */
export class EtcdStaticPodCluster extends Construct implements IEtcdCluster {
  /** etcd release. */
  public readonly version: EtcdVersion;
  /** Container image. */
  public readonly image: string;
  /** Node names, in the order given. */
  public readonly nodeNames: string[];
  /** Every node's client URL. */
  public readonly clientEndpoints: string[];
  /** The value for kube-apiserver's `--etcd-servers`: every node's client URL, comma-separated. */
  public readonly etcdServers: string;
  /** Directory of etcd's certificates on each node. */
  public readonly pkiDir: string;
  /** Directory of kube-apiserver's etcd client certificate on each node. */
  public readonly apiServerPkiDir: string;
  /** Whether the peer plane trusts a CA of its own (`<pkiDir>/peer-ca.crt`) rather than kubeadm's etcd CA. */
  public readonly separatePeerCa: boolean;
  /**
   * A shell script that prints the node names in the order to roll their manifests: followers first, the node whose
   * member leads last. Run it on a control-plane node (etcdctl and kubeadm's healthcheck-client certificate) right
   * before a rollout, and run `healthCheckScript` after each node (README: "Rolling a change through the nodes").
   */
  public readonly rolloutOrderScript: string;
  /** A shell script that asks every member for a linearizable health check until all pass (120 tries, a second apart). */
  public readonly healthCheckScript: string;
  /**
   * With `upgradeFrom` on another minor: the pre-upgrade gate, to run once before the first node. It exits 0 only when
   * every member is healthy, no alarm is raised, and a verified snapshot is saved as
   * `$SNAPSHOT_DIR/pre-upgrade-<from>-to-<to>.db` (README: "Upgrading etcd").
   * @default - none: no upgrade to another minor
   */
  public readonly upgradeGateScript?: string;

  /** @internal the resolved model every manifest renders from. */
  public readonly _model: ClusterModel;
  private readonly nodes: EtcdStaticPodNode[];
  private readonly metricsOnNodeIp: boolean;
  private readonly charts = new Map<string, Chart>();
  private readonly pods = new Map<string, k8s.KubePod>();

  public constructor(scope: Construct, id: string, props: EtcdStaticPodClusterProps) {
    super(scope, id);
    this.nodes = validateNodes(props.nodes, (w) => addWarning(this, w));
    this.metricsOnNodeIp = props.metricsOnNodeIp ?? false;
    this.nodeNames = this.nodes.map((n) => n.name);
    const namespace = props.namespace ?? 'kube-system';
    validateDnsLabel('namespace', namespace);
    this.version = props.version ?? EtcdVersion.DEFAULT;
    if (props.upgradeFrom !== undefined) checkUpgrade('upgradeFrom', props.upgradeFrom, this.version);
    this.image = resolveImage(this, this.version, props.imageRepository, props.imageTag);
    const dataDir = props.dataDir ?? KUBEADM_DATA_DIR;
    validateAbsolutePath('dataDir', dataDir);
    this.pkiDir = props.pkiDir ?? '/etc/kubernetes/pki/etcd';
    this.separatePeerCa = props.separatePeerCa ?? false;
    validateAbsolutePath('pkiDir', this.pkiDir);
    this.apiServerPkiDir = props.apiServerPkiDir ?? '/etc/kubernetes/pki';
    validateAbsolutePath('apiServerPkiDir', this.apiServerPkiDir);
    validateDataDir(dataDir, { pkiDir: this.pkiDir, apiServerPkiDir: this.apiServerPkiDir });
    if (dataDir !== KUBEADM_DATA_DIR) {
      addWarning(this, `dataDir is '${dataDir}', but on a kubeadm node \`kubeadm upgrade apply|node\` rewrites etcd.yaml with kubeadm's etcd.local.dataDir ('${KUBEADM_DATA_DIR}' by default), so the next upgrade would start etcd from that directory (after a restore: the old cluster's data, a silent rollback). Run kubeadm upgrade with --etcd-upgrade=false, and set etcd.local.dataDir to '${dataDir}' in the kubeadm-config ConfigMap (README: "kubeadm upgrade")`);
    }
    const priorityClassName = props.priorityClassName ?? 'system-node-critical';
    validateDnsSubdomain('priorityClassName', priorityClassName);

    const peerFiles = kubeadmPeerFiles(this.pkiDir, this.separatePeerCa);
    const tls: TlsFiles = {
      certFile: `${this.pkiDir}/server.crt`,
      keyFile: `${this.pkiDir}/server.key`,
      trustedCaFile: `${this.pkiDir}/ca.crt`,
      peerCertFile: peerFiles.cert,
      peerKeyFile: peerFiles.key,
      peerTrustedCaFile: peerFiles.trustedCa,
      peerAllowedHostname: peerAllowedHostname('peerCertAllowedHostname', props.peerCertAllowedHostname, 'localhost'),
    };
    const members = this.nodes.map((n) => hostMember(n.name, n.ip, isIPv6(n.ip) ? '::1' : '127.0.0.1', tls, n.joinExisting ?? false, this.metricsOnNodeIp));
    this._model = {
      version: this.version,
      members,
      initialClusterToken: clusterToken(id.toLowerCase(), namespace, props.initialClusterToken),
      dataDir,
      tuning: resolveTuning(props.tuning ?? {}, this.version, undefined, (w) => addWarning(this, w)),
      tls,
      restored: props.restoreFrom !== undefined,
    };
    this.clientEndpoints = clientEndpointsOf(this._model);
    this.etcdServers = this.clientEndpoints.join(',');
    const rolloutNodes = members.map((m) => ({ name: m.name, clientUrl: m.clientUrl }));
    this.rolloutOrderScript = rolloutOrderScript(this._model, rolloutNodes, this.pkiDir);
    this.healthCheckScript = healthCheckScript(rolloutNodes, this.pkiDir, 120);
    if (props.upgradeFrom && changesMinor(props.upgradeFrom, this.version)) {
      this.upgradeGateScript = upgradeGateScript(props.upgradeFrom, this.version, rolloutNodes, this.pkiDir);
    }
    warnAboutVersion(this, this.version);
    if (this.nodes.length % 2 === 0) {
      addWarning(this, `nodes has ${this.nodes.length} entries while one joins: an even member count adds no failure tolerance, so add the next node soon`);
    }

    const resources = props.resources ?? EtcdResources.custom({ cpuRequestMillis: 100, memoryRequest: Size.mebibytes(100) });
    const restore = props.restoreFrom && prepareRestore(this, props.restoreFrom, this._model, {
      kind: 'EtcdStaticPodCluster', reads: 'node', name: id.toLowerCase(), namespace, tokenGiven: props.initialClusterToken !== undefined, hostDataDir: dataDir,
    });
    const app = App.of(this);
    checkObjectCollisions(this);
    this.nodes.forEach((node, i) => {
      const label = manifestLabel(node.name);
      const taken = app.node.tryFindChild(label);
      if (taken) {
        const owner = NODE_CHART_OWNERS.get(taken) ?? taken.node.path;
        throw new EtcdConfigError(`node '${node.name}' already has a manifest in this App (${label}.k8s.yaml, from '${owner}'): a control-plane node runs one etcd, so two EtcdStaticPodClusters cannot share a node name`);
      }
      const chart = new Chart(app, label);
      NODE_CHART_OWNERS.set(chart, this.node.path);
      markNodeLocal(chart);
      const pod = this.renderPod(chart, members[i], node, namespace, dataDir, priorityClassName, resources, restore);
      this.charts.set(node.name, chart);
      this.pods.set(node.name, pod);
    });
    registerAccess(this, staticPodAccess({
      scope: this,
      clusterName: id.toLowerCase(),
      namespace,
      image: this.image,
      model: this._model,
      nodeNames: this.nodeNames,
      pkiDir: this.pkiDir,
      loopback: this.nodes.every((n) => isIPv6(n.ip)) ? '::1' : '127.0.0.1',
      podLabels: KUBEADM_LABELS,
      metricsOnNodeIp: this.metricsOnNodeIp,
    }));
  }

  /**
   * Every Secret you create before `kubectl apply` for this cluster's jobs: the backups' passphrase and bucket
   * credentials (read it after adding them). The members themselves read no Secrets: their certificates are
   * kubeadm's files on each node.
   */
  public get requiredSecrets(): EtcdRequiredSecret[] {
    return requiredSecretsOf([this]);
  }

  /**
   * Add a scheduled, verified backup (see EtcdBackup). It runs on a node of this cluster, against that
   * node's member. Unless this construct is inside a Chart, it goes into a chart of its own, `<id>-jobs`.
   */
  public addBackup(id: string, options: EtcdBackupOptions): EtcdBackup {
    return new EtcdBackup(accessOf(this).jobScope(), id, { ...options, cluster: this });
  }

  /** Add a scheduled, rule-gated defragmentation, one member at a time, the leader last (see EtcdDefrag). */
  public addDefrag(id: string, options: EtcdDefragOptions = {}): EtcdDefrag {
    return new EtcdDefrag(accessOf(this).jobScope(), id, { ...options, cluster: this });
  }

  /**
   * Add monitoring: a PodMonitor, etcd's mixin alerts and this library's in a PrometheusRule, and a Grafana
   * dashboard (see EtcdMonitoring). It needs `metricsOnNodeIp`, and goes beside the jobs.
   */
  public addMonitoring(options: EtcdMonitoringOptions = {}): EtcdMonitoring {
    return new EtcdMonitoring(accessOf(this).jobScope(), 'Monitoring', { ...options, cluster: this });
  }

  /** The chart holding a node's manifest (its file is `<chart id>.k8s.yaml`). */
  public chartFor(nodeName: string): Chart {
    return this.lookup(this.charts, nodeName);
  }

  /** A node's static Pod, for JSON-patch escape hatches. */
  public podFor(nodeName: string): k8s.KubePod {
    return this.lookup(this.pods, nodeName);
  }

  /**
   * The kube-apiserver flags that connect it to this cluster with kubeadm's client certificate
   * (`apiserver-etcd-client`).
   */
  public kubeApiServerFlags(): string[] {
    return apiServerFlags(this.etcdServers, `${this.pkiDir}/ca.crt`,
      `${this.apiServerPkiDir}/apiserver-etcd-client.crt`, `${this.apiServerPkiDir}/apiserver-etcd-client.key`);
  }

  /**
   * The `etcdctl member add` that must run against the cluster before a joining node starts.
   * It adds the node as a learner (a non-voting member that catches up first); promote it with
   * `etcdctl member promote <ID>` once `etcdctl endpoint status` shows it in sync.
   */
  public memberAddCommand(nodeName: string): string {
    const member = this._model.members.find((m) => m.name === nodeName);
    if (!member) throw new EtcdConfigError(`memberAddCommand nodeName must be one of ${this.nodeNames.join(', ')} (got '${nodeName}')`);
    return `etcdctl member add ${member.name} --learner --peer-urls=${member.peerUrl}`;
  }

  /**
   * Generate kubeadm's etcd PKI for every node (CA, server and peer per node, healthcheck-client,
   * apiserver-etcd-client). The result is kept out of the manifests: write it to the nodes
   * yourself. It contains private keys.
   */
  public generatePki(options: EtcdKubeadmPkiOptions = {}): EtcdKubeadmPki {
    return generateKubeadmPki(this.nodes, this.pkiDir, this.apiServerPkiDir, this.separatePeerCa, options);
  }

  private lookup<T>(map: Map<string, T>, nodeName: string): T {
    const found = map.get(nodeName);
    if (!found) throw new EtcdConfigError(`nodeName must be one of ${this.nodeNames.join(', ')} (got '${nodeName}')`);
    return found;
  }

  private renderPod(chart: Chart, member: MemberModel, node: EtcdStaticPodNode, namespace: string, dataDir: string,
    priorityClassName: string, resources: EtcdResources, restore: PreparedRestore | undefined): k8s.KubePod {
    const goMemLimit = resources._goMemLimitEnv();
    const mounts: k8s.VolumeMount[] = [
      { name: 'etcd-data', mountPath: dataDir },
      { name: 'etcd-certs', mountPath: this.pkiDir },
    ];
    const steps = restore && renderRestoreSteps(restore, {
      member,
      image: this.image,
      listenHost: node.ip,
      podEnv: [],
      dataMount: mounts[0],
      certMounts: mounts.slice(1),
      resources: resources._toKube(),
      // A node whose data is gone is replaced by hand (README: 'A member that lost its volume').
      replacesLostMember: false,
    });
    const probes = renderProbes(this.version, {
      port: k8s.IntOrString.fromNumber(METRICS_PORT),
      host: isIPv6(node.ip) ? '::1' : '127.0.0.1',
      quotaBytes: effectiveQuotaBytes(this._model.tuning),
    });
    return new k8s.KubePod(chart, 'Resource', {
      metadata: {
        name: 'etcd',
        namespace,
        labels: KUBEADM_LABELS,
        annotations: { [ADVERTISE_ANNOTATION]: member.clientUrl },
      },
      spec: {
        hostNetwork: true,
        priorityClassName,
        securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
        initContainers: steps?.initContainers,
        containers: [{
          name: 'etcd',
          image: this.image,
          imagePullPolicy: 'IfNotPresent',
          command: ['etcd', ...renderEtcdFlags(this._model, member)],
          ports: this.metricsOnNodeIp ? [{ name: 'metrics', containerPort: METRICS_PORT, protocol: 'TCP' }] : undefined,
          env: goMemLimit.length > 0 ? goMemLimit : undefined,
          resources: resources._toKube(),
          livenessProbe: probes.liveness,
          readinessProbe: probes.readiness,
          startupProbe: probes.startup,
          volumeMounts: mounts,
        }],
        volumes: [
          { name: 'etcd-certs', hostPath: { path: this.pkiDir, type: 'DirectoryOrCreate' } },
          { name: 'etcd-data', hostPath: { path: dataDir, type: 'DirectoryOrCreate' } },
          ...(steps?.volumes ?? []),
        ],
      },
    });
  }
}
