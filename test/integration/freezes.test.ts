// Change freezes against the real control plane and backend: the CRD
// refuses bad Freezes with messages that say what is wrong; `kubectl custom
// freeze` and `unfreeze` through kubectl as a user holding the
// kubectl-custom-admin role, refused for a viewer; the backend writes each
// Freeze's status (active now, the current or next window, and what it
// cannot evaluate). Which freezes hold which move (FreezeSource.activeFor)
// is unit-tested in server/src/store/freeze-cache.test.ts.
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Freeze, FreezeStatus } from '../../api/src/types.ts';
import { backend, direct } from './backend-client.ts';
import { api, bindClusterRole, eventually, kubectl, STORAGE, useNamespace } from './harness.ts';
import { kubectlCustom } from './plugin-cli.ts';

const ns = useNamespace(import.meta.filename);
/** A state no other test's objects have: a cluster-wide Freeze of it holds nothing of theirs. */
const OWN_STATE = `frz-${randomBytes(3).toString('hex')}`;
const freezes = (namespace: string) => `${STORAGE}/namespaces/${namespace}/freezes`;
const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

function body(name: string, spec: Record<string, unknown>) {
  return { apiVersion: 'example.com/v1', kind: 'Freeze', metadata: { name }, spec };
}

const bind = (namespace: string, user: string, clusterRole: string) => bindClusterRole(namespace, user, clusterRole, `${user}-${clusterRole}-${OWN_STATE}`);

/** The Freeze's status once the backend has written it for its current generation. */
async function statusOf(namespace: string, name: string): Promise<FreezeStatus> {
  let status: FreezeStatus | undefined;
  await eventually(`the backend writes the status of ${namespace}/${name}`, async () => {
    const r = await api<Freeze>('admin', 'GET', `${freezes(namespace)}/${name}`);
    status = r.body.status;
    return r.status === 200 && status?.observedGeneration === r.body.metadata.generation;
  });
  return status!;
}

beforeAll(async () => {
  // alice freezes (this namespace, and every namespace through custom-system); bob only reads.
  await bind(ns(), 'alice', 'kubectl-custom-admin');
  await bind('custom-system', 'alice', 'kubectl-custom-admin');
  await bind(ns(), 'bob', 'kubectl-custom-viewer');
});

describe('the Freeze CRD refuses bad Freezes, saying what is wrong', () => {
  const window = { start: '2027-01-01T00:00:00Z', end: '2027-01-02T00:00:00Z' };
  it.each([
    { name: 'no reason', spec: { ...window }, message: 'spec.reason: Required value' },
    { name: 'a blank reason', spec: { ...window, reason: ' ' }, message: 'spec.reason: Required value: the reason must not be blank' },
    { name: 'a reason with a control character', spec: { ...window, reason: 'a\u001b[2Jb' }, message: 'the reason must be printable text, without control characters' },
    { name: 'end before start', spec: { reason: 'r', start: '2027-01-02T00:00:00Z', end: '2027-01-01T00:00:00Z' }, message: 'spec.end: Invalid value: end must be after start' },
    { name: 'both a window and a schedule', spec: { reason: 'r', ...window, schedule: '0 17 * * fri', duration: '2h' }, message: 'a freeze has either a window (start and end) or a schedule (schedule, duration and timeZone), not both' },
    { name: 'neither a window nor a schedule', spec: { reason: 'r' }, message: 'a freeze needs a window (start and end) or a schedule (schedule and duration)' },
    { name: 'a start without an end', spec: { reason: 'r', start: '2027-01-01T00:00:00Z' }, message: 'spec.end: Required value: a window needs both start and end' },
    { name: 'a schedule without a duration', spec: { reason: 'r', schedule: '0 17 * * fri' }, message: 'spec.duration: Required value: a schedule needs a duration' },
    { name: 'a cron of four fields', spec: { reason: 'r', schedule: '0 17 * *', duration: '2h' }, message: 'schedule "0 17 * *" must have 5 fields separated by spaces (minute hour day-of-month month day-of-week)' },
    { name: 'a minute out of range', spec: { reason: 'r', schedule: '75 17 * * fri', duration: '2h' }, message: 'the minute field "75" of schedule "75 17 * * fri" must be *, 0-59' },
    { name: 'an unknown weekday', spec: { reason: 'r', schedule: '0 17 * * funday', duration: '2h' }, message: 'the day-of-week field "funday" of schedule "0 17 * * funday" must be *, ?, 0-7 (0 and 7 are Sunday) or sun-sat' },
    { name: 'a duration that is no duration', spec: { reason: 'r', schedule: '0 17 * * fri', duration: '2 hours' }, message: 'duration "2 hours" must be a duration such as 2h, 90m or 1h30m' },
    { name: 'an unknown time zone', spec: { reason: 'r', schedule: '0 17 * * fri', duration: '2h', timeZone: 'Europe/Berln' }, message: 'unknown time zone "Europe/Berln": use an IANA time zone name such as Europe/Berlin, America/New_York or UTC' },
    { name: 'a time zone in the wrong case', spec: { reason: 'r', schedule: '0 17 * * fri', duration: '2h', timeZone: 'europe/berlin' }, message: 'unknown time zone "europe/berlin"' },
    { name: 'a time zone for a window', spec: { reason: 'r', ...window, timeZone: 'Europe/Berlin' }, message: 'timeZone applies to a schedule' },
    { name: 'a selector expression without values', spec: { reason: 'r', ...window, selector: { matchExpressions: [{ key: 'team', operator: 'In' }] } }, message: 'the operator In needs at least one value' },
  ])('$name', async ({ spec, message }) => {
    const r = await api<{ message: string }>('admin', 'POST', freezes(ns()), body('bad', spec));
    expect(r.status, r.text).toBe(422);
    expect(r.body.message).toContain(message);
  });

  it('as kubectl shows it', async () => {
    const r = await kubectl('admin', ['create', '-n', ns(), '-f', '-'], { input: JSON.stringify(body('bad', { reason: 'r', start: '2027-01-02T00:00:00Z', end: '2027-01-01T00:00:00Z' })) });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('The Freeze "bad" is invalid: spec.end: Invalid value: end must be after start\n');
  });

  it('takes good ones: a window, a schedule with a zone, a selector', async () => {
    const r = await api('admin', 'POST', freezes(ns()), body('good', { reason: 'release week', states: ['prod'], selector: { matchLabels: { team: 'payments' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['batch'] }] }, schedule: '*/15 9-17 * * MON-FRI', duration: '1h30m', timeZone: 'America/New_York' }));
    expect(r.status, r.text).toBe(201);
  });
});

