import { describe, expect, it } from 'vitest';
import { compileFreeze, evaluateFreeze, parseFreezeDuration, rfc3339, type FreezeEvaluation } from './freeze-schedule.ts';
import type { FreezeSpec } from './types.ts';

const ms = (iso: string) => Date.parse(iso);
const win = (start: string, end: string): FreezeSpec => ({ reason: 'r', start, end });
const every = (schedule: string, duration: string, timeZone?: string): FreezeSpec => ({ reason: 'r', schedule, duration, ...(timeZone ? { timeZone } : {}) });
const active = (start?: string, end?: string): FreezeEvaluation => ({ active: true, current: { ...(start ? { start } : {}), ...(end ? { end } : {}) }, ...(end ? { changesAt: ms(end) } : {}) });
const next = (start: string, end?: string): FreezeEvaluation => ({ active: false, next: { start, ...(end ? { end } : {}) }, changesAt: ms(start) });

describe('evaluateFreeze: one-off windows', () => {
  const holiday = win('2026-12-24T00:00:00Z', '2027-01-02T00:00:00Z');
  it.each([
    { name: 'before it: its window is next', spec: holiday, now: '2026-12-01T00:00:00Z', want: next('2026-12-24T00:00:00Z', '2027-01-02T00:00:00Z') },
    { name: 'at its start: active (the start is inside)', spec: holiday, now: '2026-12-24T00:00:00Z', want: active('2026-12-24T00:00:00Z', '2027-01-02T00:00:00Z') },
    { name: 'inside it', spec: holiday, now: '2026-12-31T23:59:59Z', want: active('2026-12-24T00:00:00Z', '2027-01-02T00:00:00Z') },
    { name: 'at its end: over (the end is outside)', spec: holiday, now: '2027-01-02T00:00:00Z', want: { active: false } },
    { name: 'after it: nothing next', spec: holiday, now: '2027-06-01T00:00:00Z', want: { active: false } },
    { name: 'offsets are written in UTC', spec: win('2026-12-24T00:00:00+01:00', '2026-12-24T18:00:00-05:00'), now: '2026-12-24T12:00:00Z', want: active('2026-12-23T23:00:00Z', '2026-12-24T23:00:00Z') },
    { name: 'fractions of a second are kept', spec: win('2026-12-24T00:00:00.5Z', '2026-12-25T00:00:00Z'), now: '2026-12-01T00:00:00Z', want: { active: false, next: { start: '2026-12-24T00:00:00.500Z', end: '2026-12-25T00:00:00Z' }, changesAt: ms('2026-12-24T00:00:00.5Z') } },
  ])('$name', ({ spec, now, want }) => {
    expect(evaluateFreeze(spec, new Date(now))).toEqual(want);
  });
});

