// CustomResourceStorage's consistent reads (issue 23) as kube-apiserver's
// semantics ask, with our own fakes of the watch cache and of the REST client
// (recorded requests, canned answers): the pure decisions only, no API server
// behaviour. The real thing is in test/integration (read-side, fresh-reads,
// backend-bad-requests).
import { describe, expect, it } from 'vitest';
import type { StoredObject } from '../../../../api/src/types.ts';
import { ApiError } from '../../../../client/src/errors.ts';
import type { RestClient } from '../../../../client/src/rest-client.ts';
import { StatusError } from '../../status/status-error.ts';
import { apiserverContinue, CrdConsistentReader } from '../../store/crd-consistent-read.ts';
import type { CrdWatchCache } from '../../store/crd-watch-cache.ts';
import { encodeContinue, parseListOptions } from './list-options.ts';
import { CustomResourceStorage } from './storage.ts';

function obj(name: string, rv: number, state = 'dev'): StoredObject {
  return {
    apiVersion: 'example.com/v1',
    kind: 'CustomResource',
    metadata: { namespace: 'shop', name, resourceVersion: String(rv) },
    spec: { name, states: ['dev', 'prod'] },
    status: { state },
  } as unknown as StoredObject;
}

/** A watch cache at `rv` holding `objects`; waitFresh reaches `reaches` (if given) or gives up at once. */
class FakeCache {
  rv: number;
  oldest: number;
  objects: StoredObject[];
  reaches: number | undefined;
  waited: number[] = [];

  constructor(rv: number, objects: StoredObject[], oldest = 1) {
    this.rv = rv;
    this.objects = objects;
    this.oldest = oldest;
  }

  get hasSynced() {
    return true;
  }
  get resourceVersion() {
    return this.rv;
  }
  get oldestWatchableResourceVersion() {
    return this.oldest;
  }
  list(namespace?: string) {
    return this.objects.filter((o) => namespace === undefined || o.metadata.namespace === namespace);
  }
  get(namespace: string, name: string) {
    return this.objects.find((o) => o.metadata.namespace === namespace && o.metadata.name === name);
  }
  noteConsistentRead() {}
  subscribe() {
    return () => {};
  }
  waitFor(rv: number) {
    return Promise.resolve(this.rv >= rv);
  }
  waitFresh(rv: number) {
    this.waited.push(rv);
    if (this.reaches !== undefined && this.reaches >= rv) this.rv = this.reaches;
    return Promise.resolve(this.rv >= rv);
  }
}

type Call = { method: string; path: string; accept?: string; query: Record<string, string> };

/** A REST client that records each request and answers what `answer` returns for it (or throws it when an Error). */
function client(answer: (c: Call) => unknown): RestClient & { calls: Call[] } {
  const calls: Call[] = [];
  const c = {
    calls,
    json: async (method: string, path: string, opts: { accept?: string; query?: Record<string, string | undefined> } = {}) => {
      const query = Object.fromEntries(Object.entries(opts.query ?? {}).filter(([, v]) => v !== undefined)) as Record<string, string>;
      const call: Call = { method, path, ...(opts.accept ? { accept: opts.accept } : {}), query };
      calls.push(call);
      const a = answer(call);
      if (a instanceof Error) throw a;
      return structuredClone(a);
    },
  };
  return c as unknown as RestClient & { calls: Call[] };
}

const metaList = (rv: number, objects: StoredObject[]) => ({ metadata: { resourceVersion: String(rv) }, items: objects.map((o) => ({ metadata: o.metadata })) });
const fullList = (rv: number, objects: StoredObject[], cont?: string) => ({ metadata: { resourceVersion: String(rv), ...(cont ? { continue: cont } : {}) }, items: objects });
const tooLarge = (rv: number, current: number) =>
  new ApiError(
    504,
    { kind: 'Status', status: 'Failure', code: 504, reason: 'Timeout', message: `Too large resource version: ${rv}, current: ${current}`, details: { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version', field: '' }], retryAfterSeconds: 1 } },
    '',
    '/apis/example.com/v1/namespaces/shop/customresources',
  );

function storage(cache: FakeCache, c: RestClient) {
  const fake = cache as unknown as CrdWatchCache;
  return new CustomResourceStorage(fake, { now: () => new Date('2026-12-07T00:00:00Z') }, undefined, new CrdConsistentReader(c, fake));
}

const opts = (q: string) => parseListOptions(new URLSearchParams(q));

async function statusOf(p: Promise<unknown>): Promise<{ code: number; reason: string; causes: string[] } | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (!(err instanceof StatusError)) throw err;
    return { code: err.status.code, reason: err.status.reason ?? '', causes: (err.status.details?.causes ?? []).map((c) => c.reason ?? '') };
  }
}

const TOO_LARGE = { code: 504, reason: 'Timeout', causes: ['ResourceVersionTooLarge'] };

