import { describe, expect, it } from 'vitest';
import type { Freeze } from '../../../../api/src/types.ts';
import { run } from '../../root-command.ts';
import { apiError, fakeClient, harness, NOW, type FakeCall } from '../../testing/harness.ts';
import { describeFreeze } from './freeze.ts';
import { selectorSpec } from './freeze-spec.ts';

const SHOP = 'POST /apis/example.com/v1/namespaces/shop/freezes';
const SYSTEM = 'POST /apis/example.com/v1/namespaces/custom-system/freezes';

/** The API server's answer to a create: the body, named (generateName gets five characters). */
function created(call: FakeCall): Freeze {
  const body = structuredClone(call.opts?.body) as Freeze & { metadata: { generateName?: string } };
  const { generateName, ...meta } = body.metadata;
  return { ...body, metadata: { ...meta, name: meta.name ?? `${generateName}x7k2p`, namespace: call.path.split('/')[5]!, resourceVersion: '12' } };
}

async function freeze(args: string[], routes: Record<string, unknown> = { [SHOP]: created, [SYSTEM]: created }) {
  const client = fakeClient(routes);
  const h = harness({ client });
  const code = await run(['freeze', ...args], h.deps);
  return { code, out: h.out(), err: h.err(), calls: client.calls, connects: h.connects.length };
}

const sent = (calls: FakeCall[]) => calls[0]?.opts?.body as Freeze;

describe('freeze: what it creates and prints', () => {
  it('--for: a window from now, in the namespace, with a generated name', async () => {
    const r = await freeze(['-n', 'shop', '--states', 'prod', '--for', '2h', '--reason', 'incident 4711']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.calls.map((c) => `${c.method} ${c.path}`)).toEqual([SHOP]);
    expect(sent(r.calls)).toEqual({
      apiVersion: 'example.com/v1',
      kind: 'Freeze',
      metadata: { generateName: 'freeze-20250601-' },
      spec: { states: ['prod'], start: '2025-06-01T12:00:00Z', end: '2025-06-01T14:00:00Z', reason: 'incident 4711' },
    });
    await expect(r.out).toMatchFileSnapshot('./testdata/freeze-for.golden.txt');
  });

  it('-A --until: cluster-wide, in custom-system, every state, the end in UTC', async () => {
    const r = await freeze(['-A', '--until', '2025-06-04T09:00:00+02:00', '--reason', 'holidays', '--name', 'holidays']);
    expect(r.code).toBe(0);
    expect(r.calls.map((c) => `${c.method} ${c.path}`)).toEqual([SYSTEM]);
    expect(sent(r.calls).metadata).toEqual({ name: 'holidays' });
    expect(sent(r.calls).spec).toEqual({ start: '2025-06-01T12:00:00Z', end: '2025-06-04T07:00:00Z', reason: 'holidays' });
    await expect(r.out).toMatchFileSnapshot('./testdata/freeze-until.golden.txt');
  });

  it('--schedule with -l: a recurring freeze of the selected objects, and its next window', async () => {
    const r = await freeze(['-n', 'shop', '--states', 'staging,prod', '-l', 'team=payments,tier!=batch', '--schedule', '0 17 * * fri', '--duration', '64h', '--time-zone', 'Europe/Berlin', '--reason', 'no weekend deploys']);
    expect(r.code).toBe(0);
    expect(sent(r.calls).spec).toEqual({
      states: ['staging', 'prod'],
      selector: { matchLabels: { team: 'payments' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['batch'] }] },
      schedule: '0 17 * * fri',
      duration: '64h',
      timeZone: 'Europe/Berlin',
      reason: 'no weekend deploys',
    });
    await expect(r.out).toMatchFileSnapshot('./testdata/freeze-schedule.golden.txt');
  });

  it('escapes what the server names', async () => {
    const r = await freeze(['-n', 'shop', '--for', '1h', '--reason', 'r'], { [SHOP]: (c: FakeCall) => ({ ...created(c), metadata: { name: 'evil\x1b[2J', namespace: 'shop' } }) });
    expect(r.out.split('\n')[0]).toBe('freeze.example.com/evil\\x1b[2J created');
  });
});

