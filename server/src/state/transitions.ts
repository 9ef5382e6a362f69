// The state machine's pure rules: what a promote or set-state would be and
// which gates stand in its way. No I/O; `now` is passed in. Where an object
// is on its path is position.ts's; what a refusal says, refusal.ts's.
import type { FreezeRef, Spec } from '../../../api/src/types.ts';
import { approvalsCause, approversOf } from './approvals.ts';
import { checkCause, verdictPasses, type CheckVerdict } from './check-gates.ts';
import { positionOf, soakRemainingSeconds, type Position, type StoredLike } from './position.ts';
import type { Refusal, TransitionCause } from './refusal.ts';

export interface TransitionRequest {
  action: 'promote' | 'set-state';
  /** set-state: the target. */
  state?: string;
  /** The state the caller saw; if given it must be the current state. */
  from?: string;
  reason?: string;
  /** Break glass: make a move its gates would refuse (needs `override` on the target and a reason). */
  override?: boolean;
  /** Who asks (named in the approvals cause). */
  mover?: string;
}

/** A skipped state with gates of its own, and which. */
export interface SkippedGate {
  state: string;
  gates: string[];
}

/**
 * A move the rules allow in principle, with what stands in its way: the
 * permissions it needs are the caller's to check (SubjectAccessReview), the
 * gates not met are 422 causes unless the move is an override.
 */
export interface Transition {
  from: string;
  to: string;
  /** forward: into a later state (or out of a state no longer listed); backward: a rollback, whose only gate is protection. */
  direction: 'forward' | 'backward';
  /** A move into a protected state, in either direction: needs `enter` (or `override`) on it, and a reason. */
  protectedTarget: boolean;
  /** A forward move out of a state whose soak is not served: the 422 cause. */
  soak?: TransitionCause;
  /** States a forward jump skips that have gates of their own: only an override may skip them. */
  skipped: SkippedGate[];
  /** A forward move into a state that needs approvals: how many, and whose count. */
  approvals?: { needed: number; by: string[] };
  /** Active freezes of the target (forward moves only: rollbacks pass freezes). */
  freezes?: FreezeRef[];
  /** The target's checks (forward moves only: rollbacks pass checks), and whether the move has an approval (which lets an inconclusive check through). */
  checks?: { verdicts: CheckVerdict[]; approved: boolean; measuredIn?: string };
}

/** What the rules need besides the object: who moves it, and which freezes are active. */
export interface GateContext {
  /** The user making the move: their own approvals do not count. */
  mover?: string;
  /** Active freezes of a state for this object, now. */
  freezesOf?(state: string): FreezeRef[];
  /** Whether approvals by ServiceAccounts count for a move into `state` (a GatePolicy rule allows them); they do not when absent. */
  serviceAccountApprovals?(state: string): boolean;
  /** Where the soak of a state comes from, as the refusal names it (`spec.minSoakSeconds` when absent). */
  soakSource?(state: string): string;
  /** What the checks of the move `from` → `to` say now, from the runs the backend recorded. */
  checksOf?(from: string, to: string): CheckVerdict[];
  /** Whether a move into `state` has checks (what makes a state unskippable). */
  hasChecks?(state: string): boolean;
}


function quoteList(xs: string[]): string {
  return xs.map((x) => JSON.stringify(x)).join(', ');
}

export function formatSeconds(s: number): string {
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return [h ? `${h}h` : '', m ? `${m}m` : '', sec || (!h && !m) ? `${sec}s` : ''].join('');
}

/** The gates a state has of its own (what makes it unskippable). */
export function gatesOfState(spec: Spec, state: string, ctx: GateContext = {}): string[] {
  const g: string[] = [];
  if (spec.protectedStates?.includes(state)) g.push('protected');
  if ((spec.requiredApprovals?.[state] ?? 0) > 0) g.push('approvals');
  if ((spec.minSoakSeconds?.[state] ?? 0) > 0) g.push('soak');
  if (ctx.freezesOf?.(state).length) g.push('frozen');
  if (ctx.hasChecks?.(state)) g.push('checks');
  return g;
}

/** The target of a request, or why there is none. */
function targetOf(spec: Spec, pos: Position, req: TransitionRequest): string | Refusal {
  const invalid = (c: TransitionCause): Refusal => ({ kind: 'invalid', causes: [c] });
  if (req.action === 'promote') {
    if (pos.index < 0) return invalid({ field: 'status.state', reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(pos.state)}: the current state is no longer listed in spec.states, so there is no next state; use set-state to move to one of ${quoteList(spec.states)}` });
    const next = spec.states[pos.index + 1];
    if (next === undefined) return invalid({ field: 'status.state', reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(pos.state)}: the last state in spec.states; there is nothing to promote to (set-state can move it back)` });
    return next;
  }
  const target = req.state ?? '';
  if (!spec.states.includes(target)) return invalid({ field: 'state', reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(target)}: supported values: ${quoteList(spec.states)}` });
  if (target === pos.state && pos.index >= 0) return invalid({ field: 'state', reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(target)}: the object is already in this state` });
  return target;
}

/**
 * Decides what a state change would be, from the object as read. Pure: the
 * caller checks the permissions the move needs and turns the gates not met
 * into 422 causes (gateCauses), writing with the read resourceVersion as
 * precondition and deciding again on a conflict.
 */
