import { describe, expect, it } from 'vitest';
import type { Approval, StoredObject } from '../../../api/src/types.ts';
import { dropApprovalsGivenUnder } from './approval-lapse.ts';
import { OneObjectStatusStore } from '../testing/one-object-status-store.ts';

const a = (user: string, labelsHash?: string): Approval => ({ from: 'staging', to: 'prod', user, time: '2026-12-01T11:00:00Z', ...(labelsHash ? { labelsHash } : {}) });

function obj(approvals: Approval[]): StoredObject {
  return { apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { namespace: 'shop', name: 'cart', uid: 'u1', resourceVersion: '1' }, spec: { name: 'Cart', states: ['staging', 'prod'] }, status: { state: 'staging', approvals } };
}

describe('dropApprovalsGivenUnder', () => {
  it('removes the approvals given under those labels, keeps the others, and retries a lost precondition', async () => {
    const s = new OneObjectStatusStore(obj([a('bob', 'aaaa'), a('carol', 'bbbb'), a('dave', 'aaaa')]));
    s.conflicts = 1;
    await dropApprovalsGivenUnder(s, obj([]), 'aaaa');
    expect(s.writes).toEqual([{ state: 'staging', approvals: [a('carol', 'bbbb')] }]);
  });
  it('removes approvals given without labels when the fingerprint is undefined, and the field when none is left', async () => {
    const s = new OneObjectStatusStore(obj([a('bob')]));
    await dropApprovalsGivenUnder(s, obj([]), undefined);
    expect(s.writes).toEqual([{ state: 'staging' }]);
  });
  it.each([
    { name: 'nothing given under those labels', current: obj([a('bob', 'bbbb')]) },
    { name: 'another life of the name', current: { ...obj([a('bob', 'aaaa')]), metadata: { ...obj([]).metadata, uid: 'u2' } } },
    { name: 'an object gone', current: undefined },
  ])('writes nothing for $name', async ({ current }) => {
    const s = new OneObjectStatusStore(current);
    await dropApprovalsGivenUnder(s, obj([]), 'aaaa');
    expect(s.writes).toEqual([]);
  });
});
