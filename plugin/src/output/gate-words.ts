// Gates in words, for describe-state's printer and the dashboard's detail
// panel alike: why promote is refused now (describe-state's
// gates.promoteBlockedBy; a value a newer server sends and this list lacks
// is shown as it is), where a gate comes from, and a check's result.
import type { GateSource, PromoteBlocker } from '../../../api/src/types.ts';

const BLOCKERS: Readonly<Record<PromoteBlocker, string>> = {
  'invalid-state': 'the current state is not in the path',
  'last-state': 'already at the last state',
  soak: 'soak time not served',
  permission: 'no permission to promote',
  'enter-permission': 'no permission to enter the next state',
  approvals: 'approvals missing',
  freeze: 'the next state is frozen',
  checks: 'checks not passed',
};

export function blockerText(blocker: string): string {
  return Object.hasOwn(BLOCKERS, blocker) ? BLOCKERS[blocker as PromoteBlocker] : blocker;
}

/** `spec`, or `GatePolicy NAMESPACE/NAME`. */
export function gateSourceText(s: GateSource): string {
  return s.kind === 'spec' ? 'spec' : `GatePolicy ${s.namespace ?? ''}/${s.name ?? ''}`;
}

const CHECK_RESULTS: Readonly<Record<string, string>> = {
  Running: 'pending',
  Successful: 'pass',
  Failed: 'fail',
  Inconclusive: 'inconclusive',
  Error: 'error',
};

/**
 * A check run's or measurement's phase (api/src/checks.ts) as people say
 * it: pass, fail, pending (still running), inconclusive (a human decides) or
 * error (the provider could not be asked; never a pass). A phase a newer
 * server sends and this list lacks is shown as it is.
 */
export function checkResultWord(phase: string): string {
  return Object.hasOwn(CHECK_RESULTS, phase) ? CHECK_RESULTS[phase]! : phase;
}