export function decideTransition(obj: StoredLike, req: TransitionRequest, now: Date, ctx: GateContext = {}): Transition | Refusal {
  const { spec } = obj;
  const pos = positionOf(spec, obj.status, obj.metadata.creationTimestamp);
  if (req.from !== undefined && req.from !== pos.state) {
    const last = obj.status?.history?.[obj.status.history.length - 1];
    return { kind: 'conflict', current: pos.state, ...(last ? { lastChange: { user: last.user, time: last.time } } : {}) };
  }
  const to = targetOf(spec, pos, req);
  if (typeof to !== 'string') return to;
  const toIndex = spec.states.indexOf(to);
  // A rollback passes soak, approvals and freezes, never protection.
  const protectedTarget = spec.protectedStates?.includes(to) ?? false;
  if (pos.index >= 0 && toIndex < pos.index) return { from: pos.state, to, direction: 'backward', protectedTarget, skipped: [] };
  const left = soakRemainingSeconds(spec, pos, now);
  const min = spec.minSoakSeconds?.[pos.state] ?? 0;
  const soak: TransitionCause | undefined = left > 0
    ? { field: 'status.stateSince', reason: 'FieldValueForbidden', message: `Forbidden: ${JSON.stringify(pos.state)} needs ${formatSeconds(min)} of soak time (${ctx.soakSource?.(pos.state) ?? 'spec.minSoakSeconds'}) before promotion; ${formatSeconds(left)} left, try again after ${new Date(now.getTime() + left * 1000).toISOString()}` }
    : undefined;
  const skipped = pos.index < 0 ? [] : spec.states.slice(pos.index + 1, toIndex).map((state) => ({ state, gates: gatesOfState(spec, state, ctx) })).filter((x) => x.gates.length > 0);
  const needed = spec.requiredApprovals?.[to] ?? 0;
  const freezes = ctx.freezesOf?.(to) ?? [];
  const verdicts = ctx.checksOf?.(pos.state, to) ?? [];
  // Who approved this very move: what approvals count toward, and what lets an inconclusive check through.
  const by = needed > 0 || verdicts.length > 0 ? approversOf(obj, to, ctx.mover ?? '', ctx.serviceAccountApprovals?.(to) ?? false) : [];
  return {
    from: pos.state,
    to,
    direction: 'forward',
    protectedTarget,
    ...(soak ? { soak } : {}),
    skipped,
    ...(needed > 0 ? { approvals: { needed, by } } : {}),
    ...(freezes.length ? { freezes } : {}),
    // A jump past the state before `to`: its checks are measured only there, so none has run for this move.
    ...(verdicts.length ? { checks: { verdicts, approved: by.length > 0, ...(pos.index >= 0 && toIndex !== pos.index + 1 ? { measuredIn: spec.states[toIndex - 1]! } : {}) } } : {}),
  };
}

/** The target's checks that do not let the move through. */
function checksNotPassed(t: Transition): CheckVerdict[] {
  return (t.checks?.verdicts ?? []).filter((v) => !verdictPasses(v, t.checks!.approved));
}

/** The 422 cause of one active freeze of the target. */
function freezeCause(to: string, f: FreezeRef): TransitionCause {
  return {
    field: 'freeze',
    reason: 'FieldValueForbidden',
    message: `Forbidden: ${JSON.stringify(to)} is frozen by Freeze ${f.namespace}/${f.name}${f.end ? ` until ${f.end}` : ''}: ${f.reason}; rollbacks pass, and --override breaks glass`,
  };
}

/**
 * The gates a forward move has not met, as 422 causes, all at once: the soak
 * of the state left, skipped gated states, the reason a protected target
 * needs. An override passes them all but needs a reason itself.
 */
export function gateCauses(t: Transition, req: TransitionRequest): TransitionCause[] {
  const hasReason = !!req.reason?.trim();
  if (req.override) return hasReason ? [] : [{ field: 'reason', reason: 'FieldValueRequired', message: 'Required value: an override needs a reason (--reason)' }];
  const causes: TransitionCause[] = [];
  if (t.soak) causes.push(t.soak);
  if (t.skipped.length) {
    const what = t.skipped.map((s) => `${JSON.stringify(s.state)} (${s.gates.join(', ')})`).join(', ');
    causes.push({ field: 'state', reason: 'FieldValueForbidden', message: `Forbidden: moving to ${JSON.stringify(t.to)} skips ${what}; a jump may skip only states without gates of their own: move through them, or break glass with --override` });
  }
  if (t.approvals) {
    const c = approvalsCause(t.to, t.approvals.needed, t.approvals.by, req.mover ?? 'the mover');
    if (c) causes.push(c);
  }
  for (const f of t.freezes ?? []) causes.push(freezeCause(t.to, f));
  for (const v of checksNotPassed(t)) causes.push(checkCause(t.to, v, t.checks?.measuredIn));
  if (t.protectedTarget && !hasReason) causes.push({ field: 'reason', reason: 'FieldValueRequired', message: `Required value: entering the protected state ${JSON.stringify(t.to)} needs a reason (--reason)` });
  return causes;
}

/** What an override passed: the gates that would have refused the move. */
export function overridden(t: Transition, enterHeld: boolean): string[] {
  const g: string[] = [];
  if (t.soak) g.push('soak');
  if (t.protectedTarget && !enterHeld) g.push('protection');
  if (t.approvals && t.approvals.by.length < t.approvals.needed) g.push('approvals');
  if (t.freezes?.length) g.push('freeze');
  if (checksNotPassed(t).length) g.push('checks');
  if (t.skipped.length) g.push('skipped-states');
  return g;
}

export function isRefusal(x: Transition | Refusal): x is Refusal {
  return 'kind' in x;
}
