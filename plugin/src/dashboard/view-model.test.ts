import { describe, expect, it } from 'vitest';
import type { CustomResource, CustomResourceState } from '../../../api/src/types.ts';
import { checkRunView, detailView, filterChoices, groupByNamespace, objectView, recordedChecksWords, type FeedObject, type NextGates } from './view-model.ts';

const NOW = Date.parse('2026-11-29T12:00:00Z');

function cr(ns: string, name: string, status: Partial<CustomResource['status']> & { nextGates?: NextGates } = {}, spec: Partial<CustomResource['spec']> = {}, labels?: Record<string, string>): CustomResource {
  return {
    apiVersion: 'custom.example.com/v1',
    kind: 'CustomResource',
    metadata: { name, namespace: ns, resourceVersion: '1', ...(labels ? { labels } : {}) },
    spec: { name: `${name} service`, states: ['dev', 'staging', 'prod'], ...spec },
    status: { state: 'dev', nextState: 'staging', valid: true, soakRemainingSeconds: 0, ...status },
  };
}

const feed = (o: CustomResource, receivedAt = NOW): FeedObject => ({ object: o, receivedAt });

describe('objectView', () => {
  it('draws the path as steps, the current one marked, and how long it has been there', () => {
    const v = objectView(feed(cr('shop', 'checkout', { state: 'staging', nextState: 'prod', stateSince: '2026-11-29T09:00:00Z' }, { protectedStates: ['prod'] })), NOW);
    expect(v.steps).toEqual([
      { state: 'dev', place: 'done', protected: false, next: false },
      { state: 'staging', place: 'current', protected: false, next: false },
      { state: 'prod', place: 'ahead', protected: true, next: true },
    ]);
    expect(v.timeInState).toBe('3h');
    expect(v.key).toBe('shop/checkout');
    expect(v.displayName).toBe('checkout service');
  });

  it('counts time in state from secondsInState when stateSince is absent', () => {
    expect(objectView(feed(cr('a', 'b', { secondsInState: 50 }), NOW - 10_000), NOW).timeInState).toBe('60s');
  });

  it.each([
    { name: 'no gates', status: {}, spec: {}, want: [] },
    { name: 'soak left, counted down since it arrived', status: { soakRemainingSeconds: 3600 }, spec: {}, receivedAt: NOW - 600_000, want: [{ kind: 'soak', text: 'soak 50m left', blocking: true }] },
    { name: 'soak served while shown', status: { soakRemainingSeconds: 60 }, spec: {}, receivedAt: NOW - 61_000, want: [] },
    { name: 'protected next state from the spec', status: {}, spec: { protectedStates: ['staging'] }, want: [{ kind: 'protected', text: 'staging protected', blocking: false }] },
    { name: 'protected next state from the server', status: { nextGates: { protected: true } }, spec: {}, want: [{ kind: 'protected', text: 'staging protected' }] },
    { name: "the server's gates win over the spec", status: { nextGates: {} }, spec: { protectedStates: ['staging'], requiredApprovals: { staging: 2 } }, want: [] },
    { name: 'approvals from the server', status: { nextGates: { approvals: { needed: 2, given: 1 } } }, spec: {}, want: [{ kind: 'approvals', text: 'approvals 1/2', blocking: true }] },
    { name: 'approvals all given', status: { nextGates: { approvals: { needed: 1, given: 1 } } }, spec: {}, want: [{ kind: 'approvals', text: 'approvals 1/1', blocking: false }] },
    {
      name: 'approvals from the spec, counting this move only, each user once',
      status: { approvals: [{ to: 'staging', from: 'dev', user: 'bob', time: '' }, { to: 'staging', from: 'dev', user: 'bob', time: '' }, { to: 'prod', from: 'dev', user: 'carol', time: '' }] },
      spec: { requiredApprovals: { staging: 2 } },
      want: [{ kind: 'approvals', text: 'approvals 1/2' }],
    },
    { name: 'frozen', status: { nextGates: { frozenBy: ['custom-system/holiday'] } }, spec: {}, want: [{ kind: 'frozen', text: 'staging frozen', detail: 'moves into staging are frozen by custom-system/holiday', blocking: true }] },
    { name: 'an invalid state', status: { state: 'qa', valid: false, message: 'state "qa" is not listed' }, spec: {}, want: [{ kind: 'invalid', detail: 'state "qa" is not listed' }] },
  ])('badges: $name', ({ status, spec, receivedAt, want }) => {
    const v = objectView(feed(cr('a', 'b', status, spec), receivedAt ?? NOW), NOW);
    expect(v.badges).toHaveLength(want.length);
    want.forEach((w, i) => expect(v.badges[i]).toMatchObject(w));
  });

  it('no next-move badges at the last state', () => {
    const { nextState: _n, ...last } = cr('a', 'b', { state: 'prod' }, { protectedStates: ['prod'] }).status;
    const v = objectView(feed({ ...cr('a', 'b'), status: last, spec: { name: 'b', states: ['dev', 'prod'], protectedStates: ['prod'] } }), NOW);
    expect(v.badges).toEqual([]);
    expect(v.steps.map((s) => s.place)).toEqual(['done', 'current']);
  });

  it('names the last move, not the last approval', () => {
    const history = [
      { action: 'promote' as const, from: 'dev', to: 'staging', user: 'alice', time: '2026-11-29T10:00:00Z' },
      { action: 'approve' as const, from: 'staging', to: 'prod', user: 'bob', time: '2026-11-29T11:00:00Z' },
    ];
    expect(objectView(feed(cr('a', 'b', { state: 'staging', history })), NOW).lastChange).toEqual({ user: 'alice', action: 'promote', time: '2026-11-29T10:00:00Z' });
  });
});

