import { Size } from 'cdk8s';
import { EtcdConfigError } from '../../shared/errors';
import { RuleMetrics } from '../job-registry';

/**
 * When a member is defragmented, over etcd-defrag's rule variables.
 *
 * Each variable is read per member from `etcdctl endpoint status` when the job runs:
 * - `dbSize`: the database file's size in bytes;
 * - `dbSizeInUse`: the bytes in use (the rest is free pages that only a defragmentation returns);
 * - `dbSizeFree`: `dbSize - dbSizeInUse`;
 * - `dbQuota`: the backend quota the members run with (`tuning.quotaBackendBytes`, or etcd's 2 GiB), from the cluster;
 * - `dbQuotaUsage`: `dbSize / dbQuota`, which NOSPACE is raised at.
 *
 * A rule is built from typed values only and rendered as an awk condition (`expression`), so no text of yours reaches
 * the job's shell.
 */
export class EtcdDefragRule {
  /**
   * etcd-defrag's recommended rule: the database is above 80% of the quota, or more than 200 MiB of it is free.
   */
  public static recommended(): EtcdDefragRule {
    return EtcdDefragRule.quotaUsageAbove(0.8).or(EtcdDefragRule.freeBytesAbove(Size.mebibytes(200)));
  }

  /** Every member, whatever its numbers. */
  public static always(): EtcdDefragRule {
    return new EtcdDefragRule('1', 'always', (m) => m.dbSize);
  }

  /**
   * The database takes more than `fraction` of the quota (`dbQuotaUsage > fraction`).
   * @param fraction between 0 and 1, exclusive
   */
  public static quotaUsageAbove(fraction: number): EtcdDefragRule {
    if (typeof fraction !== 'number' || !Number.isFinite(fraction) || fraction <= 0 || fraction >= 1) {
      throw new EtcdConfigError(`EtcdDefragRule.quotaUsageAbove(fraction) takes a fraction of the quota between 0 and 1, exclusive (got ${fraction})`);
    }
    return new EtcdDefragRule(`dbQuotaUsage > ${fraction}`, `dbQuotaUsage > ${fraction}`, (m) => `${m.dbSize} / ${m.dbQuota} > ${fraction}`);
  }

  /** More than `size` of the database is free pages (`dbSize - dbSizeInUse > size`). */
  public static freeBytesAbove(size: Size): EtcdDefragRule {
    const bytes = positiveBytes('EtcdDefragRule.freeBytesAbove(size)', size);
    return new EtcdDefragRule(`dbSizeFree > ${bytes}`, `dbSize - dbSizeInUse > ${bytes}`, (m) => `${m.dbSize} - ${m.dbSizeInUse} > ${bytes}`);
  }

  /** The database file is larger than `size` (`dbSize > size`). */
  public static sizeAbove(size: Size): EtcdDefragRule {
    const bytes = positiveBytes('EtcdDefragRule.sizeAbove(size)', size);
    return new EtcdDefragRule(`dbSize > ${bytes}`, `dbSize > ${bytes}`, (m) => `${m.dbSize} > ${bytes}`);
  }

  /** Every one of `rules` holds. */
  public static allOf(rules: EtcdDefragRule[]): EtcdDefragRule {
    return EtcdDefragRule.combine('allOf', rules, '&&', 'and');
  }

  /** At least one of `rules` holds. */
  public static anyOf(rules: EtcdDefragRule[]): EtcdDefragRule {
    return EtcdDefragRule.combine('anyOf', rules, '||', 'or');
  }

  private static combine(name: string, rules: EtcdDefragRule[], operator: string, promqlOperator: string): EtcdDefragRule {
    if (!Array.isArray(rules) || rules.length === 0) {
      throw new EtcdConfigError(`EtcdDefragRule.${name}(rules) needs at least one rule (got ${JSON.stringify(rules)})`);
    }
    if (rules.some((r) => !(r instanceof EtcdDefragRule))) {
      throw new EtcdConfigError(`EtcdDefragRule.${name}(rules) takes EtcdDefragRule values only, from its static methods`);
    }
    if (rules.length === 1) return rules[0];
    return new EtcdDefragRule(
      rules.map((r) => `(${r.expression})`).join(` ${operator} `),
      rules.map((r) => `(${r.description})`).join(` ${operator} `),
      (m) => rules.map((r) => `(${r._promql(m)})`).join(` ${promqlOperator} `),
    );
  }

  /** The condition the job's awk evaluates per member, over the rule variables. */
  public readonly expression: string;
  /** The rule as etcd-defrag writes it, for people (`dbQuotaUsage > 0.8 || dbSize - dbSizeInUse > 209715200`). */
  public readonly description: string;

  private constructor(expression: string, description: string, private readonly promqlOf: (m: RuleMetrics) => string) {
    this.expression = expression;
    this.description = description;
  }

  /** @internal The rule as a PromQL condition, true for each member's series it holds for (the monitoring's alert). */
  public _promql(metrics: RuleMetrics): string {
    return this.promqlOf(metrics);
  }

  /** This rule and `other`. */
  public and(other: EtcdDefragRule): EtcdDefragRule {
    return EtcdDefragRule.allOf([this, other]);
  }

  /** This rule or `other`. */
  public or(other: EtcdDefragRule): EtcdDefragRule {
    return EtcdDefragRule.anyOf([this, other]);
  }
}

function positiveBytes(what: string, size: Size): number {
  const bytes = size instanceof Size ? size.toKibibytes() * 1024 : NaN;
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new EtcdConfigError(`${what} takes a positive size such as Size.mebibytes(200) (got ${size instanceof Size ? size.asString() : String(size)})`);
  }
  return bytes;
}
