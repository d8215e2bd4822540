import { Duration } from 'cdk8s';
import { goDuration } from '../shared/duration';
import { EtcdConfigError } from '../shared/errors';
import { validateInteger } from '../shared/validate';

/**
 * How etcd discards old revisions by itself (`--auto-compaction-mode` and `--auto-compaction-retention`).
 *
 * Without compaction the keyspace history grows until the backend quota is hit and etcd
 * raises the NOSPACE alarm, refusing every write.
 */
export class AutoCompaction {
  /** Keep the history of the last `retention` (at least one second). */
  public static periodic(retention: Duration): AutoCompaction {
    const seconds = retention.toSeconds({ integral: false });
    if (!(seconds >= 1) || !Number.isInteger(seconds)) {
      throw new EtcdConfigError(`autoCompaction retention must be a whole number of seconds, at least 1s (got ${retention.toHumanString()})`);
    }
    return new AutoCompaction('periodic', goDuration(seconds));
  }

  /** Keep the last `revisions` revisions. */
  public static revision(revisions: number): AutoCompaction {
    validateInteger('autoCompaction revisions', revisions, 1);
    return new AutoCompaction('revision', String(revisions));
  }

  /** No automatic compaction: a client (such as kube-apiserver, every 5 minutes) must compact. */
  public static disabled(): AutoCompaction {
    return new AutoCompaction(undefined, undefined);
  }

  private constructor(
    /** `--auto-compaction-mode`, or undefined when disabled. */
    public readonly mode: string | undefined,
    /** `--auto-compaction-retention`, or undefined when disabled. */
    public readonly retention: string | undefined,
  ) {}
}
