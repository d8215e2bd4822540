import { X509Certificate } from 'crypto';
import { Chart, Size, Testing } from 'cdk8s';
import { AutoCompaction, EtcdCluster, EtcdClusterProps, EtcdPodAntiAffinity, EtcdResources, EtcdTls, EtcdVersion } from '../../lib';
import { startupFailureThreshold } from '../../lib/member/probes';
import { warningsOf } from '../../lib/shared/warnings';
import { Manifest, etcdContainer, flagsOf, only, synth } from '../support/synth';

function cluster(props: EtcdClusterProps = {}, chartProps: { namespace?: string } = {}) {
  const chart = new Chart(Testing.app(), 'test', chartProps);
  const etcd = new EtcdCluster(chart, 'etcd', props);
  const manifests = synth(chart);
  const sts = only(manifests, 'StatefulSet');
  return { chart, etcd, manifests, sts, container: etcdContainer(sts), flags: flagsOf(etcdContainer(sts).args) };
}

/** Resolve the pod template's $(POD_NAME) the way the kubelet does for one member. */
const asMember = (value: string, pod: string) => value.split('$(POD_NAME)').join(pod);

describe('resources created', () => {
  test('a peer Service, a client Service, a member list, a StatefulSet, a PDB and a NetworkPolicy, all named from the construct', () => {
    const { manifests } = cluster();
    expect(manifests.map((m) => `${m.kind}/${m.metadata.name}`).sort()).toEqual([
      'Certificate/etcd-ca', 'Certificate/etcd-client', 'Certificate/etcd-peer', 'Certificate/etcd-server',
      'ConfigMap/etcd-members', 'Issuer/etcd-ca', 'Issuer/etcd-selfsigned',
      'NetworkPolicy/etcd', 'PodDisruptionBudget/etcd', 'Service/etcd', 'Service/etcd-peer', 'StatefulSet/etcd',
    ]);
    manifests.forEach((m) => expect(m.metadata.namespace).toBe('default'));
  });

  test('names follow the name prop, namespace the chart', () => {
    const { manifests, etcd } = cluster({ name: 'events', tls: EtcdTls.disabled() }, { namespace: 'storage' });
    expect(manifests.map((m) => m.metadata.name).sort()).toEqual(['events', 'events', 'events', 'events', 'events-members', 'events-peer']);
    manifests.forEach((m) => expect(m.metadata.namespace).toBe('storage'));
    expect(etcd.namespace).toBe('storage');
  });

  test('the namespace prop wins over the chart namespace', () => {
    const { manifests } = cluster({ namespace: 'etcd-system' }, { namespace: 'other' });
    manifests.forEach((m) => expect(m.metadata.namespace).toBe('etcd-system'));
  });

  test('the construct id is lowercased into the default name', () => {
    const chart = Testing.chart();
    const etcd = new EtcdCluster(chart, 'MainEtcd');
    expect(etcd.name).toBe('mainetcd');
  });
});

describe('peer Service', () => {
  test('is headless and publishes members before they are ready', () => {
    const { manifests, sts } = cluster();
    const svc = only(manifests, 'Service', 'etcd-peer');
    expect(svc.spec.clusterIP).toBe('None');
    expect(svc.spec.publishNotReadyAddresses).toBe(true);
    expect(svc.spec.selector).toEqual(sts.spec.selector.matchLabels);
    expect(sts.spec.serviceName).toBe('etcd-peer');
    expect(svc.spec.ports.map((p: { name: string; port: number }) => `${p.name}:${p.port}`)).toEqual(['peer:2380', 'client:2379', 'metrics:2381']);
  });
});

describe('client Service', () => {
  test('selects the members on the client port', () => {
    const { manifests, sts } = cluster();
    const svc = only(manifests, 'Service', 'etcd');
    expect(svc.spec.type).toBe('ClusterIP');
    expect(svc.spec.selector).toEqual(sts.spec.selector.matchLabels);
    expect(svc.spec.ports).toEqual([{ name: 'client', port: 2379, targetPort: 'client' }]);
  });
});

