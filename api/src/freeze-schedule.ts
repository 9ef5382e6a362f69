// When a Freeze holds, at a given instant: pure, so the backend (its gate
// and the status it writes) and the plugin (which says when a freeze it
// creates is active) agree to the minute.
//
// - A one-off window holds from `start` (inclusive) to `end` (exclusive).
// - A recurring one holds from each occurrence of `schedule` (in
//   `timeZone`, UTC when absent; see api/src/cron.ts and zoned-time.ts for
//   the cron rules and the clock changes) for `duration`: it is active when
//   now lies in [occurrence, occurrence + duration) of the latest occurrence
//   at or before now. Windows that overlap or touch (a duration longer than
//   the time between occurrences) are one window: the current and next
//   windows reported are merged, so their end is when moves are allowed
//   again. Merging looks a year (HORIZON_MS) each way; a bound beyond that
//   is left out (a freeze that never lets go).
// - A spec that cannot be evaluated (a schedule the CRD's rules let through
//   but that cannot be read, a time zone this runtime does not know) FAILS
//   CLOSED: it counts as active, with no known end, and says why. Holding a
//   promotion back is recoverable (fix the freeze, or --override); letting
//   one through during a freeze is not. A schedule that never fires
//   (February 30) is readable: it is never active, and says so.
import { parseGoDuration } from './go-duration.ts';
import { CronError, cronDayMatches, parseCron, type CronSchedule } from './cron.ts';
import type { FreezeSpec, FreezeWindow } from './types.ts';
import { isKnownTimeZone, wallResolverForDay, wallTimeAt, wallUtc } from './zoned-time.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
/** How far windows are merged, back and forward. */
const HORIZON_MS = 366 * DAY_MS;
/** The longest duration (the CRD's limit too). */
export const MAX_DURATION_MS = 8784 * HOUR_MS;
/** How far ahead the next occurrence is looked for: February 29 recurs at most every 8 years (2096, 2104). */
const SEARCH_DAYS = 8 * 366 + 2;
/** UTC offsets lie within −12h and +14h: a wall day's instants lie within these of its UTC day. */
const MAX_EAST_MS = 14 * HOUR_MS;
const MAX_WEST_MS = 12 * HOUR_MS;
/** An evaluation of a recurring freeze is reused for this long at most (and never past a boundary). */
const REUSE_MS = HOUR_MS;

export type FreezeProblemReason = 'InvalidWindow' | 'InvalidSchedule' | 'InvalidDuration' | 'InvalidTimeZone' | 'ScheduleNeverFires';

export interface FreezeEvaluation {
  active: boolean;
  /** While active: the (merged) window now lies in. */
  current?: FreezeWindow;
  /** While inactive: the next (merged) window, if any. */
  next?: FreezeWindow;
  /** When this answer changes next (epoch ms): a window's start or end; absent when not known to. */
  changesAt?: number;
  /** Why the spec cannot be evaluated as written (then it counts as active), or never fires. */
  problem?: { reason: FreezeProblemReason; message: string };
}

export interface CompiledFreeze {
  /** The freeze at `now` (epoch ms). */
  at(now: number): FreezeEvaluation;
}

/** RFC 3339 in UTC, to the second when the instant is a whole second (as metav1.Time prints). */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** A Freeze's form of a Go duration, as its CRD checks it: hours, minutes and seconds only (2h, 90m, 1h30m, 1.5h). */
const FREEZE_DURATION = /^([0-9]+(\.[0-9]+)?(h|m|s))+$/;

/** A Freeze's duration in ms (parsed as Go parses it, api/src/go-duration.ts); undefined when it is not of that form. */
export function parseFreezeDuration(s: string): number | undefined {
  if (!FREEZE_DURATION.test(s)) return undefined;
  const ms = parseGoDuration(s);
  return ms === undefined ? undefined : Math.round(ms);
}

/** A freeze that cannot be evaluated: active, with no known end. */
function failClosed(reason: FreezeProblemReason, message: string): CompiledFreeze {
  const evaluation: FreezeEvaluation = { active: true, current: {}, problem: { reason, message: `${message}; until then the freeze counts as active` } };
  return { at: () => evaluation };
}

