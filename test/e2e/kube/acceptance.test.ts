import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Yaml } from 'cdk8s';
import { Manifest } from '../../support/synth';
import { KubeControlPlane, kubeDir, kubeProblem, kubeVersion } from './control-plane';
import { CorpusEntry, loadCorpus } from './corpus';

/**
 * Every chart the unit tests and examples synthesize, applied to a real kube-apiserver with server-side apply and
 * strict field validation (no dry run), after the cert-manager and prometheus-operator CRDs. Each chart gets
 * namespaces of its own, labelled to enforce and warn Pod Security "restricted"; a warning fails like a rejection,
 * because the API server only warns about a workload's pod template and rejects its pods later. Static pods are
 * applied as Pods in kube-system, as the kubelet mirrors them; other objects that need the host's network and files
 * (static pods' jobs) go into namespaces labelled "privileged", as kube-system is.
 */

const problem = kubeProblem();
const ci = process.env.CI === 'true';

if (problem && !ci) {
  test.skip(`Kubernetes acceptance (${problem})`, () => undefined);
} else {
  describe(`every synthesized object is accepted by kube-apiserver ${kubeVersion()}`, () => {
    let plane: KubeControlPlane;
    const corpus: CorpusEntry[] = problem ? [] : loadCorpus();

    beforeAll(async () => {
      if (problem) throw new Error(`CI=true and ${problem}`);
      plane = await KubeControlPlane.start({ workDir: fs.mkdtempSync(path.join(os.tmpdir(), 'kube-acceptance-')) });
      for (const crds of ['cert-manager', 'prometheus-operator']) plane.kubectlOk(['apply', '--server-side', '-f', path.join(kubeDir(), 'crds', crds)]);
      plane.kubectlOk(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']);
      // Static pods are mirrored into kube-system; no controller manager runs here to create its ServiceAccount.
      plane.kubectlOk(['create', 'serviceaccount', 'default', '-n', 'kube-system']);
      // The figures the README quotes.
      console.log(`control plane: API server ready in ${plane.startupMs} ms; ${plane.residentMib()} MiB resident with the CRDs`);
    }, 120000);

    afterAll(async () => {
      await plane?.stop();
    }, 60000);

    test('the corpus covers what the issue lists: 1, 3, 5 and 7 members, every TLS source, backup, restore, static pods, the examples', () => {
      const all = corpus.flatMap((e) => e.manifests);
      const replicas = new Set(all.filter((m) => m.kind === 'StatefulSet').map((m) => m.spec.replicas));
      for (const n of [1, 3, 5, 7]) expect(replicas).toContain(n);
      for (const kind of ['Certificate', 'Issuer', 'Secret', 'CronJob', 'PersistentVolumeClaim', 'NetworkPolicy', 'PodDisruptionBudget', 'Pod', 'Deployment']) {
        expect(all.some((m) => m.kind === kind)).toBe(true);
      }
      expect(all.some((m) => m.kind === 'StatefulSet' && JSON.stringify(m).includes('restore-guard'))).toBe(true);
      expect(corpus.some((e) => e.test.startsWith('test/examples.test.ts'))).toBe(true);
    });

    test.each(corpus.map((e, i) => [e.test, i] as const))('%s', (_, i) => {
      const r = applyEntry(plane, corpus[i], i);
      expect(r.failure).toBe('');
      expect(r.applied).toBe(corpus[i].manifests.length);
    }, 60000);

    test('the check can fail: a privileged container, an unknown field and a bad value are refused with the server\'s message', () => {
      const pod = (spec: object): Manifest => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bad', namespace: 'etcd' }, spec: { containers: [{ name: 'c', image: 'busybox:1.37.0', ...spec }] } });
      const privileged = applyEntry(plane, { test: 'privileged', manifests: [pod({ securityContext: { privileged: true } })] }, 10001);
      expect(privileged.failure).toContain('spec.containers[0].securityContext.privileged: Forbidden: disallowed by cluster policy');
      const root = applyEntry(plane, { test: 'not restricted', manifests: [pod({})] }, 10004);
      expect(root.failure).toContain('violates PodSecurity "restricted:latest"');
      expect(root.failure).toContain('runAsNonRoot != true');
      const unknown = applyEntry(plane, { test: 'unknown field', manifests: [pod({ imagePullPolicyy: 'Always' })] }, 10002);
      expect(unknown.failure).toContain('.spec.containers[name="c"].imagePullPolicyy: field not declared in schema');
      const badValue = applyEntry(plane, {
        test: 'bad value',
        manifests: [{ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'bad', namespace: 'etcd' }, spec: { minAvailable: 1, maxUnavailable: 1, selector: {} } }],
      }, 10003);
      expect(badValue.failure).toContain('minAvailable and maxUnavailable cannot be both set');
    });
  });
}

/** A namespace per chart and original namespace: `c<index>-<namespace>`. */
function namespaceFor(index: number, namespace: string): string {
  return `c${index}-${namespace}`.slice(0, 63).replace(/-+$/, '');
}

/**
 * Apply one chart into namespaces of its own: the namespaces (with their Pod Security labels) and their default
 * ServiceAccounts first (no controller manager runs here to create them), then every object, with server-side apply
 * and strict validation. `failure` holds the server's messages and any warning; empty when everything was accepted.
 */
function applyEntry(plane: KubeControlPlane, entry: CorpusEntry, index: number): { failure: string; applied: number } {
  const namespaces = new Set<string>();
  const objects = entry.manifests.map((m) => {
    // A static pod goes where the kubelet mirrors it: kube-system, named after its node (here: after its chart).
    if (m.kind === 'Pod' && m.metadata.namespace === 'kube-system') return { ...m, metadata: { ...m.metadata, name: `${m.metadata.name}-c${index}` } };
    const namespace = namespaceFor(index, m.metadata.namespace ?? 'default');
    namespaces.add(namespace);
    return { ...m, metadata: { ...m.metadata, namespace } };
  });
  const setup = [...namespaces.keys()].flatMap((namespace) => {
    // Static pods and their jobs need the host's network and files: privileged, as kube-system is.
    const host = objects.some((m) => m.metadata.namespace === namespace && JSON.stringify(m).includes('"hostNetwork":true'));
    const level = host ? 'privileged' : 'restricted';
    return [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { 'pod-security.kubernetes.io/enforce': level, 'pod-security.kubernetes.io/warn': level } } },
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace } },
    ];
  });
  if (setup.length > 0) plane.kubectlOk(['apply', '--server-side', '--field-manager=acceptance-setup', '-f', '-'], Yaml.stringify(...setup));
  const r = plane.kubectl(['apply', '--server-side', '--field-manager=cdk8s-etcd', '--validate=strict', '-o', 'name', '-f', '-'], Yaml.stringify(...objects));
  const applied = r.stdout.split('\n').filter((l) => l.trim() !== '').length;
  const failure = r.status === 0 && !r.stderr.includes('Warning:') ? '' : `${r.stderr}${r.status === 0 ? '' : ` (exit ${r.status})`}`.trim();
  return { failure, applied };
}
