import { describe, expect, it } from 'vitest';
import type { StoredObject } from '../../../api/src/types.ts';
import type { RestClient } from '../../../client/src/rest-client.ts';
import { apiserverContinue, CrdConsistentReader, PROOF_PAGE, type ListScope } from './crd-consistent-read.ts';
import type { CrdWatchCache, Subscriber } from './crd-watch-cache.ts';

const decode = (t: string) => JSON.parse(Buffer.from(t, 'base64url').toString('utf8')) as { v: string; rv: number; start: string };

describe('apiserverContinue', () => {
  it('starts after the name within a namespace, and after namespace/name across namespaces, as kube-apiserver\'s etcd keys do', () => {
    expect(decode(apiserverContinue('shop', 'shop/cart', 42))).toEqual({ v: 'meta.k8s.io/v1', rv: 42, start: 'cart\u0000' });
    expect(decode(apiserverContinue(undefined, 'shop/cart', 42))).toEqual({ v: 'meta.k8s.io/v1', rv: 42, start: 'shop/cart\u0000' });
  });

  it('is unpadded base64url, as kube-apiserver decodes it', () => {
    expect(apiserverContinue('a', 'a/b', 1)).toMatch(/^[A-Za-z0-9_-]+$/);
  });
});

// The proof of a whole LIST (issue 23): the scope's metadata read page by
// page at one revision and compared with the cache as it comes, so a scope of
// thousands of objects is never held whole. Fakes of the watch cache and of
// kube-apiserver's paged metadata LIST.
describe('CrdConsistentReader.list: the paged proof', () => {
  const o = (name: string, rv: number) => ({ metadata: { namespace: 'shop', name, resourceVersion: String(rv) }, spec: { name, states: ['dev'] } }) as unknown as StoredObject;
  const names = (n: number) => Array.from({ length: n }, (_, i) => `obj-${String(i).padStart(5, '0')}`);

  class FakeCache {
    rv: number;
    objects: StoredObject[];
    subs = new Set<Subscriber>();
    constructor(rv: number, objects: StoredObject[]) {
      this.rv = rv;
      this.objects = objects;
    }
    get resourceVersion() {
      return this.rv;
    }
    list() {
      return this.objects;
    }
    get(namespace: string, name: string) {
      return this.objects.find((x) => x.metadata.namespace === namespace && x.metadata.name === name);
    }
    noteConsistentRead() {}
    subscribe(sub: Subscriber) {
      this.subs.add(sub);
      return () => void this.subs.delete(sub);
    }
    /** An object comes into the cache, or leaves it. */
    added(obj: StoredObject) {
      this.objects = [...this.objects, obj].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
      this.rv = Number(obj.metadata.resourceVersion);
      for (const s of this.subs) s.onEvent({ type: 'ADDED', object: obj, rv: this.rv });
    }
    deleted(obj: StoredObject, rv: number) {
      this.objects = this.objects.filter((x) => x.metadata.name !== obj.metadata.name);
      this.rv = rv;
      for (const s of this.subs) s.onEvent({ type: 'DELETED', object: obj, rv });
    }
    /** An event reaches the cache. */
    apply(obj: StoredObject) {
      this.objects = this.objects.map((x) => (x.metadata.name === obj.metadata.name ? obj : x));
      this.rv = Number(obj.metadata.resourceVersion);
      for (const s of this.subs) s.onEvent({ type: 'MODIFIED', object: obj, rv: this.rv });
    }
  }

  /** kube-apiserver at `rv` holding `objects`: metadata pages of `limit` with a continue token; whole lists otherwise. */
  function apiserver(rv: number, objects: StoredObject[], onPage?: (n: number) => void) {
    const calls: Record<string, string | undefined>[] = [];
    const client = {
      json: async (_m: string, _p: string, opts: { accept?: string; query?: Record<string, string | undefined> }) => {
        const q = opts.query ?? {};
        calls.push(q);
        const limit = q['limit'] ? Number(q['limit']) : objects.length;
        const from = q['continue'] ? Number(q['continue']) : 0;
        const items = objects.slice(from, from + limit);
        onPage?.(calls.length);
        const meta = opts.accept?.includes('PartialObjectMetadataList');
        return { metadata: { resourceVersion: String(rv), ...(from + limit < objects.length ? { continue: String(from + limit) } : {}) }, items: items.map((x) => (meta ? { metadata: x.metadata } : x)) };
      },
    } as unknown as RestClient;
    return { client, calls };
  }

  const scope: ListScope = { namespace: 'shop', labelSelector: '', fieldSelector: '', includes: () => true };

  it('reads the metadata in pages of PROOF_PAGE at one revision (the continue token of the first), never the whole scope at once, and answers from the cache that holds it', async () => {
    const objs = names(1_200).map((n, i) => o(n, 10 + i));
    const cache = new FakeCache(1_209, objs);
    const k = apiserver(5_000, objs);
    const got = await new CrdConsistentReader(k.client, cache as unknown as CrdWatchCache).list(scope, { kind: 'consistent' });
    expect(got).toEqual({ resourceVersion: 5_000, fromCache: true });
    expect(k.calls.map((q) => [q['limit'], q['continue']])).toEqual([[String(PROOF_PAGE), undefined], [String(PROOF_PAGE), '500'], [String(PROOF_PAGE), '1000']]);
  });

  it('a change on its way (the cache lacks it, on a later page): answered from the cache once the event arrives, not read through', async () => {
    const objs = names(1_200).map((n, i) => o(n, 10 + i));
    const now = objs.map((x, i) => (i === 700 ? o(x.metadata.name, 4_000) : x));
    const cache = new FakeCache(1_209, objs);
    const k = apiserver(5_000, now, (n) => {
      // The event arrives while the last page is read.
      if (n === 3) setTimeout(() => cache.apply(now[700]!), 0);
    });
    const got = await new CrdConsistentReader(k.client, cache as unknown as CrdWatchCache).list(scope, { kind: 'consistent' });
    expect(got).toEqual({ resourceVersion: 5_000, fromCache: true });
    expect(k.calls).toHaveLength(3);
  });

  it('the cache holds an object kube-apiserver no longer lists, and never hears of its deletion: the scope is read through', async () => {
    const objs = names(600).map((n, i) => o(n, 10 + i));
    const cache = new FakeCache(700, objs);
    const k = apiserver(5_000, objs.filter((_, i) => i !== 550));
    const got = await new CrdConsistentReader(k.client, cache as unknown as CrdWatchCache).list(scope, { kind: 'consistent' });
    expect(got.fromCache).toBe(false);
    expect(got.fromCache === false && got.objects.length).toBe(599);
  });

  it('an object made and deleted before the revision, whose ADDED reaches the cache during the proof and DELETED after: not answered as there', async () => {
    const a = o('a', 3);
    const y = o('y', 15);
    const cache = new FakeCache(10, [a]);
    // kube-apiserver at 20 lists only a: y was made at 15 and deleted at 16.
    const k = apiserver(20, [a], (n) => {
      if (n === 1) cache.added(y);
    });
    setTimeout(() => cache.deleted(y, 16), 50);
    const got = await new CrdConsistentReader(k.client, cache as unknown as CrdWatchCache).list(scope, { kind: 'consistent' });
    // Answered from the cache only once it no longer holds y (or read through, without it).
    if (got.fromCache) expect(cache.objects.map((x) => x.metadata.name)).toEqual(['a']);
    else expect(got.objects.map((x) => x.metadata.name)).toEqual(['a']);
  });
});
