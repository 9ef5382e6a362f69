// A watch that names no resourceVersion starts as kube-apiserver's cacher
// starts it (issue 23): its initial events are the objects at etcd's current
// revision, and the initial-events-end bookmark is at least that revision,
// not the watch cache as it happens to be. Our own fakes of the watch cache
// and of the REST client (recorded requests, canned answers); the real thing
// is test/integration/fresh-reads.test.ts.
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { StoredObject } from '../../../../api/src/types.ts';
import type { RestClient } from '../../../../client/src/rest-client.ts';
import { memoryLogger } from '../../log/logger.ts';
import { CrdConsistentReader } from '../../store/crd-consistent-read.ts';
import type { CacheEvent, CrdWatchCache, Subscriber } from '../../store/crd-watch-cache.ts';
import { parseListOptions } from './list-options.ts';
import { CustomResourceStorage } from './storage.ts';
import { serveWatch } from './watch-handler.ts';

function obj(name: string, rv: number, mark = ''): StoredObject {
  return {
    apiVersion: 'example.com/v1',
    kind: 'CustomResource',
    metadata: { namespace: 'shop', name, resourceVersion: String(rv), annotations: { mark } },
    spec: { name, states: ['dev', 'prod'] },
    status: { state: 'dev' },
  } as unknown as StoredObject;
}

/** A watch cache at `rv` holding `objects`, whose watch never brings the change kube-apiserver has (it is on its way). */
class FakeCache {
  rv: number;
  objects: StoredObject[];
  subscribers: { sub: Subscriber; fromRv: number | undefined }[] = [];

  constructor(rv: number, objects: StoredObject[]) {
    this.rv = rv;
    this.objects = objects;
  }
  get hasSynced() {
    return true;
  }
  get resourceVersion() {
    return this.rv;
  }
  get oldestWatchableResourceVersion() {
    return 1;
  }
  list(namespace?: string) {
    return this.objects.filter((o) => namespace === undefined || o.metadata.namespace === namespace);
  }
  get(namespace: string, name: string) {
    return this.objects.find((o) => o.metadata.namespace === namespace && o.metadata.name === name);
  }
  noteConsistentRead() {}
  subscribe(sub: Subscriber, fromRv?: number) {
    const s = { sub, fromRv };
    this.subscribers.push(s);
    return () => void this.subscribers.splice(this.subscribers.indexOf(s), 1);
  }
  /** The change arrives: every subscriber hears of it, as the real cache tells them. */
  apply(ev: CacheEvent) {
    this.objects = this.objects.map((o) => (o.metadata.name === ev.object.metadata.name ? ev.object : o));
    this.rv = ev.rv;
    for (const s of [...this.subscribers]) s.sub.onEvent(ev);
  }
  /** An object comes into the cache, or leaves it. */
  add(ev: CacheEvent) {
    this.objects = ev.type === 'DELETED' ? this.objects.filter((o) => o.metadata.name !== ev.object.metadata.name) : [...this.objects, ev.object];
    this.rv = ev.rv;
    for (const s of [...this.subscribers]) s.sub.onEvent(ev);
  }
  waitFor(rv: number) {
    return Promise.resolve(this.rv >= rv);
  }
  waitFresh(rv: number) {
    return Promise.resolve(this.rv >= rv);
  }
}

/** kube-apiserver: the scope's metadata and objects at `rv`. */
function apiserver(rv: number, objects: StoredObject[]): RestClient & { calls: { accept?: string; query: Record<string, string | undefined> }[] } {
  const calls: { accept?: string; query: Record<string, string | undefined> }[] = [];
  return {
    calls,
    json: async (_method: string, _path: string, opts: { accept?: string; query?: Record<string, string | undefined> } = {}) => {
      calls.push({ ...(opts.accept ? { accept: opts.accept } : {}), query: opts.query ?? {} });
      const metadataOnly = opts.accept?.includes('PartialObjectMetadataList');
      return { metadata: { resourceVersion: String(rv) }, items: objects.map((o) => (metadataOnly ? { metadata: o.metadata } : structuredClone(o))) };
    },
  } as unknown as RestClient & { calls: { accept?: string; query: Record<string, string | undefined> }[] };
}

/** A request and response pair that collects what the watch writes. */
function stream() {
  const req = Object.assign(new EventEmitter(), { socket: { destroyed: false } }) as unknown as IncomingMessage;
  const frames: { type: string; object: { metadata: { resourceVersion: string; name?: string; annotations?: Record<string, string> } } }[] = [];
  let text = '';
  const res = Object.assign(new EventEmitter(), {
    closed: false,
    writableLength: 0,
    statusCode: 0,
    writeHead(code: number) {
      res.statusCode = code;
      return res;
    },
    flushHeaders() {},
    write(chunk: string | Buffer) {
      text += chunk.toString();
      let nl: number;
      while ((nl = text.indexOf('\n')) >= 0) {
        frames.push(JSON.parse(text.slice(0, nl)) as (typeof frames)[number]);
        text = text.slice(nl + 1);
      }
      return true;
    },
    end(chunk?: string) {
      if (chunk) res.write(chunk);
      res.closed = true;
    },
    destroy() {
      res.closed = true;
    },
  });
  return { req, res: res as unknown as ServerResponse, frames, close: () => req.emit('close') };
}

