// The gate invariant at the doors that are not state changes: creating an
// object, and editing its spec or labels. An object is in a state only
// through a change the backend allowed under the gates in force, so an edit
// may not lower the effective gates of a state (spec, GatePolicies, Freezes)
// nor put the object into a protected state, unless the editor holds the
// permission that would let them pass those gates anyway. Pure: the caller
// (server/src/admission/) computes the views with the same sources the write
// path decides with, and checks the permissions named here.
//
// The rules of a weakening are those manifests/base/admission-policy.yaml
// holds on spec alone (a–d there), here over the effective gates:
//   a. a protected state no longer protected;
//   b. a state's soak (minSoakSeconds, keyed by the state left) lowered;
//   c. a state's approval count lowered;
//   d. a state gated to enter (protected, approvals, a soak of the state
//      before it, a freeze) removed, or the states before it removed or
//      reordered (inserting new states is no weakening);
//   e. a freeze, active or scheduled, that covered a state no longer
//      covering it (labels taken out of its selector, say);
//   f. the soak before a state lowered by a change of the path around it (a
//      new state inserted after the soaking one), when (b) does not say so;
//   g. approvals by ServiceAccounts made to count (labels moved the object
//      into a GatePolicy rule that allows them);
//   h. a check of a state removed or changed (by the spec, or by labels that
//      take the object out of a GatePolicy rule with checks): a condition
//      cannot be ranked stronger or weaker, so any change is a weakening.
import type { Spec, StoredStatus } from '../../../api/src/types.ts';
import { checkIdentity, checkSourceName, type EffectiveCheck } from './check-gates.ts';
import { positionOf } from './position.ts';

/** The gates in force for one object at one moment, by state. */
export interface GateView {
  path: readonly string[];
  protected: ReadonlySet<string>;
  approvals: ReadonlyMap<string, number>;
  /** Soak of a state before it may be left, keyed by the state left. */
  soak: ReadonlyMap<string, number>;
  /** Freezes (namespace/name), active or scheduled, that cover a move into the state. */
  freezes: ReadonlyMap<string, readonly string[]>;
  /** States whose approvals by ServiceAccounts count (a GatePolicy rule allows them). */
  serviceAccountApprovals: ReadonlySet<string>;
  /** The checks of a move into each state: their identities (source and definition), and how to name them. */
  checks: ReadonlyMap<string, ReadonlyMap<string, string>>;
}

/** A permission an edit needs, on one state, and why. */
export interface Needed {
  state: string;
  verb: 'enter' | 'override';
  why: string[];
}

/** The gate view of a spec whose gates are already the effective ones (gate-sources.ts), plus the freezes of each state. */
export function gateView(effectiveSpec: Spec, freezesOf: (state: string) => readonly string[], serviceAccountApprovals: Iterable<string> = [], checks: ReadonlyMap<string, readonly EffectiveCheck[]> = new Map(), labels: Readonly<Record<string, string>> = {}): GateView {
  const freezes = new Map<string, readonly string[]>();
  for (const s of effectiveSpec.states) {
    const f = freezesOf(s);
    if (f.length) freezes.set(s, f);
  }
  return {
    path: effectiveSpec.states,
    protected: new Set((effectiveSpec.protectedStates ?? []).filter((s) => effectiveSpec.states.includes(s))),
    approvals: positive(effectiveSpec.requiredApprovals),
    soak: positive(effectiveSpec.minSoakSeconds),
    freezes,
    serviceAccountApprovals: new Set(serviceAccountApprovals),
    checks: new Map([...checks].filter(([, list]) => list.length > 0).map(([state, list]) => [state, new Map(list.map((c) => [checkIdentity(c, labels), `${JSON.stringify(c.check.name)} (${checkSourceName(c.source)})`]))])),
  };
}

function positive(m: Record<string, number> | undefined): Map<string, number> {
  return new Map(Object.entries(m ?? {}).filter(([, n]) => n > 0));
}

function soakBefore(v: GateView, state: string): number {
  const i = v.path.indexOf(state);
  return i > 0 ? (v.soak.get(v.path[i - 1]!) ?? 0) : 0;
}

/** Whether moving into `state` has a gate of its own (what makes a state worth guarding against reorders). */
function gatedToEnter(v: GateView, state: string): boolean {
  return v.protected.has(state) || (v.approvals.get(state) ?? 0) > 0 || soakBefore(v, state) > 0 || (v.freezes.get(state)?.length ?? 0) > 0 || (v.checks.get(state)?.size ?? 0) > 0;
}

/** Whether the states before `state` in `before` are all still before it in `after`, in the same order. */
function prefixKept(before: readonly string[], after: readonly string[], state: string): boolean {
  const was = before.slice(0, before.indexOf(state));
  const kept = after.slice(0, after.indexOf(state)).filter((p) => was.includes(p));
  return kept.length === was.length && kept.every((p, i) => p === was[i]);
}

