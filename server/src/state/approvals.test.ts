import { describe, expect, it } from 'vitest';
import type { Approval, Spec, StoredStatus } from '../../../api/src/types.ts';
import { approvalsCause, approversOf, decideApproval, validApprovals, type ApprovalLike } from './approvals.ts';

const NOW = new Date('2026-06-01T12:00:00Z');
const SPEC: Spec = { name: 'x', states: ['dev', 'staging', 'prod'], requiredApprovals: { prod: 2 } };
const ap = (user: string, to = 'prod', from = 'staging', generation = 1): Approval => ({ to, from, user, time: '2026-06-01T11:00:00Z', generation });
const obj = (status: StoredStatus = { state: 'staging' }, generation = 1): ApprovalLike => ({ spec: SPEC, status, metadata: { creationTimestamp: '2026-01-01T00:00:00Z', generation } });

describe('validApprovals', () => {
  it('keeps approvals of moves out of the current state, for the current spec', () => {
    const o = obj({ state: 'staging', approvals: [ap('bob'), ap('carol', 'prod', 'dev'), ap('dave', 'prod', 'staging', 0)] });
    expect(validApprovals(o).map((a) => a.user)).toEqual(['bob']);
  });
});

describe('approversOf', () => {
  it('counts distinct users other than the mover, for this target', () => {
    const o = obj({ state: 'staging', approvals: [ap('bob'), ap('alice'), ap('carol', 'staging')] });
    expect(approversOf(o, 'prod', 'alice')).toEqual(['bob']);
  });
});

describe('approvalsCause', () => {
  it.each([
    { name: 'none given', by: [], want: 'needs 2 approvals by holders of "approve" on it other than alice: none given yet, 2 more needed' },
    { name: 'one given', by: ['bob'], want: '1 given (by bob), 1 more needed' },
  ])('$name', ({ by, want }) => {
    expect(approvalsCause('prod', 2, by, 'alice')?.message).toContain(want);
  });
  it('nothing when enough are given', () => {
    expect(approvalsCause('prod', 2, ['bob', 'carol'], 'alice')).toBeUndefined();
  });
});

describe('decideApproval', () => {
  it.each([
    { name: 'the next state by default', req: {}, status: { state: 'staging' }, want: { to: 'prod', from: 'staging', unchanged: false } },
    { name: 'a later state approves a jump', req: { to: 'prod' }, status: { state: 'dev' }, want: { to: 'prod', from: 'dev', unchanged: false } },
    { name: 'twice counts once', req: {}, status: { state: 'staging', approvals: [ap('bob')] }, want: { to: 'prod', from: 'staging', unchanged: true } },
    { name: 'revoke removes only the caller\'s', req: { revoke: true }, status: { state: 'staging', approvals: [ap('bob'), ap('carol')] }, want: { to: 'prod', from: 'staging', unchanged: false } },
  ])('$name', ({ req, status, want }) => {
    const got = decideApproval(obj(status as StoredStatus), req, 'bob', NOW);
    expect(got).toMatchObject(want);
    if ('approvals' in got && req.revoke) expect(got.approvals.map((a) => a.user)).toEqual(['carol']);
    if ('approvals' in got && !req.revoke) expect(got.approvals.at(-1)).toEqual({ to: want.to, from: want.from, user: 'bob', time: NOW.toISOString(), generation: 1 });
  });

  it.each([
    { name: 'a stale from', req: { from: 'dev' }, status: { state: 'staging' }, kind: 'conflict' },
    { name: 'at the last state', req: {}, status: { state: 'prod' }, kind: 'invalid', field: 'to' },
    { name: 'an unknown state', req: { to: 'qa' }, status: { state: 'staging' }, kind: 'invalid', field: 'to' },
    { name: 'a state behind', req: { to: 'dev' }, status: { state: 'staging' }, kind: 'invalid', field: 'to' },
    { name: 'the current state', req: { to: 'staging' }, status: { state: 'staging' }, kind: 'invalid', field: 'to' },
    { name: 'revoking what was not given', req: { revoke: true }, status: { state: 'staging' }, kind: 'invalid', field: 'revoke' },
    { name: 'from a state no longer listed', req: {}, status: { state: 'qa' }, kind: 'invalid', field: 'status.state' },
  ])('refuses $name', ({ req, status, kind, field }) => {
    const got = decideApproval(obj(status as StoredStatus), req, 'bob', NOW);
    expect(got).toMatchObject({ kind });
    if (field) expect((got as { causes: { field: string }[] }).causes[0]?.field).toBe(field);
  });
});