describe('the backend writes each Freeze\'s status', () => {
  it('a window around now: active, with it as the current window', async () => {
    const now = Date.now();
    const spec = { reason: 'incident 4711', start: iso(now - 3_600_000), end: iso(now + 3_600_000) };
    expect((await api('admin', 'POST', freezes(ns()), body('now', spec))).status).toBe(201);
    const status = await statusOf(ns(), 'now');
    expect(status).toMatchObject({ active: true, currentWindow: { start: spec.start, end: spec.end }, observedGeneration: 1 });
    expect(status.conditions).toEqual([expect.objectContaining({ type: 'Ready', status: 'True', reason: 'Evaluated', observedGeneration: 1 })]);
  });

  it('a window in the future: inactive, with it as the next window; moved into the past, it has none', async () => {
    const now = Date.now();
    const spec = { reason: 'holidays', start: iso(now + 86_400_000), end: iso(now + 2 * 86_400_000) };
    expect((await api('admin', 'POST', freezes(ns()), body('later', spec))).status).toBe(201);
    expect(await statusOf(ns(), 'later')).toMatchObject({ active: false, nextWindow: { start: spec.start, end: spec.end } });
    const patched = await api('admin', 'PATCH', `${freezes(ns())}/later`, { spec: { start: iso(now - 2 * 86_400_000), end: iso(now - 86_400_000) } }, { 'Content-Type': 'application/merge-patch+json' });
    expect(patched.status, patched.text).toBe(200);
    const status = await statusOf(ns(), 'later');
    expect(status.observedGeneration).toBe(2);
    expect(status.active).toBe(false);
    expect(status.nextWindow).toBeUndefined();
  });

  it('a schedule: its next window, in its time zone', async () => {
    // New Year in Tokyo (UTC+9, no summer time) is 15:00 UTC on 31 December.
    expect((await api('admin', 'POST', freezes(ns()), body('new-year', { reason: 'new year', schedule: '0 0 1 1 *', duration: '1h', timeZone: 'Asia/Tokyo' }))).status).toBe(201);
    const now = new Date();
    const thisYear = Date.UTC(now.getUTCFullYear(), 11, 31, 15);
    const start = now.getTime() < thisYear ? thisYear : Date.UTC(now.getUTCFullYear() + 1, 11, 31, 15);
    const status = await statusOf(ns(), 'new-year');
    // Inside the hour itself the window is current rather than next.
    if (now.getTime() >= thisYear && now.getTime() < thisYear + 3_600_000) expect(status).toMatchObject({ active: true });
    else expect(status).toMatchObject({ active: false, nextWindow: { start: iso(start), end: iso(start + 3_600_000) } });
  });

  it('what the CRD cannot check (a range that runs backwards): Ready False, and the freeze counts as active', async () => {
    expect((await api('admin', 'POST', freezes(ns()), body('backwards', { reason: 'weekend', schedule: '0 17 * * fri-mon', duration: '2h' }))).status).toBe(201);
    const status = await statusOf(ns(), 'backwards');
    expect(status.active).toBe(true);
    expect(status.currentWindow).toBeUndefined();
    expect(status.conditions).toEqual([expect.objectContaining({ type: 'Ready', status: 'False', reason: 'InvalidSchedule', message: expect.stringContaining('the range "fri-mon" runs backwards') })]);
  });

  it('at the end of a window, without any change to the Freeze', async () => {
    const end = Date.now() + 2_000;
    expect((await api('admin', 'POST', freezes(ns()), body('short', { reason: 'a moment', start: iso(Date.now() - 60_000), end: iso(end) }))).status).toBe(201);
    await eventually('the status says the window is over', async () => {
      const r = await api<Freeze>('admin', 'GET', `${freezes(ns())}/short`);
      return r.body.status?.active === false;
    });
  });

  it('readiness waits for the freezes to be listed', async () => {
    const r = await direct({ path: '/readyz?verbose' }, backend().port, backend().caFile);
    expect(r.status).toBe(200);
    expect(r.body).toContain('[+]freezes-sync ok');
  });
});

