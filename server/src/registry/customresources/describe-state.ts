// The describe-state document (GET …/state, and the answer to a change):
// where the object stands, the path, every gate of the next move with where
// it comes from, and what the caller may do.
import { GROUP_VERSION, STATE_KIND } from '../../../../api/src/names.ts';
import type { CustomResourceState, FreezeRef, GateCheck, PromoteBlocker, Spec, Status, StoredObject } from '../../../../api/src/types.ts';
import { approversOf, validApprovals } from '../../state/approvals.ts';
import { checkGateRun, verdictPasses, verdictsOfMove } from '../../state/check-gates.ts';
import { formatGateSource } from '../../state/effective-gates.ts';
import { positionOf } from '../../state/position.ts';
import type { EffectiveSpec } from '../../state/gate-sources.ts';
import { formatSeconds } from '../../state/transitions.ts';
import { toCustomResource } from './view.ts';

/** What the caller may do, as the authorizer answered. */
export interface Permissions {
  /** create on customresources/promote. */
  promote: boolean;
  /** update on customresources/state. */
  setState: boolean;
  /** enter on states/<next>; true when the next state is not protected. */
  enterNext: boolean;
  /** create on customresources/approve and approve on states/<next>. */
  approveNext?: boolean;
  /** override on states/<next>. */
  overrideNext?: boolean;
}

/** What describe-state needs besides the object: its effective gates and the freezes of its next state. */
export interface DescribeContext {
  gates: EffectiveSpec;
  /** Active freezes of the next state. */
  freezes: FreezeRef[];
  /** Who asks: their own approval would not count for their own move. */
  user: string;
}

/** The next state when it is protected (by spec or policy): describe-state asks whether the caller may enter it. */
export function protectedNextState(obj: StoredObject, now: Date, spec: Spec = obj.spec): string | undefined {
  const next = toCustomResource(obj, now).status.nextState;
  return next !== undefined && spec.protectedStates?.includes(next) ? next : undefined;
}

/** Every gate of the move into `next`, met or not, with its sources. */
function gateChecks(obj: StoredObject, st: Status, next: string, may: Permissions, ctx: DescribeContext): GateCheck[] {
  const { spec, sources } = ctx.gates;
  const src = (key: string) => sources.get(key) ?? [];
  const checks: GateCheck[] = [];
  const min = spec.minSoakSeconds?.[st.state] ?? 0;
  if (min > 0) {
    const left = st.soakRemainingSeconds ?? 0;
    checks.push({ gate: 'soak', met: left === 0, message: `${formatSeconds(min)} in ${st.state} before moving on: ${left ? `${formatSeconds(left)} left` : 'served'}`, sources: src(`soak/${st.state}`), soakRemainingSeconds: left });
  }
  if (spec.protectedStates?.includes(next)) {
    checks.push({ gate: 'protection', met: may.enterNext, message: `${next} is protected: entering needs the "enter" permission and a reason (${may.enterNext ? 'you have it' : 'you do not have it'})`, sources: src(`protected/${next}`) });
  }
  const needed = spec.requiredApprovals?.[next] ?? 0;
  // ServiceAccounts' approvals count only where a GatePolicy rule allows them.
  const allowedBy = ctx.gates.serviceAccountApprovals?.get(next);
  // Who approved this very move (not the caller): what approvals count toward, and what lets an inconclusive check through.
  const by = approversOf({ ...obj, spec }, next, ctx.user, allowedBy !== undefined);
  if (needed > 0) {
    // Say either way whether ServiceAccounts' approvals count.
    const uncounted = allowedBy ? [] : approversOf({ ...obj, spec }, next, ctx.user, true).filter((u) => !by.includes(u));
    const serviceAccounts = allowedBy
      ? `; approvals by ServiceAccounts count (${allowedBy.map(formatGateSource).join(', ')})`
      : uncounted.length ? `; not counted: ${uncounted.join(', ')} (approvals by ServiceAccounts count only where a GatePolicy rule says serviceAccountApprovals: true)` : '';
    const more = Math.max(0, needed - by.length);
    checks.push({ gate: 'approvals', met: more === 0, message: `${needed} approval${needed === 1 ? '' : 's'} by others: ${by.length ? `given by ${by.join(', ')}` : 'none given yet'}${more ? `, ${more} more needed` : ''}${serviceAccounts}`, sources: src(`approvals/${next}`), approvals: { needed, by } });
  }
  for (const f of ctx.freezes) {
    checks.push({ gate: 'freeze', met: false, message: `frozen by ${f.namespace}/${f.name}${f.end ? ` until ${f.end}` : ''}: ${f.reason}`, sources: [], freezes: [f] });
  }
  const verdicts = verdictsOfMove(obj, ctx.gates.checks, st.state, next, positionOf(obj.spec, obj.status, obj.metadata.creationTimestamp).since);
  const approved = by.length > 0;
  for (const v of verdicts) {
    const run = checkGateRun(v);
    const met = verdictPasses(v, approved);
    const pending = v.phase === 'Running' ? `, ${run.measured} of ${run.count} measured${run.nextMeasurementAt ? `, next at ${run.nextMeasurementAt}` : ''}` : '';
    const inconclusive = v.phase === 'Inconclusive' ? (approved ? ' (approved past it)' : ' (needs an approval)') : '';
    checks.push({ gate: 'checks', met, message: `check ${run.name}: ${run.successCondition}: ${v.phase}${inconclusive}${pending}`, sources: [v.check.source], check: run });
  }
  return checks;
}

