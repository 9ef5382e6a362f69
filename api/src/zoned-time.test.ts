import { describe, expect, it } from 'vitest';
import { instantOfWall, isKnownTimeZone, offsetMinutesAt, wallTimeAt, wallUtc } from './zoned-time.ts';

const at = (iso: string) => Date.parse(iso);
/** A wall time written as if it were UTC, e.g. '2026-03-29T02:30', in its arithmetic form. */
const wall = (s: string) => Date.parse(`${s}:00Z`);

describe('isKnownTimeZone', () => {
  it.each([
    { name: 'a canonical zone', zone: 'Europe/Berlin', want: true },
    { name: 'UTC', zone: 'UTC', want: true },
    { name: 'a link (backward name)', zone: 'US/Eastern', want: true },
    { name: 'an Etc zone', zone: 'Etc/GMT+5', want: true },
    { name: 'a misspelt zone', zone: 'Europe/Berln', want: false },
    { name: 'an offset, which Intl takes but is no zone name', zone: '+05:00', want: false },
    { name: 'Local', zone: 'Local', want: false },
    { name: 'empty', zone: '', want: false },
  ])('$name: $zone', ({ zone, want }) => {
    expect(isKnownTimeZone(zone)).toBe(want);
  });
});

describe('offsetMinutesAt and wallTimeAt', () => {
  it.each([
    { name: 'Berlin in winter', zone: 'Europe/Berlin', t: '2026-01-15T12:00:00Z', offset: 60, wall: { year: 2026, month: 1, day: 15, hour: 13, minute: 0 } },
    { name: 'Berlin in summer', zone: 'Europe/Berlin', t: '2026-07-15T12:00:00Z', offset: 120, wall: { year: 2026, month: 7, day: 15, hour: 14, minute: 0 } },
    { name: 'Berlin, the last second before summer time', zone: 'Europe/Berlin', t: '2026-03-29T00:59:59Z', offset: 60, wall: { year: 2026, month: 3, day: 29, hour: 1, minute: 59 } },
    { name: 'Berlin, the first second of summer time', zone: 'Europe/Berlin', t: '2026-03-29T01:00:00Z', offset: 120, wall: { year: 2026, month: 3, day: 29, hour: 3, minute: 0 } },
    { name: 'New York in winter', zone: 'America/New_York', t: '2026-01-15T12:00:00Z', offset: -300, wall: { year: 2026, month: 1, day: 15, hour: 7, minute: 0 } },
    { name: 'New York in summer, the day before in UTC', zone: 'America/New_York', t: '2026-07-15T02:00:00Z', offset: -240, wall: { year: 2026, month: 7, day: 14, hour: 22, minute: 0 } },
    { name: 'Kolkata, half an hour', zone: 'Asia/Kolkata', t: '2026-01-15T12:00:00Z', offset: 330, wall: { year: 2026, month: 1, day: 15, hour: 17, minute: 30 } },
    { name: 'Chatham, 12:45 ahead in summer', zone: 'Pacific/Chatham', t: '2026-01-15T12:00:00Z', offset: 825, wall: { year: 2026, month: 1, day: 16, hour: 1, minute: 45 } },
    { name: 'UTC', zone: 'UTC', t: '2028-02-29T23:59:00Z', offset: 0, wall: { year: 2028, month: 2, day: 29, hour: 23, minute: 59 } },
  ])('$name', ({ zone, t, offset, wall: w }) => {
    expect(offsetMinutesAt(zone, at(t))).toBe(offset);
    expect(wallTimeAt(zone, at(t))).toEqual(w);
    expect(wallUtc(w)).toBe(at(t) + offset * 60_000 - (at(t) % 60_000));
  });
});

describe('instantOfWall: skipped and repeated wall times as RFC 5545 reads them', () => {
  it.each([
    { name: 'an ordinary time in Berlin winter', zone: 'Europe/Berlin', wall: '2026-01-15T17:00', want: '2026-01-15T16:00:00Z' },
    { name: 'an ordinary time in Berlin summer', zone: 'Europe/Berlin', wall: '2026-07-15T17:00', want: '2026-07-15T15:00:00Z' },
    { name: 'Berlin: the last minute before the gap', zone: 'Europe/Berlin', wall: '2026-03-29T01:59', want: '2026-03-29T00:59:00Z' },
    { name: 'Berlin: 02:00 does not exist; it is read as 03:00 CEST', zone: 'Europe/Berlin', wall: '2026-03-29T02:00', want: '2026-03-29T01:00:00Z' },
    { name: 'Berlin: 02:30 does not exist; moved forward by the gap to 03:30 CEST', zone: 'Europe/Berlin', wall: '2026-03-29T02:30', want: '2026-03-29T01:30:00Z' },
    { name: 'Berlin: 03:00 is the first time after the gap', zone: 'Europe/Berlin', wall: '2026-03-29T03:00', want: '2026-03-29T01:00:00Z' },
    { name: 'Berlin: 02:30 happens twice; the first (CEST) is taken', zone: 'Europe/Berlin', wall: '2026-10-25T02:30', want: '2026-10-25T00:30:00Z' },
    { name: 'Berlin: 03:00 after the repeat', zone: 'Europe/Berlin', wall: '2026-10-25T03:00', want: '2026-10-25T02:00:00Z' },
    { name: 'New York: 02:30 skipped, read as 03:30 EDT', zone: 'America/New_York', wall: '2026-03-08T02:30', want: '2026-03-08T07:30:00Z' },
    { name: 'New York: 01:30 repeated, the first (EDT) is taken', zone: 'America/New_York', wall: '2026-11-01T01:30', want: '2026-11-01T05:30:00Z' },
    { name: 'New York: 01:30 the day after is ordinary EST', zone: 'America/New_York', wall: '2026-11-02T01:30', want: '2026-11-02T06:30:00Z' },
    { name: 'Lord Howe: a half-hour gap (02:00 → 02:30)', zone: 'Australia/Lord_Howe', wall: '2026-10-04T02:15', want: '2026-10-03T15:45:00Z' },
    { name: 'Santiago: the clocks change at midnight, so 00:30 is skipped', zone: 'America/Santiago', wall: '2026-09-06T00:30', want: '2026-09-06T04:30:00Z' },
    { name: 'UTC has no gaps', zone: 'UTC', wall: '2026-03-29T02:30', want: '2026-03-29T02:30:00Z' },
  ])('$name', ({ zone, wall: w, want }) => {
    expect(new Date(instantOfWall(zone, wall(w))).toISOString().replace('.000Z', 'Z')).toBe(want);
  });
});
