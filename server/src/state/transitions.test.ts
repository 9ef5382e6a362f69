import { describe, expect, it } from 'vitest';
import type { HistoryEntry, Spec, StoredStatus } from '../../../api/src/types.ts';
import { nextStateOf, positionOf, secondsInState, soakRemainingSeconds, type Position, type StoredLike } from './position.ts';
import type { Refusal } from './refusal.ts';
import { decideTransition, gateCauses, gatesOfState, isRefusal, overridden, type Transition, type TransitionRequest } from './transitions.ts';

const NOW = new Date('2025-06-01T12:00:00Z');
const CREATED = '2025-06-01T10:00:00Z';

/** An ISO timestamp `s` seconds before NOW. */
const ago = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString();

const SPEC: Spec = { name: 'Checkout', states: ['dev', 'staging', 'prod'] };

function obj(spec: Spec, status?: StoredStatus): StoredLike {
  return { spec, ...(status ? { status } : {}), metadata: { creationTimestamp: CREATED } };
}

describe('positionOf', () => {
  it.each<{ name: string; status: StoredStatus | undefined; created?: string; want: Position }>([
    { name: 'never moved: first state since creation', status: undefined, created: CREATED, want: { state: 'dev', index: 0, since: CREATED } },
    { name: 'never moved, no creation time', status: undefined, want: { state: 'dev', index: 0 } },
    { name: 'empty status: first state since creation', status: {}, created: CREATED, want: { state: 'dev', index: 0, since: CREATED } },
    { name: 'stateSince without state wins over creation', status: { stateSince: ago(5) }, created: CREATED, want: { state: 'dev', index: 0, since: ago(5) } },
    { name: 'moved: state and stateSince', status: { state: 'staging', stateSince: ago(60) }, created: CREATED, want: { state: 'staging', index: 1, since: ago(60) } },
    { name: 'moved without stateSince: creation is not used', status: { state: 'prod' }, created: CREATED, want: { state: 'prod', index: 2 } },
    { name: 'state no longer listed', status: { state: 'qa', stateSince: ago(1) }, created: CREATED, want: { state: 'qa', index: -1, since: ago(1) } },
    { name: 'empty state reads as the first state', status: { state: '' }, created: CREATED, want: { state: 'dev', index: 0, since: CREATED } },
  ])('$name', ({ status, created, want }) => {
    expect(positionOf(SPEC, status, created)).toEqual(want);
  });

  it('is empty with index -1 for a spec without states', () => {
    expect(positionOf({ name: 'x', states: [] }, undefined)).toEqual({ state: '', index: -1 });
  });
});

describe('nextStateOf', () => {
  it.each<{ name: string; pos: Position; want: string | undefined }>([
    { name: 'first state', pos: { state: 'dev', index: 0 }, want: 'staging' },
    { name: 'middle state', pos: { state: 'staging', index: 1 }, want: 'prod' },
    { name: 'last state', pos: { state: 'prod', index: 2 }, want: undefined },
    { name: 'off the path', pos: { state: 'qa', index: -1 }, want: undefined },
  ])('$name', ({ pos, want }) => {
    expect(nextStateOf(SPEC, pos)).toBe(want);
  });
});

describe('secondsInState', () => {
  it.each<{ name: string; since: string | undefined; want: number | undefined }>([
    { name: 'no since', since: undefined, want: undefined },
    { name: 'unparseable since', since: 'yesterday-ish', want: undefined },
    { name: 'whole seconds', since: ago(90), want: 90 },
    { name: 'fractions are floored', since: new Date(NOW.getTime() - 90_999).toISOString(), want: 90 },
    { name: 'exactly now', since: NOW.toISOString(), want: 0 },
    { name: 'in the future (clock skew) clamps to 0', since: ago(-30), want: 0 },
  ])('$name', ({ since, want }) => {
    const pos: Position = { state: 'dev', index: 0, ...(since !== undefined ? { since } : {}) };
    expect(secondsInState(pos, NOW)).toBe(want);
  });
});