/** The describe-state document: where the object stands, its gates, what the caller may do, its history. */
export function describeState(obj: StoredObject, now: Date, may: Permissions, ctx?: DescribeContext): CustomResourceState {
  const { status, metadata } = obj;
  const spec = ctx?.gates.spec ?? obj.spec;
  // Where it stands: the same computed status the read side serves.
  const st = toCustomResource({ ...obj, spec }, now).status;
  const next = st.nextState;
  const soakLeft = st.soakRemainingSeconds ?? 0;
  const nextProtected = protectedNextState(obj, now, spec) !== undefined;
  const checks = next !== undefined && ctx ? gateChecks(obj, st, next, may, ctx) : [];
  const blockedBy: PromoteBlocker[] = [];
  if (!st.valid) blockedBy.push('invalid-state');
  else if (next === undefined) blockedBy.push('last-state');
  if (soakLeft > 0) blockedBy.push('soak');
  if (checks.some((c) => c.gate === 'approvals' && !c.met)) blockedBy.push('approvals');
  if (checks.some((c) => c.gate === 'freeze')) blockedBy.push('freeze');
  if (checks.some((c) => c.gate === 'checks' && !c.met)) blockedBy.push('checks');
  if (!may.promote) blockedBy.push('permission');
  if (nextProtected && !may.enterNext) blockedBy.push('enter-permission');
  return {
    kind: STATE_KIND,
    apiVersion: GROUP_VERSION,
    metadata: { name: metadata.name, namespace: metadata.namespace, uid: metadata.uid, resourceVersion: metadata.resourceVersion, generation: metadata.generation, creationTimestamp: metadata.creationTimestamp },
    displayName: spec.name,
    state: st.state,
    ...(st.stateSince ? { stateSince: st.stateSince } : {}),
    ...(st.secondsInState !== undefined ? { secondsInState: st.secondsInState } : {}),
    path: spec.states,
    position: spec.states.indexOf(st.state),
    ...(next ? { nextState: next } : {}),
    valid: st.valid,
    ...(st.message ? { message: st.message } : {}),
    protectedStates: spec.protectedStates ?? [],
    gates: {
      minSoakSeconds: spec.minSoakSeconds?.[st.state] ?? 0,
      soakRemainingSeconds: soakLeft,
      nextStateProtected: nextProtected,
      reasonRequired: nextProtected,
      promoteBlockedBy: blockedBy,
    },
    allowed: {
      promote: may.promote && may.enterNext && blockedBy.length === 0,
      promoteVerb: may.promote,
      setState: may.setState,
      enterNextState: may.enterNext,
      ...(may.approveNext !== undefined ? { approveNextState: may.approveNext } : {}),
      ...(may.overrideNext !== undefined ? { overrideNextState: may.overrideNext } : {}),
    },
    history: status?.history ?? [],
    ...(ctx ? { checks, approvals: validApprovals(obj) } : {}),
  };
}
