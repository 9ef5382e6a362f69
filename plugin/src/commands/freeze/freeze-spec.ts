// From `kubectl custom freeze` flags to a Freeze's spec, checked here with
// the code the backend evaluates Freezes with (api/src/freeze-schedule.ts,
// cron.ts, zoned-time.ts), so a mistake is named before anything is sent;
// the CRD's rules check again on the server.
import { CronError, parseCron } from '../../../../api/src/cron.ts';
import { evaluateFreeze, MAX_DURATION_MS, parseFreezeDuration, rfc3339 } from '../../../../api/src/freeze-schedule.ts';
import { parseRequirements, type LabelRequirement } from '../../../../api/src/label-selector-syntax.ts';
import type { FreezeSpec, LabelSelectorSpec } from '../../../../api/src/types.ts';
import { isKnownTimeZone } from '../../../../api/src/zoned-time.ts';
import { UsageError } from '../../errors/errors.ts';
import { hasUnsafeCharacters } from '../../output/escape.ts';

export interface FreezeFlags {
  states?: string | undefined;
  selector?: string | undefined;
  until?: string | undefined;
  for?: string | undefined;
  schedule?: string | undefined;
  duration?: string | undefined;
  timeZone?: string | undefined;
  reason?: string | undefined;
}

const MAX_REASON = 1024;
const STATE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** RFC 3339 with its offset; seconds may be left out. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})$/;

/** kubectl's selector operators as metav1.LabelSelector writes them; `>` and `<` have no counterpart. */
function expression(r: LabelRequirement): NonNullable<LabelSelectorSpec['matchExpressions']>[number] {
  switch (r.operator) {
    case 'in':
    case '=':
    case '==':
      return { key: r.key, operator: 'In', values: [...r.values] };
    case 'notin':
    case '!=':
      return { key: r.key, operator: 'NotIn', values: [...r.values] };
    case 'exists':
      return { key: r.key, operator: 'Exists' };
    case '!':
      return { key: r.key, operator: 'DoesNotExist' };
    case 'gt':
    case 'lt':
      throw new UsageError(`-l: "${r.key}${r.operator === 'gt' ? '>' : '<'}${r.values[0] ?? ''}" cannot be part of a Freeze's selector: a label selector there has =, !=, in, notin, exists and ! only`);
  }
}

/**
 * A kubectl label selector as a metav1.LabelSelector: equalities become
 * matchLabels (one value per key), everything else matchExpressions.
 */
export function selectorSpec(selector: string): LabelSelectorSpec {
  const parsed = parseRequirements(selector);
  if (typeof parsed === 'string') throw new UsageError(`-l: ${parsed}`);
  const matchLabels: Record<string, string> = {};
  const matchExpressions: NonNullable<LabelSelectorSpec['matchExpressions']> = [];
  for (const r of parsed) {
    const equality = (r.operator === '=' || r.operator === '==') && !Object.hasOwn(matchLabels, r.key);
    if (equality) matchLabels[r.key] = r.values[0]!;
    else matchExpressions.push(expression(r));
  }
  return { ...(Object.keys(matchLabels).length ? { matchLabels } : {}), ...(matchExpressions.length ? { matchExpressions } : {}) };
}

function states(list: string): string[] {
  const out = list.split(',').map((s) => s.trim());
  for (const s of out) {
    if (!STATE.test(s)) throw new UsageError(`--states: "${s}" is not a state name (lower-case letters, digits and '-', as in spec.states)`);
  }
  const dup = out.find((s, i) => out.indexOf(s) !== i);
  if (dup) throw new UsageError(`--states names "${dup}" twice`);
  return out;
}

function reason(text: string | undefined): string {
  if (text === undefined || text.trim() === '') throw new UsageError('--reason is required: say why nothing may move (everyone the freeze stops reads it)');
  if ([...text].length > MAX_REASON) throw new UsageError(`--reason is longer than ${MAX_REASON} characters`);
  // The characters the CRD refuses in a reason are those a terminal would act on.
  if (hasUnsafeCharacters(text)) throw new UsageError('--reason must be printable text, without control characters (newlines, tabs, escapes)');
  return text;
}

/** `--until`/`--for`: a window from now; `now` is taken to the second. */
function window(f: FreezeFlags, now: Date): { start: string; end: string } {
  const from = Math.floor(now.getTime() / 1000) * 1000;
  let to: number;
  if (f.until !== undefined) {
    if (!RFC3339.test(f.until) || Number.isNaN(Date.parse(f.until))) {
      throw new UsageError(`--until "${f.until}" is not a time with its offset (RFC 3339): write it as 2026-01-02T09:00:00+01:00 or 2026-01-02T08:00:00Z`);
    }
    to = Date.parse(f.until);
    if (to <= from) throw new UsageError(`--until ${f.until} is not in the future (it is ${rfc3339(from)} now)`);
  } else {
    const ms = parseFreezeDuration(f.for!);
    if (ms === undefined || ms <= 0) throw new UsageError(`--for "${f.for}" is not a duration such as 2h, 90m or 1h30m`);
    to = from + ms;
  }
  return { start: rfc3339(from), end: rfc3339(to) };
}

function recurring(f: FreezeFlags, now: Date): { schedule: string; duration: string; timeZone?: string } {
  try {
    parseCron(f.schedule!);
  } catch (e) {
    if (e instanceof CronError) throw new UsageError(`--schedule: ${e.message}`);
    throw e;
  }
  if (f.duration === undefined) throw new UsageError('--schedule needs --duration: how long each window lasts (e.g. 2h)');
  const ms = parseFreezeDuration(f.duration);
  if (ms === undefined || ms <= 0 || ms > MAX_DURATION_MS) throw new UsageError(`--duration "${f.duration}" must be a duration such as 2h, 90m or 1h30m, more than 0 and at most 8784h`);
  if (f.timeZone !== undefined && !isKnownTimeZone(f.timeZone)) {
    throw new UsageError(`--time-zone: unknown time zone "${f.timeZone}": use an IANA name such as Europe/Berlin, America/New_York or UTC`);
  }
  const spec = { schedule: f.schedule!, duration: f.duration, ...(f.timeZone !== undefined ? { timeZone: f.timeZone } : {}) };
  const problem = evaluateFreeze({ reason: '-', ...spec }, now).problem;
  if (problem) throw new UsageError(`--schedule "${f.schedule}": ${problem.message}`);
  return spec;
}

/** The spec the flags ask for, or a UsageError naming what is wrong. */
export function freezeSpec(f: FreezeFlags, now: Date): FreezeSpec {
  const when = [f.until !== undefined && '--until', f.for !== undefined && '--for', f.schedule !== undefined && '--schedule'].filter((x) => x !== false);
  if (when.length === 0) throw new UsageError('say when: --until TIME, --for DURATION, or --schedule CRON with --duration');
  if (when.length > 1) throw new UsageError(`${when.join(' and ')} exclude each other: a freeze has one window or one schedule`);
  if (f.schedule === undefined && f.duration !== undefined) throw new UsageError('--duration goes with --schedule; for one window from now use --for');
  if (f.schedule === undefined && f.timeZone !== undefined) throw new UsageError('--time-zone goes with --schedule; --until takes its offset in the time itself');
  const text = reason(f.reason);
  return {
    ...(f.states !== undefined ? { states: states(f.states) } : {}),
    ...(f.selector !== undefined ? { selector: selectorSpec(f.selector) } : {}),
    ...(f.schedule !== undefined ? recurring(f, now) : window(f, now)),
    reason: text,
  };
}
