// Time-zone arithmetic against an independent implementation: the
// temporal-polyfill's Temporal (the TC39 proposal's reference behaviour,
// "compatible" disambiguation) on the same zones and instants, transitions
// and odd zones included.
import fc from 'fast-check';
import { Temporal } from 'temporal-polyfill';
import { describe, expect, it } from 'vitest';
import { instantOfWall, offsetMinutesAt, wallTimeAt, wallUtc, type WallTime } from './zoned-time.ts';

const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'America/Sao_Paulo', 'Australia/Lord_Howe', 'Asia/Kolkata', 'Asia/Kathmandu', 'Pacific/Apia', 'Pacific/Chatham', 'America/St_Johns'];

function temporalInstant(zone: string, w: WallTime): number {
  return Temporal.PlainDateTime.from({ year: w.year, month: w.month, day: w.day, hour: w.hour, minute: w.minute }).toZonedDateTime(zone, { disambiguation: 'compatible' }).epochMilliseconds;
}

describe('zoned-time agrees with Temporal', () => {
  it.each<{ name: string; zone: string; wall: WallTime }>([
    { name: 'Berlin, the hour skipped in spring', zone: 'Europe/Berlin', wall: { year: 2026, month: 3, day: 29, hour: 2, minute: 30 } },
    { name: 'Berlin, the hour repeated in autumn', zone: 'Europe/Berlin', wall: { year: 2026, month: 10, day: 25, hour: 2, minute: 30 } },
    { name: 'New York, the hour skipped', zone: 'America/New_York', wall: { year: 2026, month: 3, day: 8, hour: 2, minute: 15 } },
    { name: 'New York, the hour repeated', zone: 'America/New_York', wall: { year: 2026, month: 11, day: 1, hour: 1, minute: 45 } },
    { name: 'Lord Howe, a half-hour change', zone: 'Australia/Lord_Howe', wall: { year: 2026, month: 10, day: 4, hour: 2, minute: 10 } },
    { name: 'Apia, the day that was skipped', zone: 'Pacific/Apia', wall: { year: 2011, month: 12, day: 30, hour: 12, minute: 0 } },
    { name: 'Kathmandu, +05:45', zone: 'Asia/Kathmandu', wall: { year: 2026, month: 6, day: 1, hour: 17, minute: 0 } },
  ])('$name', ({ zone, wall }) => {
    expect(instantOfWall(zone, wallUtc(wall))).toBe(temporalInstant(zone, wall));
  });

  it('on random instants: the wall time and the offset', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2037, 0, 1) }), (zone, ms) => {
        const t = Temporal.Instant.fromEpochMilliseconds(ms).toZonedDateTimeISO(zone);
        expect(wallTimeAt(zone, ms)).toEqual({ year: t.year, month: t.month, day: t.day, hour: t.hour, minute: t.minute });
        expect(offsetMinutesAt(zone, ms)).toBe(t.offsetNanoseconds / 60e9);
      }),
      { numRuns: 500, seed: 42 },
    );
  });

  it('on random wall times: the instant, gaps and overlaps resolved alike', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ZONES),
        fc.record({ year: fc.integer({ min: 1990, max: 2036 }), month: fc.integer({ min: 1, max: 12 }), day: fc.integer({ min: 1, max: 28 }), hour: fc.integer({ min: 0, max: 23 }), minute: fc.integer({ min: 0, max: 59 }) }),
        (zone, wall) => {
          expect(instantOfWall(zone, wallUtc(wall))).toBe(temporalInstant(zone, wall));
        },
      ),
      { numRuns: 500, seed: 7 },
    );
  });
});
