import { k8s } from 'cdk8s-plus-28';
import { validateDnsSubdomain, validateEnum, validateLabels, validateTolerations } from '../shared/validate';

/** How strongly members are kept off the same node. */
export enum EtcdPodAntiAffinity {
  /** Never two members on one node: a node failure costs at most one member. Pods stay Pending without enough nodes. */
  REQUIRED = 'REQUIRED',
  /** Spread over nodes when possible, co-locate when not. */
  PREFERRED = 'PREFERRED',
  /** No anti-affinity. */
  NONE = 'NONE',
}

/** Where members may run, as the cluster props give it. */
export interface SchedulingProps {
  readonly podAntiAffinity?: EtcdPodAntiAffinity;
  readonly spreadAcrossZones?: boolean;
  readonly nodeSelector?: { [key: string]: string };
  readonly tolerations?: k8s.Toleration[];
  readonly priorityClassName?: string;
}

/**
 * Zones a spread needs so that no zone holds a majority: with 3 zones and max skew 1, 3 members go
 * 1/1/1, 5 go 2/2/1 and 7 go 3/2/2, so losing any one zone keeps quorum. With fewer zones the
 * scheduler counts the missing ones as empty and leaves the extra members Pending rather than put a
 * majority (such as 3 of 5) into one zone.
 */
export const MIN_ZONES = 3;

/**
 * The pod spec fields for scheduling, after validating them as the API server would. They do not depend on the member
 * count (a single pod satisfies both rules), so going from 1 member to 3 changes no pod template.
 */
export function renderScheduling(props: SchedulingProps, selectorLabels: { [key: string]: string }) {
  const antiAffinity = props.podAntiAffinity ?? EtcdPodAntiAffinity.REQUIRED;
  validateEnum('podAntiAffinity', antiAffinity, EtcdPodAntiAffinity);
  if (props.nodeSelector !== undefined) validateLabels('nodeSelector', props.nodeSelector);
  if (props.tolerations !== undefined) validateTolerations('tolerations', props.tolerations);
  if (props.priorityClassName !== undefined) validateDnsSubdomain('priorityClassName', props.priorityClassName);
  const labelSelector = { matchLabels: selectorLabels };
  return {
    affinity: renderAffinity(antiAffinity, labelSelector),
    topologySpreadConstraints: props.spreadAcrossZones ? [{
      maxSkew: 1,
      minDomains: MIN_ZONES,
      topologyKey: 'topology.kubernetes.io/zone',
      whenUnsatisfiable: 'DoNotSchedule',
      labelSelector,
    }] : undefined,
    nodeSelector: props.nodeSelector,
    tolerations: props.tolerations,
    priorityClassName: props.priorityClassName,
  };
}

function renderAffinity(antiAffinity: EtcdPodAntiAffinity, labelSelector: k8s.LabelSelector): k8s.Affinity | undefined {
  if (antiAffinity === EtcdPodAntiAffinity.NONE) return undefined;
  const term: k8s.PodAffinityTerm = { labelSelector, topologyKey: 'kubernetes.io/hostname' };
  return antiAffinity === EtcdPodAntiAffinity.REQUIRED
    ? { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } }
    : { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }] } };
}
