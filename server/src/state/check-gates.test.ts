// The checks gate in the pure rules: effective checks from the spec and
// GatePolicies, what a move's recorded runs say, the 422 causes, override,
// an inconclusive check passed by an approval, skipped states, and the
// gate invariant (a check removed or changed is a weakening).
import { describe, expect, it } from 'vitest';
import type { CheckSpec } from '../../../api/src/checks.ts';
import type { GatePolicy, StoredObject } from '../../../api/src/types.ts';
import { labelsFingerprint } from './approvals.ts';
import { checkVerdicts, runKey, templateVars, verdictsOfMove } from './check-gates.ts';
import { effectiveGates } from './effective-gates.ts';
import { gateView, weakenings } from './gate-invariant.ts';
import { SPEC_ONLY, withPolicies } from './gate-sources.ts';
import { decideTransition, gateCauses, gatesOfState, isRefusal, overridden, type Transition } from './transitions.ts';

const NOW = new Date('2026-12-07T12:00:00Z');
const SINCE = '2026-12-07T11:00:00Z';
const errors: CheckSpec = { name: 'errors', successCondition: 'result[0] < 0.01', prometheus: { address: 'http://prom:9090', query: 'rate(errors{app="{{name}}"}[5m])' } };
const ticket: CheckSpec = { name: 'ticket', successCondition: 'status == 200', http: { url: 'https://tickets/{{name}}' } };

function object(over: Partial<StoredObject['spec']> = {}, status: StoredObject['status'] = { state: 'staging', stateSince: SINCE }, labels: Record<string, string> = { team: 'pay' }): StoredObject {
  return {
    apiVersion: 'example.com/v1',
    kind: 'CustomResource',
    metadata: { name: 'checkout', namespace: 'shop', creationTimestamp: '2026-12-01T00:00:00Z', generation: 1, labels },
    spec: { name: 'Checkout', states: ['dev', 'staging', 'prod'], checks: { prod: [errors] }, ...over },
    status,
  };
}

const policy: GatePolicy = {
  apiVersion: 'example.com/v1',
  kind: 'GatePolicy',
  metadata: { name: 'prod-health', namespace: 'custom-system' },
  spec: { rules: [{ states: ['prod'], selector: { matchLabels: { team: 'pay' } }, checks: [ticket] }] },
};

/** status.checks with one run per check of prod, in the given phases. */
function withRuns(obj: StoredObject, phases: Record<string, 'Successful' | 'Failed' | 'Inconclusive' | 'Error' | 'Running'>, policies: GatePolicy[] = []): StoredObject {
  const checks = effectiveGates(obj, policies).checks!.get('prod')!;
  const vars = templateVars(obj, 'staging', 'prod');
  const runs = checks.filter((c) => phases[c.check.name]).map((c) => ({
    name: c.check.name,
    source: c.source.kind === 'spec' ? 'spec' : `GatePolicy ${c.source.namespace}/${c.source.name}`,
    key: runKey(c, vars),
    phase: phases[c.check.name]!,
    startedAt: SINCE,
    measurements: phases[c.check.name] === 'Running' ? [] : [{ phase: phases[c.check.name] as 'Successful' | 'Failed' | 'Inconclusive' | 'Error', time: '2026-12-07T11:30:00Z', value: '{"result":[0.5]}' }],
  }));
  return { ...obj, status: { ...obj.status, checks: { from: 'staging', to: 'prod', since: SINCE, runs } } };
}

function decide(obj: StoredObject, policies: GatePolicy[] = [], override = false, mover = 'alice'): Transition {
  const gates = policies.length ? withPolicies({ policiesFor: () => policies }) : SPEC_ONLY;
  const eff = gates.effective(obj);
  const t = decideTransition({ ...obj, spec: eff.spec }, { action: 'promote', ...(override ? { override, reason: 'incident 7' } : {}) }, NOW, {
    mover,
    checksOf: (from, to) => verdictsOfMove(obj, eff.checks, from, to, obj.status?.stateSince),
    hasChecks: (s) => (eff.checks.get(s)?.length ?? 0) > 0,
  });
  if (isRefusal(t)) throw new Error('refused');
  return t;
}

