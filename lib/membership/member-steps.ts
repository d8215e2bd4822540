import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { SMALL_STEP_RESOURCES, TOOLS_DIR, TOOLS_MIB, prepareTools } from '../jobs/job-tools';
import { ClusterModel, MEMBER_STATE_PORT, METRICS_PORT, MemberModel } from '../member/model';
import { effectiveQuotaBytes } from '../member/tuning';
import { changesMinor } from '../release/upgrade-gate';
import { EtcdVersion } from '../release/version';
import { formatUrl } from '../shared/url';
import { VOTER_PATH, memberSidecarScript, startMemberScript } from './member-scripts';

/** Where the members ConfigMap is mounted. */
const MEMBERS_DIR = '/etc/etcd/members';
/** The start step's output (etcd's start env) and the state answer's directory. */
const START_DIR = '/run/etcd-member';
const START_ENV = `${START_DIR}/start.env`;
/** How long the start step asks before it fails and the kubelet runs it again. */
const WAIT_SECONDS = 300;
/** How long a gated member waits for a quorum without it before it starts anyway (the quorum needs it). */
const NO_QUORUM_SECONDS = 60;
/** How often the sidecar looks at the member (promotion, state). */
const SIDECAR_INTERVAL_SECONDS = 2;

/** The ConfigMap key that holds the member list. */
const MEMBERS_KEY = 'members';
/** The ConfigMap key that names an upgrade to another minor (`from to`), for the start step's pre-upgrade gate. */
const UPGRADE_KEY = 'upgrade';

/**
 * The member list, one line per member: `name peerUrl clientUrl stateUrl`, then the members a scale-down removes,
 * marked `leaving` (they are asked, and their answers count, but no cluster forms with them). It lives in a ConfigMap,
 * not in the pod template, so a change of `members` changes no pod: new pods read it when they start, and running
 * ones keep going.
 */
export function memberList(model: ClusterModel, leaving: MemberModel[] = []): string {
  const line = (m: MemberModel) => `${m.name} ${m.peerUrl} ${m.clientUrl} ${stateUrlOf(m)}`;
  return [...model.members.map(line), ...leaving.map((m) => `${line(m)} leaving`)].join('\n') + '\n';
}

/** The plain-http URL of a member's state answer, on the host of its peer URL. */
function stateUrlOf(member: MemberModel): string {
  return formatUrl('http', new URL(member.peerUrl).hostname.replace(/^\[|\]$/g, ''), MEMBER_STATE_PORT);
}

/**
 * Render the members ConfigMap: the member list, and during an upgrade to another minor (`upgradeFrom`) the upgrade
 * the start step gates. Both live outside the pod template, so adding or removing `upgradeFrom` restarts no member.
 */
export function renderMemberList(scope: Construct, metadata: k8s.ObjectMeta, model: ClusterModel, leaving: MemberModel[], upgradeFrom?: EtcdVersion): k8s.KubeConfigMap {
  const data: { [key: string]: string } = { [MEMBERS_KEY]: memberList(model, leaving) };
  if (upgradeFrom && changesMinor(upgradeFrom, model.version)) data[UPGRADE_KEY] = `${upgradeFrom} ${model.version}\n`;
  return new k8s.KubeConfigMap(scope, 'Members', { metadata, data });
}

/** What the member steps need from the StatefulSet that runs them. */
export interface MemberStepsTarget {
  readonly model: ClusterModel;
  /** The template member (`$(POD_NAME)`). */
  readonly member: MemberModel;
  readonly image: string;
  readonly busyboxImage: string;
  readonly configMapName: string;
  /** Env the other values refer to (`POD_NAME`, `POD_IP`). */
  readonly podEnv: k8s.EnvVar[];
  readonly dataMount: k8s.VolumeMount;
  /** The data volume's mount root: the markers go there, beside etcd's own directory. */
  readonly markerDir: string;
  readonly certMounts: k8s.VolumeMount[];
  readonly securityContext: k8s.SecurityContext;
  /** Whether the cluster forms from a snapshot: then an empty member only ever joins, and never forms. */
  readonly restored: boolean;
  /**
   * While a cluster moves to a peer CA of its own: the CA files the peer port trusts, and the file etcd reads them
   * from, bundled at every start of the etcd container.
   */
  readonly peerTrustBundle?: { readonly from: string[]; readonly to: string };
}

/** The pod parts that let a member decide how it starts, and promote it. */
export interface MemberSteps {
  /** `member-tools` (busybox for the etcd image) then `member-start`; after any restore steps. */
  readonly toolsContainer: k8s.Container;
  readonly startContainer: k8s.Container;
  readonly sidecar: k8s.Container;
  readonly volumes: k8s.Volume[];
  /** The etcd container's command: read the start step's decision, then exec etcd with the rendered flags. */
  readonly etcdCommand: string[];
  /** The etcd container's extra mounts (tools and the decision). */
  readonly etcdMounts: k8s.VolumeMount[];
}

/**
 * The start step and sidecar of a StatefulSet member. A regular container, not a native sidecar: it needs etcd
 * running (it promotes the learner etcd becomes), so it gains nothing from starting before etcd, and a regular
 * container runs on every Kubernetes version the library renders for.
 */
