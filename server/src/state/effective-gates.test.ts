import { describe, expect, it } from 'vitest';
import type { GatePolicy, GatePolicyRule, Spec } from '../../../api/src/types.ts';
import type { GateSource } from '../../../api/src/types.ts';
import { effectiveGates, formatGateSource, specWithGates, type EffectiveGates } from './effective-gates.ts';

const NS = 'shop';

function policy(namespace: string, name: string, ...rules: GatePolicyRule[]): GatePolicy {
  return { apiVersion: 'example.com/v1', kind: 'GatePolicy', metadata: { namespace, name }, spec: { rules } };
}

const spec = (extra: Partial<Spec> = {}): Spec => ({ name: 'x', states: ['dev', 'staging', 'prod'], ...extra });
const SPEC: GateSource = { kind: 'spec' };
const src = (namespace: string, name: string): GateSource => ({ kind: 'GatePolicy', namespace, name });

/** The Maps as plain objects, so a table row can say what it expects in one line. */
function plain(g: EffectiveGates) {
  return {
    protected: Object.fromEntries(g.protected),
    requiredApprovals: Object.fromEntries(g.requiredApprovals),
    minSoakSeconds: Object.fromEntries(g.minSoakSeconds),
  };
}

const none = { protected: {}, requiredApprovals: {}, minSoakSeconds: {} };

