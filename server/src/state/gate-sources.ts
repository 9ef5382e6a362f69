// Where the gates of an object come from besides its own spec: GatePolicies
// (which can only strengthen them) and active Freezes. The write path, the
// read side and describe-state ask through this one interface; the backend
// wires the watch-fed caches of both in config.ts.
import type { FreezeRef, GatePolicy, GateSource, Spec, StoredObject } from '../../../api/src/types.ts';
import type { EffectiveCheck } from './check-gates.ts';
import { effectiveGates, specWithGates } from './effective-gates.ts';

export interface EffectiveSpec {
  /** The spec with every matching policy's gates added: the strongest of each. */
  spec: Spec;
  /** Where each gate of each state comes from, by gate and state: `protected/prod`, `approvals/prod`, `soak/staging`. */
  sources: ReadonlyMap<string, GateSource[]>;
  /** States whose approvals by ServiceAccounts count, with the GatePolicies that allow them; none when absent. */
  serviceAccountApprovals?: ReadonlyMap<string, GateSource[]>;
  /** Checks of a move into each state, from every source (spec.checks is not in `spec`: a check is not outweighed, each holds). */
  checks: ReadonlyMap<string, readonly EffectiveCheck[]>;
}

export interface GateSources {
  effective(obj: StoredObject): EffectiveSpec;
  /** Freezes active at `now` that cover a move of `obj` into `state`. */
  freezes(obj: StoredObject, state: string, now: Date): FreezeRef[];
  /** Freezes active or scheduled at `now` that cover `state` for `obj`: what admission keeps an edit from escaping. */
  freezesInForce(obj: StoredObject, state: string, now: Date): FreezeRef[];
  /** Whether `obj` may have checks at all (its spec's, or a GatePolicy rule's in its namespace or custom-system): a cheap test before effective(). */
  mayHaveChecks(obj: StoredObject): boolean;
}

const SPEC: GateSource = { kind: 'spec' };

/** The sources of a spec's own gates. */
function specSources(spec: Spec): Map<string, GateSource[]> {
  const m = new Map<string, GateSource[]>();
  for (const s of spec.protectedStates ?? []) m.set(`protected/${s}`, [SPEC]);
  for (const [s, n] of Object.entries(spec.requiredApprovals ?? {})) if (n > 0) m.set(`approvals/${s}`, [SPEC]);
  for (const [s, n] of Object.entries(spec.minSoakSeconds ?? {})) if (n > 0) m.set(`soak/${s}`, [SPEC]);
  for (const [s, list] of Object.entries(spec.checks ?? {})) if (list.length && spec.states.includes(s)) m.set(`checks/${s}`, [SPEC]);
  return m;
}

function uniqueSources(list: readonly GateSource[]): GateSource[] {
  const out: GateSource[] = [];
  for (const s of list) if (!out.some((x) => x.kind === s.kind && x.namespace === s.namespace && x.name === s.name)) out.push(s);
  return out;
}

/** The spec's own checks, by state in path order. */
function specChecks(obj: StoredObject): Map<string, EffectiveCheck[]> {
  return effectiveGates(obj, []).checks ?? new Map();
}

/** No policies, no freezes: the object's own spec. */
export const SPEC_ONLY: GateSources = {
  effective: (obj) => {
    const spec: Spec = { ...obj.spec };
    delete spec.checks;
    return { spec, sources: specSources(obj.spec), checks: specChecks(obj) };
  },
  freezes: () => [],
  freezesInForce: () => [],
  mayHaveChecks: (obj) => Object.keys(obj.spec.checks ?? {}).length > 0,
};

/** The gates of every matching GatePolicy added to the object's own. */
export function withPolicies(policies: { policiesFor(namespace: string): readonly GatePolicy[] }, freezes: GateSources['freezes'] = SPEC_ONLY.freezes, freezesInForce: GateSources['freezesInForce'] = SPEC_ONLY.freezesInForce): GateSources {
  return {
    effective(obj) {
      const g = effectiveGates(obj, policies.policiesFor(obj.metadata.namespace));
      const sources = new Map<string, GateSource[]>();
      for (const [state, src] of g.protected) sources.set(`protected/${state}`, src);
      for (const [state, { sources: src }] of g.requiredApprovals) sources.set(`approvals/${state}`, src);
      for (const [state, { sources: src }] of g.minSoakSeconds) sources.set(`soak/${state}`, src);
      for (const [state, list] of g.checks ?? []) sources.set(`checks/${state}`, uniqueSources(list.map((c) => c.source)));
      return { spec: specWithGates(obj.spec, g), sources, checks: g.checks ?? new Map(), ...(g.serviceAccountApprovals?.size ? { serviceAccountApprovals: g.serviceAccountApprovals } : {}) };
    },
    freezes,
    freezesInForce,
    mayHaveChecks: (obj) => SPEC_ONLY.mayHaveChecks(obj) || policies.policiesFor(obj.metadata.namespace).some((p) => p.spec?.rules?.some((r) => (r.checks?.length ?? 0) > 0)),
  };
}