describe('soakRemainingSeconds', () => {
  const spec: Spec = { ...SPEC, minSoakSeconds: { dev: 600, staging: 0, prod: -5 } };
  it.each<{ name: string; pos: Position; want: number }>([
    { name: 'no soak for this state', pos: { state: 'qa', index: -1, since: ago(1) }, want: 0 },
    { name: 'zero soak', pos: { state: 'staging', index: 1, since: ago(1) }, want: 0 },
    { name: 'negative soak reads as none', pos: { state: 'prod', index: 2, since: ago(1) }, want: 0 },
    { name: 'partly served', pos: { state: 'dev', index: 0, since: ago(100) }, want: 500 },
    { name: 'exactly served', pos: { state: 'dev', index: 0, since: ago(600) }, want: 0 },
    { name: 'over-served', pos: { state: 'dev', index: 0, since: ago(6000) }, want: 0 },
    { name: 'unknown since: the whole soak', pos: { state: 'dev', index: 0 }, want: 600 },
  ])('$name', ({ pos, want }) => {
    expect(soakRemainingSeconds(spec, pos, NOW)).toBe(want);
  });

  it('is 0 when the spec has no minSoakSeconds at all', () => {
    expect(soakRemainingSeconds(SPEC, { state: 'dev', index: 0, since: NOW.toISOString() }, NOW)).toBe(0);
  });
});

const fwd = (from: string, to: string, extra: Partial<Transition> = {}): Transition => ({ from, to, direction: 'forward', protectedTarget: false, skipped: [], ...extra });

describe('decideTransition: moves', () => {
  const spec: Spec = { ...SPEC, protectedStates: ['prod'], minSoakSeconds: { dev: 60, staging: 3600 } };
  it.each<{ name: string; status?: StoredStatus; req: TransitionRequest; want: Transition }>([
    { name: 'promote a never-moved object once its soak (from creation) is served', req: { action: 'promote' }, want: fwd('dev', 'staging') },
    { name: 'promote with a matching from', status: { state: 'dev', stateSince: ago(61) }, req: { action: 'promote', from: 'dev' }, want: fwd('dev', 'staging') },
    { name: 'promote into a protected state', status: { state: 'staging', stateSince: ago(3600) }, req: { action: 'promote', reason: 'release 1.2' }, want: fwd('staging', 'prod', { protectedTarget: true }) },
    { name: 'set-state backwards is a rollback: no soak, no gate', status: { state: 'staging', stateSince: ago(1) }, req: { action: 'set-state', state: 'dev' }, want: { from: 'staging', to: 'dev', direction: 'backward', protectedTarget: false, skipped: [] } },
    {
      name: 'set-state back into a protected state is a rollback that keeps its protection',
      status: { state: 'retired', stateSince: ago(1) },
      req: { action: 'set-state', state: 'prod' },
      want: { from: 'retired', to: 'prod', direction: 'backward', protectedTarget: true, skipped: [] },
    },
    {
      name: 'set-state forward out of a soaking state carries the soak',
      status: { state: 'dev', stateSince: ago(1) },
      req: { action: 'set-state', state: 'staging' },
      want: fwd('dev', 'staging', { soak: { field: 'status.stateSince', reason: 'FieldValueForbidden', message: 'Forbidden: "dev" needs 1m of soak time (spec.minSoakSeconds) before promotion; 59s left, try again after 2025-06-01T12:00:59.000Z' } }),
    },
    {
      name: 'set-state jumping over a soaking state names it as skipped',
      status: { state: 'dev', stateSince: ago(61) },
      req: { action: 'set-state', state: 'prod', reason: 'hotfix' },
      want: fwd('dev', 'prod', { protectedTarget: true, skipped: [{ state: 'staging', gates: ['soak'] }] }),
    },
    { name: 'set-state out of an invalid state is a forward repair', status: { state: 'qa', stateSince: ago(1) }, req: { action: 'set-state', state: 'dev', from: 'qa' }, want: fwd('qa', 'dev') },
  ])('$name', ({ status, req, want }) => {
    const got = decideTransition(obj({ ...spec, states: [...spec.states, 'retired'] }, status), req, NOW);
    expect(isRefusal(got)).toBe(false);
    expect(got).toEqual(want);
  });
});

