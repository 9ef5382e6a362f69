import { describe, expect, it } from 'vitest';
import type { Approval, StoredObject, StoredStatus } from '../../../api/src/types.ts';
import { dropApprovalsGivenUnder } from './approval-lapse.ts';
import { WriteConflict, type StatusStore } from './status-store.ts';

const a = (user: string, labelsHash?: string): Approval => ({ from: 'staging', to: 'prod', user, time: '2026-12-01T11:00:00Z', ...(labelsHash ? { labelsHash } : {}) });

function obj(approvals: Approval[]): StoredObject {
  return { apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { namespace: 'shop', name: 'cart', uid: 'u1', resourceVersion: '1' }, spec: { name: 'Cart', states: ['staging', 'prod'] }, status: { state: 'staging', approvals } };
}

class Store implements StatusStore {
  synced = true;
  writes: StoredStatus[] = [];
  conflicts = 0;
  current: StoredObject | undefined;
  constructor(current: StoredObject | undefined) {
    this.current = current;
  }
  cached() {
    return this.current;
  }
  async fetch() {
    return this.current;
  }
  async writeStatus(o: StoredObject, status: StoredStatus) {
    if (this.conflicts-- > 0) throw new WriteConflict('changed');
    this.writes.push(status);
    return (this.current = { ...o, status });
  }
  async setFinalizers(o: StoredObject) {
    return o;
  }
}

describe('dropApprovalsGivenUnder', () => {
  it('removes the approvals given under those labels, keeps the others, and retries a lost precondition', async () => {
    const s = new Store(obj([a('bob', 'aaaa'), a('carol', 'bbbb'), a('dave', 'aaaa')]));
    s.conflicts = 1;
    await dropApprovalsGivenUnder(s, obj([]), 'aaaa');
    expect(s.writes).toEqual([{ state: 'staging', approvals: [a('carol', 'bbbb')] }]);
  });
  it('removes approvals given without labels when the fingerprint is undefined, and the field when none is left', async () => {
    const s = new Store(obj([a('bob')]));
    await dropApprovalsGivenUnder(s, obj([]), undefined);
    expect(s.writes).toEqual([{ state: 'staging' }]);
  });
  it.each([
    { name: 'nothing given under those labels', current: obj([a('bob', 'bbbb')]) },
    { name: 'another life of the name', current: { ...obj([a('bob', 'aaaa')]), metadata: { ...obj([]).metadata, uid: 'u2' } } },
    { name: 'an object gone', current: undefined },
  ])('writes nothing for $name', async ({ current }) => {
    const s = new Store(current);
    await dropApprovalsGivenUnder(s, obj([]), 'aaaa');
    expect(s.writes).toEqual([]);
  });
});
