// Where the gates of an object come from besides its own spec: GatePolicies
// (which can only strengthen them) and active Freezes. The write path, the
// read side and describe-state ask through this one interface; the backend
// wires the watch-fed caches of both in config.ts.
import type { FreezeRef, GateSource, Spec, StoredObject } from '../../../api/src/types.ts';

export interface EffectiveSpec {
  /** The spec with every matching policy's gates added: the strongest of each. */
  spec: Spec;
  /** Where each gate of each state comes from, by gate and state: `protected/prod`, `approvals/prod`, `soak/staging`. */
  sources: ReadonlyMap<string, GateSource[]>;
}

export interface GateSources {
  effective(obj: StoredObject): EffectiveSpec;
  /** Freezes active at `now` that cover a move of `obj` into `state`. */
  freezes(obj: StoredObject, state: string, now: Date): FreezeRef[];
}

const SPEC: GateSource = { kind: 'spec' };

/** The sources of a spec's own gates. */
export function specSources(spec: Spec): Map<string, GateSource[]> {
  const m = new Map<string, GateSource[]>();
  for (const s of spec.protectedStates ?? []) m.set(`protected/${s}`, [SPEC]);
  for (const [s, n] of Object.entries(spec.requiredApprovals ?? {})) if (n > 0) m.set(`approvals/${s}`, [SPEC]);
  for (const [s, n] of Object.entries(spec.minSoakSeconds ?? {})) if (n > 0) m.set(`soak/${s}`, [SPEC]);
  return m;
}

/** No policies, no freezes: the object's own spec. */
export const SPEC_ONLY: GateSources = {
  effective: (obj) => ({ spec: obj.spec, sources: specSources(obj.spec) }),
  freezes: () => [],
};