describe('decideTransition: skipped states', () => {
  const spec: Spec = { name: 'x', states: ['a', 'b', 'c', 'd', 'e'], protectedStates: ['c'], requiredApprovals: { d: 2 } };
  it.each<{ name: string; spec: Spec; to: string; want: Transition['skipped'] }>([
    { name: 'a jump over gate-free states skips nothing gated', spec: { name: 'x', states: ['a', 'b', 'c', 'd'] }, to: 'd', want: [] },
    { name: 'over a protected state', spec, to: 'd', want: [{ state: 'c', gates: ['protected'] }] },
    { name: 'over protected and approvals', spec, to: 'e', want: [{ state: 'c', gates: ['protected'] }, { state: 'd', gates: ['approvals'] }] },
    { name: 'over a state with its own soak', spec: { ...spec, protectedStates: [], requiredApprovals: {}, minSoakSeconds: { b: 10 } }, to: 'c', want: [{ state: 'b', gates: ['soak'] }] },
    { name: 'into the gated state itself is not a skip', spec, to: 'c', want: [] },
  ])('$name', ({ spec: s, to, want }) => {
    const got = decideTransition(obj(s, { state: 'a', stateSince: ago(1) }), { action: 'set-state', state: to, reason: 'r' }, NOW) as Transition;
    expect(got.skipped).toEqual(want);
  });

  it('gatesOfState lists protection, approvals and soak', () => {
    expect(gatesOfState({ name: 'x', states: ['a'], protectedStates: ['a'], requiredApprovals: { a: 1 }, minSoakSeconds: { a: 5 } }, 'a')).toEqual(['protected', 'approvals', 'soak']);
    expect(gatesOfState({ name: 'x', states: ['a'], minSoakSeconds: { a: 0 } }, 'a')).toEqual([]);
  });
});

describe('gateCauses', () => {
  const soak = { field: 'status.stateSince', reason: 'FieldValueForbidden' as const, message: 'Forbidden: soak' };
  it.each<{ name: string; t: Transition; req: TransitionRequest; want: string[] }>([
    { name: 'nothing in the way', t: fwd('a', 'b'), req: { action: 'promote' }, want: [] },
    { name: 'soak', t: fwd('a', 'b', { soak }), req: { action: 'promote' }, want: ['status.stateSince'] },
    { name: 'protected target without a reason', t: fwd('a', 'b', { protectedTarget: true }), req: { action: 'promote' }, want: ['reason'] },
    { name: 'protected target with a whitespace reason', t: fwd('a', 'b', { protectedTarget: true }), req: { action: 'promote', reason: ' \t ' }, want: ['reason'] },
    { name: 'protected target with a reason', t: fwd('a', 'b', { protectedTarget: true }), req: { action: 'promote', reason: 'go' }, want: [] },
    { name: 'every gate at once', t: fwd('a', 'c', { soak, protectedTarget: true, skipped: [{ state: 'b', gates: ['protected'] }] }), req: { action: 'set-state', state: 'c' }, want: ['status.stateSince', 'state', 'reason'] },
    { name: 'an override passes every gate', t: fwd('a', 'c', { soak, protectedTarget: true, skipped: [{ state: 'b', gates: ['soak'] }] }), req: { action: 'set-state', state: 'c', override: true, reason: 'incident 42' }, want: [] },
    { name: 'an override needs a reason', t: fwd('a', 'b', { soak }), req: { action: 'promote', override: true }, want: ['reason'] },
  ])('$name', ({ t, req, want }) => {
    expect(gateCauses(t, req).map((c) => c.field)).toEqual(want);
  });

  it('names each skipped state and its gates', () => {
    const [c] = gateCauses(fwd('a', 'd', { skipped: [{ state: 'b', gates: ['soak'] }, { state: 'c', gates: ['protected', 'approvals'] }] }), { action: 'set-state', state: 'd' });
    expect(c?.message).toBe('Forbidden: moving to "d" skips "b" (soak), "c" (protected, approvals); a jump may skip only states without gates of their own: move through them, or break glass with --override');
  });
});

describe('overridden', () => {
  const soak = { field: 'status.stateSince', reason: 'FieldValueForbidden' as const, message: 'Forbidden: soak' };
  it.each([
    { name: 'nothing to pass', t: fwd('a', 'b'), enter: true, want: [] },
    { name: 'soak', t: fwd('a', 'b', { soak }), enter: true, want: ['soak'] },
    { name: 'protection, without enter', t: fwd('a', 'b', { protectedTarget: true }), enter: false, want: ['protection'] },
    { name: 'protection, holding enter: not an override of it', t: fwd('a', 'b', { protectedTarget: true }), enter: true, want: [] },
    { name: 'everything', t: fwd('a', 'c', { soak, protectedTarget: true, skipped: [{ state: 'b', gates: ['soak'] }] }), enter: false, want: ['soak', 'protection', 'skipped-states'] },
  ])('$name', ({ t, enter, want }) => {
    expect(overridden(t, enter)).toEqual(want);
  });
});

