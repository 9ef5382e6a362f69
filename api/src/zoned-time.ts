// Wall-clock time in IANA time zones, from the runtime's own time zone data
// (Intl.DateTimeFormat, i.e. ICU): what "17:00 in Europe/Berlin" is as an
// instant, and back. No library: Node's ICU carries the IANA database, and
// the two conversions below are all a cron schedule needs.
//
// A wall time that does not exist (the hour skipped when clocks go forward)
// or exists twice (the hour repeated when they go back) is resolved as
// RFC 5545 (iCalendar, 3.3.5) and Temporal's "compatible" disambiguation do:
// a skipped time is read with the offset from before the change, i.e. moved
// forward by the length of the gap (02:30 → 03:30 on a one-hour gap), and a
// repeated time is its first occurrence (the earlier instant).

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/** A calendar date and time of day on a zone's wall clock; month 1–12. */
export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/**
 * Whether the runtime knows `zone` as an IANA time zone name. Offsets
 * (`+05:00`), which Intl also takes, are not zone names.
 */
export function isKnownTimeZone(zone: string): boolean {
  if (zone === '' || /^[+-]/.test(zone)) return false;
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

/** The zone's wall clock at `epochMs`, to the second (UTC milliseconds of that wall time). */
function wallUtcAt(zone: string, epochMs: number): number {
  const parts: Record<string, string> = {};
  for (const p of formatter(zone).formatToParts(new Date(epochMs))) parts[p.type] = p.value;
  const year = parts['era'] === 'BC' ? 1 - Number(parts['year']) : Number(parts['year']);
  const d = new Date(0);
  d.setUTCFullYear(year, Number(parts['month']) - 1, Number(parts['day']));
  d.setUTCHours(Number(parts['hour']), Number(parts['minute']), Number(parts['second']));
  return d.getTime();
}

/** The zone's offset from UTC at `epochMs`, in minutes (Berlin in summer: 120). */
export function offsetMinutesAt(zone: string, epochMs: number): number {
  const whole = Math.floor(epochMs / 1000) * 1000;
  return Math.round((wallUtcAt(zone, whole) - whole) / MINUTE_MS);
}

/** The zone's wall clock at `epochMs`. */
export function wallTimeAt(zone: string, epochMs: number): WallTime {
  const d = new Date(wallUtcAt(zone, epochMs));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes() };
}

/** A wall time as if it were UTC, in milliseconds: the arithmetic form of a wall time. */
export function wallUtc(w: WallTime): number {
  const d = new Date(0);
  d.setUTCFullYear(w.year, w.month - 1, w.day);
  d.setUTCHours(w.hour, w.minute, 0, 0);
  return d.getTime();
}

/**
 * How the wall times of one calendar day in `zone` become instants (skipped
 * times moved forward by the gap, repeated ones at their first occurrence:
 * see the top of this file). `dayLocal` is the day's midnight in its
 * arithmetic form (wallUtc); the resolver takes wall times in that form.
 * Most days have one offset throughout; on a day the clocks change, the
 * instant of the change is found once, so each wall time costs arithmetic.
 */
export function wallResolverForDay(zone: string, dayLocal: number): (wall: number) => number {
  // A day's wall times lie within −14h and +12h of their UTC reading: these
  // three samples see every offset in force during the day.
  const before = offsetMinutesAt(zone, dayLocal - DAY_MS);
  const after = offsetMinutesAt(zone, dayLocal + 2 * DAY_MS);
  const middle = offsetMinutesAt(zone, dayLocal + DAY_MS / 2);
  if (before === after && middle === before) return (wall) => wall - before * MINUTE_MS;
  if (middle !== before && middle !== after) return (wall) => slowInstantOfWall(zone, wall, [before, middle, after]);
  // The first second with the new offset.
  let lo = Math.floor((dayLocal - DAY_MS) / 1000);
  let hi = Math.floor((dayLocal + 2 * DAY_MS) / 1000);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetMinutesAt(zone, mid * 1000) === before) lo = mid;
    else hi = mid;
  }
  const change = hi * 1000;
  return (wall) => {
    const early = wall - before * MINUTE_MS;
    const late = wall - after * MINUTE_MS;
    const earlyValid = early < change;
    const lateValid = late >= change;
    if (earlyValid && lateValid) return Math.min(early, late);
    if (lateValid) return late;
    // Valid before the change, or in the gap: read with the offset from before it.
    return early;
  };
}

/**
 * For a day with more than one change of offset (rare, historical): each
 * offset in force that maps the wall time back to itself; the earliest, or
 * in a gap the reading with the first offset.
 */
function slowInstantOfWall(zone: string, wall: number, offsets: number[]): number {
  const valid = offsets.map((o) => wall - o * MINUTE_MS).filter((t, i) => offsetMinutesAt(zone, t) === offsets[i]);
  return valid.length ? Math.min(...valid) : wall - offsets[0]! * MINUTE_MS;
}

/** The instant of a wall time in `zone` (in its arithmetic form, wallUtc). */
export function instantOfWall(zone: string, wall: number): number {
  return wallResolverForDay(zone, Math.floor(wall / DAY_MS) * DAY_MS)(wall);
}