describe('a resourceVersion newer than etcd', () => {
  it('LIST: the proof reads etcd below N and the cache never reaches N: 504 Timeout (ResourceVersionTooLarge), as the cacher answers', async () => {
    const cache = new FakeCache(100, [obj('a', 90)]);
    const c = client(() => metaList(100, [obj('a', 90)]));
    expect(await statusOf(storage(cache, c).list('shop', opts('resourceVersion=999999999')))).toEqual(TOO_LARGE);
    expect(cache.waited).toEqual([999999999]);
  });

  it('LIST: the proof reads etcd below N, then the cache reaches N: answered from the cache at its revision', async () => {
    const cache = new FakeCache(100, [obj('a', 90)]);
    cache.reaches = 130;
    const c = client(() => metaList(100, [obj('a', 90)]));
    const l = await storage(cache, c).list('shop', opts('resourceVersion=120'));
    expect(l.metadata.resourceVersion).toBe('130');
    expect(l.objects.map((o) => o.metadata.name)).toEqual(['a']);
  });

  it('LIST: the proof reads etcd at or past N: answered without waiting', async () => {
    const cache = new FakeCache(100, [obj('a', 90)]);
    const c = client(() => metaList(120, [obj('a', 90)]));
    const l = await storage(cache, c).list('shop', opts('resourceVersion=110'));
    expect(l.metadata.resourceVersion).toBe('120');
    expect(cache.waited).toEqual([]);
  });

  it('GET at N the cache has not reached asks kube-apiserver not older than N, and its 504 TooLargeResourceVersion passes through (not 503)', async () => {
    const cache = new FakeCache(100, [obj('a', 90)]);
    const c = client((call) => (call.query['resourceVersion'] !== undefined && Number(call.query['resourceVersion']) > 100 ? tooLarge(Number(call.query['resourceVersion']), 100) : obj('a', 90)));
    expect(await statusOf(storage(cache, c).get('shop', 'a', 999999999))).toEqual(TOO_LARGE);
    expect(c.calls.map((x) => x.query)).toEqual([{ resourceVersion: '999999999' }]);
  });

  it('GET without resourceVersion is still a quorum read (no resourceVersion asked)', async () => {
    const cache = new FakeCache(100, [obj('a', 90)]);
    const c = client(() => obj('a', 95));
    expect((await storage(cache, c).get('shop', 'a')).metadata.resourceVersion).toBe('95');
    expect(c.calls.map((x) => x.query)).toEqual([{}]);
  });

  it('a page read through at N passes kube-apiserver\'s 504 TooLargeResourceVersion through', async () => {
    const cache = new FakeCache(100, [obj('a', 90)]);
    const c = client(() => tooLarge(999999999, 100));
    expect(await statusOf(storage(cache, c).list('shop', opts('resourceVersion=999999999&limit=1')))).toEqual(TOO_LARGE);
  });
});

describe('a list served from the cache', () => {
  it('is labelled with the cache\'s revision when the cache has passed the proof\'s: never below an item\'s resourceVersion', async () => {
    // The proof saw etcd at 15; the cache has since heard of b's change at 20.
    const cache = new FakeCache(20, [obj('a', 10), obj('b', 20)]);
    const c = client(() => metaList(15, [obj('a', 10), obj('b', 12)]));
    const l = await storage(cache, c).list('shop', opts(''));
    const newest = Math.max(...l.objects.map((o) => Number(o.metadata.resourceVersion)));
    expect(Number(l.metadata.resourceVersion)).toBeGreaterThanOrEqual(newest);
    expect(l.metadata.resourceVersion).toBe('20');
  });

  it('keeps the proof\'s revision when the cache holds exactly what it listed but has not heard of later revisions', async () => {
    const cache = new FakeCache(12, [obj('a', 10), obj('b', 12)]);
    const c = client(() => metaList(15, [obj('a', 10), obj('b', 12)]));
    expect((await storage(cache, c).list('shop', opts(''))).metadata.resourceVersion).toBe('15');
  });
});