describe('evaluateFreeze: recurring windows', () => {
  it.each([
    // UTC, the default zone
    { name: 'daily office hours, inside', spec: every('0 9 * * *', '8h'), now: '2026-06-10T12:00:00Z', want: active('2026-06-10T09:00:00Z', '2026-06-10T17:00:00Z') },
    { name: 'daily, at an occurrence: active', spec: every('0 9 * * *', '8h'), now: '2026-06-10T09:00:00Z', want: active('2026-06-10T09:00:00Z', '2026-06-10T17:00:00Z') },
    { name: 'daily, at the end of a window: the next one is tomorrow', spec: every('0 9 * * *', '8h'), now: '2026-06-10T17:00:00Z', want: next('2026-06-11T09:00:00Z', '2026-06-11T17:00:00Z') },
    { name: 'daily, a minute before: today', spec: every('0 9 * * *', '8h'), now: '2026-06-10T08:59:00Z', want: next('2026-06-10T09:00:00Z', '2026-06-10T17:00:00Z') },
    { name: 'no time zone is UTC', spec: every('0 9 * * *', '8h', 'UTC'), now: '2026-06-10T08:59:00Z', want: next('2026-06-10T09:00:00Z', '2026-06-10T17:00:00Z') },
    { name: 'a half-hour zone', spec: every('0 9 * * *', '1h', 'Asia/Kolkata'), now: '2026-06-10T00:00:00Z', want: next('2026-06-10T03:30:00Z', '2026-06-10T04:30:00Z') },
    // Europe/Berlin: the offset moves the window
    { name: 'Berlin, Friday 17:00 in winter (CET)', spec: every('0 17 * * fri', '2h', 'Europe/Berlin'), now: '2026-01-16T16:30:00Z', want: active('2026-01-16T16:00:00Z', '2026-01-16T18:00:00Z') },
    { name: 'Berlin, Friday 17:00 in summer (CEST)', spec: every('0 17 * * fri', '2h', 'Europe/Berlin'), now: '2026-07-17T15:30:00Z', want: active('2026-07-17T15:00:00Z', '2026-07-17T17:00:00Z') },
    { name: 'Berlin, on Thursday: Friday is next', spec: every('0 17 * * fri', '2h', 'Europe/Berlin'), now: '2026-07-16T12:00:00Z', want: next('2026-07-17T15:00:00Z', '2026-07-17T17:00:00Z') },
    { name: 'weekday names in capitals', spec: every('0 17 * * FRI', '2h', 'Europe/Berlin'), now: '2026-07-16T12:00:00Z', want: next('2026-07-17T15:00:00Z', '2026-07-17T17:00:00Z') },
    // Europe/Berlin: the clocks go forward on 2026-03-29 at 02:00 CET
    { name: 'Berlin spring: the day before, 02:30 CET', spec: every('30 2 * * *', '1h', 'Europe/Berlin'), now: '2026-03-28T00:00:00Z', want: next('2026-03-28T01:30:00Z', '2026-03-28T02:30:00Z') },
    { name: 'Berlin spring: 02:30 is skipped; the window starts at 03:30 CEST', spec: every('30 2 * * *', '1h', 'Europe/Berlin'), now: '2026-03-29T00:00:00Z', want: next('2026-03-29T01:30:00Z', '2026-03-29T02:30:00Z') },
    { name: 'Berlin spring: inside the moved window', spec: every('30 2 * * *', '1h', 'Europe/Berlin'), now: '2026-03-29T01:45:00Z', want: active('2026-03-29T01:30:00Z', '2026-03-29T02:30:00Z') },
    { name: 'Berlin spring, hourly: 02:00 (skipped) and 03:00 meet at 03:00 CEST', spec: every('0 * * * *', '30m', 'Europe/Berlin'), now: '2026-03-29T01:10:00Z', want: active('2026-03-29T01:00:00Z', '2026-03-29T01:30:00Z') },
    { name: 'Berlin spring, hourly: after 01:00 CET, next is 03:00 CEST', spec: every('0 * * * *', '30m', 'Europe/Berlin'), now: '2026-03-29T00:45:00Z', want: next('2026-03-29T01:00:00Z', '2026-03-29T01:30:00Z') },
    // Europe/Berlin: the clocks go back on 2026-10-25 at 03:00 CEST
    { name: 'Berlin autumn: 02:30 happens twice; the window starts at the first (CEST)', spec: every('30 2 * * *', '1h', 'Europe/Berlin'), now: '2026-10-25T00:45:00Z', want: active('2026-10-25T00:30:00Z', '2026-10-25T01:30:00Z') },
    { name: 'Berlin autumn: at the second 02:45 (CET) no second window starts', spec: every('30 2 * * *', '1h', 'Europe/Berlin'), now: '2026-10-25T01:45:00Z', want: next('2026-10-26T01:30:00Z', '2026-10-26T02:30:00Z') },
    // America/New_York: forward on 2026-03-08 at 02:00 EST, back on 2026-11-01 at 02:00 EDT
    { name: 'New York spring: 02:30 is skipped; 03:30 EDT', spec: every('30 2 * * *', '1h', 'America/New_York'), now: '2026-03-08T07:00:00Z', want: next('2026-03-08T07:30:00Z', '2026-03-08T08:30:00Z') },
    { name: 'New York autumn: the window from the first 01:30 (EDT) holds at 01:15 EST', spec: every('30 1 * * *', '1h', 'America/New_York'), now: '2026-11-01T06:15:00Z', want: active('2026-11-01T05:30:00Z', '2026-11-01T06:30:00Z') },
    { name: 'New York autumn: no window from the second 01:30 (EST)', spec: every('30 1 * * *', '1h', 'America/New_York'), now: '2026-11-01T06:45:00Z', want: next('2026-11-02T06:30:00Z', '2026-11-02T07:30:00Z') },
    { name: 'New York, weekdays 09:00 after the change: 14:00 UTC', spec: every('0 9 * * mon-fri', '8h', 'America/New_York'), now: '2026-11-02T14:30:00Z', want: active('2026-11-02T14:00:00Z', '2026-11-02T22:00:00Z') },
    // Calendar edges
    { name: 'the 31st skips months without one', spec: every('0 0 31 * *', '1h'), now: '2026-04-15T00:00:00Z', want: next('2026-05-31T00:00:00Z', '2026-05-31T01:00:00Z') },
    { name: 'the 30th skips February', spec: every('0 0 30 * *', '1h'), now: '2026-02-10T00:00:00Z', want: next('2026-03-30T00:00:00Z', '2026-03-30T01:00:00Z') },
    { name: 'a leap day, two years ahead', spec: every('0 0 29 2 *', '24h'), now: '2026-03-01T00:00:00Z', want: next('2028-02-29T00:00:00Z', '2028-03-01T00:00:00Z') },
    { name: 'on a leap day', spec: every('0 0 29 2 *', '24h'), now: '2028-02-29T12:00:00Z', want: active('2028-02-29T00:00:00Z', '2028-03-01T00:00:00Z') },
    { name: 'New Year, across the year boundary', spec: every('0 22 31 12 *', '4h'), now: '2027-01-01T01:00:00Z', want: active('2026-12-31T22:00:00Z', '2027-01-01T02:00:00Z') },
    // Steps, lists, day rules
    { name: 'steps: every quarter hour in office hours, between two', spec: every('*/15 9-17 * * mon-fri', '10m'), now: '2026-06-10T09:27:00Z', want: next('2026-06-10T09:30:00Z', '2026-06-10T09:40:00Z') },
    { name: 'steps: inside one', spec: every('*/15 9-17 * * mon-fri', '10m'), now: '2026-06-10T09:35:00Z', want: active('2026-06-10T09:30:00Z', '2026-06-10T09:40:00Z') },
    { name: 'steps over a range of hours', spec: every('0 0-23/6 * * *', '1h'), now: '2026-06-10T07:00:00Z', want: next('2026-06-10T12:00:00Z', '2026-06-10T13:00:00Z') },
    { name: 'steps: weekends skipped', spec: every('*/15 9-17 * * mon-fri', '10m'), now: '2026-06-12T17:58:00Z', want: next('2026-06-15T09:00:00Z', '2026-06-15T09:10:00Z') },
    { name: 'the 13th or a Friday: a Tuesday the 13th comes first', spec: every('0 12 13 * fri', '1h'), now: '2026-01-10T00:00:00Z', want: next('2026-01-13T12:00:00Z', '2026-01-13T13:00:00Z') },
    { name: 'Fridays only', spec: every('0 12 * * fri', '1h'), now: '2026-01-10T00:00:00Z', want: next('2026-01-16T12:00:00Z', '2026-01-16T13:00:00Z') },
    { name: '@weekly is Sunday midnight', spec: every('@weekly', '6h'), now: '2026-01-10T00:00:00Z', want: next('2026-01-11T00:00:00Z', '2026-01-11T06:00:00Z') },
    // Durations longer than the time between occurrences: merged windows
    { name: 'hourly with 90m: one window from the first to the last + 90m', spec: every('0 9-11 * * *', '90m'), now: '2026-06-10T10:45:00Z', want: active('2026-06-10T09:00:00Z', '2026-06-10T12:30:00Z') },
    { name: 'hourly with 90m, before: the merged window is next', spec: every('0 9-11 * * *', '90m'), now: '2026-06-10T08:00:00Z', want: next('2026-06-10T09:00:00Z', '2026-06-10T12:30:00Z') },
    { name: 'merged across midnight', spec: every('0 22,23,0,1 * * *', '1h'), now: '2026-06-10T23:30:00Z', want: active('2026-06-10T22:00:00Z', '2026-06-11T02:00:00Z') },
    { name: 'windows that only touch merge too', spec: every('0 9,10 * * *', '1h'), now: '2026-06-10T10:30:00Z', want: active('2026-06-10T09:00:00Z', '2026-06-10T11:00:00Z') },
    { name: 'hourly for 2h through January to November: the whole span', spec: every('0 * * 1-11 *', '2h'), now: '2026-06-10T10:45:00Z', want: active('2026-01-01T00:00:00Z', '2026-12-01T01:00:00Z') },
    { name: 'daily for 25h never lets go: no bounds within a year', spec: every('0 0 * * *', '25h'), now: '2026-06-10T10:45:00Z', want: { active: true, current: {} } },
    { name: 'weekly for exactly a week: touching windows, never lets go', spec: every('0 0 * * mon', '168h'), now: '2026-06-10T10:45:00Z', want: { active: true, current: {} } },
  ])('$name', ({ spec, now, want }) => {
    expect(evaluateFreeze(spec, new Date(now))).toEqual(want);
  });
});