describe('StatefulSet', () => {
  test('stable identities, parallel start, rolling updates, retained volumes', () => {
    const { sts } = cluster();
    expect(sts.spec.replicas).toBe(3);
    expect(sts.spec.podManagementPolicy).toBe('Parallel');
    expect(sts.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
    expect(sts.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
    expect(sts.spec.template.metadata.labels).toMatchObject(sts.spec.selector.matchLabels);
  });

  test('a volume claim template with size and storage class, mounted over the data dir', () => {
    const { sts, container, flags } = cluster({ storageSize: Size.gibibytes(20), storageClassName: 'fast-ssd' });
    const [claim] = sts.spec.volumeClaimTemplates;
    expect(claim.metadata.name).toBe('data');
    expect(claim.spec).toEqual({ accessModes: ['ReadWriteOnce'], storageClassName: 'fast-ssd', resources: { requests: { storage: '20Gi' } } });
    expect(container.volumeMounts[0]).toEqual({ name: 'data', mountPath: '/var/lib/etcd' });
    expect(flags.get('data-dir')!.startsWith('/var/lib/etcd/')).toBe(true);
  });

  test('the default volume is 8 GiB on the default storage class', () => {
    const { sts } = cluster();
    expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('8Gi');
    expect(sts.spec.volumeClaimTemplates[0].spec.storageClassName).toBeUndefined();
  });

  test('the image follows the version, and can be overridden', () => {
    expect(cluster().container.image).toBe('gcr.io/etcd-development/etcd:v3.6.16');
    expect(cluster({ version: EtcdVersion.of('3.5.28') }).container.image).toBe('gcr.io/etcd-development/etcd:v3.5.28');
    expect(cluster({ imageRepository: 'registry.example.com:5000/mirror/etcd', imageTag: '3.6.16-0' }).container.image)
      .toBe('registry.example.com:5000/mirror/etcd:3.6.16-0');
  });

  test('execs etcd after reading the start decision, with the busybox the member-tools step copied (release images are distroless)', () => {
    const { container, sts } = cluster();
    expect(container.command).toEqual(['/tools/sh', '-c', 'set -a && . /run/etcd-member/start.env && set +a && exec /usr/local/bin/etcd "$@"', 'etcd']);
    const init = sts.spec.template.spec.initContainers;
    expect(init.map((c: { name: string }) => c.name)).toEqual(['member-tools', 'member-start']);
    expect(init[0].image).toBe('busybox:1.37.0-musl');
    expect(init[1].env.find((e: { name: string }) => e.name === 'START_ENV').value).toBe('/run/etcd-member/start.env');
    expect(container.volumeMounts.filter((m: { readOnly?: boolean }) => m.readOnly).map((m: { name: string }) => m.name)).toEqual(expect.arrayContaining(['member-tools', 'member-start']));
    expect(container.env).toEqual([{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }]);
    expect(container.ports).toEqual([
      { name: 'client', containerPort: 2379, protocol: 'TCP' },
      { name: 'peer', containerPort: 2380, protocol: 'TCP' },
      { name: 'metrics', containerPort: 2381, protocol: 'TCP' },
    ]);
  });
});

describe('etcd flags', () => {
  test('every member in the member list advertises exactly its own peer URL, and the pod template names no member count', () => {
    for (const members of [1, 3, 5, 7]) {
      const { flags, manifests } = cluster({ members });
      expect(flags.has('initial-cluster')).toBe(false);
      expect(flags.has('initial-cluster-state')).toBe(false);
      const lines = only(manifests, 'ConfigMap', 'etcd-members').data.members.trim().split('\n');
      expect(lines).toHaveLength(members);
      lines.forEach((line: string, i: number) => {
        const pod = `etcd-${i}`;
        const [name, peerUrl, clientUrl, stateUrl] = line.split(' ');
        expect(name).toBe(pod);
        expect(peerUrl).toBe(asMember(flags.get('initial-advertise-peer-urls')!, pod));
        expect(clientUrl).toBe(asMember(flags.get('advertise-client-urls')!, pod));
        expect(stateUrl).toBe(`http://${pod}.etcd-peer.default.svc.cluster.local:2382`);
      });
    }
    const template = (members: number) => JSON.stringify(cluster({ members, spreadAcrossZones: true }).sts.spec.template);
    expect(template(1)).toBe(template(3));
    expect(template(3)).toBe(template(7));
  });

  test('members are addressed by their pod FQDN in the peer Service', () => {
    const { flags, etcd } = cluster({ name: 'kv', clusterDomain: 'k8s.example' }, { namespace: 'store' });
    expect(flags.get('initial-advertise-peer-urls')).toBe('https://$(POD_NAME).kv-peer.store.svc.k8s.example:2380');
    expect(flags.get('advertise-client-urls')).toBe('https://$(POD_NAME).kv-peer.store.svc.k8s.example:2379');
    expect(etcd.clientEndpoints).toEqual([0, 1, 2].map((i) => `https://kv-${i}.kv-peer.store.svc.k8s.example:2379`));
  });

  test('listeners: clients and peers on every interface, metrics on their own plain-http port', () => {
    const { flags } = cluster();
    expect(flags.get('listen-client-urls')).toBe('https://0.0.0.0:2379');
    expect(flags.get('listen-peer-urls')).toBe('https://0.0.0.0:2380');
    expect(flags.get('listen-metrics-urls')).toBe('http://0.0.0.0:2381');
  });

  test('a new cluster with a stable token unique to the cluster', () => {
    const a = cluster().flags;
    const b = cluster().flags;
    expect(a.get('initial-cluster-token')).toBe(b.get('initial-cluster-token'));
    expect(a.get('initial-cluster-token')).toMatch(/^etcd-default-[0-9a-f]{10}$/);
    expect(cluster({}, { namespace: 'other' }).flags.get('initial-cluster-token')).not.toBe(a.get('initial-cluster-token'));
    expect(cluster({ name: 'other' }).flags.get('initial-cluster-token')).not.toBe(a.get('initial-cluster-token'));
  });

  test('tuning defaults', () => {
    const { flags } = cluster();
    expect(flags.get('heartbeat-interval')).toBe('100');
    expect(flags.get('election-timeout')).toBe('1000');
    expect(flags.get('snapshot-count')).toBe('10000');
    expect(flags.get('quota-backend-bytes')).toBe(String(3840 * 1024 * 1024));
    expect(flags.get('auto-compaction-mode')).toBe('periodic');
    expect(flags.get('auto-compaction-retention')).toBe('1h');
  });

  test('the quota follows the volume and stops at 8 GiB', () => {
    expect(cluster({ storageSize: Size.gibibytes(4) }).flags.get('quota-backend-bytes')).toBe(String(1792 * 1024 * 1024));
    expect(cluster({ storageSize: Size.gibibytes(100) }).flags.get('quota-backend-bytes')).toBe(String(8 * 1024 ** 3));
  });

  test.each(['3.6.16', '3.7.3'])('%s uses feature gates and the non-experimental progress-notify flag', (version) => {
    const { flags } = cluster({ version: EtcdVersion.of(version) });
    expect(flags.get('feature-gates')).toBe('InitialCorruptCheck=true');
    expect(flags.get('watch-progress-notify-interval')).toBe('5s');
    expect([...flags.keys()].filter((f) => f.startsWith('experimental-'))).toEqual([]);
    expect(flags.has('logger')).toBe(false);
  });

  test('3.5 uses the experimental flags', () => {
    const { flags } = cluster({ version: EtcdVersion.of('3.5.35') });
    expect(flags.get('experimental-initial-corrupt-check')).toBe('true');
    expect(flags.get('experimental-watch-progress-notify-interval')).toBe('5s');
    expect(flags.has('feature-gates')).toBe(false);
    expect(flags.has('watch-progress-notify-interval')).toBe(false);
  });

  test('3.4 also switches to the zap logger', () => {
    const { flags } = cluster({ version: EtcdVersion.of('3.4.38') });
    expect(flags.get('logger')).toBe('zap');
    expect(flags.get('experimental-initial-corrupt-check')).toBe('true');
  });

  test.each(['3.6.16', '3.7.3'])('%s adds the StopGRPCServiceOnDefrag gate beside the corruption check when asked', (version) => {
    expect(cluster({ version: EtcdVersion.of(version), tuning: { stopGrpcServiceOnDefrag: true } }).flags.get('feature-gates'))
      .toBe('InitialCorruptCheck=true,StopGRPCServiceOnDefrag=true');
    expect(cluster({ version: EtcdVersion.of(version), tuning: { stopGrpcServiceOnDefrag: true, initialCorruptCheck: false } }).flags.get('feature-gates'))
      .toBe('StopGRPCServiceOnDefrag=true');
  });

  test('extensive metrics only when asked', () => {
    expect(cluster({}).flags.has('metrics')).toBe(false);
    expect(cluster({ tuning: { extensiveMetrics: true } }).flags.get('metrics')).toBe('extensive');
  });

  test('the corruption check and auto-compaction can be switched off', () => {
    const { flags } = cluster({ tuning: { initialCorruptCheck: false, autoCompaction: AutoCompaction.disabled() } });
    expect(flags.has('feature-gates')).toBe(false);
    expect(flags.has('auto-compaction-mode')).toBe(false);
    expect(flags.has('auto-compaction-retention')).toBe(false);
  });
});

describe('the pinned peer name (--peer-cert-allowed-hostname)', () => {
  test('is the first member\'s name, which the cert-manager peer certificate covers', () => {
    const { flags, manifests } = cluster({}, { namespace: 'db' });
    expect(flags.get('peer-cert-allowed-hostname')).toBe('etcd-0.etcd-peer.db.svc.cluster.local');
    const peer = manifests.find((m) => m.kind === 'Certificate' && m.metadata.name === 'etcd-peer')!;
    expect(peer.spec.dnsNames).toContain('etcd-0.etcd-peer.db.svc.cluster.local');
  });

  test('generated certificates: the peer certificate is valid for the pin, the client certificate is not', () => {
    const { flags, manifests } = cluster({ tls: EtcdTls.generate() }, { namespace: 'db' });
    const pin = flags.get('peer-cert-allowed-hostname')!;
    const cert = (name: string) => new X509Certificate(Buffer.from(manifests.find((m) => m.kind === 'Secret' && m.metadata.name === name)!.data['tls.crt'], 'base64'));
    expect(cert('etcd-peer-isolated').checkHost(pin)).toBe(pin);
    expect(cert('etcd-client').checkHost(pin)).toBeUndefined();
  });

  test('can be named, or turned off with an empty string; a name that is not one is refused', () => {
    expect(cluster({ peerCertAllowedHostname: 'peers.example.com' }).flags.get('peer-cert-allowed-hostname')).toBe('peers.example.com');
    expect(cluster({ peerCertAllowedHostname: '' }).flags.has('peer-cert-allowed-hostname')).toBe(false);
    expect(() => cluster({ peerCertAllowedHostname: 'not a name' })).toThrow("peerCertAllowedHostname must be a DNS name a peer certificate carries, such as 'etcd-0.etcd-peer.db.svc.cluster.local', or '' to turn the check off (got 'not a name')");
    expect(cluster({ tls: EtcdTls.disabled() }).flags.has('peer-cert-allowed-hostname')).toBe(false);
  });
});

describe('probes', () => {
  const probes = (version: string) => {
    const { container } = cluster({ version: EtcdVersion.of(version) });
    return { live: container.livenessProbe, ready: container.readinessProbe, start: container.startupProbe };
  };

  test('livez for liveness and startup, readyz for readiness, on the metrics port with kubeadm timings', () => {
    const { live, ready, start } = probes('3.6.16');
    expect(live).toEqual({ httpGet: { path: '/livez', port: 'metrics', scheme: 'HTTP' }, initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 15, failureThreshold: 8 });
    expect(ready).toEqual({ httpGet: { path: '/readyz', port: 'metrics', scheme: 'HTTP' }, periodSeconds: 1, timeoutSeconds: 15, failureThreshold: 3 });
    // Startup must not need quorum (or a learner would be killed while it catches up): /livez, not /readyz.
    // 250 s for etcd's default 2 GiB quota, and 60 s per GiB above: the default 3.75 GiB quota gets 360 s.
    expect(start).toEqual({ httpGet: { path: '/livez', port: 'metrics', scheme: 'HTTP' }, initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 15, failureThreshold: 35 });
  });

  test('the startup budget grows with the quota: a member may take longer to open a larger database', () => {
    expect(startupFailureThreshold(2 * 1024 ** 3)).toBe(24);
    expect(startupFailureThreshold(1024 ** 3)).toBe(24);
    expect(startupFailureThreshold(8 * 1024 ** 3)).toBe(60);
    const chart = new Chart(Testing.app(), 'c', { namespace: 'etcd' });
    new EtcdCluster(chart, 'etcd', { storageSize: Size.gibibytes(20) });
    expect(etcdContainer(only(synth(chart), 'StatefulSet')).startupProbe.failureThreshold).toBe(60);
  });

  // Which check each line's metrics listener serves, read from etcd's etcdhttp/health.go of each release
  // and proven on the real binaries by test/e2e (probes pass; without quorum, alive but not ready).
  test.each([
    ['3.4.23', 'tcp', '/health'],
    ['3.4.28', 'tcp', '/health'],
    ['3.4.29', '/livez', '/readyz'],
    ['3.5.10', '/health?exclude=NOSPACE&serializable=true', '/health?serializable=false'],
    ['3.5.11', '/livez', '/readyz'],
    ['3.5.35', '/livez', '/readyz'],
    ['3.6.4', '/livez', '/readyz'],
    ['3.6.16', '/livez', '/readyz'],
    ['3.7.3', '/livez', '/readyz'],
  ])('%s: startup and liveness %s (no quorum needed), readiness %s', (version, alive, readyPath) => {
    const { live, ready, start } = probes(version);
    const check = (p: { httpGet?: { path: string }; tcpSocket?: object }) => (p.tcpSocket ? 'tcp' : p.httpGet!.path);
    expect([check(live), check(start), check(ready)]).toEqual([alive, alive, readyPath]);
  });

  test('the TCP check on 3.4 before livez targets the metrics port', () => {
    expect(probes('3.4.28').live.tcpSocket).toEqual({ port: 'metrics' });
  });
});

describe('members', () => {
  test.each([1, 3, 5, 7])('%d members', (members) => {
    const { sts, etcd } = cluster({ members });
    expect(sts.spec.replicas).toBe(members);
    expect(etcd.clientEndpoints).toHaveLength(members);
    expect(etcd.etcdServers.split(',')).toEqual(etcd.clientEndpoints);
  });

  test.each([
    [0, 'members must be one of 1, 3, 5, 7 (got 0): etcd needs a majority (quorum) of members to make progress'],
    [-1, 'members must be one of 1, 3, 5, 7 (got -1): etcd needs a majority (quorum)'],
    [2, 'members must be one of 1, 3, 5, 7 (got 2): an even count adds no failure tolerance (2 members tolerate 0 failure(s), like 1)'],
    [4, 'members must be one of 1, 3, 5, 7 (got 4): an even count adds no failure tolerance (4 members tolerate 1 failure(s), like 3)'],
    [6, 'members must be one of 1, 3, 5, 7 (got 6): an even count adds no failure tolerance (6 members tolerate 2 failure(s), like 5)'],
    [8, 'members must be one of 1, 3, 5, 7 (got 8): an even count adds no failure tolerance (8 members tolerate 3 failure(s), like 7)'],
    [9, 'members must be one of 1, 3, 5, 7 (got 9): etcd needs a majority (quorum) of members to make progress: 1 tolerates no failure, 3 tolerate 1, 5 tolerate 2, 7 tolerate 3, and more than 7 slow every write'],
    [2.5, 'members must be one of 1, 3, 5, 7 (got 2.5)'],
    [NaN, 'members must be one of 1, 3, 5, 7 (got NaN)'],
  ])('refuses %p', (members, message) => {
    expect(() => new EtcdCluster(Testing.chart(), 'etcd', { members })).toThrow(message);
  });
});

describe('PodDisruptionBudget', () => {
  /** What the disruption controller allows: healthy pods above the desired healthy count. */
  const allowedEvictions = (pdb: Manifest, replicas: number, healthy: number) => Math.max(0, healthy - (replicas - pdb.spec.maxUnavailable));

  test.each([3, 5, 7])('with %d members never lets evictions break quorum, yet allows one', (members) => {
    const { manifests, sts } = cluster({ members });
    const pdb = only(manifests, 'PodDisruptionBudget');
    expect(pdb.spec.selector).toEqual(sts.spec.selector);
    const quorum = Math.floor(members / 2) + 1;
    expect(allowedEvictions(pdb, members, members)).toBeGreaterThanOrEqual(1);
    for (let healthy = 0; healthy <= members; healthy++) {
      expect(healthy - allowedEvictions(pdb, members, healthy)).toBeGreaterThanOrEqual(Math.min(healthy, quorum));
    }
  });

  test('a single member cannot be evicted, and the user is told', () => {
    const { manifests, etcd } = cluster({ members: 1 });
    expect(only(manifests, 'PodDisruptionBudget').spec.maxUnavailable).toBe(0);
    expect(warningsOf(etcd)).toContainEqual(expect.stringContaining('members is 1: the cluster is not highly available'));
  });
});

describe('scheduling', () => {
  const hostnameTerm = { labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'etcd', 'app.kubernetes.io/instance': 'etcd' } }, topologyKey: 'kubernetes.io/hostname' };

  test('required anti-affinity on hostname by default', () => {
    const { sts } = cluster();
    expect(sts.spec.template.spec.affinity).toEqual({ podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [hostnameTerm] } });
  });

  test('preferred and none', () => {
    expect(cluster({ podAntiAffinity: EtcdPodAntiAffinity.PREFERRED }).sts.spec.template.spec.affinity)
      .toEqual({ podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: hostnameTerm }] } });
    expect(cluster({ podAntiAffinity: EtcdPodAntiAffinity.NONE }).sts.spec.template.spec.affinity).toBeUndefined();
  });

  test('a single member has the same anti-affinity (it constrains nothing), so growing to 3 changes no pod template', () => {
    expect(cluster({ members: 1 }).sts.spec.template.spec.affinity).toEqual(cluster({ members: 3 }).sts.spec.template.spec.affinity);
  });

  test('zone spread', () => {
    expect(cluster().sts.spec.template.spec.topologySpreadConstraints).toBeUndefined();
    expect(cluster({ spreadAcrossZones: true }).sts.spec.template.spec.topologySpreadConstraints).toEqual([{
      maxSkew: 1, minDomains: 3, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: hostnameTerm.labelSelector,
    }]);
  });

  // With max skew 1, the scheduler counts zones missing below minDomains as empty: 5 members in 2 zones
  // cannot go 3/2 (losing the zone with 3 loses quorum); they need a third zone.
  test.each([[1, 3], [3, 3], [5, 3], [7, 3]])('zone spread for %d members needs %p zones', (members, minDomains) => {
    const spread = cluster({ members, spreadAcrossZones: true }).sts.spec.template.spec.topologySpreadConstraints;
    expect(spread?.[0].minDomains).toBe(minDomains);
  });

  test('node selector, tolerations and priority class', () => {
    const { sts } = cluster({
      nodeSelector: { 'node-role.kubernetes.io/etcd': '' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'etcd', effect: 'NoSchedule' }],
      priorityClassName: 'system-cluster-critical',
    });
    const spec = sts.spec.template.spec;
    expect(spec.nodeSelector).toEqual({ 'node-role.kubernetes.io/etcd': '' });
    expect(spec.tolerations).toEqual([{ key: 'dedicated', operator: 'Equal', value: 'etcd', effect: 'NoSchedule' }]);
    expect(spec.priorityClassName).toBe('system-cluster-critical');
  });

  test('resources default to minimal and take presets', () => {
    expect(cluster().container.resources).toEqual({ requests: { cpu: '250m', memory: '512Mi' } });
    expect(cluster({ resources: EtcdResources.small({ guaranteed: true }) }).container.resources)
      .toEqual({ requests: { cpu: '2000m', memory: '8Gi' }, limits: { cpu: '2000m', memory: '8Gi' } });
  });
});

