// Four eyes, the pure rules: approvals of a move from the current state into
// a later one, given by holders of `approve` on the target (the caller checks
// that permission), counted only while the object stays in that state with
// the spec and the labels that were approved, and never the mover's own.
// Four eyes are two people: approvals by ServiceAccounts (which whoever may
// bind roles in a namespace can make and approve as) count only where a
// GatePolicy rule says `serviceAccountApprovals: true`.
import { createHash } from 'node:crypto';
import type { Approval, StoredStatus } from '../../../api/src/types.ts';
import { positionOf, type StoredLike } from './position.ts';
import type { Refusal, TransitionCause } from './refusal.ts';

export interface ApprovalLike extends StoredLike {
  metadata: { creationTimestamp?: string; generation?: number; labels?: Record<string, string> };
  status?: StoredStatus;
}

/** How a ServiceAccount's user name begins, and the group every ServiceAccount is in (k8s.io/apiserver's serviceaccount package). */
const SERVICE_ACCOUNT_USER_PREFIX = 'system:serviceaccount:';
const SERVICE_ACCOUNTS_GROUP = 'system:serviceaccounts';

/** Whether the user is a ServiceAccount: by its user name, or by the group all ServiceAccounts are in. */
export function isServiceAccount(user: { name: string; groups?: readonly string[] }): boolean {
  return user.name.startsWith(SERVICE_ACCOUNT_USER_PREFIX) || (user.groups ?? []).includes(SERVICE_ACCOUNTS_GROUP);
}

/** Whether an approval was given by a ServiceAccount: recorded so when given, or by its user name (approvals from before the record). */
function byServiceAccount(a: Approval): boolean {
  return a.serviceAccount === true || a.user.startsWith(SERVICE_ACCOUNT_USER_PREFIX);
}

/**
 * A short fingerprint of an object's labels (the first 16 hex digits of the
 * SHA-256 of the [key, value] pairs sorted by key, as JSON); undefined for an
 * object without labels, whose approvals record none.
 */
export function labelsFingerprint(labels: Readonly<Record<string, string>> | undefined): string | undefined {
  const pairs = Object.entries(labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (!pairs.length) return undefined;
  return createHash('sha256').update(JSON.stringify(pairs)).digest('hex').slice(0, 16);
}

/** Approvals that still count: of a move out of the current state, for the current spec and labels. */
export function validApprovals(obj: ApprovalLike): Approval[] {
  const pos = positionOf(obj.spec, obj.status, obj.metadata.creationTimestamp);
  const generation = obj.metadata.generation ?? 0;
  const labels = labelsFingerprint(obj.metadata.labels);
  return (obj.status?.approvals ?? []).filter((a) => a.from === pos.state && (a.generation ?? 0) === generation && a.labelsHash === labels);
}

/**
 * The distinct users, other than `mover`, whose approvals count for a move
 * into `to`; ServiceAccounts' only when `serviceAccountsCount` (a GatePolicy
 * rule that selects the object allows them for `to`).
 */
export function approversOf(obj: ApprovalLike, to: string, mover: string, serviceAccountsCount = false): string[] {
  return [...new Set(validApprovals(obj).filter((a) => a.to === to && a.user !== mover && (serviceAccountsCount || !byServiceAccount(a))).map((a) => a.user))];
}

/** The 422 cause when a ServiceAccount approves a move into `to` where its approval would not count. */
function serviceAccountCause(to: string, user: string): TransitionCause {
  return {
    field: 'status.approvals',
    reason: 'FieldValueForbidden',
    message: `Forbidden: ${user} is a ServiceAccount: approvals by ServiceAccounts do not count for a move into ${JSON.stringify(to)} unless a GatePolicy rule that selects the object allows them with serviceAccountApprovals: true`,
  };
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

/** Who approves, besides their name: whether they are a ServiceAccount, and where ServiceAccounts' approvals count. */
export interface ApproverContext {
  /** The approver is a ServiceAccount (isServiceAccount: its name or its groups); a ServiceAccount's name is enough. */
  serviceAccount?: boolean;
  /** Whether ServiceAccounts' approvals count for a move into `to` (a GatePolicy rule allows them); nowhere when absent. */
  serviceAccountApprovals?(to: string): boolean;
}

/** What an approval request changes: nothing (already so), or the new list of approvals. */
export type ApprovalDecision = { to: string; from: string; unchanged: true } | { to: string; from: string; unchanged: false; approvals: Approval[] };

const invalid = (field: string, message: string): Refusal => ({ kind: 'invalid', causes: [{ field, reason: 'FieldValueInvalid', message }] });

/**
 * Decides an approval (or its revocation) by `user` at `now`; the caller
 * checks `approve` on the target. A ServiceAccount's approval is refused
 * where it would not count; it may always revoke its own.
 */
export function decideApproval(obj: ApprovalLike, req: ApprovalRequest, user: string, now: Date, ctx: ApproverContext = {}): ApprovalDecision | Refusal {
  const { spec } = obj;
  const pos = positionOf(spec, obj.status, obj.metadata.creationTimestamp);
  if (req.from !== undefined && req.from !== pos.state) return { kind: 'conflict', current: pos.state };
  if (pos.index < 0) return invalid('status.state', `Invalid value: ${JSON.stringify(pos.state)}: the current state is no longer listed in spec.states; there is no move to approve`);
  const to = req.to ?? spec.states[pos.index + 1];
  if (to === undefined) return invalid('to', `Invalid value: ${JSON.stringify(pos.state)} is the last state; there is no next state to approve`);
  const toIndex = spec.states.indexOf(to);
  if (toIndex < 0) return { kind: 'invalid', causes: [{ field: 'to', reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(to)}: supported values: ${spec.states.filter((_, i) => i > pos.index).map((s) => JSON.stringify(s)).join(', ')}` }] };
  if (toIndex <= pos.index) return invalid('to', `Invalid value: ${JSON.stringify(to)}: only a move forward from ${JSON.stringify(pos.state)} is approved (a rollback needs no approval)`);
  const serviceAccount = ctx.serviceAccount === true || isServiceAccount({ name: user });
  if (serviceAccount && !req.revoke && !ctx.serviceAccountApprovals?.(to)) return { kind: 'invalid', causes: [serviceAccountCause(to, user)] };
  const kept = validApprovals(obj);
  const mine = kept.find((a) => a.to === to && a.user === user);
  if (req.revoke) {
    if (!mine) return invalid('revoke', `Invalid value: true: ${user} has not approved the move from ${JSON.stringify(pos.state)} to ${JSON.stringify(to)}`);
    return { to, from: pos.state, unchanged: false, approvals: kept.filter((a) => a !== mine) };
  }
  // Approving twice counts once.
  if (mine) return { to, from: pos.state, unchanged: true };
  const labelsHash = labelsFingerprint(obj.metadata.labels);
  const approval: Approval = {
    to,
    from: pos.state,
    user,
    time: now.toISOString(),
    ...(req.reason ? { reason: req.reason } : {}),
    generation: obj.metadata.generation ?? 0,
    ...(labelsHash ? { labelsHash } : {}),
    ...(serviceAccount ? { serviceAccount: true } : {}),
  };
  return { to, from: pos.state, unchanged: false, approvals: [...kept, approval] };
}