describe('evaluateFreeze: what cannot be evaluated fails closed; what never fires says so', () => {
  it.each([
    { name: 'a range that runs backwards', spec: every('0 0 * * fri-mon', '1h'), reason: 'InvalidSchedule', message: 'the schedule cannot be read: the day-of-week field "fri-mon": the range "fri-mon" runs backwards (5 is after 1); write it as two ranges; until then the freeze counts as active' },
    { name: 'a time zone this runtime does not know', spec: every('0 0 * * *', '1h', 'Mars/Olympus_Mons'), reason: 'InvalidTimeZone', message: 'unknown time zone "Mars/Olympus_Mons": the time zone data here does not have it; until then the freeze counts as active' },
    { name: 'a zero duration', spec: every('0 0 * * *', '0s'), reason: 'InvalidDuration', message: 'the duration "0s" must be a duration such as 2h, 90m or 1h30m, more than 0 and at most 8784h' },
    { name: 'a duration that is no duration', spec: every('0 0 * * *', 'forever'), reason: 'InvalidDuration', message: 'the duration "forever"' },
    { name: 'a duration over a year', spec: every('0 0 * * *', '9000h'), reason: 'InvalidDuration', message: 'at most 8784h' },
    { name: 'a window that ends before it starts', spec: win('2026-12-24T00:00:00Z', '2026-12-23T00:00:00Z'), reason: 'InvalidWindow', message: 'ends before it starts' },
    { name: 'a window that is no date', spec: win('Christmas', '2026-12-23T00:00:00Z'), reason: 'InvalidWindow', message: 'the window from "Christmas" to "2026-12-23T00:00:00Z" cannot be read' },
    { name: 'neither a schedule nor a window', spec: { reason: 'r', end: '2026-12-23T00:00:00Z' }, reason: 'InvalidWindow', message: 'the freeze has neither a schedule nor both start and end' },
  ])('$name: active, with no known end', ({ spec, reason, message }) => {
    const got = evaluateFreeze(spec as FreezeSpec, new Date('2026-06-10T00:00:00Z'));
    expect(got).toEqual({ active: true, current: {}, problem: { reason, message: expect.stringContaining(message) } });
  });

  it.each([
    { name: 'February 30', schedule: '0 0 30 2 *' },
    { name: 'the 31st of months with 30 days', schedule: '0 0 31 4,6,9,11 *' },
  ])('$name never fires: inactive, and says so', ({ schedule }) => {
    expect(evaluateFreeze(every(schedule, '1h'), new Date('2026-06-10T00:00:00Z'))).toEqual({
      active: false,
      problem: { reason: 'ScheduleNeverFires', message: 'the schedule does not fire in the next 8 years (a date that does not exist, such as February 30?), so the freeze is never active' },
    });
  });
});