describe('grouping and filters', () => {
  const views = [cr('web', 'b', { state: 'staging' }), cr('shop', 'z'), cr('shop', 'a', { state: 'prod' }, { states: ['dev', 'prod', 'gone'] })].map((o) => objectView(feed(o), NOW));

  it.each([
    { name: 'everything, by namespace and name', filter: { namespace: '', state: '' }, want: [['shop', ['a', 'z']], ['web', ['b']]] },
    { name: 'one namespace', filter: { namespace: 'web', state: '' }, want: [['web', ['b']]] },
    { name: 'one state', filter: { namespace: '', state: 'dev' }, want: [['shop', ['z']]] },
    { name: 'nothing', filter: { namespace: 'web', state: 'dev' }, want: [] },
  ])('$name', ({ filter, want }) => {
    expect(groupByNamespace(views, filter).map((g) => [g.namespace, g.objects.map((o) => o.name)])).toEqual(want);
  });

  it('offers every namespace and state seen', () => {
    expect(filterChoices(views)).toEqual({ namespaces: ['shop', 'web'], states: ['dev', 'gone', 'prod', 'staging'] });
  });
});

function describeDoc(over: Partial<CustomResourceState> = {}, allowed: Partial<CustomResourceState['allowed']> = {}, blockedBy: string[] = []): CustomResourceState {
  return {
    kind: 'CustomResourceState',
    apiVersion: 'custom.example.com/v1',
    metadata: { name: 'checkout', namespace: 'shop' },
    displayName: 'Checkout',
    state: 'staging',
    stateSince: '2026-11-29T11:00:00Z',
    path: ['dev', 'staging', 'prod'],
    position: 1,
    nextState: 'prod',
    valid: true,
    protectedStates: ['prod'],
    gates: { minSoakSeconds: 0, soakRemainingSeconds: 0, nextStateProtected: true, reasonRequired: true, promoteBlockedBy: blockedBy },
    allowed: { promote: true, promoteVerb: true, setState: true, enterNextState: true, approveNextState: false, overrideNextState: false, ...allowed },
    history: [
      { seq: 11, action: 'promote', from: 'dev', to: 'staging', user: 'alice', time: '2026-11-29T11:00:00Z' },
      { seq: 12, action: 'approve', from: 'staging', to: 'prod', user: 'bob', time: '2026-11-29T11:30:00Z' },
    ],
    checks: [{ gate: 'protection', met: true, message: 'prod is protected', sources: [{ kind: 'spec' }, { kind: 'GatePolicy', namespace: 'custom-system', name: 'prod-gates' }] }],
    approvals: [{ to: 'prod', from: 'staging', user: 'bob', time: '2026-11-29T11:30:00Z' }],
    ...over,
  };
}

