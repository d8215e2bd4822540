import { Cron, Duration } from 'cdk8s';
import { Cron as Croner } from 'croner';
import { EtcdConfigError } from '../shared/errors';

/** Kubernetes' cron parser (robfig/cron) knows these descriptors; nothing else starts with '@'. */
const DESCRIPTORS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

/**
 * A CronJob schedule Kubernetes accepts: five fields (no seconds), or a descriptor such as `@daily`.
 * croner parses the fields; the extensions it knows and Kubernetes does not (`L`, `W`, `#`) are refused.
 */
export function validateSchedule(property: string, schedule: Cron): string {
  const expression = schedule?.expressionString;
  const problem = scheduleProblem(expression);
  if (problem) {
    throw new EtcdConfigError(`${property} must be a five-field cron schedule such as '0 2 * * *', or @hourly/@daily/@weekly/@monthly/@yearly (got '${expression}'): ${problem}`);
  }
  return expression.trim();
}

function scheduleProblem(expression: unknown): string | undefined {
  if (typeof expression !== 'string' || expression.trim() === '') return 'it is empty';
  const text = expression.trim();
  if (text.startsWith('@')) return DESCRIPTORS.includes(text) ? undefined : 'Kubernetes knows no such descriptor';
  if (/^(CRON_)?TZ=/.test(text)) return 'a time zone in the schedule is refused by Kubernetes; use timeZone';
  const fields = text.split(/\s+/);
  if (fields.length !== 5) return `it has ${fields.length} fields; Kubernetes takes minute, hour, day of month, month and day of week`;
  if (/[LW#]/i.test(fields.join(' ').replace(/\b(JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC|SUN|MON|TUE|WED|THU|FRI|SAT)\b/gi, ''))) {
    return "'L', 'W' and '#' are not part of Kubernetes' cron syntax";
  }
  try {
    new Croner(text, { paused: true });
  } catch (e) {
    return (e as Error).message.replace(/^CronPattern: /, '');
  }
  return undefined;
}

/** Throw unless `zone` is an IANA time zone name (the CronJob's `timeZone`), e.g. `Europe/Berlin`. */
export function validateTimeZone(property: string, zone: string): void {
  let known = typeof zone === 'string' && /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(zone);
  if (known) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: zone });
    } catch {
      known = false;
    }
  }
  if (!known) throw new EtcdConfigError(`${property} must be an IANA time zone name such as 'Etc/UTC' or 'Europe/Berlin' (got '${zone}')`);
}

/** A duration as whole seconds, at least `minSeconds`. */
export function wholeSeconds(property: string, duration: Duration, minSeconds: number, why: string): number {
  let seconds: number | undefined;
  try {
    seconds = duration.toSeconds({ integral: false });
  } catch {
    seconds = undefined;
  }
  if (seconds === undefined || !Number.isInteger(seconds) || seconds < minSeconds) {
    throw new EtcdConfigError(`${property} must be a whole number of seconds, at least ${minSeconds} (got ${seconds === undefined ? JSON.stringify(duration) : `${seconds} s`}): ${why}`);
  }
  return seconds;
}

/**
 * The longest gap between two runs of a schedule, in seconds: what "one run missed" means for an alert. Measured over a
 * year from a fixed date, so the figure is the same on every synthesis: the gaps between its first 400 runs, and the
 * gap around every third hour of the year (its run before, its run after), so that irregular schedules (weekdays only,
 * the 1st and 15th, December only) count their longest gap wherever in the year it falls.
 */
export function longestIntervalSeconds(schedule: string, timeZone?: string): number {
  const cron = new Croner(schedule, { paused: true, timezone: timeZone });
  const start = Date.UTC(2026, 0, 1);
  const runs = cron.nextRuns(400, new Date(start));
  let longest = 0;
  for (let i = 1; i < runs.length; i++) longest = Math.max(longest, (runs[i].getTime() - runs[i - 1].getTime()) / 1000);
  const step = 3 * 3600 * 1000;
  for (let t = start; t <= start + 366 * 86400 * 1000; t += step) {
    const next = cron.nextRun(new Date(t));
    // A run at t itself is its gap's start: previousRuns() is strictly before its reference.
    const [previous] = cron.previousRuns(1, new Date(t + 1));
    if (next && previous) longest = Math.max(longest, (next.getTime() - previous.getTime()) / 1000);
  }
  return longest;
}
