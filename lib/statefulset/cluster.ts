import { Chart, Size } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { accessOf, registerAccess } from '../access/access';
import { apiServerFlags } from '../access/kube-apiserver';
import { EtcdBackupOptions } from '../jobs/backup/backup-options';
import { EtcdBackup, EtcdDefrag, IEtcdCluster } from '../jobs/cluster-jobs';
import { EtcdDefragOptions } from '../jobs/defrag/defrag-options';
import { EtcdMonitoring } from '../monitoring/etcd-monitoring';
import { EtcdMonitoringOptions } from '../monitoring/monitoring-options';
import { DEFAULT_IMAGES, validatePinnedImage } from '../jobs/images';
import { renderScaleDownJob } from '../jobs/scale-down/scale-down-job';
import { clusterToken } from '../member/cluster-token';
import { renderEtcdFlags } from '../member/flags';
import { CLIENT_PORT, ClusterModel, METRICS_PORT, MemberModel, PEER_PORT, TlsFiles, clientEndpointsOf, dnsMember } from '../member/model';
import { renderProbes } from '../member/probes';
import { EtcdResources } from '../member/resources';
import { bytesOf, effectiveQuotaBytes, resolveTuning } from '../member/tuning';
import { renderMemberList, renderMemberSteps } from '../membership/member-steps';
import { resolveImage } from '../release/image';
import { checkUpgrade } from '../release/upgrades';
import { EtcdVersion } from '../release/version';
import { checkSelfHealingVersion, warnAboutVersion } from '../release/version-warnings';
import { prepareRestore, renderRestoreSteps } from '../restore/restore-steps';
import { checkObjectCollisions } from '../shared/app-checks';
import { EtcdConfigError } from '../shared/errors';
import { EtcdRequiredSecret, requireSecret, requiredSecretsOf, tlsKeys } from '../shared/required-secrets';
import { validateAbsolutePath, validateDnsLabel, validateDnsSubdomain, validateMemberCount, validateServiceName } from '../shared/validate';
import { addWarning } from '../shared/warnings';
import { EtcdTls, peerAllowedHostname } from '../tls/tls';
import { EtcdClusterProps } from './cluster-props';
import { renderDisruptionBudget } from './disruption-budget';
import { EtcdNetworkPeer } from './network-peer';
import { renderNetworkPolicy } from './network-policy';
import { checkScaleDown } from './scale-down';
import { renderScheduling } from './scheduling';
import { TlsMounts, tlsMounts } from './tls-mounts';
import { renderClientService, renderPeerService } from './services';
import { statefulSetAccess } from './statefulset-access';
import { EtcdUpdateStrategy } from './update-strategy';

const DATA_MOUNT_PATH = '/var/lib/etcd';
/** A subdirectory, so etcd owns its directory (mode 0700) and never sees the volume root's lost+found. */
const DATA_DIR = `${DATA_MOUNT_PATH}/data`;
const DATA_VOLUME = 'data';
/** The distroless convention for an unprivileged user; etcd needs no passwd entry. */
const RUN_AS_ID = 65532;
const POD_NAME_REF = '$(POD_NAME)';
const POD_NAME_ENV: k8s.EnvVar = { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } };
/** Pod Security "restricted", for etcd and the restore steps alike. */
const CONTAINER_SECURITY: k8s.SecurityContext = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  seccompProfile: { type: 'RuntimeDefault' },
};
/**
 * A member counts as available as soon as it is Ready: its readiness already needs a linearizable read, so it has
 * caught up. Anything more makes a Ready member "unavailable" for a while, and Kubernetes 1.37's controller (Parallel
 * pods) replaces every unavailable member of the old revision at once, outside its one-at-a-time budget
 * (stateful_set_control.go, `updateStatefulSetAfterInvariantEstablished`, Phase 1): measured with 10 s, a template
 * change right after two restarts replaced all three members within 5 s.
 */
const MIN_READY_SECONDS = 0;

/**
 * A production etcd cluster running as a StatefulSet.
 *
 * Creates a headless peer Service, a client Service, the StatefulSet, a PodDisruptionBudget
 * that never lets an eviction break quorum, and a NetworkPolicy.
 */