describe('detailView', () => {
  it('says what the user may do, the gates with their sources, the newest history first', () => {
    const v = detailView(describeDoc(), NOW);
    expect(v.title).toBe('shop/checkout');
    expect(v.timeInState).toBe('60m');
    expect(v.gates).toEqual([{ gate: 'protection', met: true, text: 'prod is protected', sources: 'spec, GatePolicy custom-system/prod-gates' }]);
    expect(v.approvals).toEqual(['bob → prod']);
    expect(v.may).toEqual([
      { label: 'promote', yes: true },
      { label: 'set-state', yes: true },
      { label: 'approve', yes: false },
      { label: 'override', yes: false },
    ]);
    expect(v.promote).toEqual({ enabled: true, reasonRequired: true, override: false });
    expect(v.setState).toEqual({ enabled: true, targets: ['dev', 'prod'] });
    expect(v.approve).toEqual({ enabled: false, to: 'prod', why: 'no permission to approve moves into prod' });
    expect(v.history.map((e) => e.seq)).toEqual([12, 11]);
    expect(v.earlier).toBe(10);
  });

  it.each([
    { name: 'a viewer: nothing enabled, and why', allowed: { promote: false, promoteVerb: false, setState: false }, blocked: ['permission'], want: { promote: false, setState: false, approve: false, why: 'no permission to promote' } },
    { name: 'soak not served', allowed: { promote: false }, blocked: ['soak'], want: { promote: false, setState: true, approve: false, why: 'soak time not served' } },
    { name: 'approvals missing, but override held: break glass', allowed: { promote: false, overrideNextState: true }, blocked: ['approvals'], want: { promote: true, override: true, setState: true, approve: false } },
    { name: 'an approver', allowed: { promote: false, approveNextState: true }, blocked: ['approvals'], want: { promote: false, setState: true, approve: true } },
    { name: 'a blocker a newer server sends', allowed: { promote: false }, blocked: ['moon-phase'], want: { promote: false, why: 'moon-phase' } },
  ])('buttons: $name', ({ allowed, blocked, want }) => {
    const v = detailView(describeDoc({}, allowed, blocked), NOW);
    expect(v.promote.enabled).toBe(want.promote);
    if ('setState' in want) expect(v.setState.enabled).toBe(want.setState);
    if ('approve' in want) expect(v.approve.enabled).toBe(want.approve);
    if ('override' in want) expect(v.promote.override).toBe(true);
    if ('why' in want) expect(v.promote.why).toBe(want.why);
  });

  it('at the last state there is nothing to approve', () => {
    const { nextState: _n, ...doc } = describeDoc({ state: 'prod', position: 2 }, { promote: false, approveNextState: true }, ['last-state']);
    const v = detailView(doc, NOW);
    expect(v.approve).toEqual({ enabled: false, why: 'there is no next state' });
    expect(v.promote.why).toBe('already at the last state');
  });
});