describe('compileFreeze', () => {
  it('reuses an evaluation until its next boundary, and not past it', () => {
    const f = compileFreeze(every('0 9 * * *', '8h'));
    const first = f.at(ms('2026-06-10T12:00:00Z'));
    expect(f.at(ms('2026-06-10T12:30:00Z'))).toBe(first);
    const after = f.at(ms('2026-06-10T17:00:00Z'));
    expect(after).toEqual(next('2026-06-11T09:00:00Z', '2026-06-11T17:00:00Z'));
    // Back in time (a test clock): evaluated again, not reused.
    expect(f.at(ms('2026-06-10T12:00:00Z'))).toEqual(first);
  });
});

describe('parseFreezeDuration', () => {
  it.each([
    { name: 'hours', s: '2h', want: 7_200_000 },
    { name: 'minutes', s: '90m', want: 5_400_000 },
    { name: 'hours and minutes', s: '1h30m', want: 5_400_000 },
    { name: 'a fraction', s: '1.5h', want: 5_400_000 },
    { name: 'seconds', s: '45s', want: 45_000 },
    { name: 'units in any order, as Go takes them', s: '30m1h', want: 5_400_000 },
    { name: 'a bare number', s: '90', want: undefined },
    { name: 'days (Go has none)', s: '1d', want: undefined },
    { name: 'milliseconds (too fine for a freeze)', s: '500ms', want: undefined },
    { name: 'spaces', s: '1h 30m', want: undefined },
    { name: 'empty', s: '', want: undefined },
    { name: 'negative', s: '-1h', want: undefined },
  ])('$name: $s', ({ s, want }) => {
    expect(parseFreezeDuration(s)).toBe(want);
  });
});

describe('rfc3339', () => {
  it.each([
    { name: 'a whole second', ms: ms('2026-06-10T12:00:00Z'), want: '2026-06-10T12:00:00Z' },
    { name: 'milliseconds kept', ms: ms('2026-06-10T12:00:00.250Z'), want: '2026-06-10T12:00:00.250Z' },
  ])('$name', ({ ms: t, want }) => {
    expect(rfc3339(t)).toBe(want);
  });
});