describe('effective checks', () => {
  it("come from the spec for its state and from every selecting GatePolicy rule, each with its source and its Secrets' namespace", () => {
    const g = effectiveGates(object(), [policy]);
    expect(g.checks!.get('prod')!.map((c) => [c.check.name, c.source.kind, c.secretNamespace])).toEqual([
      ['errors', 'spec', 'shop'],
      ['ticket', 'GatePolicy', 'custom-system'],
    ]);
    // A policy's rule that does not select the object adds nothing.
    expect(effectiveGates(object({}, undefined, { team: 'web' }), [policy]).checks!.get('prod')!.map((c) => c.check.name)).toEqual(['errors']);
  });

  it("a run's key changes with the check, the labels and the move, so a changed check starts anew", () => {
    const c = effectiveGates(object(), []).checks!.get('prod')![0]!;
    const k = runKey(c, templateVars(object(), 'staging', 'prod'));
    expect(runKey(c, templateVars(object({}, undefined, { team: 'other' }), 'staging', 'prod'))).not.toBe(k);
    expect(runKey({ ...c, check: { ...errors, successCondition: 'result[0] < 0.5' } }, templateVars(object(), 'staging', 'prod'))).not.toBe(k);
    expect(runKey(c, templateVars(object(), 'dev', 'prod'))).not.toBe(k);
    expect(runKey(c, templateVars(object(), 'staging', 'prod'))).toBe(k);
  });

  it('runs of an earlier stay or another move do not count', () => {
    const obj = withRuns(object(), { errors: 'Successful' });
    const checks = effectiveGates(obj, []).checks!;
    expect(verdictsOfMove(obj, checks, 'staging', 'prod', SINCE)[0]!.phase).toBe('Successful');
    expect(verdictsOfMove(obj, checks, 'staging', 'prod', '2026-12-07T11:59:00Z')[0]!.phase).toBe('Running');
    expect(checkVerdicts(checks.get('prod')!, obj.status!.checks!.runs, templateVars(obj, 'dev', 'prod'))[0]!.phase).toBe('Running');
  });
});

describe('the checks gate of a move', () => {
  it('a check not yet measured refuses a promote with one cause per check, naming it, its source and how far it got', () => {
    const t = decide(object(), [policy]);
    const causes = gateCauses(t, { action: 'promote' });
    expect(causes.map((c) => c.field)).toEqual(['checks', 'checks']);
    expect(causes[0]!.message).toBe('Forbidden: check "errors" (spec) of the move into "prod" has not passed yet: 0 of 1 measurement of result[0] < 0.01 taken');
    expect(causes[1]!.message).toContain('check "ticket" (GatePolicy custom-system/prod-health)');
  });

  it('a failed check names its condition and last value; an error never passes', () => {
    const failed = gateCauses(decide(withRuns(object(), { errors: 'Failed' })), { action: 'promote' });
    expect(failed).toHaveLength(1);
    expect(failed[0]!.message).toMatch(/^Forbidden: check "errors" \(spec\) failed: result\[0\] < 0\.01 did not hold; last measured 2026-12-07T11:30:00Z: \{"result":\[0\.5\]\}/);
    const erred = gateCauses(decide(withRuns(object(), { errors: 'Error' })), { action: 'promote' });
    expect(erred[0]!.message).toContain('could not be measured');
  });

  it('every check passed: no cause, and the move records them', () => {
    const t = decide(withRuns(object(), { errors: 'Successful', ticket: 'Successful' }, [policy]), [policy]);
    expect(gateCauses(t, { action: 'promote' })).toEqual([]);
    expect(t.checks!.verdicts.map((v) => v.phase)).toEqual(['Successful', 'Successful']);
  });

  it('an inconclusive check needs an approval of the move by someone other than the mover', () => {
    const inconclusive = withRuns(object(), { errors: 'Inconclusive' });
    expect(gateCauses(decide(inconclusive), { action: 'promote' })[0]!.message).toContain('needs an approval');
    const approval = { from: 'staging', to: 'prod', user: 'bob', time: SINCE, generation: 1, labelsHash: labelsFingerprint({ team: 'pay' })! };
    const approved = { ...inconclusive, status: { ...inconclusive.status, approvals: [approval] } };
    expect(gateCauses(decide(approved), { action: 'promote' })).toEqual([]);
    // The mover's own approval does not count.
    expect(gateCauses(decide(approved, [], false, 'bob'), { action: 'promote' })).toHaveLength(1);
  });

  it('an override passes a failing check, says so, and needs a reason', () => {
    const t = decide(withRuns(object(), { errors: 'Failed' }), [], true);
    expect(gateCauses(t, { action: 'promote', override: true, reason: 'incident 7' })).toEqual([]);
    expect(overridden(t, true)).toEqual(['checks']);
    expect(gateCauses(t, { action: 'promote', override: true })[0]!.field).toBe('reason');
  });

  it('a jump into a state with checks says where they are measured', () => {
    const obj = object({}, { state: 'dev', stateSince: SINCE });
    const eff = SPEC_ONLY.effective(obj);
    const t = decideTransition({ ...obj, spec: eff.spec }, { action: 'set-state', state: 'prod' }, NOW, { checksOf: (f, to) => verdictsOfMove(obj, eff.checks, f, to, SINCE) });
    if (isRefusal(t)) throw new Error('refused');
    expect(gateCauses(t, { action: 'set-state', state: 'prod' }).map((c) => c.message)).toEqual(['Forbidden: check "errors" (spec) of the move into "prod" is measured while the object is in "staging", the state before it: move through "staging", or break glass with --override']);
  });

  it('a rollback passes checks; a state with checks cannot be skipped', () => {
    const obj = object({ states: ['dev', 'staging', 'prod'], checks: { staging: [errors] } }, { state: 'prod', stateSince: SINCE });
    const eff = SPEC_ONLY.effective(obj);
    const back = decideTransition({ ...obj, spec: eff.spec }, { action: 'set-state', state: 'staging' }, NOW, { checksOf: (f, to) => verdictsOfMove(obj, eff.checks, f, to, SINCE) });
    expect(!isRefusal(back) && back.direction).toBe('backward');
    expect(!isRefusal(back) && back.checks).toBeUndefined();
    expect(gatesOfState(eff.spec, 'staging', { hasChecks: (s) => (eff.checks.get(s)?.length ?? 0) > 0 })).toEqual(['checks']);
  });
});

