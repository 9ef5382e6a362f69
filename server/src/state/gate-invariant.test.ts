import { describe, expect, it } from 'vitest';
import type { Spec, StoredStatus } from '../../../api/src/types.ts';
import { gateView, neededToCreate, neededToUpdate, weakenings, type GateView } from './gate-invariant.ts';

const view = (spec: Partial<Spec>, freezes: Record<string, string[]> = {}, serviceAccounts: string[] = []): GateView => gateView({ name: 'x', states: ['dev', 'staging', 'prod'], ...spec }, (s) => freezes[s] ?? [], serviceAccounts);
const gated = { protectedStates: ['prod'], requiredApprovals: { prod: 1 }, minSoakSeconds: { staging: 3600 } };

describe('weakenings', () => {
  it.each<{ name: string; before: GateView; after: GateView; want: Record<string, string[]> }>([
    { name: 'nothing changes', before: view(gated), after: view(gated), want: {} },
    { name: 'adding gates', before: view({}), after: view(gated), want: {} },
    { name: 'unprotecting', before: view(gated), after: view({ ...gated, protectedStates: [] }), want: { prod: ['no longer protected'] } },
    { name: 'lowering a soak', before: view(gated), after: view({ ...gated, minSoakSeconds: { staging: 60 } }), want: { staging: ['soak lowered from 3600s to 60s'] } },
    { name: 'removing approvals', before: view(gated), after: view({ ...gated, requiredApprovals: {} }), want: { prod: ['1 required approval removed'] } },
    {
      name: 'reordering a gated state before the current one',
      before: view(gated),
      after: view({ ...gated, states: ['prod', 'dev', 'staging'] }),
      want: { prod: ['states before it removed or reordered'] },
    },
    { name: 'removing a protected state', before: view(gated), after: view({ ...gated, states: ['dev', 'staging'], protectedStates: [], requiredApprovals: {} }), want: { prod: ['removed from spec.states'] } },
    { name: 'renaming the state before a gated one', before: view({ protectedStates: ['prod'] }), after: view({ states: ['dev', 'stage', 'prod'], protectedStates: ['prod'] }), want: { prod: ['states before it removed or reordered'] } },
    { name: 'inserting a state after the soaking one moves the soak off prod', before: view(gated), after: view({ ...gated, states: ['dev', 'staging', 'canary', 'prod'] }), want: { prod: ['soak before it lowered from 3600s to 0s by a change of the states before it'] } },
    { name: 'inserting a state before the soaking one is no weakening', before: view(gated), after: view({ ...gated, states: ['dev', 'qa', 'staging', 'prod'] }), want: {} },
    { name: 'appending a state is no weakening', before: view(gated), after: view({ ...gated, states: ['dev', 'staging', 'prod', 'retired'] }), want: {} },
    { name: 'reordering ungated states is no weakening', before: view({ states: ['a', 'b', 'c'] }), after: view({ states: ['c', 'b', 'a'] }), want: {} },
    { name: "ServiceAccounts' approvals made to count", before: view(gated), after: view(gated, {}, ['prod']), want: { prod: ['approvals by ServiceAccounts would count'] } },
    { name: "ServiceAccounts' approvals no longer counting is no weakening", before: view(gated, {}, ['prod']), after: view(gated), want: {} },
    { name: 'leaving a freeze', before: view({}, { prod: ['custom-system/eow'] }), after: view({}), want: { prod: ['no longer covered by Freeze custom-system/eow'] } },
    { name: 'a frozen state is gated: reordering before it is a weakening', before: view({}, { prod: ['shop/f'] }), after: view({ states: ['prod', 'dev', 'staging'] }, { prod: ['shop/f'] }), want: { prod: ['states before it removed or reordered'] } },
  ])('$name', ({ before, after, want }) => {
    expect(Object.fromEntries(weakenings(before, after))).toEqual(want);
  });
});

const obj = (spec: Partial<Spec>, status?: StoredStatus) => ({ spec: { name: 'x', states: ['dev', 'staging', 'prod'], ...spec }, ...(status ? { status } : {}), metadata: { creationTimestamp: '2026-12-01T00:00:00Z' } });

describe('neededToCreate', () => {
  it.each([
    { name: 'an unprotected first state', spec: { protectedStates: ['prod'] }, want: [] },
    { name: 'a protected first state', spec: { states: ['prod', 'retired'], protectedStates: ['prod'] }, want: [{ state: 'prod', verb: 'enter' }] },
  ])('$name', ({ spec, want }) => {
    const o = obj(spec);
    expect(neededToCreate(o, view(o.spec)).map(({ state, verb }) => ({ state, verb }))).toEqual(want);
  });
});

describe('neededToUpdate', () => {
  it.each<{ name: string; old: ReturnType<typeof obj>; next: ReturnType<typeof obj>; want: { state: string; verb: string }[] }>([
    { name: 'protecting a state the object is not in', old: obj({}, { state: 'staging' }), next: obj({ protectedStates: ['prod'] }, { state: 'staging' }), want: [] },
    { name: 'protecting the state the object is in', old: obj({}, { state: 'prod' }), next: obj({ protectedStates: ['prod'] }, { state: 'prod' }), want: [{ state: 'prod', verb: 'enter' }] },
    { name: 'keeping the protected state the object is in', old: obj({ protectedStates: ['prod'] }, { state: 'prod' }), next: obj({ protectedStates: ['prod'], minSoakSeconds: { prod: 5 } }, { state: 'prod' }), want: [] },
    { name: 'putting a protected state first on an unmoved object', old: obj({ protectedStates: ['prod'] }), next: obj({ states: ['prod', 'dev', 'staging'], protectedStates: ['prod'] }), want: [{ state: 'prod', verb: 'override' }, { state: 'prod', verb: 'enter' }] },
    { name: 'putting a new state with approvals first on an unmoved object', old: obj({}), next: obj({ states: ['qa', 'dev', 'staging', 'prod'], requiredApprovals: { qa: 1 } }), want: [{ state: 'qa', verb: 'override' }] },
    { name: 'the unmoved object keeps its first state', old: obj({}), next: obj({ states: ['dev', 'qa', 'staging', 'prod'], requiredApprovals: { qa: 1 } }), want: [] },
  ])('$name', ({ old, next, want }) => {
    expect(neededToUpdate(old, next, view(old.spec), view(next.spec)).map(({ state, verb }) => ({ state, verb }))).toEqual(want);
  });
});