async function watch(cache: FakeCache, c: RestClient, query: string) {
  const fake = cache as unknown as CrdWatchCache;
  const storage = new CustomResourceStorage(fake, { now: () => new Date('2026-12-07T00:00:00Z') }, undefined, new CrdConsistentReader(c, fake));
  const s = stream();
  await serveWatch(s.req, s.res, { storage, log: memoryLogger(), bookmarkIntervalMs: 60_000 }, 'shop', parseListOptions(new URLSearchParams(query)), { kind: 'json' }, 'Metadata');
  return s;
}

const WATCH_LIST = 'watch=1&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan';

describe('a watch without resourceVersion', () => {
  it('watch-list (sendInitialEvents=true, resourceVersion ""): the initial events are the objects at etcd\'s revision, and its end bookmark at least that revision', async () => {
    // b was changed at 12 and the change acknowledged; the cache, at 10, has not heard of it yet.
    const cache = new FakeCache(10, [obj('a', 3), obj('b', 5, 'old')]);
    const s = await watch(cache, apiserver(12, [obj('a', 3), obj('b', 12, 'new')]), WATCH_LIST);
    try {
      expect(s.frames.map((f) => `${f.type} ${f.object.metadata.name ?? ''}@${f.object.metadata.resourceVersion}`)).toEqual(['ADDED a@3', 'ADDED b@12', 'BOOKMARK @12']);
      expect(s.frames[1]!.object.metadata.annotations?.['mark']).toBe('new');
      expect(s.frames[2]!.object.metadata.annotations?.['k8s.io/initial-events-end']).toBe('true');
      // The change reaches the cache later: already in the initial events, not sent again; what comes after it is.
      cache.apply({ type: 'MODIFIED', object: obj('b', 12, 'new'), rv: 12, prev: obj('b', 5, 'old') });
      cache.apply({ type: 'MODIFIED', object: obj('a', 13, 'after'), rv: 13, prev: obj('a', 3) });
      expect(s.frames.slice(3).map((f) => `${f.type} ${f.object.metadata.name ?? ''}@${f.object.metadata.resourceVersion}`)).toEqual(['MODIFIED a@13']);
    } finally {
      s.close();
    }
  });

  it('a plain watch (no sendInitialEvents) starts at etcd\'s revision too, as kube-apiserver serves it from storage', async () => {
    const cache = new FakeCache(10, [obj('b', 5, 'old')]);
    const s = await watch(cache, apiserver(12, [obj('b', 12, 'new')]), 'watch=1');
    try {
      expect(s.frames.map((f) => `${f.type} ${f.object.metadata.name ?? ''}@${f.object.metadata.resourceVersion}`)).toEqual(['ADDED b@12']);
    } finally {
      s.close();
    }
  });

  it('resourceVersion=0 is the cache as it is: no request to kube-apiserver', async () => {
    const cache = new FakeCache(10, [obj('b', 5, 'old')]);
    const c = apiserver(12, [obj('b', 12, 'new')]);
    const s = await watch(cache, c, `${WATCH_LIST.replace('resourceVersionMatch=NotOlderThan', 'resourceVersionMatch=NotOlderThan&resourceVersion=0')}`);
    try {
      expect(s.frames.map((f) => `${f.type} ${f.object.metadata.name ?? ''}@${f.object.metadata.resourceVersion}`)).toEqual(['ADDED b@5', 'BOOKMARK @10']);
      expect(c.calls).toEqual([]);
    } finally {
      s.close();
    }
  });

  it('an object made and deleted before the request, whose ADDED reaches the cache during the proof: never sent, and no DELETED of it either', async () => {
    // y was made at 15 and deleted at 16; kube-apiserver, at 20, lists only a.
    const cache = new FakeCache(10, [obj('a', 3)]);
    const api = apiserver(20, [obj('a', 3)]);
    const json = api.json.bind(api);
    let first = true;
    api.json = (async (...args: Parameters<RestClient['json']>) => {
      const got = await json(...args);
      // y's ADDED arrives while the proof's page is on its way; its DELETED comes later.
      if (first) cache.add({ type: 'ADDED', object: obj('y', 15), rv: 15 });
      if (first) setTimeout(() => cache.add({ type: 'DELETED', object: obj('y', 15), rv: 16, prev: obj('y', 15) }), 20);
      first = false;
      return got;
    }) as RestClient['json'];
    const s = await watch(cache, api, WATCH_LIST);
    try {
      cache.add({ type: 'MODIFIED', object: obj('a', 30), rv: 30, prev: obj('a', 3) });
      expect(s.frames.map((f) => `${f.type} ${f.object.metadata.name ?? ''}@${f.object.metadata.resourceVersion}`)).toEqual(['ADDED a@3', 'BOOKMARK @20', 'MODIFIED a@30']);
    } finally {
      s.close();
    }
  });
});