function windowFreeze(start: string, end: string): CompiledFreeze {
  const from = Date.parse(start);
  const to = Date.parse(end);
  if (Number.isNaN(from) || Number.isNaN(to) || to <= from) return failClosed('InvalidWindow', `the window from "${start}" to "${end}" cannot be read, or ends before it starts`);
  const window = { start: rfc3339(from), end: rfc3339(to) };
  return {
    at: (now) => (now < from ? { active: false, next: window, changesAt: from } : now < to ? { active: true, current: window, changesAt: to } : { active: false }),
  };
}

/** A compiled spec: parse once, evaluate at any instant. */
export function compileFreeze(spec: FreezeSpec): CompiledFreeze {
  if (spec.schedule === undefined) {
    if (spec.start === undefined || spec.end === undefined) return failClosed('InvalidWindow', 'the freeze has neither a schedule nor both start and end');
    return windowFreeze(spec.start, spec.end);
  }
  const zone = spec.timeZone ?? 'UTC';
  if (!isKnownTimeZone(zone)) return failClosed('InvalidTimeZone', `unknown time zone "${zone}": the time zone data here does not have it`);
  let cron: CronSchedule;
  try {
    cron = parseCron(spec.schedule);
  } catch (e) {
    if (e instanceof CronError) return failClosed('InvalidSchedule', `the schedule cannot be read: ${e.message}`);
    throw e;
  }
  const duration = parseFreezeDuration(spec.duration ?? '');
  if (duration === undefined || duration <= 0 || duration > MAX_DURATION_MS) {
    return failClosed('InvalidDuration', `the duration "${spec.duration ?? ''}" must be a duration such as 2h, 90m or 1h30m, more than 0 and at most 8784h`);
  }
  return new RecurringFreeze(new Occurrences(cron, zone), duration);
}

/** The freeze `spec` at `now`. */
export function evaluateFreeze(spec: FreezeSpec, now: Date): FreezeEvaluation {
  return compileFreeze(spec).at(now.getTime());
}

interface DaySummary {
  times: number[];
  maxGap: number;
}

/**
 * A schedule's occurrences in its zone, a wall-clock day at a time. Days
 * are numbered from 1970-01-01 on the zone's calendar.
 */
class Occurrences {
  private readonly cron: CronSchedule;
  private readonly zone: string;
  private readonly days = new Map<number, DaySummary>();

  constructor(cron: CronSchedule, zone: string) {
    this.cron = cron;
    this.zone = zone;
  }

  /** The wall-clock day `t` falls on. */
  dayOf(t: number): number {
    return Math.floor(wallUtc(wallTimeAt(this.zone, t)) / DAY_MS);
  }

  /** The instants of the day's occurrences, ascending, without repeats. */
  onDay(day: number): number[] {
    return this.summary(day).times;
  }

  /** The day's occurrences, and the longest time between two of them (merging skips days with none longer than the duration). */
  private summary(day: number): DaySummary {
    let found = this.days.get(day);
    if (found) return found;
    let times: number[] = [];
    const local = day * DAY_MS;
    const date = new Date(local);
    if (cronDayMatches(this.cron, date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate())) {
      const instant = wallResolverForDay(this.zone, local);
      for (const h of this.cron.hours) for (const m of this.cron.minutes) times.push(instant(local + h * HOUR_MS + m * MINUTE_MS));
      // On a day the clocks change, a skipped time moves past later ones, and two may meet.
      if (times.some((t, i) => i > 0 && t <= times[i - 1]!)) times = [...new Set(times)].sort((a, b) => a - b);
    }
    let maxGap = 0;
    for (let i = 1; i < times.length; i++) maxGap = Math.max(maxGap, times[i]! - times[i - 1]!);
    found = { times, maxGap };
    // Evaluations look at the same few days again and again; keep a bounded number.
    if (this.days.size >= 64) this.days.delete(this.days.keys().next().value!);
    this.days.set(day, found);
    return found;
  }

