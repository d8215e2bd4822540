import { longestIntervalSeconds } from '../../lib/jobs/schedule';

const HOUR = 3600;

describe('longestIntervalSeconds: what "one run missed" means for the backup and defrag alerts', () => {
  test.each([
    ['0 2 * * *', undefined, 24 * HOUR],
    ['0 3 * * 0', undefined, 7 * 24 * HOUR],
    ['*/15 * * * *', undefined, 900],
    // Friday 17:55 to Monday 09:00.
    ['*/5 9-17 * * 1-5', undefined, 63 * HOUR + 5 * 60],
    // Hourly in December only: from Dec 31 23:00 to Dec 1 00:00, a gap that starts 400 runs after January 1.
    ['0 * * 12 *', undefined, (334 * 24 + 1) * HOUR],
    // Noon in New York: the day the clocks go back is 25 hours long.
    ['0 12 * * *', 'America/New_York', 25 * HOUR],
  ])('%s (%s): %d s', (schedule, timeZone, expected) => {
    expect(longestIntervalSeconds(schedule, timeZone)).toBe(expected);
  });
});