describe('the gate invariant and checks', () => {
  const viewOf = (obj: StoredObject, policies: GatePolicy[] = []) => {
    const eff = (policies.length ? withPolicies({ policiesFor: () => policies }) : SPEC_ONLY).effective(obj);
    return gateView(eff.spec, () => [], [], eff.checks, obj.metadata.labels ?? {});
  };
  it.each<[string, StoredObject, StoredObject, GatePolicy[], Record<string, string[]>]>([
    ['the same checks: nothing', object(), object(), [], {}],
    ['a check added: nothing', object({ checks: {} }), object(), [], {}],
    ['a check removed', object(), object({ checks: {} }), [], { prod: ['check "errors" (spec) removed or changed'] }],
    ['a condition changed (it cannot be ranked)', object(), object({ checks: { prod: [{ ...errors, successCondition: 'result[0] < 0.5' }] } }), [], { prod: ['check "errors" (spec) removed or changed'] }],
    ['labels that leave a GatePolicy rule with checks', object(), object({}, undefined, { team: 'web' }), [policy], { prod: ['check "ticket" (GatePolicy custom-system/prod-health) removed or changed'] }],
    ['relabelling the object when the query names that label: it would measure another series', object({ checks: { prod: [{ ...errors, prometheus: { address: 'http://p', query: 'errors{team="{{labels.team}}"}' } }] } }), object({ checks: { prod: [{ ...errors, prometheus: { address: 'http://p', query: 'errors{team="{{labels.team}}"}' } }] } }, undefined, { team: 'healthy-team' }), [], { prod: ['check "errors" (spec) removed or changed'] }],
    ['relabelling when no check names the label: nothing', object(), object({}, undefined, { team: 'pay', other: 'x' }), [], {}],
    ['reordering the states before a state with checks', object({ protectedStates: [] }), object({ states: ['staging', 'dev', 'prod'] }), [], { prod: ['states before it removed or reordered'] }],
  ])('%s', (_name, before, after, policies, want) => {
    expect(Object.fromEntries(weakenings(viewOf(before, policies), viewOf(after, policies)))).toEqual(want);
  });
});