export class EtcdCluster extends Construct implements IEtcdCluster {
  /** Base name of the objects. */
  public readonly name: string;
  /** Namespace of the objects. */
  public readonly namespace: string;
  /** Number of members. */
  public readonly members: number;
  /** etcd release. */
  public readonly version: EtcdVersion;
  /** Container image. */
  public readonly image: string;
  /** Name of the headless Service that gives members their DNS names. */
  public readonly peerServiceName: string;
  /** Name of the Service clients connect to. */
  public readonly clientServiceName: string;
  /** Every member's client URL, e.g. `https://etcd-0.etcd-peer.default.svc.cluster.local:2379`. */
  public readonly clientEndpoints: string[];
  /** The value for kube-apiserver's `--etcd-servers`: every member's client URL, comma-separated. */
  public readonly etcdServers: string;
  /** Whether the client and peer planes use mutual TLS. */
  public readonly tlsEnabled: boolean;
  /**
   * Secret (kubernetes.io/tls: `tls.crt`, `tls.key`, `ca.crt`) with a client certificate for
   * kube-apiserver and maintenance jobs; undefined without TLS or when `fromSecrets` names none.
   */
  public readonly clientSecretName?: string;
  /**
   * The DNS names server and peer certificates must hold: each member's FQDN with and without
   * the cluster domain, the peer Service wildcards, the client Service names, and localhost.
   */
  public readonly certificateDnsNames: string[];
  /** The IP addresses server and peer certificates must hold (loopback, for local health checks). */
  public readonly certificateIpAddresses: string[];

  /** The StatefulSet running the members. */
  public readonly statefulSet: k8s.KubeStatefulSet;
  /** The headless peer Service. */
  public readonly peerService: k8s.KubeService;
  /** The client Service. */
  public readonly clientService: k8s.KubeService;
  /** The PodDisruptionBudget. */
  public readonly podDisruptionBudget: k8s.KubePodDisruptionBudget;
  /** The NetworkPolicy, unless disabled. */
  public readonly networkPolicy?: k8s.KubeNetworkPolicy;
  /** The Job that removes members during a scale-down (`scaleDownFrom`). */
  public readonly scaleDownJob?: k8s.KubeJob;
  /** Wait for the scale-down Job to complete before removing `scaleDownFrom`. Undefined without a scale-down. */
  public readonly scaleDownWaitCommand?: string;
  /**
   * The member list (`<name>-members`) each member reads when it starts. Outside the pod template, so a change of
   * `members` restarts no member.
   */
  public readonly memberList: k8s.KubeConfigMap;

  /** @internal the resolved model every object renders from. */
  public readonly _model: ClusterModel;
  private readonly clients: EtcdNetworkPeer[];
  private readonly monitoring: EtcdNetworkPeer[];
  private readonly selectorLabels: { [key: string]: string };
  private readonly busyboxImage: string;