describe('effectiveGates', () => {
  it.each<{ name: string; spec: Spec; namespace?: string; labels?: Record<string, string>; policies: GatePolicy[]; want: ReturnType<typeof plain> }>([
    { name: 'nothing anywhere', spec: spec(), policies: [], want: none },
    {
      name: 'spec only',
      spec: spec({ protectedStates: ['prod'], requiredApprovals: { prod: 2 }, minSoakSeconds: { staging: 3600 } }),
      policies: [],
      want: { protected: { prod: [SPEC] }, requiredApprovals: { prod: { count: 2, sources: [SPEC] } }, minSoakSeconds: { staging: { seconds: 3600, sources: [SPEC] } } },
    },
    {
      name: 'a spec soak of 0 is no gate',
      spec: spec({ minSoakSeconds: { dev: 0 } }),
      policies: [],
      want: none,
    },
    {
      name: 'policy only (cluster-wide), soak mapped to the state before the named one',
      spec: spec(),
      policies: [policy('custom-system', 'prod-gates', { states: ['prod'], protected: true, requiredApprovals: 1, minSoakSeconds: 600 })],
      want: {
        protected: { prod: [src('custom-system', 'prod-gates')] },
        requiredApprovals: { prod: { count: 1, sources: [src('custom-system', 'prod-gates')] } },
        minSoakSeconds: { staging: { seconds: 600, sources: [src('custom-system', 'prod-gates')] } },
      },
    },
    {
      name: 'both: the strongest wins, and only its sources are named',
      spec: spec({ requiredApprovals: { prod: 1 }, minSoakSeconds: { staging: 7200 } }),
      policies: [policy(NS, 'p', { states: ['prod'], requiredApprovals: 3, minSoakSeconds: 60 })],
      want: {
        protected: {},
        requiredApprovals: { prod: { count: 3, sources: [src(NS, 'p')] } },
        minSoakSeconds: { staging: { seconds: 7200, sources: [SPEC] } },
      },
    },
    {
      name: 'both asking the same: every source named, spec first',
      spec: spec({ protectedStates: ['prod'], requiredApprovals: { prod: 2 } }),
      policies: [policy(NS, 'p', { states: ['prod'], protected: true, requiredApprovals: 2 })],
      want: {
        protected: { prod: [SPEC, src(NS, 'p')] },
        requiredApprovals: { prod: { count: 2, sources: [SPEC, src(NS, 'p')] } },
        minSoakSeconds: {},
      },
    },
    {
      name: 'several policies: the maximum, sources in namespace/name order whatever the input order',
      spec: spec(),
      policies: [
        policy(NS, 'zeta', { states: ['prod'], requiredApprovals: 2, protected: true }),
        policy(NS, 'alpha', { states: ['prod'], requiredApprovals: 1, protected: true }),
        policy('custom-system', 'global', { states: ['prod'], requiredApprovals: 2 }),
      ],
      want: {
        protected: { prod: [src(NS, 'alpha'), src(NS, 'zeta')] },
        requiredApprovals: { prod: { count: 2, sources: [src('custom-system', 'global'), src(NS, 'zeta')] } },
        minSoakSeconds: {},
      },
    },
    {
      name: "another namespace's policy does not apply",
      spec: spec(),
      policies: [policy('web', 'p', { states: ['prod'], protected: true, requiredApprovals: 5, minSoakSeconds: 60 })],
      want: none,
    },
    {
      name: 'a state not in the path gates nothing',
      spec: spec(),
      policies: [policy(NS, 'p', { states: ['ga', 'qa'], protected: true, requiredApprovals: 2, minSoakSeconds: 60 })],
      want: none,
    },
    {
      name: 'a soak on the first state of the path gates nothing (no state before it)',
      spec: spec(),
      policies: [policy(NS, 'p', { states: ['dev'], minSoakSeconds: 60 })],
      want: none,
    },
    {
      name: 'one rule naming several states: each gets its gates, each soak on its own state before',
      spec: spec(),
      policies: [policy(NS, 'p', { states: ['staging', 'prod'], minSoakSeconds: 60, requiredApprovals: 1 })],
      want: {
        protected: {},
        requiredApprovals: { staging: { count: 1, sources: [src(NS, 'p')] }, prod: { count: 1, sources: [src(NS, 'p')] } },
        minSoakSeconds: { dev: { seconds: 60, sources: [src(NS, 'p')] }, staging: { seconds: 60, sources: [src(NS, 'p')] } },
      },
    },
    {
      name: 'the state before is the one in this object\'s path',
      spec: spec({ states: ['build', 'canary', 'prod'] }),
      policies: [policy(NS, 'p', { states: ['prod'], minSoakSeconds: 300 })],
      want: { protected: {}, requiredApprovals: {}, minSoakSeconds: { canary: { seconds: 300, sources: [src(NS, 'p')] } } },
    },
    {
      name: 'selector matches the labels',
      spec: spec(),
      labels: { tier: 'critical' },
      policies: [policy(NS, 'p', { states: ['prod'], protected: true, selector: { matchLabels: { tier: 'critical' } } })],
      want: { protected: { prod: [src(NS, 'p')] }, requiredApprovals: {}, minSoakSeconds: {} },
    },
    {
      name: 'selector does not match the labels',
      spec: spec(),
      labels: { tier: 'batch' },
      policies: [policy(NS, 'p', { states: ['prod'], protected: true, selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['critical'] }] } })],
      want: none,
    },
    {
      name: 'an empty selector selects an object without labels',
      spec: spec(),
      policies: [policy(NS, 'p', { states: ['prod'], protected: true, selector: {} })],
      want: { protected: { prod: [src(NS, 'p')] }, requiredApprovals: {}, minSoakSeconds: {} },
    },
    {
      name: 'only the rules that select the object count',
      spec: spec(),
      labels: { team: 'payments' },
      policies: [policy(NS, 'p',
        { states: ['prod'], requiredApprovals: 4, selector: { matchLabels: { team: 'search' } } },
        { states: ['prod'], requiredApprovals: 2, selector: { matchLabels: { team: 'payments' } } },
      )],
      want: { protected: {}, requiredApprovals: { prod: { count: 2, sources: [src(NS, 'p')] } }, minSoakSeconds: {} },
    },
    {
      name: 'two rules of one policy asking the same: the policy is named once',
      spec: spec(),
      policies: [policy(NS, 'p', { states: ['prod'], protected: true, requiredApprovals: 1 }, { states: ['prod'], protected: true, requiredApprovals: 1 })],
      want: { protected: { prod: [src(NS, 'p')] }, requiredApprovals: { prod: { count: 1, sources: [src(NS, 'p')] } }, minSoakSeconds: {} },
    },
    {
      name: 'protected: false adds nothing',
      spec: spec(),
      policies: [policy(NS, 'p', { states: ['prod'], protected: false, requiredApprovals: 1 })],
      want: { protected: {}, requiredApprovals: { prod: { count: 1, sources: [src(NS, 'p')] } }, minSoakSeconds: {} },
    },
    {
      name: 'a policy in custom-system gates objects in custom-system too',
      spec: spec(),
      namespace: 'custom-system',
      policies: [policy('custom-system', 'g', { states: ['prod'], protected: true })],
      want: { protected: { prod: [src('custom-system', 'g')] }, requiredApprovals: {}, minSoakSeconds: {} },
    },
  ])('$name', ({ spec: s, namespace, labels, policies, want }) => {
    expect(plain(effectiveGates({ metadata: { namespace: namespace ?? NS, ...(labels ? { labels } : {}) }, spec: s }, policies))).toEqual(want);
  });

  it('keeps the maps in path order, whatever order the sources came in', () => {
    const g = effectiveGates(
      { metadata: { namespace: NS }, spec: spec({ protectedStates: ['prod'] }) },
      [policy(NS, 'p', { states: ['prod', 'dev', 'staging'], protected: true })],
    );
    expect([...g.protected.keys()]).toEqual(['dev', 'staging', 'prod']);
  });

  it('does not change the policies it was given', () => {
    const policies = [policy(NS, 'b', { states: ['prod'], protected: true }), policy(NS, 'a', { states: ['prod'], protected: true })];
    const before = JSON.stringify(policies);
    effectiveGates({ metadata: { namespace: NS }, spec: spec() }, policies);
    expect(JSON.stringify(policies)).toBe(before);
  });
});

