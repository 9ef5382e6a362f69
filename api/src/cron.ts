// Cron schedules of five fields (minute hour day-of-month month day-of-week),
// read as robfig/cron's standard parser reads them (the one Kubernetes
// CronJobs use): `*`, numbers, names (jan–dec, sun–sat, any case), lists
// (1,15), ranges (mon-fri), steps (*/15, 1-30/5, and N/S meaning N-max/S),
// `?` as `*` in the two day fields, and the descriptors @yearly (@annually),
// @monthly, @weekly, @daily (@midnight) and @hourly. Day-of-week 7 is
// Sunday too, as in Vixie cron. Fields are separated by spaces.
//
// Days: when both day-of-month and day-of-week are restricted, a day
// matching either counts; when either is unrestricted (`*` or `?`, without a
// step above 1), only the other decides. That is the standard cron rule, as
// robfig/cron's dayMatches has it.
//
// Names match manifests/base/crd-freezes.yaml: what its CEL rules accept
// and this parser refuses (a range that runs backwards, 5-1) the backend
// reports in the Freeze's status.

export interface CronSchedule {
  /** Ascending. */
  minutes: readonly number[];
  /** Ascending. */
  hours: readonly number[];
  daysOfMonth: ReadonlySet<number>;
  /** 1–12. */
  months: ReadonlySet<number>;
  /** 0–6, Sunday 0. */
  daysOfWeek: ReadonlySet<number>;
  /** Day-of-month is unrestricted (`*` or `?`): only day-of-week decides. */
  domStar: boolean;
  /** Day-of-week is unrestricted: only day-of-month decides. */
  dowStar: boolean;
}

/** A schedule that cannot be read; the message names the field and what is wrong. */
export class CronError extends Error {
  override name = 'CronError';
}

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  /** `?` is `*` (the day fields). */
  question?: boolean;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

const FIELDS: readonly FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31, question: true },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  // 7 is Sunday as well; folded into 0 below.
  { name: 'day-of-week', min: 0, max: 7, names: WEEKDAYS, question: true },
];

const DESCRIPTORS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

function value(f: FieldSpec, field: string, s: string): number {
  const named = f.names?.indexOf(s.toLowerCase()) ?? -1;
  // Names count from the field's minimum: jan is 1, sun is 0.
  if (named >= 0) return named + f.min;
  if (!/^[0-9]+$/.test(s)) {
    const names = f.names ? ` or a name (${f.names[0]}–${f.names[f.names.length - 1]})` : '';
    throw new CronError(`the ${f.name} field "${field}": "${s}" is not a number${names}`);
  }
  const n = Number(s);
  if (n < f.min || n > f.max) throw new CronError(`the ${f.name} field "${field}": ${n} is out of range ${f.min}-${f.max}`);
  return n;
}

/** One comma-separated item: its values, and whether it is an unrestricted `*`. */
function item(f: FieldSpec, field: string, expr: string): { values: number[]; star: boolean } {
  const parts = expr.split('/');
  if (parts.length > 2) throw new CronError(`the ${f.name} field "${field}": "${expr}" has more than one step (/)`);
  const [range = '', stepText] = parts;
  let step = 1;
  if (stepText !== undefined) {
    if (!/^[0-9]+$/.test(stepText) || Number(stepText) === 0) throw new CronError(`the ${f.name} field "${field}": the step "${stepText}" must be a whole number above 0`);
    step = Number(stepText);
  }
  let start: number;
  let end: number;
  const star = range === '*' || (f.question === true && range === '?');
  if (star) {
    [start, end] = [f.min, f.max];
  } else {
    const bounds = range.split('-');
    if (bounds.length > 2) throw new CronError(`the ${f.name} field "${field}": "${range}" has more than one dash (-)`);
    if (bounds.includes('')) throw new CronError(`the ${f.name} field "${field}": "${range}" is not a number or a range`);
    start = value(f, field, bounds[0]!);
    // "N/S" means N-max/S.
    end = bounds.length === 2 ? value(f, field, bounds[1]!) : stepText !== undefined ? f.max : start;
    if (start > end) throw new CronError(`the ${f.name} field "${field}": the range "${range}" runs backwards (${start} is after ${end}); write it as two ranges`);
  }
  const values: number[] = [];
  for (let v = start; v <= end; v += step) values.push(v);
  return { values, star: star && step === 1 };
}

function field(f: FieldSpec, text: string): { values: Set<number>; star: boolean } {
  const values = new Set<number>();
  let star = false;
  for (const expr of text.split(',')) {
    if (expr === '') throw new CronError(`the ${f.name} field "${text}" has an empty item`);
    const it = item(f, text, expr);
    star ||= it.star;
    for (const v of it.values) values.add(v);
  }
  return { values, star };
}

/** Reads a schedule; throws CronError saying what is wrong. */
export function parseCron(schedule: string): CronSchedule {
  const trimmed = schedule.replace(/^ +| +$/g, '');
  const spec = trimmed.startsWith('@') ? DESCRIPTORS[trimmed] : trimmed;
  if (spec === undefined) throw new CronError(`unknown descriptor "${trimmed}": use @yearly, @monthly, @weekly, @daily or @hourly`);
  const texts = spec.split(/ +/);
  if (texts.length !== 5 || spec === '') {
    throw new CronError(`schedule "${schedule}" must have 5 fields (minute hour day-of-month month day-of-week); it has ${spec === '' ? 0 : texts.length}`);
  }
  const [minute, hour, dom, month, dow] = FIELDS.map((f, i) => field(f, texts[i]!));
  const daysOfWeek = new Set([...dow!.values].map((d) => d % 7));
  return {
    minutes: [...minute!.values].sort((a, b) => a - b),
    hours: [...hour!.values].sort((a, b) => a - b),
    daysOfMonth: dom!.values,
    months: month!.values,
    daysOfWeek,
    domStar: dom!.star,
    dowStar: dow!.star,
  };
}

/** Whether the schedule fires on this calendar date (month 1–12). */
export function cronDayMatches(c: CronSchedule, year: number, month: number, day: number): boolean {
  if (!c.months.has(month)) return false;
  const dom = c.daysOfMonth.has(day);
  const dow = c.daysOfWeek.has(new Date(Date.UTC(year, month - 1, day)).getUTCDay());
  return c.domStar || c.dowStar ? dom && dow : dom || dow;
}