export function renderMemberSteps(target: MemberStepsTarget): MemberSteps {
  const { model, member } = target;
  const tools: k8s.VolumeMount = { name: 'member-tools', mountPath: TOOLS_DIR };
  const start: k8s.VolumeMount = { name: 'member-start', mountPath: START_DIR };
  const list: k8s.VolumeMount = { name: 'member-list', mountPath: MEMBERS_DIR, readOnly: true };
  const tls = model.tls;
  const shared: k8s.EnvVar[] = [
    ...target.podEnv,
    { name: 'PATH', value: `/usr/local/bin:${TOOLS_DIR}` },
    { name: 'NAME', value: member.name },
    { name: 'MEMBERS_FILE', value: `${MEMBERS_DIR}/${MEMBERS_KEY}` },
    { name: 'TOKEN', value: model.initialClusterToken },
    { name: 'WWW', value: `${START_DIR}/www` },
    { name: 'LISTEN', value: `$(POD_IP):${MEMBER_STATE_PORT}` },
    { name: 'FORMED_MARK', value: `${target.markerDir}/cdk8s-etcd-formed` },
    { name: 'FORMING_MARK', value: `${target.markerDir}/cdk8s-etcd-forming` },
    // The member's own certificate (serverAuth and clientAuth) identifies it to the others.
    ...(tls ? [
      { name: 'ETCDCTL_CACERT', value: tls.trustedCaFile },
      { name: 'ETCDCTL_CERT', value: tls.certFile },
      { name: 'ETCDCTL_KEY', value: tls.keyFile },
    ] : []),
  ];
  return {
    toolsContainer: {
      name: 'member-tools',
      image: target.busyboxImage,
      command: ['/bin/busybox', 'sh', '-c', prepareTools(false)],
      volumeMounts: [tools],
      resources: SMALL_STEP_RESOURCES,
      securityContext: target.securityContext,
    },
    startContainer: {
      name: 'member-start',
      image: target.image,
      command: [`${TOOLS_DIR}/sh`, '-c', startMemberScript(model.version)],
      env: [
        ...shared,
        { name: 'LOG_PREFIX', value: 'member-start' },
        { name: 'DATA_DIR', value: model.dataDir },
        { name: 'START_ENV', value: START_ENV },
        { name: 'WAIT_SECONDS', value: String(WAIT_SECONDS) },
        { name: 'MAY_FORM', value: target.restored ? 'no' : 'yes' },
        { name: 'UPGRADE_FILE', value: `${MEMBERS_DIR}/${UPGRADE_KEY}` },
        { name: 'GATE_DIR', value: target.markerDir },
        { name: 'NO_QUORUM_SECONDS', value: String(NO_QUORUM_SECONDS) },
        // A pre-upgrade snapshot leaves the quota free beside it: room for the database to grow and be defragmented.
        { name: 'GATE_KEEP_FREE', value: String(effectiveQuotaBytes(model.tuning)) },
      ],
      // The data volume, to write the forming marker and a pre-upgrade snapshot beside etcd's directory; etcd's own
      // directory is only read.
      volumeMounts: [tools, start, list, target.dataMount, ...target.certMounts],
      resources: SMALL_STEP_RESOURCES,
      securityContext: target.securityContext,
    },
    sidecar: {
      name: 'member-sidecar',
      image: target.image,
      command: [`${TOOLS_DIR}/sh`, '-c', memberSidecarScript()],
      env: [
        ...shared,
        { name: 'LOG_PREFIX', value: 'member-sidecar' },
        { name: 'PEER_URL', value: member.peerUrl },
        { name: 'CLIENT_URL', value: member.clientUrl },
        { name: 'METRICS_PORT', value: String(METRICS_PORT) },
        { name: 'INTERVAL', value: String(SIDECAR_INTERVAL_SECONDS) },
      ],
      ports: [{ name: 'member-state', containerPort: MEMBER_STATE_PORT, protocol: 'TCP' }],
      // A learner's pod is not Ready (etcd 3.4 and 3.5 before 3.5.19 report a learner ready themselves).
      // Three misses in a row, each given 5 s: one slow answer from busybox httpd on a loaded node does not make a
      // voter NotReady (a rollout replaces NotReady pods of the old revision at once, measured on Kubernetes 1.37).
      readinessProbe: { httpGet: { path: `/${VOTER_PATH}`, port: k8s.IntOrString.fromString('member-state'), scheme: 'HTTP' }, periodSeconds: 2, timeoutSeconds: 5, failureThreshold: 3 },
      volumeMounts: [tools, start, list, target.dataMount, ...target.certMounts],
      resources: SMALL_STEP_RESOURCES,
      securityContext: target.securityContext,
    },
    volumes: [
      { name: 'member-tools', emptyDir: { sizeLimit: k8s.Quantity.fromString(`${TOOLS_MIB}Mi`) } },
      { name: 'member-start', emptyDir: { sizeLimit: k8s.Quantity.fromString('1Mi') } },
      { name: 'member-list', configMap: { name: target.configMapName } },
    ],
    etcdCommand: [`${TOOLS_DIR}/sh`, '-c', `${target.peerTrustBundle ? `${peerTrustBundleScript(target.peerTrustBundle)}; ` : ''}set -a && . ${START_ENV} && set +a && exec /usr/local/bin/etcd "$@"`, 'etcd'],
    etcdMounts: [{ ...tools, readOnly: true }, { ...start, readOnly: true }],
  };
}

/**
 * Concatenate the CA files into one (awk ends every file's last line, which cat would not), and refuse to start
 * etcd unless every file gave a certificate: an empty CA would only show at the next step, as a member kept out.
 */
export function peerTrustBundleScript(bundle: { from: string[]; to: string }): string {
  return `if ! { ${TOOLS_DIR}/awk 1 ${bundle.from.join(' ')} > ${bundle.to} && [ "$(${TOOLS_DIR}/grep -c 'BEGIN CERTIFICATE' ${bundle.to})" -ge ${bundle.from.length} ]; }; then `
    + `echo "peer trust bundle: each of ${bundle.from.join(', ')} must hold a CA certificate" >&2; exit 1; fi`;
}
