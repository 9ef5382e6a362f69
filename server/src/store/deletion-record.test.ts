import { describe, expect, it } from 'vitest';
import type { StoredObject, StoredStatus } from '../../../api/src/types.ts';
import { deleterOf, recordDeletion } from './deletion-record.ts';
import { OneObjectStatusStore } from '../testing/one-object-status-store.ts';

const NOW = new Date('2026-12-01T12:00:00Z');

function obj(status?: StoredStatus, deletionTimestamp?: string): StoredObject {
  return { apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { namespace: 'shop', name: 'cart', uid: 'u1', resourceVersion: '1', ...(deletionTimestamp ? { deletionTimestamp } : {}) }, spec: { name: 'Cart', states: ['a'] }, ...(status ? { status } : {}) };
}

describe('recordDeletion', () => {
  it('records the user in status, keeping the rest, and retries a lost precondition', async () => {
    const s = new OneObjectStatusStore(obj({ state: 'a' }));
    s.conflicts = 2;
    await recordDeletion(s, obj(), 'eve', NOW);
    expect(s.writes).toEqual([{ state: 'a', deletion: { user: 'eve', time: NOW.toISOString() } }]);
  });
  it.each([
    { name: 'the same user, recorded a moment ago (kube-apiserver asked again)', current: obj({ deletion: { user: 'eve', time: new Date(NOW.getTime() - 1000).toISOString() } }) },
    { name: 'an object already being deleted', current: obj({}, '2026-12-01T11:00:00Z') },
    { name: 'another life of the name', current: { ...obj(), metadata: { ...obj().metadata, uid: 'u2' } } },
    { name: 'an object gone', current: undefined },
  ])('writes nothing for $name', async ({ current }) => {
    const s = new OneObjectStatusStore(current);
    await recordDeletion(s, obj(), 'eve', NOW);
    expect(s.writes).toEqual([]);
  });
});

describe('deleterOf', () => {
  it.each([
    { name: 'recorded in the same second', rec: '2026-12-01T12:00:00.400Z', del: '2026-12-01T12:00:00Z', want: 'eve' },
    { name: 'recorded just before', rec: '2026-12-01T11:59:58Z', del: '2026-12-01T12:00:00Z', want: 'eve' },
    { name: 'a record from a deletion an hour before, that failed', rec: '2026-12-01T11:00:00Z', del: '2026-12-01T12:00:00Z', want: '<unknown>' },
    { name: 'a record from after the deletion began', rec: '2026-12-01T12:00:05Z', del: '2026-12-01T12:00:00Z', want: '<unknown>' },
    { name: 'no record', rec: undefined, del: '2026-12-01T12:00:00Z', want: '<unknown>' },
  ])('$name', ({ rec, del, want }) => {
    expect(deleterOf(obj(rec ? { deletion: { user: 'eve', time: rec } } : undefined, del), '<unknown>')).toBe(want);
  });
});