  public constructor(scope: Construct, id: string, props: EtcdClusterProps = {}) {
    super(scope, id);
    const chart = this.node.scopes.find((s): s is Chart => Chart.isChart(s));
    if (!chart) {
      throw new EtcdConfigError(`EtcdCluster '${id}' must be created inside a Chart, not directly under the App: its objects are written by a chart, e.g. new EtcdCluster(new Chart(app, 'etcd', { namespace: 'etcd' }), '${id}')`);
    }
    checkObjectCollisions(this);

    this.name = props.name ?? id.toLowerCase();
    validateServiceName(props.name === undefined ? `name (derived from the construct id '${id}'; set name explicitly)` : 'name', this.name, 52);
    this.namespace = props.namespace ?? chart.namespace ?? 'default';
    validateDnsLabel('namespace', this.namespace);
    this.members = props.members ?? 3;
    validateMemberCount('members', this.members);
    checkScaleDown(this.members, props.scaleDownFrom, props.acknowledgeSingleMember);
    const clusterDomain = props.clusterDomain ?? 'cluster.local';
    validateDnsSubdomain('clusterDomain', clusterDomain);
    if (clusterDomain.split('.').includes('svc')) {
      throw new EtcdConfigError(`clusterDomain must be the domain after '.svc.' in a Service name, such as 'cluster.local' (got '${clusterDomain}'): member names would end in '.svc.${clusterDomain}'`);
    }
    const networkPolicy = props.networkPolicy ?? true;
    if (!networkPolicy && (props.clients?.length || props.monitoring?.length)) {
      throw new EtcdConfigError(`clients and monitoring need the NetworkPolicy, but networkPolicy is false (got ${[...(props.clients ?? []), ...(props.monitoring ?? [])].map((p) => p.description).join(', ')}): without it every source reaches etcd; remove them, or drop networkPolicy: false`);
    }
    this.version = props.version ?? EtcdVersion.DEFAULT;
    if (props.upgradeFrom !== undefined) checkUpgrade('upgradeFrom', props.upgradeFrom, this.version);
    this.image = resolveImage(this, this.version, props.imageRepository, props.imageTag);
    this.busyboxImage = validatePinnedImage('busyboxImage', props.busyboxImage ?? DEFAULT_IMAGES.busybox, DEFAULT_IMAGES.busybox);
    if (props.storageClassName !== undefined) validateDnsSubdomain('storageClassName', props.storageClassName);
    const storageSize = props.storageSize ?? Size.gibibytes(8);

    this.peerServiceName = `${this.name}-peer`;
    this.clientServiceName = this.name;
    this.clients = [...(props.clients ?? [])];
    this.monitoring = [...(props.monitoring ?? [])];
    this.selectorLabels = {
      'app.kubernetes.io/name': 'etcd',
      'app.kubernetes.io/instance': this.name,
    };

    const memberNames: string[] = [];
    for (let i = 0; i < this.members; i++) memberNames.push(`${this.name}-${i}`);
    // Members are `<pod>.<peerDomain>` (plus the cluster domain): the one place their DNS names are built.
    const peerDomain = `${this.peerServiceName}.${this.namespace}.svc`;
    this.certificateDnsNames = this.dnsNamesFor(memberNames, peerDomain, clusterDomain);
    this.certificateIpAddresses = ['127.0.0.1', '::1'];

    const tls = props.tls ?? EtcdTls.certManager();
    this.tlsEnabled = tls.enabled;
    const secrets = tls._bind(this, {
      name: this.name,
      namespace: this.namespace,
      labels: this.labels,
      dnsNames: this.certificateDnsNames,
      ipAddresses: this.certificateIpAddresses,
    });
    this.clientSecretName = secrets?.client;
    if (secrets?.userProvided) {
      const use = (name: string, whose: string, usedBy: string) => requireSecret(this, { name, namespace: this.namespace, type: 'kubernetes.io/tls', keys: tlsKeys(whose), usedBy });
      use(secrets.server, 'the server', `StatefulSet ${this.name} (client port)`);
      use(secrets.peer, 'the peer', `StatefulSet ${this.name} (peer port)`);
      if (secrets.client) use(secrets.client, 'the client', 'kube-apiserver and the jobs (kubeApiServerFlags)');
    }
    const mounts = secrets && tlsMounts(secrets);
    const tlsFiles: TlsFiles | undefined = mounts && {
      ...mounts.files,
      peerAllowedHostname: peerAllowedHostname('peerCertAllowedHostname', props.peerCertAllowedHostname, `${memberNames[0]}.${peerDomain}.${clusterDomain}`),
    };
    if (!tls.enabled) {
      addWarning(this, 'tls is disabled: clients and peers talk plain http, and anyone who reaches the client port can read and write everything');
    }

    const memberNamed = (memberName: string) =>
      dnsMember(memberName, `${memberName}.${peerDomain}.${clusterDomain}`, tlsFiles);
    const members: MemberModel[] = memberNames.map(memberNamed);

    this._model = {
      version: this.version,
      members,
      initialClusterToken: clusterToken(this.name, this.namespace, props.initialClusterToken),
      dataDir: DATA_DIR,
      tuning: resolveTuning(props.tuning ?? {}, this.version, bytesOf(storageSize), (w) => addWarning(this, w)),
      tls: tlsFiles,
      restored: props.restoreFrom !== undefined,
    };
    this.clientEndpoints = clientEndpointsOf(this._model);
    this.etcdServers = this.clientEndpoints.join(',');

    checkSelfHealingVersion(this.version);
    warnAboutVersion(this, this.version);
    if (this.members === 1) {
      addWarning(this, 'members is 1: the cluster is not highly available and its only member cannot be evicted without downtime');
    }

    this.peerService = renderPeerService(this, this.metadata(this.peerServiceName), this.selectorLabels);
    this.clientService = renderClientService(this, this.metadata(this.clientServiceName), this.selectorLabels);
    // A scale-down's leaving members, highest first: in the member list (marked) and in the Job that removes them.
    const leaving: MemberModel[] = [];
    for (let i = (props.scaleDownFrom ?? 0) - 1; i >= this.members; i--) leaving.push(memberNamed(`${this.name}-${i}`));
    this.memberList = renderMemberList(this, this.metadata(`${this.name}-members`), this._model, leaving, props.upgradeFrom);
    this.statefulSet = this.renderStatefulSet(props, memberNamed(POD_NAME_REF), storageSize, mounts);
    this.podDisruptionBudget = renderDisruptionBudget(this, this.metadata(this.name), this.members, this.selectorLabels);
    if (networkPolicy) {
      this.networkPolicy = renderNetworkPolicy(this, this.metadata(this.name), this.selectorLabels, () => this.clients, () => this.monitoring);
      addWarning(this, 'no clients are declared, so the NetworkPolicy admits nobody to the client port: pass clients or call allowClient()',
        () => this.clients.length === 0);
    }
    const access = statefulSetAccess({
      scope: this,
      clusterName: this.name,
      namespace: this.namespace,
      image: this.image,
      model: this._model,
      clientServiceName: this.clientServiceName,
      clusterDomain,
      clientSecretName: this.clientSecretName,
      admitClients: (labels) => {
        if (this.networkPolicy) this.allowClient(EtcdNetworkPeer.pods({ labels }));
      },
      podLabels: this.selectorLabels,
      metricsNotAdmitted: () => (this.networkPolicy && this.monitoring.length === 0
        ? 'the NetworkPolicy admits nobody to the metrics port: pass monitoring (e.g. EtcdNetworkPeer.pods({ labels: { \'app.kubernetes.io/name\': \'prometheus\' }, namespace: \'monitoring\' })) or call allowMonitoring()'
        : undefined),
    });
    registerAccess(this, access);
    if (props.scaleDownFrom !== undefined) {
      this.scaleDownJob = renderScaleDownJob(this, access, { from: props.scaleDownFrom, leaving, busyboxImage: this.busyboxImage });
      this.scaleDownWaitCommand = `kubectl wait --for=condition=complete job/${this.scaleDownJob.metadata.name} -n ${this.namespace} --timeout=30m`;
    }
  }

