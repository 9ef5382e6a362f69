import { describe, expect, it } from 'vitest';
import type { HistoryEntry, StoredObject, StoredStatus } from '../../../api/src/types.ts';
import { ApiError } from '../../../client/src/errors.ts';
import type { RequestOpts, RestClient } from '../../../client/src/rest-client.ts';
import { StatusError } from '../status/status-error.ts';
import type { CrdWatchCache } from './crd-watch-cache.ts';
import { CrdStatusStore, WriteConflict } from './status-store.ts';

const entry = (seq: number): HistoryEntry => ({ action: 'promote', from: 'dev', to: 'prod', user: 'alice', time: `2026-01-01T00:00:0${seq}Z`, seq, hash: `h${seq}` });

const read: StoredObject = {
  apiVersion: 'example.com/v1',
  kind: 'CustomResource',
  metadata: { name: 'checkout', namespace: 'shop', uid: 'u1', resourceVersion: '41', generation: 3, finalizers: ['custom.example.com/history'], labels: { team: 'a' }, managedFields: [{ manager: 'kubectl' }] } as StoredObject['metadata'],
  spec: { name: 'Checkout', states: ['dev', 'prod'] },
  status: { state: 'dev', stateSince: 't0', observedGeneration: 3, approvals: [{ to: 'prod', from: 'dev', user: 'bob', time: 't', generation: 3 }], history: [entry(1)], deletion: { user: 'x', time: 't' } } as StoredStatus,
};

/** kube-apiserver as the store calls it: one answer per request, each request kept. */
function fakeKube(answer: (method: string, path: string, body: unknown) => unknown) {
  const calls: { method: string; path: string; opts: RequestOpts }[] = [];
  const client = {
    async json<T>(method: string, path: string, opts: RequestOpts = {}): Promise<T> {
      calls.push({ method, path, opts });
      return answer(method, path, opts.body) as T;
    },
  } as unknown as RestClient;
  const waited: number[] = [];
  const cache = { waitFor: async (rv: number) => (waited.push(rv), true) } as unknown as CrdWatchCache;
  return { store: new CrdStatusStore(client, cache), calls, waited };
}

describe('CrdStatusStore.writeStatus: a guarded update of the status subresource', () => {
  it('sends the object as read with the whole new status, its resourceVersion as precondition, and waits until the cache shows the write', async () => {
    const after: StoredStatus = { state: 'prod', stateSince: 't1', observedGeneration: 3, approvals: [], history: [entry(1), entry(2)] };
    const { store, calls, waited } = fakeKube((_m, _p, body) => ({ ...(body as StoredObject), metadata: { ...(body as StoredObject).metadata, resourceVersion: '42' } }));
    const written = await store.writeStatus(read, after);
    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect(call!.method).toBe('PUT');
    expect(call!.path).toBe('/apis/example.com/v1/namespaces/shop/customresources/checkout/status');
    const { managedFields: _, ...metadata } = read.metadata as StoredObject['metadata'] & { managedFields?: unknown };
    // The status is replaced whole (a field that went, like `deletion` here, is gone); spec and metadata are
    // sent as read (kube-apiserver keeps its own) and managedFields are left to kube-apiserver.
    expect(call!.opts.body).toEqual({ apiVersion: 'example.com/v1', kind: 'CustomResource', metadata, spec: read.spec, status: after });
    expect((call!.opts.body as StoredObject).metadata.resourceVersion).toBe('41');
    expect(waited).toEqual([42]);
    expect(written.status).toEqual(after);
  });

  it('names the storage kind even when the object was read without it (a list item)', async () => {
    const { apiVersion: _a, kind: _k, ...bare } = read;
    const { store, calls } = fakeKube((_m, _p, body) => body);
    await store.writeStatus(bare as StoredObject, { state: 'prod' });
    expect(calls[0]!.opts.body).toMatchObject({ apiVersion: 'example.com/v1', kind: 'CustomResource' });
  });

  it('a lost precondition (409) is a WriteConflict: read again and decide again', async () => {
    const { store } = fakeKube((_m, path) => {
      throw new ApiError(409, { kind: 'Status', code: 409, reason: 'Conflict', message: 'the object has been modified' }, '', path);
    });
    await expect(store.writeStatus(read, { state: 'prod' })).rejects.toBeInstanceOf(WriteConflict);
  });

  it('an object gone (404) is NotFound, about our own resource', async () => {
    const { store } = fakeKube((_m, path) => {
      throw new ApiError(404, { kind: 'Status', code: 404, reason: 'NotFound', message: 'not found' }, '', path);
    });
    const err = await store.writeStatus(read, { state: 'prod' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StatusError);
    expect((err as StatusError).status).toMatchObject({ code: 404, reason: 'NotFound', details: { group: 'custom.example.com', kind: 'customresources', name: 'checkout' } });
  });
});