describe('describeFreeze', () => {
  it.each([
    { name: 'a schedule active now', spec: { schedule: '0 11 * * *', duration: '2h', reason: 'r' }, ns: 'shop', want: 'Moves into every state in namespace shop are frozen for 2h each time "0 11 * * *" fires in UTC; frozen now, until 2025-06-01T13:00:00Z (60m from now).' },
    { name: 'a schedule, next window', spec: { schedule: '0 17 * * fri', duration: '2h', reason: 'r' }, ns: 'shop', want: 'Moves into every state in namespace shop are frozen for 2h each time "0 17 * * fri" fires in UTC; next from 2025-06-06T17:00:00Z (in 5d5h) until 2025-06-06T19:00:00Z.' },
    { name: 'a schedule that never lets go', spec: { states: ['prod'], schedule: '0 0 * * *', duration: '25h', reason: 'r' }, ns: 'custom-system', want: 'Moves into prod in every namespace are frozen for 25h each time "0 0 * * *" fires in UTC; frozen now, with no end within a year.' },
    { name: 'a window that has not started', spec: { start: '2025-06-02T00:00:00Z', end: '2025-06-03T00:00:00Z', reason: 'r' }, ns: 'shop', want: 'Moves into every state in namespace shop are frozen from 2025-06-02T00:00:00Z until 2025-06-03T00:00:00Z (36h from now).' },
  ])('$name', ({ spec, ns, want }) => {
    expect(describeFreeze(spec, ns, undefined, NOW)).toBe(want);
  });
});

describe('selectorSpec: kubectl label selectors as metav1.LabelSelector', () => {
  it.each([
    { name: 'equality', s: 'team=payments', want: { matchLabels: { team: 'payments' } } },
    { name: 'double equals', s: 'team==payments', want: { matchLabels: { team: 'payments' } } },
    { name: 'inequality holds for a missing label too (NotIn)', s: 'tier!=batch', want: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['batch'] }] } },
    { name: 'in', s: 'env in (prod,staging)', want: { matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'staging'] }] } },
    { name: 'notin', s: 'env notin (dev)', want: { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }] } },
    { name: 'exists', s: 'canary', want: { matchExpressions: [{ key: 'canary', operator: 'Exists' }] } },
    { name: 'does not exist', s: '!canary', want: { matchExpressions: [{ key: 'canary', operator: 'DoesNotExist' }] } },
    { name: 'the same key twice: the second equality as In', s: 'a=b,a=c', want: { matchLabels: { a: 'b' }, matchExpressions: [{ key: 'a', operator: 'In', values: ['c'] }] } },
    { name: 'a prefixed key', s: 'example.com/team=payments', want: { matchLabels: { 'example.com/team': 'payments' } } },
    { name: 'empty selects everything', s: '', want: {} },
  ])('$name: $s', ({ s, want }) => {
    expect(selectorSpec(s)).toEqual(want);
  });
});

describe('freeze: refused before anything is sent', () => {
  it.each([
    { name: 'no reason', args: ['--for', '1h'], err: 'error: --reason is required: say why nothing may move (everyone the freeze stops reads it)' },
    { name: 'a blank reason', args: ['--for', '1h', '--reason', '  '], err: '--reason is required' },
    { name: 'a reason with a line break', args: ['--for', '1h', '--reason', 'a\nb'], err: '--reason must be printable text' },
    { name: 'a reason that is too long', args: ['--for', '1h', '--reason', 'x'.repeat(1025)], err: '--reason is longer than 1024 characters' },
    { name: 'no time', args: ['--reason', 'r'], err: 'say when: --until TIME, --for DURATION, or --schedule CRON with --duration' },
    { name: 'two times', args: ['--for', '1h', '--until', '2025-06-02T00:00:00Z', '--reason', 'r'], err: '--until and --for exclude each other: a freeze has one window or one schedule' },
    { name: '--duration without --schedule', args: ['--for', '1h', '--duration', '2h', '--reason', 'r'], err: '--duration goes with --schedule; for one window from now use --for' },
    { name: '--time-zone without --schedule', args: ['--until', '2025-06-02T00:00:00Z', '--time-zone', 'Europe/Berlin', '--reason', 'r'], err: '--time-zone goes with --schedule' },
    { name: '--schedule without --duration', args: ['--schedule', '0 17 * * fri', '--reason', 'r'], err: '--schedule needs --duration: how long each window lasts (e.g. 2h)' },
    { name: 'a bad cron field', args: ['--schedule', '0 25 * * *', '--duration', '1h', '--reason', 'r'], err: '--schedule: the hour field "25": 25 is out of range 0-23' },
    { name: 'four cron fields', args: ['--schedule', '0 17 * *', '--duration', '1h', '--reason', 'r'], err: 'must have 5 fields' },
    { name: 'a schedule that never fires', args: ['--schedule', '0 0 30 2 *', '--duration', '1h', '--reason', 'r'], err: '--schedule "0 0 30 2 *": the schedule does not fire in the next 8 years' },
    { name: 'a bad duration', args: ['--schedule', '0 17 * * fri', '--duration', '2 days', '--reason', 'r'], err: '--duration "2 days" must be a duration such as 2h, 90m or 1h30m' },
    { name: 'an unknown time zone', args: ['--schedule', '0 17 * * fri', '--duration', '1h', '--time-zone', 'Europe/Berln', '--reason', 'r'], err: '--time-zone: unknown time zone "Europe/Berln": use an IANA name such as Europe/Berlin, America/New_York or UTC' },
    { name: '--until without an offset', args: ['--until', '2025-06-02T09:00:00', '--reason', 'r'], err: '--until "2025-06-02T09:00:00" is not a time with its offset (RFC 3339): write it as 2026-01-02T09:00:00+01:00 or 2026-01-02T08:00:00Z' },
    { name: '--until as a time of day', args: ['--until', '17:00', '--reason', 'r'], err: 'is not a time with its offset (RFC 3339)' },
    { name: '--until in the past', args: ['--until', '2025-06-01T11:00:00Z', '--reason', 'r'], err: '--until 2025-06-01T11:00:00Z is not in the future (it is 2025-06-01T12:00:00Z now)' },
    { name: 'a bad --for', args: ['--for', '1d', '--reason', 'r'], err: '--for "1d" is not a duration such as 2h, 90m or 1h30m' },
    { name: 'a bad state name', args: ['--states', 'Prod', '--for', '1h', '--reason', 'r'], err: '--states: "Prod" is not a state name' },
    { name: 'a state twice', args: ['--states', 'prod,prod', '--for', '1h', '--reason', 'r'], err: '--states names "prod" twice' },
    { name: 'a selector a Freeze cannot hold', args: ['-l', 'replicas>3', '--for', '1h', '--reason', 'r'], err: '-l: "replicas>3" cannot be part of a Freeze\'s selector: a label selector there has =, !=, in, notin, exists and ! only' },
    { name: 'a selector that does not parse', args: ['-l', 'team in payments', '--for', '1h', '--reason', 'r'], err: "-l: unable to parse requirement: found 'payments' expected: '('" },
    { name: '-A with -n', args: ['-A', '-n', 'shop', '--for', '1h', '--reason', 'r'], err: '-A freezes every namespace (the Freeze goes in custom-system): leave out -n' },
  ])('$name', async ({ args, err }) => {
    const r = await freeze(args);
    expect(r.code).toBe(1);
    expect(r.err).toContain(err);
    expect(r.err.split('\n')).toHaveLength(2);
    expect(r.connects).toBe(0);
  });
});

