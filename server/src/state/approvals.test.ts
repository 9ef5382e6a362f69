import { describe, expect, it } from 'vitest';
import type { Approval, Spec, StoredStatus } from '../../../api/src/types.ts';
import { approvalsCause, approversOf, decideApproval, isServiceAccount, labelsFingerprint, validApprovals, type ApprovalLike } from './approvals.ts';
import { decideTransition } from './transitions.ts';

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

// Four eyes are two people: a ServiceAccount its own maker binds `approve` to
// is no second pair, unless a GatePolicy rule says its approvals count.
const SA = 'system:serviceaccount:shop:bot';

describe('isServiceAccount', () => {
  it.each([
    { name: 'a person', user: { name: 'alice', groups: ['system:authenticated'] }, want: false },
    { name: 'a ServiceAccount by its user name', user: { name: SA, groups: [] }, want: true },
    { name: 'a ServiceAccount by its group alone', user: { name: 'bot', groups: ['system:serviceaccounts', 'system:authenticated'] }, want: true },
    { name: 'a ServiceAccount namespace group alone is not the group', user: { name: 'carol', groups: ['system:serviceaccounts:shop'] }, want: false },
    { name: 'a name that only looks alike', user: { name: 'system:serviceaccounts-fan', groups: [] }, want: false },
  ])('$name', ({ user, want }) => {
    expect(isServiceAccount(user)).toBe(want);
  });
});

describe('approversOf: ServiceAccounts', () => {
  const saAp = (user: string, extra: Partial<Approval> = {}): Approval => ({ ...ap(user), ...extra });
  it.each([
    { name: 'a ServiceAccount by name does not count by default', approvals: [saAp(SA)], allowed: undefined, want: [] },
    { name: 'a ServiceAccount by name counts where allowed', approvals: [saAp(SA)], allowed: true, want: [SA] },
    { name: 'an approval recorded as by a ServiceAccount (its group) does not count', approvals: [saAp('bot', { serviceAccount: true })], allowed: false, want: [] },
    { name: 'an approval recorded as by a ServiceAccount counts where allowed', approvals: [saAp('bot', { serviceAccount: true })], allowed: true, want: ['bot'] },
    { name: 'people count either way', approvals: [saAp('bob'), saAp(SA)], allowed: false, want: ['bob'] },
  ])('$name', ({ approvals, allowed, want }) => {
    const o = obj({ state: 'staging', approvals });
    expect(allowed === undefined ? approversOf(o, 'prod', 'alice') : approversOf(o, 'prod', 'alice', allowed)).toEqual(want);
  });
});

describe('decideApproval: ServiceAccounts', () => {
  it.each([
    { name: 'refused where no GatePolicy rule allows them', user: SA, ctx: { serviceAccount: true }, want: 'refused' },
    { name: 'refused by the user name even if not said to be one', user: SA, ctx: {}, want: 'refused' },
    { name: 'refused where only another state allows them', user: SA, ctx: { serviceAccount: true, serviceAccountApprovals: (to: string) => to === 'staging' }, want: 'refused' },
    { name: 'recorded as by a ServiceAccount where allowed', user: SA, ctx: { serviceAccount: true, serviceAccountApprovals: (to: string) => to === 'prod' }, want: 'recorded' },
    { name: 'a ServiceAccount by its group alone, where allowed', user: 'bot', ctx: { serviceAccount: true, serviceAccountApprovals: () => true }, want: 'recorded' },
    { name: 'a person needs no allowance', user: 'bob', ctx: {}, want: 'person' },
  ])('$name', ({ user, ctx, want }) => {
    const got = decideApproval(obj({ state: 'staging' }), {}, user, NOW, ctx);
    if (want === 'refused') {
      expect(got).toMatchObject({ kind: 'invalid', causes: [{ field: 'status.approvals', reason: 'FieldValueForbidden' }] });
      expect((got as { causes: { message: string }[] }).causes[0]?.message).toBe(`Forbidden: ${user} is a ServiceAccount: approvals by ServiceAccounts do not count for a move into "prod" unless a GatePolicy rule that selects the object allows them with serviceAccountApprovals: true`);
    } else {
      expect('approvals' in got && got.approvals.at(-1)).toEqual({ to: 'prod', from: 'staging', user, time: NOW.toISOString(), generation: 1, ...(want === 'recorded' ? { serviceAccount: true } : {}) });
    }
  });

  it('a ServiceAccount may always revoke its own approval, allowed or not', () => {
    const got = decideApproval(obj({ state: 'staging', approvals: [ap(SA), ap('bob')] }), { revoke: true }, SA, NOW, { serviceAccount: true });
    expect('approvals' in got && got.approvals.map((a) => a.user)).toEqual(['bob']);
  });

  it('approving again where no longer allowed is refused, not "unchanged"', () => {
    const got = decideApproval(obj({ state: 'staging', approvals: [ap(SA)] }), {}, SA, NOW, { serviceAccount: true });
    expect(got).toMatchObject({ kind: 'invalid' });
  });
});

