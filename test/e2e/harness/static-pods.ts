import { Testing } from 'cdk8s';
import { EtcdKubeadmPki, EtcdKubeadmPkiOptions, EtcdStaticPodCluster, EtcdStaticPodClusterProps, EtcdStaticPodNode, EtcdVersion } from '../../../lib';
import { synth } from '../../support/synth';
import { ClientFiles, EtcdHarness, MemberSpec, staticPodMember } from './etcd-harness';

/** Nodes cp-1.. with loopback IPs `<prefix>.11`, `.12`, ... */
export function loopbackNodes(count: number, ipPrefix: string): EtcdStaticPodNode[] {
  return [...Array(count).keys()].map((i) => ({ name: `cp-${i + 1}`, ip: `${ipPrefix}.${11 + i}` }));
}

/** A synthesized static-pod cluster with its kubeadm PKI, ready for the harness. */
export class StaticPodSetup {
  public readonly etcd: EtcdStaticPodCluster;
  public readonly pki: EtcdKubeadmPki;

  /**
   * @param props more of the cluster's props
   * @param pki the nodes' PKI, when they already have one (a cluster that replaces another on the same nodes)
   */
  public constructor(etcdVersion: string, public readonly nodes: EtcdStaticPodNode[], pkiOptions: EtcdKubeadmPkiOptions = {},
    props: Partial<EtcdStaticPodClusterProps> = {}, pki?: EtcdKubeadmPki) {
    this.etcd = new EtcdStaticPodCluster(Testing.app(), 'etcd', { ...props, nodes, version: EtcdVersion.of(etcdVersion) });
    this.pki = pki ?? this.etcd.generatePki(pkiOptions);
  }

  /** One node as the harness runs it: its own manifest, its own PKI files on "disk". */
  public member(nodeName: string): MemberSpec {
    const node = this.nodes.find((n) => n.name === nodeName)!;
    const [pod] = synth(this.etcd.chartFor(nodeName));
    return staticPodMember(node.name, node.ip, pod, this.pki.filesFor(node.name));
  }

  /** kube-apiserver's identity, found through the paths kubeApiServerFlags() names. */
  public apiServerIdentity(): ClientFiles {
    const files = this.pki.filesFor(this.nodes[0].name);
    const flag = (name: string) => this.etcd.kubeApiServerFlags().find((f) => f.startsWith(`--${name}=`))!.split('=')[1];
    return { ca: files[flag('etcd-cafile')], cert: files[flag('etcd-certfile')], key: files[flag('etcd-keyfile')] };
  }

  public harness(): EtcdHarness {
    return EtcdHarness.forStaticPods(this.nodes.map((n) => this.member(n.name)), this.apiServerIdentity());
  }
}
