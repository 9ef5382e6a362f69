import { describe, expect, it } from 'vitest';
import { CronError, cronDayMatches, parseCron } from './cron.ts';

const ALL_MINUTES = Array.from({ length: 60 }, (_, i) => i);
const ALL_HOURS = Array.from({ length: 24 }, (_, i) => i);
const set = (...xs: number[]) => new Set(xs);
const range = (a: number, b: number) => new Set(Array.from({ length: b - a + 1 }, (_, i) => a + i));

describe('parseCron', () => {
  it.each([
    { name: 'every minute', schedule: '* * * * *', want: { minutes: ALL_MINUTES, hours: ALL_HOURS, daysOfMonth: range(1, 31), months: range(1, 12), daysOfWeek: range(0, 6), domStar: true, dowStar: true } },
    { name: 'a fixed time on a weekday name', schedule: '0 17 * * fri', want: { minutes: [0], hours: [17], daysOfWeek: set(5), domStar: true, dowStar: false } },
    { name: 'names in any case', schedule: '0 17 * JAN,Dec FrI', want: { months: set(1, 12), daysOfWeek: set(5) } },
    { name: 'a step over the whole field', schedule: '*/15 * * * *', want: { minutes: [0, 15, 30, 45] } },
    { name: 'a step over a range', schedule: '1-30/10 * * * *', want: { minutes: [1, 11, 21] } },
    { name: 'N/step runs to the maximum', schedule: '5/20 * * * *', want: { minutes: [5, 25, 45] } },
    { name: 'a step larger than the range', schedule: '0 */30 * * *', want: { hours: [0] } },
    { name: 'lists of ranges, sorted and without repeats', schedule: '30,0,15-16,16 9-11,8 * * *', want: { minutes: [0, 15, 16, 30], hours: [8, 9, 10, 11] } },
    { name: 'a range of weekday names', schedule: '0 9 * * mon-fri', want: { daysOfWeek: range(1, 5) } },
    { name: 'a range of month names', schedule: '0 0 1 jun-aug *', want: { months: set(6, 7, 8), daysOfMonth: set(1), domStar: false } },
    { name: '7 is Sunday too', schedule: '0 0 * * 5-7', want: { daysOfWeek: set(5, 6, 0) } },
    { name: '? in the day fields is *', schedule: '0 0 ? * ?', want: { daysOfMonth: range(1, 31), domStar: true, dowStar: true } },
    { name: '*/2 in a day field restricts it (robfig: a step above 1 clears the star)', schedule: '0 0 */2 * *', want: { daysOfMonth: new Set([1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31]), domStar: false, dowStar: true } },
    { name: '*/1 is still unrestricted', schedule: '0 0 */1 * *', want: { domStar: true } },
    { name: 'a list with * is unrestricted', schedule: '0 0 *,5 * *', want: { domStar: true } },
    { name: 'leading zeros', schedule: '05 09 01 02 *', want: { minutes: [5], hours: [9], daysOfMonth: set(1), months: set(2) } },
    { name: 'spaces around and between fields', schedule: '  0   17 *  * fri ', want: { minutes: [0], hours: [17], daysOfWeek: set(5) } },
    { name: '@yearly', schedule: '@yearly', want: { minutes: [0], hours: [0], daysOfMonth: set(1), months: set(1), dowStar: true } },
    { name: '@annually', schedule: '@annually', want: { months: set(1), daysOfMonth: set(1) } },
    { name: '@monthly', schedule: '@monthly', want: { daysOfMonth: set(1), months: range(1, 12) } },
    { name: '@weekly', schedule: '@weekly', want: { daysOfWeek: set(0), domStar: true, dowStar: false } },
    { name: '@daily', schedule: '@daily', want: { minutes: [0], hours: [0], domStar: true, dowStar: true } },
    { name: '@midnight', schedule: '@midnight', want: { minutes: [0], hours: [0] } },
    { name: '@hourly', schedule: '@hourly', want: { minutes: [0], hours: ALL_HOURS } },
  ])('$name: $schedule', ({ schedule, want }) => {
    expect(parseCron(schedule)).toMatchObject(want);
  });

  it.each([
    { name: 'four fields', schedule: '0 17 * *', message: 'schedule "0 17 * *" must have 5 fields (minute hour day-of-month month day-of-week); it has 4' },
    { name: 'six fields (seconds)', schedule: '0 0 17 * * fri', message: 'it has 6' },
    { name: 'nothing', schedule: '', message: 'it has 0' },
    { name: 'CRON_TZ in the schedule', schedule: 'CRON_TZ=UTC 0 17 * * *', message: 'it has 6' },
    { name: 'minute 60', schedule: '60 * * * *', message: 'the minute field "60": 60 is out of range 0-59' },
    { name: 'hour 24', schedule: '0 24 * * *', message: 'the hour field "24": 24 is out of range 0-23' },
    { name: 'day 0', schedule: '0 0 0 * *', message: 'the day-of-month field "0": 0 is out of range 1-31' },
    { name: 'day 32', schedule: '0 0 32 * *', message: 'the day-of-month field "32": 32 is out of range 1-31' },
    { name: 'month 13', schedule: '0 0 1 13 *', message: 'the month field "13": 13 is out of range 1-12' },
    { name: 'weekday 8', schedule: '0 0 * * 8', message: 'the day-of-week field "8": 8 is out of range 0-7' },
    { name: 'a name where none is taken', schedule: 'jan * * * *', message: 'the minute field "jan": "jan" is not a number' },
    { name: 'an unknown name', schedule: '0 0 * * funday', message: 'the day-of-week field "funday": "funday" is not a number or a name (sun–sat)' },
    { name: 'a range that runs backwards', schedule: '0 0 * * fri-mon', message: 'the day-of-week field "fri-mon": the range "fri-mon" runs backwards (5 is after 1); write it as two ranges' },
    { name: 'a backwards numeric range', schedule: '5-1 * * * *', message: 'the range "5-1" runs backwards (5 is after 1)' },
    { name: 'step 0', schedule: '*/0 * * * *', message: 'the minute field "*/0": the step "0" must be a whole number above 0' },
    { name: 'a step that is not a number', schedule: '*/x * * * *', message: 'the step "x" must be a whole number above 0' },
    { name: 'two steps', schedule: '*/2/3 * * * *', message: 'the minute field "*/2/3": "*/2/3" has more than one step (/)' },
    { name: 'two dashes', schedule: '1-2-3 * * * *', message: 'the minute field "1-2-3": "1-2-3" has more than one dash (-)' },
    { name: 'an empty list item', schedule: '1,,2 * * * *', message: 'the minute field "1,,2" has an empty item' },
    { name: '? outside the day fields', schedule: '? * * * *', message: 'the minute field "?": "?" is not a number' },
    { name: 'a negative number', schedule: '-1 * * * *', message: 'the minute field "-1": "-1" is not a number or a range' },
    { name: '@every (robfig has it; a freeze does not)', schedule: '@every 1h', message: 'unknown descriptor "@every 1h": use @yearly, @monthly, @weekly, @daily or @hourly' },
    { name: 'an unknown descriptor', schedule: '@reboot', message: 'unknown descriptor "@reboot"' },
  ])('refuses $name: $schedule', ({ schedule, message }) => {
    expect(() => parseCron(schedule)).toThrow(CronError);
    expect(() => parseCron(schedule)).toThrow(message);
  });
});