describe('decideTransition: refused', () => {
  const history: HistoryEntry[] = [
    { action: 'promote', from: 'dev', to: 'staging', user: 'alice', time: ago(500) },
    { action: 'set-state', from: 'staging', to: 'dev', user: 'bob', time: ago(100), reason: 'rollback' },
  ];

  it.each<{ name: string; spec?: Spec; status?: StoredStatus; req: TransitionRequest; want: Refusal }>([
    { name: 'from differs, no history', req: { action: 'promote', from: 'staging' }, want: { kind: 'conflict', current: 'dev' } },
    {
      name: 'from differs: lastChange is the latest history entry',
      status: { state: 'dev', stateSince: ago(100), history },
      req: { action: 'set-state', state: 'prod', from: 'staging' },
      want: { kind: 'conflict', current: 'dev', lastChange: { user: 'bob', time: ago(100) } },
    },
    { name: 'from differs, empty history', status: { state: 'dev', history: [] }, req: { action: 'promote', from: '' }, want: { kind: 'conflict', current: 'dev' } },
    {
      name: 'from is checked before anything else (invalid set-state target)',
      status: { state: 'staging', stateSince: ago(1), history },
      req: { action: 'set-state', state: 'nowhere', from: 'dev' },
      want: { kind: 'conflict', current: 'staging', lastChange: { user: 'bob', time: ago(100) } },
    },
    {
      name: 'promote at the last state',
      status: { state: 'prod', stateSince: ago(1) },
      req: { action: 'promote' },
      want: { kind: 'invalid', causes: [{ field: 'status.state', reason: 'FieldValueInvalid', message: 'Invalid value: "prod": the last state in spec.states; there is nothing to promote to (set-state can move it back)' }] },
    },
    {
      name: 'promote from a state no longer listed',
      status: { state: 'qa', stateSince: ago(1) },
      req: { action: 'promote' },
      want: {
        kind: 'invalid',
        causes: [{ field: 'status.state', reason: 'FieldValueInvalid', message: 'Invalid value: "qa": the current state is no longer listed in spec.states, so there is no next state; use set-state to move to one of "dev", "staging", "prod"' }],
      },
    },
    {
      name: 'set-state to an unknown state',
      req: { action: 'set-state', state: 'qa' },
      want: { kind: 'invalid', causes: [{ field: 'state', reason: 'FieldValueNotSupported', message: 'Unsupported value: "qa": supported values: "dev", "staging", "prod"' }] },
    },
    {
      name: 'set-state without a target',
      req: { action: 'set-state' },
      want: { kind: 'invalid', causes: [{ field: 'state', reason: 'FieldValueNotSupported', message: 'Unsupported value: "": supported values: "dev", "staging", "prod"' }] },
    },
    {
      name: 'set-state to the current state',
      status: { state: 'staging', stateSince: ago(1) },
      req: { action: 'set-state', state: 'staging' },
      want: { kind: 'invalid', causes: [{ field: 'state', reason: 'FieldValueInvalid', message: 'Invalid value: "staging": the object is already in this state' }] },
    },
    {
      name: 'set-state to the first state of a never-moved object',
      req: { action: 'set-state', state: 'dev' },
      want: { kind: 'invalid', causes: [{ field: 'state', reason: 'FieldValueInvalid', message: 'Invalid value: "dev": the object is already in this state' }] },
    },
  ])('$name', ({ spec, status, req, want }) => {
    const got = decideTransition(obj(spec ?? SPEC, status), req, NOW);
    expect(isRefusal(got)).toBe(true);
    expect(got).toEqual(want);
  });
});

describe('decideTransition: protectedTarget', () => {
  const spec: Spec = { ...SPEC, protectedStates: ['staging', 'prod'] };
  it.each<{ name: string; spec: Spec; state: string; want: boolean }>([
    { name: 'target listed as protected', spec, state: 'prod', want: true },
    { name: 'target not listed', spec, state: 'dev', want: false },
    { name: 'no protectedStates', spec: SPEC, state: 'prod', want: false },
    { name: 'protected source but unprotected target', spec: { ...SPEC, protectedStates: ['staging'] }, state: 'prod', want: false },
    { name: 'a rollback into a protected state is not guarded', spec, state: 'dev', want: false },
  ])('$name', ({ spec: s, state, want }) => {
    const got = decideTransition(obj(s, { state: s === spec && state === 'dev' ? 'prod' : 'staging', stateSince: ago(1) }), { action: 'set-state', state, reason: 'why' }, NOW);
    expect((got as Transition).protectedTarget).toBe(want);
  });
});