describe('kubectl custom freeze and unfreeze, through kubectl', () => {
  it('an admin freezes the namespace for a while; a viewer reads it, and kubectl get shows the columns', async () => {
    const r = await kubectlCustom('alice', ['freeze', '-n', ns(), '--states', 'prod', '--for', '2h', '--reason', 'incident 4711', '--name', 'incident']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^freeze\.example\.com\/incident created\nMoves into prod in namespace \S+ are frozen from now until \S+Z \(120m from now\)\.\n$/);
    await statusOf(ns(), 'incident');
    const got = await kubectl('bob', ['get', 'freezes', '-n', ns(), 'incident']);
    expect(got.stderr).toBe('');
    expect(got.stdout).toMatch(/^NAME\s+STATES\s+ACTIVE\s+UNTIL\s+NEXT\s+REASON\s+AGE\nincident\s+\["prod"\]\s+true\s+\S+Z\s+incident 4711\s+\S+\n$/);
  });

  it('a generated name, and a schedule', async () => {
    const r = await kubectlCustom('alice', ['freeze', '-n', ns(), '--schedule', '0 17 * * fri', '--duration', '64h', '--time-zone', 'Europe/Berlin', '-l', 'team=payments', '--reason', 'no weekend deploys']);
    expect(r.code, r.stderr).toBe(0);
    const name = /^freeze\.example\.com\/(freeze-\d{8}-[a-z0-9]{5}) created\n/.exec(r.stdout)?.[1];
    expect(name).toBeDefined();
    const created = await api<Freeze>('admin', 'GET', `${freezes(ns())}/${name}`);
    expect(created.body.spec).toEqual({ schedule: '0 17 * * fri', duration: '64h', timeZone: 'Europe/Berlin', selector: { matchLabels: { team: 'payments' } }, reason: 'no weekend deploys' });
  });

  it('a viewer may not freeze or unfreeze: Forbidden', async () => {
    const frozen = await kubectlCustom('bob', ['freeze', '-n', ns(), '--for', '1h', '--reason', 'mine']);
    expect(frozen.code).toBe(1);
    expect(frozen.stderr).toBe(`Error from server (Forbidden): freezes.example.com is forbidden: User "bob" cannot create resource "freezes" in API group "example.com" in the namespace "${ns()}"\n`);
    const unfrozen = await kubectlCustom('bob', ['unfreeze', 'incident', '-n', ns()]);
    expect(unfrozen.code).toBe(1);
    expect(unfrozen.stderr).toBe(`Error from server (Forbidden): freezes.example.com "incident" is forbidden: User "bob" cannot delete resource "freezes" in API group "example.com" in the namespace "${ns()}"\n`);
  });

  it('an admin unfreezes', async () => {
    const r = await kubectlCustom('alice', ['unfreeze', 'incident', '-n', ns()]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`freeze.example.com "incident" deleted from ${ns()} namespace\n`);
    expect((await api('admin', 'GET', `${freezes(ns())}/incident`)).status).toBe(404);
  });

  it('-A: a cluster-wide freeze in custom-system, unfrozen with -A (and the hint when -A is left out)', async () => {
    const name = `everywhere-${OWN_STATE}`;
    const r = await kubectlCustom('alice', ['freeze', '-A', '--states', OWN_STATE, '--for', '1h', '--reason', 'test freeze', '--name', name]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Moves into ${OWN_STATE} in every namespace are frozen from now until`);
    expect((await api('admin', 'GET', `${freezes('custom-system')}/${name}`)).status).toBe(200);
    const withoutA = await kubectlCustom('alice', ['unfreeze', name, '-n', ns()]);
    expect(withoutA.stderr).toBe(`error: there is no freeze ${name} in namespace ${ns()}, but there is a cluster-wide one: kubectl custom unfreeze ${name} -A\n`);
    const gone = await kubectlCustom('alice', ['unfreeze', name, '-A']);
    expect(gone.stdout).toBe(`freeze.example.com "${name}" deleted from custom-system namespace\n`);
  });
});