describe('a continuation', () => {
  const all = () => [obj('a', 10), obj('b', 20), obj('c', 11)];

  it('whose revision the cache has passed is read through at that revision with kube-apiserver\'s continue token, not served from the cache as it is now', async () => {
    // Page 1 was at 15; b changed at 20 since. kube-apiserver answers from its snapshot at 15: b as it was.
    const cache = new FakeCache(20, all());
    const c = client(() => fullList(15, [obj('b', 12)], 'next'));
    const l = await storage(cache, c).list('shop', opts(`limit=1&continue=${encodeContinue({ rv: 15, after: 'shop/a' })}`));
    expect(c.calls).toHaveLength(1);
    expect(c.calls[0]!.query).toEqual({ limit: '1', continue: apiserverContinue('shop', 'shop/a', 15) });
    expect(l.objects.map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`)).toEqual(['b@12']);
    expect(l.metadata.resourceVersion).toBe('15');
    expect(l.metadata.continue).toBe(encodeContinue({ rv: 15, after: 'shop/b' }));
  });

  it('older than the cache\'s window is read through too (kube-apiserver may still serve it; its 410 when not)', async () => {
    const cache = new FakeCache(20, all(), 18);
    const c = client(() => fullList(15, [obj('b', 12), obj('c', 11)]));
    const l = await storage(cache, c).list('shop', opts(`limit=5&continue=${encodeContinue({ rv: 15, after: 'shop/a' })}`));
    expect(l.objects.map((o) => o.metadata.name)).toEqual(['b', 'c']);
    const gone = client(() => new ApiError(410, { kind: 'Status', code: 410, reason: 'Expired', message: 'The provided continue parameter is too old' }, '', '/'));
    expect(await statusOf(storage(cache, gone).list('shop', opts(`limit=5&continue=${encodeContinue({ rv: 15, after: 'shop/a' })}`)))).toMatchObject({ code: 410, reason: 'Expired' });
  });

  it('at the cache\'s own revision (nothing changed since) is served from the cache', async () => {
    const cache = new FakeCache(20, all());
    const c = client(() => new Error('no request expected'));
    const l = await storage(cache, c).list('shop', opts(`limit=1&continue=${encodeContinue({ rv: 20, after: 'shop/a' })}`));
    expect(c.calls).toHaveLength(0);
    expect(l.objects.map((o) => o.metadata.name)).toEqual(['b']);
    expect(l.metadata.resourceVersion).toBe('20');
  });

  it('selected by status.state (which kube-apiserver cannot select) reads the whole scope exactly at the token\'s revision and selects it here', async () => {
    const cache = new FakeCache(20, [obj('a', 10), obj('b', 20, 'prod'), obj('c', 11)]);
    const c = client(() => fullList(15, [obj('a', 10), obj('b', 12), obj('c', 11)]));
    const l = await storage(cache, c).list('shop', opts(`limit=5&fieldSelector=status.state%3Ddev&continue=${encodeContinue({ rv: 15, after: 'shop/a' })}`));
    expect(c.calls[0]!.query).toEqual({ resourceVersion: '15', resourceVersionMatch: 'Exact' });
    expect(l.objects.map((o) => o.metadata.name)).toEqual(['b', 'c']);
    expect(l.metadata.resourceVersion).toBe('15');
  });
});

describe('a first page without resourceVersion', () => {
  const many = (n: number) => Array.from({ length: n }, (_, i) => obj(`o${String(i).padStart(4, '0')}`, 10 + i));

  it('as large as a page of the proof (kubectl\'s and client-go\'s 500): served from the cache once proved fresh, no whole objects read through, its continue token at the proof\'s revision', async () => {
    const all = many(600);
    const cache = new FakeCache(609, all);
    const c = client((call) => (call.accept?.includes('PartialObjectMetadataList') ? metaList(700, all) : new Error('no whole objects expected')));
    const l = await storage(cache, c).list('shop', opts('limit=500'));
    expect(c.calls.every((x) => x.accept?.includes('PartialObjectMetadataList'))).toBe(true);
    expect(l.objects).toHaveLength(500);
    expect(l.metadata.resourceVersion).toBe('700');
    expect(l.metadata.continue).toBe(encodeContinue({ rv: 700, after: 'shop/o0499' }));
    expect(l.metadata.remainingItemCount).toBe(100);
  });

  it('as large, when the cache cannot be shown to hold the scope (it holds an object kube-apiserver no longer lists): that page alone is read through, not the whole scope', async () => {
    const all = many(600);
    const cache = new FakeCache(609, [...all, obj('zz-gone', 5)]);
    const c = client((call) => (call.accept?.includes('PartialObjectMetadataList') ? metaList(700, all) : fullList(700, all.slice(0, 500), 'more')));
    const l = await storage(cache, c).list('shop', opts('limit=500'));
    const whole = c.calls.filter((x) => !x.accept?.includes('PartialObjectMetadataList'));
    expect(whole.map((x) => x.query)).toEqual([{ limit: '500', resourceVersion: '700', resourceVersionMatch: 'NotOlderThan' }]);
    expect(l.objects).toHaveLength(500);
    expect(l.metadata.resourceVersion).toBe('700');
    expect(l.metadata.continue).toBe(encodeContinue({ rv: 700, after: 'shop/o0499' }));
  });

  it('smaller (a count, limit=1): read through, as before', async () => {
    const all = many(600);
    const cache = new FakeCache(609, all);
    const c = client(() => fullList(700, [all[0]!], 'more'));
    const l = await storage(cache, c).list('shop', opts('limit=1'));
    expect(c.calls).toHaveLength(1);
    expect(c.calls[0]!.query).toEqual({ limit: '1' });
    expect(l.metadata.resourceVersion).toBe('700');
  });
});
