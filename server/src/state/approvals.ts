// Four eyes, the pure rules: approvals of a move from the current state into
// a later one, given by holders of `approve` on the target (the caller checks
// that permission), counted only while the object stays in that state with
// the spec that was approved, and never the mover's own.
import type { Approval, StoredStatus } from '../../../api/src/types.ts';
import { positionOf, type Refusal, type StoredLike, type TransitionCause } from './transitions.ts';

export interface ApprovalLike extends StoredLike {
  metadata: { creationTimestamp?: string; generation?: number };
  status?: StoredStatus;
}

/** Approvals that still count: of a move out of the current state, for the current spec. */
export function validApprovals(obj: ApprovalLike): Approval[] {
  const pos = positionOf(obj.spec, obj.status, obj.metadata.creationTimestamp);
  const generation = obj.metadata.generation ?? 0;
  return (obj.status?.approvals ?? []).filter((a) => a.from === pos.state && (a.generation ?? 0) === generation);
}

/** The distinct users, other than `mover`, whose approvals count for a move into `to`. */
export function approversOf(obj: ApprovalLike, to: string, mover: string): string[] {
  return [...new Set(validApprovals(obj).filter((a) => a.to === to && a.user !== mover).map((a) => a.user))];
}

/** The 422 cause when a move into `to` has fewer approvals than it needs, saying who gave them and how many more. */
export function approvalsCause(to: string, needed: number, by: string[], mover: string): TransitionCause | undefined {
  if (by.length >= needed) return undefined;
  const given = by.length ? `${by.length} given (by ${by.join(', ')})` : 'none given yet';
  return {
    field: 'status.approvals',
    reason: 'FieldValueForbidden',
    message: `Forbidden: moving into ${JSON.stringify(to)} needs ${needed} approval${needed === 1 ? '' : 's'} by holders of "approve" on it other than ${mover}: ${given}, ${needed - by.length} more needed (kubectl custom approve)`,
  };
}

export interface ApprovalRequest {
  /** The target; the next state by default. */
  to?: string;
  /** The state the approver saw; if given it must be the current state. */
  from?: string;
  reason?: string;
  revoke?: boolean;
}

/** What an approval request changes: nothing (already so), or the new list of approvals. */
export type ApprovalDecision = { to: string; from: string; unchanged: true } | { to: string; from: string; unchanged: false; approvals: Approval[] };

const invalid = (field: string, message: string): Refusal => ({ kind: 'invalid', causes: [{ field, reason: 'FieldValueInvalid', message }] });

/** Decides an approval (or its revocation) by `user` at `now`; the caller has checked `approve` on the target. */
export function decideApproval(obj: ApprovalLike, req: ApprovalRequest, user: string, now: Date): ApprovalDecision | Refusal {
  const { spec } = obj;
  const pos = positionOf(spec, obj.status, obj.metadata.creationTimestamp);
  if (req.from !== undefined && req.from !== pos.state) return { kind: 'conflict', current: pos.state };
  if (pos.index < 0) return invalid('status.state', `Invalid value: ${JSON.stringify(pos.state)}: the current state is no longer listed in spec.states; there is no move to approve`);
  const to = req.to ?? spec.states[pos.index + 1];
  if (to === undefined) return invalid('to', `Invalid value: ${JSON.stringify(pos.state)} is the last state; there is no next state to approve`);
  const toIndex = spec.states.indexOf(to);
  if (toIndex < 0) return { kind: 'invalid', causes: [{ field: 'to', reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(to)}: supported values: ${spec.states.filter((_, i) => i > pos.index).map((s) => JSON.stringify(s)).join(', ')}` }] };
  if (toIndex <= pos.index) return invalid('to', `Invalid value: ${JSON.stringify(to)}: only a move forward from ${JSON.stringify(pos.state)} is approved (a rollback needs no approval)`);
  const kept = validApprovals(obj);
  const mine = kept.find((a) => a.to === to && a.user === user);
  if (req.revoke) {
    if (!mine) return invalid('revoke', `Invalid value: true: ${user} has not approved the move from ${JSON.stringify(pos.state)} to ${JSON.stringify(to)}`);
    return { to, from: pos.state, unchanged: false, approvals: kept.filter((a) => a !== mine) };
  }
  // Approving twice counts once.
  if (mine) return { to, from: pos.state, unchanged: true };
  const approval: Approval = { to, from: pos.state, user, time: now.toISOString(), ...(req.reason ? { reason: req.reason } : {}), generation: obj.metadata.generation ?? 0 };
  return { to, from: pos.state, unchanged: false, approvals: [...kept, approval] };
}
