import { ApiObject, Chart } from 'cdk8s';
import { IConstruct } from 'constructs';

const checkedRoots = new WeakSet<IConstruct>();
const nodeLocalCharts = new WeakSet<IConstruct>();

/**
 * A chart whose objects go to one node's kubelet (a static-pod manifest), not to the API server:
 * every node's etcd Pod is `kube-system/etcd`, and that is no collision.
 */
export function markNodeLocal(chart: IConstruct): void {
  nodeLocalCharts.add(chart);
}

/**
 * Once per App: fail synthesis when two objects anywhere in it (static-pod manifests aside) would be the same Kubernetes object
 * (apiVersion, kind, namespace, name), naming the constructs that made them. `kubectl apply` would
 * otherwise let the last one silently win, for example two clusters both writing `Service/etcd-peer`.
 */
export function checkObjectCollisions(scope: IConstruct): void {
  const root = scope.node.root;
  if (checkedRoots.has(root)) return;
  checkedRoots.add(root);
  root.node.addValidation({
    validate: () => {
      const seen = new Map<string, string>();
      const errors: string[] = [];
      const applied = root.node.findAll()
        .filter((c): c is ApiObject => c instanceof ApiObject && !nodeLocalCharts.has(Chart.of(c)));
      for (const obj of applied) {
        const namespace = obj.metadata.namespace ?? '(no namespace)';
        const key = `${obj.apiVersion} ${obj.kind} ${namespace}/${obj.name}`;
        const other = seen.get(key);
        if (other === undefined) {
          seen.set(key, obj.node.path);
        } else {
          errors.push(`two objects would be ${key}: one made by '${other}', one by '${obj.node.path}'. `
            + 'Give the clusters (or their Secrets and Certificates) different names or namespaces');
        }
      }
      return errors;
    },
  });
}