describe('security', () => {
  // The Pod Security Standards "restricted" profile, checked rule by rule.
  test('satisfies the restricted Pod Security Standard, with no service-account token', () => {
    const { sts } = cluster();
    const pod = sts.spec.template.spec;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.hostNetwork ?? false).toBe(false);
    expect(pod.hostPID ?? false).toBe(false);
    expect(pod.hostIPC ?? false).toBe(false);
    const restrictedVolumeTypes = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];
    for (const v of pod.volumes ?? []) {
      expect(Object.keys(v).filter((k) => k !== 'name').every((k) => restrictedVolumeTypes.includes(k))).toBe(true);
    }
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(pod.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    for (const c of pod.containers) {
      expect(c.securityContext.allowPrivilegeEscalation).toBe(false);
      expect(c.securityContext.capabilities).toEqual({ drop: ['ALL'] });
      expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
      expect(c.securityContext.privileged ?? false).toBe(false);
      expect(c.ports.every((p: { hostPort?: number }) => p.hostPort === undefined)).toBe(true);
    }
  });

  test('the data volume is writable by the etcd user, and no service links leak ETCD_* variables', () => {
    const pod = cluster().sts.spec.template.spec;
    expect(pod.securityContext.fsGroup).toBe(pod.securityContext.runAsUser);
    expect(pod.enableServiceLinks).toBe(false);
  });
});