/** How each state of `before` is weakened in `after` (rules a–f), in the order of the old path. */
export function weakenings(before: GateView, after: GateView): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (s: string, why: string) => out.set(s, [...(out.get(s) ?? []), why]);
  for (const s of before.path) {
    const present = after.path.includes(s);
    if (before.protected.has(s) && present && !after.protected.has(s)) add(s, 'no longer protected');
    const soakWas = before.soak.get(s) ?? 0;
    const soakNow = present ? (after.soak.get(s) ?? 0) : 0;
    if (soakWas > soakNow) add(s, soakNow ? `soak lowered from ${soakWas}s to ${soakNow}s` : `soak of ${soakWas}s removed`);
    const approvalsWas = before.approvals.get(s) ?? 0;
    const approvalsNow = after.approvals.get(s) ?? 0;
    if (present && approvalsWas > approvalsNow) add(s, approvalsNow ? `required approvals lowered from ${approvalsWas} to ${approvalsNow}` : `${approvalsWas} required approval${approvalsWas === 1 ? '' : 's'} removed`);
    if (present && approvalsNow > 0 && !before.serviceAccountApprovals.has(s) && after.serviceAccountApprovals.has(s)) add(s, 'approvals by ServiceAccounts would count');
    if (gatedToEnter(before, s)) {
      if (!present) add(s, 'removed from spec.states');
      else if (!prefixKept(before.path, after.path, s)) add(s, 'states before it removed or reordered');
    }
    if (present) {
      const lost = (before.freezes.get(s) ?? []).filter((f) => !(after.freezes.get(s) ?? []).includes(f));
      if (lost.length) add(s, `no longer covered by Freeze ${lost.join(', ')}`);
      const checksNow = after.checks.get(s);
      const lostChecks = [...(before.checks.get(s) ?? [])].filter(([id]) => !checksNow?.has(id)).map(([, name]) => name);
      if (lostChecks.length) add(s, `check${lostChecks.length > 1 ? 's' : ''} ${lostChecks.join(', ')} removed or changed`);
      const prevBefore = before.path[before.path.indexOf(s) - 1];
      const prevAfter = after.path[after.path.indexOf(s) - 1];
      const sbWas = soakBefore(before, s);
      const sbNow = soakBefore(after, s);
      if (sbNow < sbWas && prevBefore !== prevAfter && prefixKept(before.path, after.path, s)) add(s, `soak before it lowered from ${sbWas}s to ${sbNow}s by a change of the states before it`);
    }
  }
  return out;
}

interface ObjectLike {
  spec: Spec;
  status?: StoredStatus;
  metadata: { creationTimestamp?: string };
}

/** What creating `obj` needs: it starts in its first state, so a protected one must be entered. */
export function neededToCreate(obj: ObjectLike, view: GateView): Needed[] {
  const first = obj.spec.states[0];
  if (first === undefined || !view.protected.has(first)) return [];
  return [{ state: first, verb: 'enter', why: [`the object starts in the protected state ${JSON.stringify(first)}`] }];
}

/**
 * What an update from `old` to `next` needs: `override` on each weakened
 * state; `enter` on the state the object is in when the edit makes it
 * protected; `override` on the state an object that never moved is put into
 * (a new first state) when that state has approvals or a freeze.
 */
export function neededToUpdate(old: ObjectLike, next: ObjectLike, before: GateView, after: GateView): Needed[] {
  const needed: Needed[] = [...weakenings(before, after)].map(([state, why]) => ({ state, verb: 'override' as const, why }));
  const was = positionOf(old.spec, old.status, old.metadata.creationTimestamp).state;
  const now = positionOf(next.spec, next.status, next.metadata.creationTimestamp).state;
  const moved = was !== now;
  if (after.protected.has(now) && (moved || !before.protected.has(now) || !before.path.includes(now))) {
    needed.push({ state: now, verb: 'enter', why: [moved ? `the object has not moved, so it would be in the protected state ${JSON.stringify(now)} without entering it` : `the object is in ${JSON.stringify(now)}, which the change makes protected`] });
  }
  if (moved && ((after.approvals.get(now) ?? 0) > 0 || (after.freezes.get(now)?.length ?? 0) > 0 || (after.checks.get(now)?.size ?? 0) > 0)) {
    const gates = [(after.approvals.get(now) ?? 0) > 0 ? 'approvals' : '', after.freezes.get(now)?.length ? 'a freeze' : '', after.checks.get(now)?.size ? 'checks' : ''].filter(Boolean).join(' and ');
    needed.push({ state: now, verb: 'override', why: [`the object has not moved, so it would be in ${JSON.stringify(now)} past its ${gates}`] });
  }
  return needed;
}