  /**
   * Every Secret you create before `kubectl apply`: `EtcdTls.fromSecrets()`'s certificates, a restore's passphrase and
   * bucket credentials, and those of the backups added so far (read it after adding them). Secrets this construct or
   * cert-manager creates are not listed.
   */
  public get requiredSecrets(): EtcdRequiredSecret[] {
    return requiredSecretsOf([this]);
  }

  /** Add a scheduled, verified backup of this cluster (see EtcdBackup). Its pods are admitted as clients. */
  public addBackup(id: string, options: EtcdBackupOptions): EtcdBackup {
    return new EtcdBackup(accessOf(this).jobScope(), id, { ...options, cluster: this });
  }

  /** Add a scheduled, rule-gated defragmentation, one member at a time, the leader last (see EtcdDefrag). */
  public addDefrag(id: string, options: EtcdDefragOptions = {}): EtcdDefrag {
    return new EtcdDefrag(accessOf(this).jobScope(), id, { ...options, cluster: this });
  }

  /**
   * Add monitoring: a PodMonitor, etcd's mixin alerts and this library's in a PrometheusRule, and a Grafana
   * dashboard (see EtcdMonitoring).
   */
  public addMonitoring(options: EtcdMonitoringOptions = {}): EtcdMonitoring {
    return new EtcdMonitoring(accessOf(this).jobScope(), 'Monitoring', { ...options, cluster: this });
  }

