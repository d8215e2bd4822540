import { IConstruct } from 'constructs';

/** A maintenance CronJob as monitoring sees it: which one, how often, how long a run may take. */
export interface ScheduledJob {
  readonly kind: 'backup' | 'defrag';
  readonly name: string;
  readonly namespace: string;
  /** The CronJob's schedule, as rendered. */
  readonly schedule: string;
  readonly timeZone?: string;
  readonly activeDeadlineSeconds: number;
  /** A defragmentation's rule as a PromQL condition over one cluster's series (the same numbers its job reads). */
  readonly rulePromql?: (metrics: RuleMetrics) => string;
}

/** The rule variables as PromQL: the selectors of a cluster's size series, and its quota. */
export interface RuleMetrics {
  readonly dbSize: string;
  readonly dbSizeInUse: string;
  readonly dbQuota: number;
}

const JOBS = new WeakMap<IConstruct, ScheduledJob[]>();

/** Each job records itself on its cluster when it is rendered, so that alerts can be derived from it. */
export function recordScheduledJob(cluster: IConstruct, job: ScheduledJob): void {
  JOBS.set(cluster, [...(JOBS.get(cluster) ?? []), job]);
}

/** The cluster's maintenance CronJobs so far (read at synthesis, after every `add*()`). */
export function scheduledJobsOf(cluster: IConstruct): ScheduledJob[] {
  return JOBS.get(cluster) ?? [];
}