describe('decideTransition counts ServiceAccounts only where allowed (the policy may have changed since they approved)', () => {
  it.each([
    { name: 'not allowed: the approval is missing', ctx: { mover: 'alice' }, want: [] },
    { name: 'allowed for another state: still missing', ctx: { mover: 'alice', serviceAccountApprovals: (s: string) => s === 'staging' }, want: [] },
    { name: 'allowed for the target: it counts', ctx: { mover: 'alice', serviceAccountApprovals: (s: string) => s === 'prod' }, want: [SA] },
  ])('$name', ({ ctx, want }) => {
    const t = decideTransition(obj({ state: 'staging', approvals: [ap(SA, 'prod', 'staging', 1)] }), { action: 'promote' }, NOW, ctx);
    expect(t).toMatchObject({ to: 'prod', approvals: { needed: 2, by: want } });
  });
});

// Labels decide which GatePolicy rules and Freezes hold an object: an
// approval is of the object as it was labelled, as of the spec it had.
describe('approvals lapse when the labels change', () => {
  const labelled = (labels: Record<string, string> | undefined, approvals: Approval[]): ApprovalLike => ({ ...obj({ state: 'staging', approvals }), metadata: { creationTimestamp: '2026-01-01T00:00:00Z', generation: 1, ...(labels ? { labels } : {}) } });
  const given = (labels: Record<string, string> | undefined): Approval => ({ ...ap('bob'), ...(labelsFingerprint(labels) ? { labelsHash: labelsFingerprint(labels) } : {}) });
  type Labels = Record<string, string> | undefined;
  it.each<{ name: string; at: Labels; now: Labels; counts: boolean }>([
    { name: 'same labels: counts', at: { team: 'payments' }, now: { team: 'payments' }, counts: true },
    { name: 'same labels in another order: counts', at: { team: 'payments', tier: 'web' }, now: { tier: 'web', team: 'payments' }, counts: true },
    { name: 'a value changed: lapsed', at: { team: 'payments' }, now: { team: 'search' }, counts: false },
    { name: 'a label removed: lapsed', at: { team: 'payments', tier: 'web' }, now: { tier: 'web' }, counts: false },
    { name: 'a label added: lapsed', at: { team: 'payments' }, now: { team: 'payments', freeze: 'no' }, counts: false },
    { name: 'every label removed: lapsed', at: { team: 'payments' }, now: undefined, counts: false },
    { name: 'labels added to a label-less object: lapsed', at: undefined, now: { team: 'payments' }, counts: false },
    { name: 'no labels then and now (approvals from before the fingerprint): counts', at: undefined, now: undefined, counts: true },
    { name: 'empty labels are no labels', at: undefined, now: {}, counts: true },
  ])('$name', ({ at, now, counts }) => {
    expect(validApprovals(labelled(now, [given(at)])).map((a) => a.user)).toEqual(counts ? ['bob'] : []);
  });

  it.each<{ name: string; labels: Labels; want: RegExp | undefined }>([
    { name: 'no labels: no fingerprint', labels: undefined, want: undefined },
    { name: 'empty labels: no fingerprint', labels: {}, want: undefined },
    { name: 'a short hex fingerprint', labels: { team: 'payments' }, want: /^[0-9a-f]{16}$/ },
  ])('labelsFingerprint: $name', ({ labels, want }) => {
    const got = labelsFingerprint(labels);
    if (want === undefined) expect(got).toBeUndefined();
    else expect(got).toMatch(want);
  });

  it('labelsFingerprint tells a key from a value and is canonical', () => {
    expect(labelsFingerprint({ a: 'b', c: 'd' })).toBe(labelsFingerprint({ c: 'd', a: 'b' }));
    expect(labelsFingerprint({ a: 'bc' })).not.toBe(labelsFingerprint({ ab: 'c' }));
    expect(labelsFingerprint({ '1': 'x', b: 'y' })).toBe(labelsFingerprint({ b: 'y', '1': 'x' }));
  });

  it('decideApproval records the fingerprint of the labels approved, and none for a label-less object', () => {
    const withLabels = decideApproval(labelled({ team: 'payments' }, []), {}, 'bob', NOW);
    expect('approvals' in withLabels && withLabels.approvals.at(-1)?.labelsHash).toBe(labelsFingerprint({ team: 'payments' }));
    const without = decideApproval(labelled(undefined, []), {}, 'bob', NOW);
    expect('approvals' in without && Object.keys(without.approvals.at(-1) ?? {})).not.toContain('labelsHash');
  });

  it('a move counts approvals only for the labels they were given for', () => {
    const t = decideTransition(labelled({ team: 'search' }, [given({ team: 'payments' }), given({ team: 'search' })].map((a, i) => ({ ...a, user: ['bob', 'carol'][i]! }))), { action: 'promote' }, NOW, { mover: 'alice' });
    expect(t).toMatchObject({ approvals: { needed: 2, by: ['carol'] } });
  });
});