describe('outputs', () => {
  test('client endpoints, --etcd-servers and Service names', () => {
    const { etcd } = cluster({ name: 'main' }, { namespace: 'kube-etcd' });
    expect(etcd.clientEndpoints).toEqual([
      'https://main-0.main-peer.kube-etcd.svc.cluster.local:2379',
      'https://main-1.main-peer.kube-etcd.svc.cluster.local:2379',
      'https://main-2.main-peer.kube-etcd.svc.cluster.local:2379',
    ]);
    expect(etcd.etcdServers).toBe(etcd.clientEndpoints.join(','));
    expect(etcd.clientServiceName).toBe('main');
    expect(etcd.peerServiceName).toBe('main-peer');
  });

  test('the API objects are reachable for JSON patches', () => {
    const { ApiObject, JsonPatch } = jest.requireActual('cdk8s');
    const chart = Testing.chart();
    const etcd = new EtcdCluster(chart, 'etcd');
    ApiObject.of(etcd.statefulSet).addJsonPatch(JsonPatch.add('/spec/minReadySeconds', 10));
    expect(only(synth(chart), 'StatefulSet').spec.minReadySeconds).toBe(10);
  });
});

describe('version warnings', () => {
  test('advisories surface as synth-time warnings', () => {
    const { etcd } = cluster({ version: EtcdVersion.of('3.5.13') });
    const warnings = warningsOf(etcd);
    expect(warnings).toEqual(expect.arrayContaining(EtcdVersion.of('3.5.13').advisories));
  });

  test('a line newer than 3.7 warns that 3.7 flags are used', () => {
    const { etcd, flags } = cluster({ version: EtcdVersion.of('3.8.0') });
    expect(warningsOf(etcd)).toContainEqual('version 3.8.0 is newer than the releases this library knows (3.4 to 3.7): flags and probes are rendered as for 3.7, which the new line may not accept');
    expect(flags.get('feature-gates')).toBe('InitialCorruptCheck=true');
  });

  test('3.7 is a known line: no newer-line warning', () => {
    const { etcd } = cluster({ version: EtcdVersion.V3_7_3 });
    expect(warningsOf(etcd)).toEqual([expect.stringContaining('no clients are declared')]);
  });

  test('the default version produces no warning besides the missing clients', () => {
    const { etcd } = cluster();
    expect(warningsOf(etcd)).toEqual([expect.stringContaining('no clients are declared')]);
  });
});