describe('freeze: what the server refuses', () => {
  it('a user who may not freeze: Forbidden, as kubectl says it', async () => {
    const forbidden = apiError(403, 'Forbidden', 'freezes.example.com is forbidden: User "bob" cannot create resource "freezes" in API group "example.com" in the namespace "shop"', '/apis/example.com/v1/namespaces/shop/freezes');
    const r = await freeze(['-n', 'shop', '--for', '1h', '--reason', 'r'], { [SHOP]: () => { throw forbidden; } });
    expect(r.code).toBe(1);
    expect(r.err).toBe('Error from server (Forbidden): freezes.example.com is forbidden: User "bob" cannot create resource "freezes" in API group "example.com" in the namespace "shop"\n');
  });

  it("the CRD's rules, cause by cause", async () => {
    const invalid = apiError(422, 'Invalid', 'Freeze.example.com "x" is invalid: spec.timeZone: Invalid value: "europe/berlin": unknown time zone', '/x', {
      name: 'freeze-20250601-', group: 'example.com', kind: 'Freeze',
      causes: [{ field: 'spec.timeZone', reason: 'FieldValueInvalid', message: 'Invalid value: "europe/berlin": unknown time zone "europe/berlin": use an IANA time zone name such as Europe/Berlin, America/New_York or UTC (names are case-sensitive)' }],
    });
    const r = await freeze(['-n', 'shop', '--schedule', '@daily', '--duration', '1h', '--time-zone', 'europe/berlin', '--reason', 'r'], { [SHOP]: () => { throw invalid; } });
    expect(r.code).toBe(1);
    expect(r.err).toBe('The Freeze "freeze-20250601-" is invalid: spec.timeZone: Invalid value: "europe/berlin": unknown time zone "europe/berlin": use an IANA time zone name such as Europe/Berlin, America/New_York or UTC (names are case-sensitive)\n');
  });

  it('a cluster without the CRD: says what to install', async () => {
    const r = await freeze(['-n', 'shop', '--for', '1h', '--reason', 'r'], { [SHOP]: () => { throw apiError(404, 'NotFound', 'the server could not find the requested resource', '/apis/example.com/v1/namespaces/shop/freezes'); } });
    expect(r.err).toBe('error: the freezes.example.com CRD is not installed in this cluster: install kubectl-custom (kubectl apply -k manifests/base) or pick another --context\n');
  });
});