  /**
   * The kube-apiserver flags that connect it to this cluster with the client identity,
   * when the client Secret (`clientSecretName`) is mounted at `certDir`.
   * @param certDir where the API server mounts the client Secret
   */
  public kubeApiServerFlags(certDir: string = '/etc/kubernetes/pki/etcd-client'): string[] {
    if (!this.tlsEnabled) {
      throw new EtcdConfigError('kubeApiServerFlags needs a client certificate, but tls is disabled: use EtcdTls.certManager() or fromSecrets(), or pass only --etcd-servers');
    }
    if (this.clientSecretName === undefined) {
      throw new EtcdConfigError('kubeApiServerFlags needs a client certificate, but EtcdTls.fromSecrets() was given no clientSecretName');
    }
    const dir = certDir.length > 1 ? certDir.replace(/\/+$/, '') : certDir;
    validateAbsolutePath('certDir', dir);
    return apiServerFlags(this.etcdServers, `${dir}/ca.crt`, `${dir}/tls.crt`, `${dir}/tls.key`);
  }

  /** Admit another source to the client port. */
  public allowClient(peer: EtcdNetworkPeer): void {
    this.requireNetworkPolicy('allowClient', peer);
    this.clients.push(peer);
  }

  /** Admit another source to the metrics port. */
  public allowMonitoring(peer: EtcdNetworkPeer): void {
    this.requireNetworkPolicy('allowMonitoring', peer);
    this.monitoring.push(peer);
  }

  private requireNetworkPolicy(method: string, peer: EtcdNetworkPeer): void {
    if (!this.networkPolicy) {
      throw new EtcdConfigError(`${method}(${peer.description}) needs the NetworkPolicy, but networkPolicy is false: without it every source already reaches etcd`);
    }
  }

  private get labels(): { [key: string]: string } {
    return {
      ...this.selectorLabels,
      'app.kubernetes.io/component': 'database',
      'app.kubernetes.io/version': this.version.toString(),
      'app.kubernetes.io/managed-by': 'cdk8s-etcd',
    };
  }

  private metadata(name: string): k8s.ObjectMeta {
    return { name, namespace: this.namespace, labels: this.labels };
  }

  /** Member FQDNs with and without the cluster domain, the peer wildcards, the client Service names, localhost. */
  private dnsNamesFor(memberNames: string[], peerDomain: string, clusterDomain: string): string[] {
    const client = this.clientServiceName;
    return [
      ...memberNames.flatMap((m) => [`${m}.${peerDomain}`, `${m}.${peerDomain}.${clusterDomain}`]),
      `*.${peerDomain}`,
      `*.${peerDomain}.${clusterDomain}`,
      client,
      `${client}.${this.namespace}`,
      `${client}.${this.namespace}.svc`,
      `${client}.${this.namespace}.svc.${clusterDomain}`,
      'localhost',
    ];
  }



