// A dry run answers as the real request would (issue 23): decided on the
// cached object, an acceptance is decided again on the object read fresh
// when that is newer. The store is a fake of our own interface.
import { describe, expect, it } from 'vitest';
import type { StoredObject } from '../../../../api/src/types.ts';
import type { HistoryArchive } from '../../store/history-archive.ts';
import type { StatusStore } from '../../store/status-store.ts';
import { newInvalid } from '../../status/status-error.ts';
import { guardedWrite } from './guarded-write.ts';

const at = (rv: string, state: string): StoredObject => ({ apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name: 'rocket', namespace: 'shop', resourceVersion: rv, finalizers: ['custom.example.com/history'] }, spec: { name: 'Rocket', states: ['dev', 'prod'] }, status: { state } });

function deps(fresh: StoredObject): { store: StatusStore; archive: HistoryArchive; fetched: () => number } {
  let fetched = 0;
  const store = { fetch: () => (fetched++, Promise.resolve(fresh)) } as unknown as StatusStore;
  return { store, archive: {} as HistoryArchive, fetched: () => fetched };
}

/** Accepts a move from dev; refuses one from anywhere else. */
const decide = async (obj: StoredObject) => {
  if (obj.status?.state !== 'dev') throw newInvalid({ group: 'custom.example.com', kind: 'CustomResource' }, 'rocket', [{ field: 'status.state', reason: 'FieldValueInvalid', message: `already in ${obj.status?.state}` }]);
  return { status: { state: 'prod' }, archive: [], decision: 'moved' };
};

describe('a dry run decided on a stale cached object', () => {
  it('is refused as the real request would be when the object read fresh says otherwise', async () => {
    const d = deps(at('2', 'prod'));
    await expect(guardedWrite(d, at('1', 'dev'), decide, { dryRun: true, maxAttempts: 5 })).rejects.toThrow('already in prod');
    expect(d.fetched()).toBe(1);
  });

  it('is accepted on the cached object when the fresh read is the same', async () => {
    const d = deps(at('1', 'dev'));
    const r = await guardedWrite(d, at('1', 'dev'), decide, { dryRun: true, maxAttempts: 5 });
    expect(r.decision).toBe('moved');
    expect(r.written.status?.state).toBe('prod');
  });
});
