// Where an object is on its path, and for how long: the pure facts every
// rule starts from (transitions, approvals, the gate invariant, the views).
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

/** What the rules read of an object. */
export interface StoredLike {
  spec: Spec;
  status?: StoredStatus;
  metadata: { creationTimestamp?: string; generation?: number };
}
