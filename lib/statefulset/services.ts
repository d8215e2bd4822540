import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { CLIENT_PORT, METRICS_PORT, PEER_PORT } from '../member/model';

/** The headless Service that gives each member its DNS name (`<pod>.<service>.<namespace>.svc`). */
export function renderPeerService(scope: Construct, metadata: k8s.ObjectMeta, selector: { [key: string]: string }): k8s.KubeService {
  return new k8s.KubeService(scope, 'PeerService', {
    metadata,
    spec: {
      clusterIp: 'None',
      // Members must resolve each other before they are ready, or the cluster never forms.
      publishNotReadyAddresses: true,
      selector,
      ports: [
        { name: 'peer', port: PEER_PORT, targetPort: k8s.IntOrString.fromString('peer') },
        { name: 'client', port: CLIENT_PORT, targetPort: k8s.IntOrString.fromString('client') },
        { name: 'metrics', port: METRICS_PORT, targetPort: k8s.IntOrString.fromString('metrics') },
      ],
    },
  });
}

/** The Service clients connect to: the client port of ready members. */
export function renderClientService(scope: Construct, metadata: k8s.ObjectMeta, selector: { [key: string]: string }): k8s.KubeService {
  return new k8s.KubeService(scope, 'ClientService', {
    metadata,
    spec: {
      type: 'ClusterIP',
      selector,
      ports: [{ name: 'client', port: CLIENT_PORT, targetPort: k8s.IntOrString.fromString('client') }],
    },
  });
}
