// manifests/base/crd-freezes.yaml and the code that evaluates Freezes must
// agree: what the CRD's rules let through, the backend can read (or reports
// in status, for what CEL cannot check), and the reverse.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseCron } from './cron.ts';
import { MAX_DURATION_MS, parseFreezeDuration } from './freeze-schedule.ts';
import { isKnownTimeZone } from './zoned-time.ts';

interface Rule {
  rule: string;
}
type Props = Record<string, { 'x-kubernetes-validations'?: Rule[] }>;

const crd = parse(readFileSync(new URL('../../manifests/base/crd-freezes.yaml', import.meta.url), 'utf8')) as {
  spec: { versions: { schema: { openAPIV3Schema: { properties: { spec: { properties: Props } } } } }[] };
};
const spec = crd.spec.versions[0]!.schema.openAPIV3Schema.properties.spec.properties;
const rules = (field: string) => (spec[field]?.['x-kubernetes-validations'] ?? []).map((r) => r.rule);

/** The time zone names the CRD lists. */
const listed = [...rules('timeZone')[0]!.matchAll(/'([^']+)'/g)].map((m) => m[1]!);

/** The CEL regexes (RE2) of the schedule's rules, as JavaScript ones: CEL's `\\` is one backslash, and `(?i:…)` becomes the `i` flag (only names have letters). */
const scheduleRegexes = rules('schedule').flatMap((r) => [...r.matchAll(/matches\('([^']+)'\)/g)].map((m) => m[1]!.replaceAll('\\\\', '\\').replaceAll('(?i:', '(?:')));
const FIVE_FIELDS = new RegExp(scheduleRegexes[1]!);
const DESCRIPTOR = new RegExp(scheduleRegexes[0]!);
const FIELD_RES = scheduleRegexes.slice(3).filter((_, i) => i % 2 === 0).map((re) => new RegExp(re, 'i'));

function crdAccepts(schedule: string): boolean {
  if (DESCRIPTOR.test(schedule)) return true;
  if (!FIVE_FIELDS.test(schedule)) return false;
  const fields = schedule.split(' ').filter((f) => f !== '');
  return FIELD_RES.every((re, i) => re.test(fields[i]!));
}

describe('the time zones the CRD lists', () => {
  it('are each known to this runtime, so the backend can evaluate every one the CRD lets through', () => {
    expect(listed.length).toBeGreaterThan(400);
    expect(listed.filter((z) => !isKnownTimeZone(z))).toEqual([]);
  });

  it("hold every zone this runtime knows by its canonical name, and UTC (add new IANA zones to the CRD's list)", () => {
    const names = new Set(listed);
    expect(['UTC', ...Intl.supportedValuesOf('timeZone')].filter((z) => !names.has(z))).toEqual([]);
  });
});

describe('the schedule rules of the CRD and parseCron', () => {
  it('read the five fields of each rule', () => {
    expect(FIELD_RES).toHaveLength(5);
  });

  it.each([
    '0 17 * * fri', '*/15 9-17 * * MON-FRI', '0 0 1,15 * *', '5/20 * * * *', '0 0 ? * sun', '0 0 * * 7', '0 22 31 12 *', '0 0 29 2 *',
    '0 0 1 jan-mar,OCT *', '  0  17 * * fri ', '@daily', '@hourly', '@weekly', '@monthly', '@yearly', '@annually', '@midnight', '0 0 */2 * *',
  ])('both accept %j', (schedule) => {
    expect(crdAccepts(schedule)).toBe(true);
    expect(() => parseCron(schedule)).not.toThrow();
  });

  it.each([
    '0 17 * *', '0 0 17 * * fri', '60 * * * *', '0 24 * * *', '0 0 0 * *', '0 0 32 * *', '0 0 1 13 *', '0 0 * * 8', '0 0 * * funday', '*/0 * * * *',
    '? * * * *', '1,,2 * * * *', '@every 1h', '@reboot', 'CRON_TZ=UTC 0 17 * * *', '-1 * * * *', '*/2/3 * * * *', '1-2-3 * * * *', '',
  ])('both refuse %j', (schedule) => {
    expect(crdAccepts(schedule)).toBe(false);
    expect(() => parseCron(schedule)).toThrow();
  });

  it.each(['5-1 * * * *', '0 0 * * fri-mon', '0 0 20-10 * *'])('the CRD lets %j through; the backend reports it (CEL cannot compare the ends of a range)', (schedule) => {
    expect(crdAccepts(schedule)).toBe(true);
    expect(() => parseCron(schedule)).toThrow('runs backwards');
  });
});

describe('the duration rule of the CRD', () => {
  it('allows at most what the backend allows', () => {
    expect(rules('duration')[0]).toContain(`duration('${MAX_DURATION_MS / 3_600_000}h')`);
    expect(rules('duration')[0]).toContain(`self.matches('^([0-9]+(\\\\.[0-9]+)?(h|m|s))+$')`);
    expect(parseFreezeDuration('8784h')).toBe(MAX_DURATION_MS);
  });
});