  private renderStatefulSet(props: EtcdClusterProps, templateMember: MemberModel, storageSize: Size, tlsParts: TlsMounts | undefined): k8s.KubeStatefulSet {
    const clientPlaneMounts = tlsParts?.clientPlaneMounts ?? [];
    const probes = renderProbes(this.version, { port: k8s.IntOrString.fromString('metrics'), quotaBytes: effectiveQuotaBytes(this._model.tuning) });
    const resources = props.resources ?? EtcdResources.minimal();
    const dataMount: k8s.VolumeMount = { name: DATA_VOLUME, mountPath: DATA_MOUNT_PATH };
    const podEnv = [POD_NAME_ENV, { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }];
    const member = renderMemberSteps({
      model: this._model,
      member: templateMember,
      image: this.image,
      busyboxImage: this.busyboxImage,
      configMapName: this.memberList.metadata.name!,
      podEnv,
      dataMount,
      markerDir: DATA_MOUNT_PATH,
      certMounts: clientPlaneMounts,
      securityContext: CONTAINER_SECURITY,
      restored: props.restoreFrom !== undefined,
      peerTrustBundle: tlsParts?.peerTrustBundle,
    });
    const restore = props.restoreFrom && renderRestoreSteps(prepareRestore(this, props.restoreFrom, this._model,
      { kind: 'EtcdCluster', reads: 'secrets', name: this.name, namespace: this.namespace, tokenGiven: props.initialClusterToken !== undefined }), {
      member: templateMember,
      image: this.image,
      listenHost: '$(POD_IP)',
      podEnv,
      dataMount,
      certMounts: clientPlaneMounts,
      resources: resources._toKube(),
      securityContext: CONTAINER_SECURITY,
      replacesLostMember: true,
    });
    const container: k8s.Container = {
      name: 'etcd',
      image: this.image,
      imagePullPolicy: 'IfNotPresent',
      command: member.etcdCommand,
      args: renderEtcdFlags(this._model, templateMember, true),
      env: [POD_NAME_ENV, ...resources._goMemLimitEnv()],
      ports: [
        { name: 'client', containerPort: CLIENT_PORT, protocol: 'TCP' },
        { name: 'peer', containerPort: PEER_PORT, protocol: 'TCP' },
        { name: 'metrics', containerPort: METRICS_PORT, protocol: 'TCP' },
      ],
      volumeMounts: [dataMount, ...tlsParts?.etcdMounts ?? [], ...member.etcdMounts],
      livenessProbe: probes.liveness,
      readinessProbe: probes.readiness,
      startupProbe: probes.startup,
      resources: resources._toKube(),
      securityContext: CONTAINER_SECURITY,
    };
    const volumes = [...tlsParts?.volumes ?? [], ...member.volumes, ...(restore?.volumes ?? [])];
    // During a scale-down, the leaving members keep their pods until the Job has removed them from etcd.
    const replicas = props.scaleDownFrom ?? this.members;
    const updateStrategy = (props.updateStrategy ?? EtcdUpdateStrategy.rollingUpdate())._toKube(replicas);
    if (tlsParts?.peerTrustBundle && (updateStrategy.type === 'OnDelete' || (updateStrategy.rollingUpdate?.partition ?? 0) > 0)) {
      addWarning(this, 'tls.peerCaMigration with updateStrategy OnDelete or a partition: `kubectl rollout status` reports done while members below the partition (or not yet deleted) still run the previous step; move every member to this step before the next, or the next step keeps them out');
    }

    return new k8s.KubeStatefulSet(this, 'Resource', {
      metadata: this.metadata(this.name),
      spec: {
        serviceName: this.peerServiceName,
        replicas,
        // All members must start together to form the cluster; updates still roll one at a time.
        podManagementPolicy: 'Parallel',
        updateStrategy,
        minReadySeconds: MIN_READY_SECONDS,
        // Deleting or scaling the StatefulSet must never delete etcd data.
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
        selector: { matchLabels: this.selectorLabels },
        template: {
          metadata: { labels: this.labels },
          spec: {
            automountServiceAccountToken: false,
            // Service links inject variables like ETCD_PORT that etcd would read as configuration.
            enableServiceLinks: false,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: RUN_AS_ID,
              runAsGroup: RUN_AS_ID,
              fsGroup: RUN_AS_ID,
              fsGroupChangePolicy: 'OnRootMismatch',
              seccompProfile: { type: 'RuntimeDefault' },
            },
            ...renderScheduling(props, this.selectorLabels),
            initContainers: [member.toolsContainer, ...(restore?.initContainers ?? []), member.startContainer],
            containers: [container, member.sidecar],
            volumes,
          },
        },
        volumeClaimTemplates: [{
          metadata: { name: DATA_VOLUME, labels: this.selectorLabels },
          spec: {
            accessModes: ['ReadWriteOnce'],
            storageClassName: props.storageClassName,
            resources: { requests: { storage: k8s.Quantity.fromString(storageSize.asString()) } },
          },
        }],
      },
    });
  }

}