describe('checks in the detail panel (issue 21)', () => {
  const at = (s: number) => new Date(NOW + s * 1000).toISOString();

  it("a check's gate carries its run: result in words, measured of count, last value and when, next run", () => {
    const v = detailView(describeDoc({
      checks: [
        { gate: 'soak', met: true, message: 'served', sources: [{ kind: 'spec' }] },
        { gate: 'checks', met: false, message: 'error-rate: 1 failed', sources: [{ kind: 'spec' }], check: { name: 'error-rate', provider: 'prometheus', successCondition: 'result[0] < 0.01', phase: 'Running', measured: 2, count: 3, last: { phase: 'Failed', time: at(-240), value: '[0.042]' }, nextMeasurementAt: at(180) } },
      ],
    }, { promote: false }, ['checks']), NOW);
    expect(v.gates[0]).toEqual({ gate: 'soak', met: true, text: 'served', sources: 'spec' });
    expect(v.gates[1]).toEqual({
      gate: 'checks', met: false, text: 'error-rate: 1 failed', sources: 'spec',
      check: { name: 'error-rate', result: 'pending', phase: 'Running', summary: '2 of 3 measured; last value [0.042], 4m ago; next run in 3m', value: '[0.042]' },
    });
    expect(v.promote.why).toBe('checks not passed');
  });

  it.each([
    { name: 'passed, nothing more to run', run: { phase: 'Successful' as const, measured: 1, count: 1, last: { phase: 'Successful' as const, time: at(-600), value: '[]' } }, want: { result: 'pass', summary: '1 of 1 measured; last value [], 10m ago' } },
    { name: 'an error without a value: the message', run: { phase: 'Error' as const, measured: 4, count: 5, last: { phase: 'Error' as const, time: at(-120), message: 'connect ECONNREFUSED 10.0.0.7:9090' } }, want: { result: 'error', summary: '4 of 5 measured; last run 2m ago', message: 'connect ECONNREFUSED 10.0.0.7:9090' } },
    { name: 'failed', run: { phase: 'Failed' as const, measured: 3, count: 3, last: { phase: 'Failed' as const, time: at(-60), value: '[0.2]' } }, want: { result: 'fail', summary: '3 of 3 measured; last value [0.2], 60s ago' } },
    { name: 'inconclusive', run: { phase: 'Inconclusive' as const, measured: 1, count: 1, last: { phase: 'Inconclusive' as const, time: at(-60), value: '{"status":302}' } }, want: { result: 'inconclusive' } },
    { name: 'not measured yet, the first run due', run: { phase: 'Running' as const, measured: 0, count: 3, nextMeasurementAt: at(-5) }, want: { result: 'pending', summary: '0 of 3 measured; next run due now' } },
    { name: 'the next run less than a second away', run: { phase: 'Running' as const, measured: 1, count: 3, nextMeasurementAt: new Date(NOW + 300).toISOString() }, want: { summary: '1 of 3 measured; next run in 1s' } },
    { name: 'a phase a newer server sends', run: { phase: 'Paused' as never, measured: 0, count: 1 }, want: { result: 'Paused' } },
  ])('$name', ({ run, want }) => {
    expect(checkRunView({ name: 'c', provider: 'prometheus', successCondition: 'x', ...run }, NOW)).toMatchObject(want);
  });

  it('a long value is cut in the summary and kept whole beside it (the title)', () => {
    const value = JSON.stringify({ status: 200, body: { items: Array.from({ length: 40 }, (_, i) => i) } });
    const k = checkRunView({ name: 'c', provider: 'http', successCondition: 'x', phase: 'Successful', measured: 1, count: 1, last: { phase: 'Successful', time: at(-1), value } }, NOW);
    expect(k.value).toBe(value);
    expect(k.summary).toBe(`1 of 1 measured; last value ${value.slice(0, 79)}…, 1s ago`);
  });

  it("a move's recorded checks for the history table", () => {
    expect(recordedChecksWords([{ name: 'error-rate', source: 'spec', phase: 'Failed', value: '[0.042]' }, { name: 'health', source: 'spec', phase: 'Error' }])).toBe('checks error-rate fail [0.042], health error');
    expect(recordedChecksWords(undefined)).toBe('');
  });
});