describe('specWithGates', () => {
  it('replaces the spec\'s gates by the effective ones, keeping the rest', () => {
    const s = spec({ protectedStates: ['staging'], minSoakSeconds: { dev: 0, staging: 60 } });
    const g = effectiveGates({ metadata: { namespace: NS }, spec: s }, [policy(NS, 'p', { states: ['prod'], protected: true, requiredApprovals: 2, minSoakSeconds: 600 })]);
    expect(specWithGates(s, g)).toEqual({
      name: 'x',
      states: ['dev', 'staging', 'prod'],
      protectedStates: ['staging', 'prod'],
      requiredApprovals: { prod: 2 },
      minSoakSeconds: { staging: 600 },
    });
  });

  it('leaves out what gates nothing', () => {
    const s = spec({ minSoakSeconds: { dev: 0 } });
    expect(specWithGates(s, effectiveGates({ metadata: { namespace: NS }, spec: s }, []))).toEqual({ name: 'x', states: ['dev', 'staging', 'prod'] });
  });
});

describe('formatGateSource', () => {
  it.each([
    { name: 'spec', s: SPEC, want: 'spec' },
    { name: 'a policy', s: src('custom-system', 'prod-gates'), want: 'GatePolicy custom-system/prod-gates' },
  ])('$name', ({ s, want }) => {
    expect(formatGateSource(s)).toBe(want);
  });
});

describe('effectiveGates: where ServiceAccounts\' approvals count', () => {
  it.each<{ name: string; spec?: Spec; labels?: Record<string, string>; policies: GatePolicy[]; want: Record<string, GateSource[]> }>([
    { name: 'nowhere without a policy', policies: [], want: {} },
    { name: 'a spec cannot allow them (its authors are the ones who would approve)', spec: spec({ requiredApprovals: { prod: 1 } }), policies: [], want: {} },
    { name: 'a rule that says so, for its states', policies: [policy(NS, 'bots', { states: ['staging', 'prod'], requiredApprovals: 1, serviceAccountApprovals: true })], want: { staging: [src(NS, 'bots')], prod: [src(NS, 'bots')] } },
    { name: 'a rule that says false allows nothing', policies: [policy(NS, 'p', { states: ['prod'], requiredApprovals: 1, serviceAccountApprovals: false })], want: {} },
    { name: 'a cluster-wide rule', policies: [policy('custom-system', 'g', { states: ['prod'], protected: true, serviceAccountApprovals: true })], want: { prod: [src('custom-system', 'g')] } },
    { name: "another namespace's rule does not", policies: [policy('web', 'p', { states: ['prod'], requiredApprovals: 1, serviceAccountApprovals: true })], want: {} },
    { name: 'a rule whose selector does not select the object does not', labels: { team: 'search' }, policies: [policy(NS, 'p', { states: ['prod'], requiredApprovals: 1, serviceAccountApprovals: true, selector: { matchLabels: { team: 'payments' } } })], want: {} },
    { name: 'a rule whose selector selects the object does', labels: { team: 'payments' }, policies: [policy(NS, 'p', { states: ['prod'], requiredApprovals: 1, serviceAccountApprovals: true, selector: { matchLabels: { team: 'payments' } } })], want: { prod: [src(NS, 'p')] } },
    { name: 'a state not in the path: nothing', policies: [policy(NS, 'p', { states: ['qa'], requiredApprovals: 1, serviceAccountApprovals: true })], want: {} },
    { name: 'every policy that allows them is named, in path order', policies: [policy(NS, 'b', { states: ['prod'], requiredApprovals: 1, serviceAccountApprovals: true }), policy(NS, 'a', { states: ['prod', 'dev'], requiredApprovals: 1, serviceAccountApprovals: true })], want: { dev: [src(NS, 'a')], prod: [src(NS, 'a'), src(NS, 'b')] } },
  ])('$name', ({ spec: s, labels, policies, want }) => {
    const g = effectiveGates({ metadata: { namespace: NS, ...(labels ? { labels } : {}) }, spec: s ?? spec() }, policies);
    expect(Object.fromEntries(g.serviceAccountApprovals ?? [])).toEqual(want);
    expect([...(g.serviceAccountApprovals ?? new Map<string, GateSource[]>()).keys()]).toEqual(Object.keys(want));
  });
});