describe('cronDayMatches', () => {
  // 2026-02-13 is a Friday; 2026-01-13 a Tuesday; 2026-01-16 a Friday; 2026-01-15 a Thursday.
  it.each([
    { name: 'both day fields restricted: the 13th (a Tuesday) matches, by day of month', schedule: '0 0 13 * fri', date: [2026, 1, 13], want: true },
    { name: 'both day fields restricted: a Friday not the 13th matches, by day of week', schedule: '0 0 13 * fri', date: [2026, 1, 16], want: true },
    { name: 'both day fields restricted: neither', schedule: '0 0 13 * fri', date: [2026, 1, 15], want: false },
    { name: 'day of week unrestricted: only the day of month decides', schedule: '0 0 13 * *', date: [2026, 1, 16], want: false },
    { name: 'day of month unrestricted: only the day of week decides', schedule: '0 0 * * fri', date: [2026, 1, 13], want: false },
    { name: 'day of month unrestricted: a Friday', schedule: '0 0 * * fri', date: [2026, 1, 16], want: true },
    { name: '? leaves day of month unrestricted', schedule: '0 0 ? * fri', date: [2026, 1, 13], want: false },
    { name: '*/2 restricts day of month, so OR: an odd day that is no Friday', schedule: '0 0 */2 * fri', date: [2026, 1, 13], want: true },
    { name: '*/2 restricts day of month, so OR: an even Friday', schedule: '0 0 */2 * fri', date: [2026, 1, 16], want: true },
    { name: '*/2 restricts day of month, so OR: an even Thursday', schedule: '0 0 */2 * fri', date: [2026, 1, 22], want: false },
    { name: 'the month must match as well', schedule: '0 0 13 2 fri', date: [2026, 1, 13], want: false },
    { name: 'Sunday written 7', schedule: '0 0 * * 7', date: [2026, 1, 18], want: true },
    { name: 'a leap day', schedule: '0 0 29 2 *', date: [2028, 2, 29], want: true },
  ])('$name', ({ schedule, date, want }) => {
    const [y, m, d] = date as [number, number, number];
    expect(cronDayMatches(parseCron(schedule), y, m, d)).toBe(want);
  });
});