describe('bad input', () => {
  test.each([
    [{ name: 'Etcd' }, "name must start with a lowercase letter and contain only lowercase letters, digits and '-', ending with a letter or digit, at most 52 characters, because it names Services (got 'Etcd')"],
    [{ name: '0etcd' }, "name must start with a lowercase letter and contain only lowercase letters, digits and '-', ending with a letter or digit, at most 52 characters, because it names Services (got '0etcd')"],
    [{ name: 'e'.repeat(53) }, `name must start with a lowercase letter and contain only lowercase letters, digits and '-', ending with a letter or digit, at most 52 characters, because it names Services (got '${'e'.repeat(53)}')`],
    [{ name: '' }, "name must start with a lowercase letter and contain only lowercase letters, digits and '-', ending with a letter or digit, at most 52 characters, because it names Services (got '')"],
    [{ namespace: 'Kube_System' }, "namespace must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters (got 'Kube_System')"],
    [{ clusterDomain: 'cluster.local.' }, "clusterDomain must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters (got 'cluster.local.')"],
    [{ storageClassName: 'Fast SSD' }, "storageClassName must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters (got 'Fast SSD')"],
    [{ priorityClassName: 'High!' }, "priorityClassName must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters (got 'High!')"],
    [{ imageRepository: 'etcd:v3.6.9' }, "imageRepository must be an image repository without tag or digest, e.g. 'registry.example.com/etcd' (got 'etcd:v3.6.9')"],
    [{ imageRepository: '' }, "imageRepository must be an image repository without tag or digest, e.g. 'registry.example.com/etcd' (got '')"],
    [{ imageTag: 'v3.6.16 ' }, "imageTag must be a tag of up to 128 letters, digits, '_', '.' and '-', e.g. 'v3.6.16' (got 'v3.6.16 ')"],
    [{ imageTag: '' }, "imageTag must be a tag of up to 128 letters, digits, '_', '.' and '-', e.g. 'v3.6.16' (got '')"],
    [{ storageSize: Size.mebibytes(512) }, 'storageSize must be at least 640 MiB to hold the WAL reserve (512 MiB) and a useful database (got 512 MiB)'],
    [{ storageSize: Size.gibibytes(4), tuning: { quotaBackendBytes: Size.gibibytes(5) } }, 'tuning.quotaBackendBytes must fit the volume (storageSize 4 GiB) (got 5 GiB)'],
  ])('refuses %p', (props, message) => {
    expect(() => new EtcdCluster(Testing.chart(), 'etcd', props as EtcdClusterProps)).toThrow(message);
  });

  test('an id that makes no valid name asks for the name prop', () => {
    expect(() => new EtcdCluster(Testing.chart(), 'my_etcd')).toThrow("name (derived from the construct id 'my_etcd'; set name explicitly) must start with a lowercase letter");
  });
});

describe('snapshots', () => {
  test.each([1, 3, 5, 7])('%d members', (members) => {
    const chart = Testing.chart();
    new EtcdCluster(chart, 'etcd', { members });
    expect(synth(chart)).toMatchSnapshot();
  });
});
