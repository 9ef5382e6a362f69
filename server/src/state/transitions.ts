// The state machine's pure rules: where an object is on its path, what comes
// next, and how long it must still soak. No I/O; `now` is passed in.
import type { Spec, StoredStatus } from '../../../api/src/types.ts';

export interface Position {
  /** status.state, or spec.states[0] for an object never moved. */
  state: string;
  /** Index of `state` in spec.states; -1 when the spec no longer lists it. */
  index: number;
  /** When the object entered `state`: status.stateSince, else its creation. */
  since?: string;
}

export function positionOf(spec: Spec, status: StoredStatus | undefined, creationTimestamp?: string): Position {
  const state = status?.state || spec.states[0] || '';
  const since = status?.state ? status.stateSince : (status?.stateSince ?? creationTimestamp);
  return { state, index: spec.states.indexOf(state), ...(since ? { since } : {}) };
}

/** The state promote moves to, or undefined at the last state or off the path. */
export function nextStateOf(spec: Spec, pos: Position): string | undefined {
  if (pos.index < 0) return undefined;
  return spec.states[pos.index + 1];
}

export function secondsInState(pos: Position, now: Date): number | undefined {
  if (!pos.since) return undefined;
  const t = Date.parse(pos.since);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, Math.floor((now.getTime() - t) / 1000));
}

/** Seconds of `minSoakSeconds[state]` not yet served; 0 when none is set or it is served. */
export function soakRemainingSeconds(spec: Spec, pos: Position, now: Date): number {
  const min = spec.minSoakSeconds?.[pos.state] ?? 0;
  if (min <= 0) return 0;
  const inState = secondsInState(pos, now);
  if (inState === undefined) return min;
  return Math.max(0, min - inState);
}

export interface TransitionRequest {
  action: 'promote' | 'set-state';
  /** set-state: the target. */
  state?: string;
  /** The state the caller saw; if given it must be the current state. */
  from?: string;
  reason?: string;
}

export interface TransitionCause {
  field: string;
  reason: 'FieldValueInvalid' | 'FieldValueNotSupported' | 'FieldValueRequired' | 'FieldValueForbidden';
  message: string;
}

/** Why a transition is refused, before any permission check. */
export type Refusal =
  | { kind: 'conflict'; current: string; lastChange?: { user: string; time: string } }
  | { kind: 'invalid'; causes: TransitionCause[] };

export interface Transition {
  from: string;
  to: string;
  /** The target is a protected state: the caller needs `enter` on it and a reason. */
  protectedTarget: boolean;
}

export interface StoredLike {
  spec: Spec;
  status?: StoredStatus;
  metadata: { creationTimestamp?: string };
}

function quoteList(xs: string[]): string {
  return xs.map((x) => JSON.stringify(x)).join(', ');
}

function formatSeconds(s: number): string {
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return [h ? `${h}h` : '', m ? `${m}m` : '', sec || (!h && !m) ? `${sec}s` : ''].join('');
}

/**
 * Decides a state change from the object as read. Pure: the caller checks
 * permissions for protected targets and writes with the read
 * resourceVersion as precondition, re-deciding on a conflict.
 */
export function decideTransition(obj: StoredLike, req: TransitionRequest, now: Date): Transition | Refusal {
  const { spec } = obj;
  const pos = positionOf(spec, obj.status, obj.metadata.creationTimestamp);
  if (req.from !== undefined && req.from !== pos.state) {
    const last = obj.status?.history?.[obj.status.history.length - 1];
    return { kind: 'conflict', current: pos.state, ...(last ? { lastChange: { user: last.user, time: last.time } } : {}) };
  }
  const causes: TransitionCause[] = [];
  let to: string;
  if (req.action === 'promote') {
    if (pos.index < 0) {
      return { kind: 'invalid', causes: [{ field: 'status.state', reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(pos.state)}: the current state is no longer listed in spec.states, so there is no next state; use set-state to move to one of ${quoteList(spec.states)}` }] };
    }
    const next = spec.states[pos.index + 1];
    if (next === undefined) {
      return { kind: 'invalid', causes: [{ field: 'status.state', reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(pos.state)}: the last state in spec.states; there is nothing to promote to (set-state can move it back)` }] };
    }
    to = next;
    const left = soakRemainingSeconds(spec, pos, now);
    if (left > 0) {
      const min = spec.minSoakSeconds?.[pos.state] ?? 0;
      causes.push({ field: 'status.stateSince', reason: 'FieldValueForbidden', message: `Forbidden: ${JSON.stringify(pos.state)} needs ${formatSeconds(min)} of soak time (spec.minSoakSeconds) before promotion; ${formatSeconds(left)} left, try again after ${new Date(now.getTime() + left * 1000).toISOString()}` });
    }
  } else {
    const target = req.state ?? '';
    if (!spec.states.includes(target)) {
      return { kind: 'invalid', causes: [{ field: 'state', reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(target)}: supported values: ${quoteList(spec.states)}` }] };
    }
    if (target === pos.state && pos.index >= 0) {
      return { kind: 'invalid', causes: [{ field: 'state', reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(target)}: the object is already in this state` }] };
    }
    to = target;
  }
  const protectedTarget = spec.protectedStates?.includes(to) ?? false;
  if (protectedTarget && !(req.reason ?? '').trim()) {
    causes.push({ field: 'reason', reason: 'FieldValueRequired', message: `Required value: entering the protected state ${JSON.stringify(to)} needs a reason (--reason)` });
  }
  if (causes.length) return { kind: 'invalid', causes };
  return { from: pos.state, to, protectedTarget };
}

export function isRefusal(x: Transition | Refusal): x is Refusal {
  return 'kind' in x;
}