  /** The latest occurrence in (after, atOrBefore]. */
  latest(after: number, atOrBefore: number): number | undefined {
    for (let day = this.dayOf(atOrBefore) + 1; (day + 1) * DAY_MS + MAX_WEST_MS > after; day--) {
      // A day's last occurrences can lie after the next day's first, when the clock changes at midnight.
      const candidates = [...this.onDay(day), ...this.onDay(day - 1)].filter((t) => t > after && t <= atOrBefore);
      if (candidates.length) return Math.max(...candidates);
    }
    return undefined;
  }

  /** The first occurrence after `t`, looking SEARCH_DAYS ahead. */
  firstAfter(t: number): number | undefined {
    const first = this.dayOf(t) - 1;
    for (let day = first; day <= first + SEARCH_DAYS; day++) {
      const candidates = [...this.onDay(day), ...this.onDay(day + 1)].filter((x) => x > t);
      if (candidates.length) return Math.min(...candidates);
    }
    return undefined;
  }

  /** The end of the merged window that starts with the occurrence `o`; undefined past `limit`. */
  chainEnd(o: number, duration: number, limit: number): number | undefined {
    let end = o + duration;
    for (let day = this.dayOf(o); day * DAY_MS - MAX_EAST_MS <= end; day++) {
      const { times, maxGap } = this.summary(day);
      const last = times[times.length - 1];
      if (last === undefined || last <= o) continue;
      if (times[0]! > o && times[0]! <= end && maxGap <= duration) {
        // Every occurrence of the day overlaps the one before it.
        end = Math.max(end, last + duration);
      } else {
        for (const t of times) {
          if (t <= o) continue;
          if (t > end) return end;
          end = Math.max(end, t + duration);
        }
      }
      if (end > limit) return undefined;
    }
    return end;
  }

  /** The start of the merged window that holds the occurrence `o`; undefined before `limit`. */
  chainStart(o: number, duration: number, limit: number): number | undefined {
    let start = o;
    for (let day = this.dayOf(o); (day + 1) * DAY_MS + MAX_WEST_MS + duration >= start; day--) {
      const { times, maxGap } = this.summary(day);
      const first = times[0];
      if (first === undefined || first >= start) continue;
      const last = times[times.length - 1]!;
      if (last < start && last + duration >= start && maxGap <= duration) {
        start = first;
      } else {
        for (let i = times.length - 1; i >= 0; i--) {
          const t = times[i]!;
          if (t >= start) continue;
          if (t + duration < start) return start;
          start = t;
        }
      }
      if (start < limit) return undefined;
    }
    return start;
  }
}

class RecurringFreeze implements CompiledFreeze {
  private readonly occurrences: Occurrences;
  private readonly duration: number;
  private reused: { from: number; until: number; evaluation: FreezeEvaluation } | undefined;

  constructor(occurrences: Occurrences, duration: number) {
    this.occurrences = occurrences;
    this.duration = duration;
  }

  at(now: number): FreezeEvaluation {
    const r = this.reused;
    if (r && now >= r.from && now < r.until) return r.evaluation;
    const evaluation = this.evaluate(now);
    this.reused = { from: now, until: Math.min(evaluation.changesAt ?? Infinity, now + REUSE_MS), evaluation };
    return evaluation;
  }

  private evaluate(now: number): FreezeEvaluation {
    const o = this.occurrences;
    const latest = o.latest(now - this.duration, now);
    if (latest !== undefined) {
      const start = o.chainStart(latest, this.duration, now - HORIZON_MS);
      const end = o.chainEnd(latest, this.duration, now + HORIZON_MS);
      return { active: true, current: bounds(start, end), ...(end !== undefined ? { changesAt: end } : {}) };
    }
    const next = o.firstAfter(now);
    if (next === undefined) {
      return { active: false, problem: { reason: 'ScheduleNeverFires', message: `the schedule does not fire in the next ${Math.floor(SEARCH_DAYS / 366)} years (a date that does not exist, such as February 30?), so the freeze is never active` } };
    }
    return { active: false, next: bounds(next, o.chainEnd(next, this.duration, next + HORIZON_MS)), changesAt: next };
  }
}

function bounds(start: number | undefined, end: number | undefined): FreezeWindow {
  return { ...(start !== undefined ? { start: rfc3339(start) } : {}), ...(end !== undefined ? { end: rfc3339(end) } : {}) };
}
