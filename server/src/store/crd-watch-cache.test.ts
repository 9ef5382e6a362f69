import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../log/logger.ts';
import { FakeKube, storedObject } from '../testing/in-process-server.ts';
import { CrdWatchCache, type CacheEvent } from './crd-watch-cache.ts';

async function started(kube: FakeKube): Promise<CrdWatchCache> {
  const cache = new CrdWatchCache({ client: kube, log: memoryLogger() });
  cache.start();
  while (!cache.ready) await new Promise((r) => setImmediate(r));
  return cache;
}

const names = (l: readonly { metadata: { namespace?: string; name: string } }[]) => l.map((o) => `${o.metadata.namespace}/${o.metadata.name}`);

describe('CrdWatchCache.list', () => {
  it('answers in key order, one namespace or all, and shares its answer until the next change', async () => {
    const kube = new FakeKube([storedObject('shop', 'b'), storedObject('shop', 'a'), storedObject('ops', 'c')]);
    const cache = await started(kube);
    try {
      const all = cache.list();
      expect(names(all)).toEqual(['ops/c', 'shop/a', 'shop/b']);
      expect(names(cache.list('shop'))).toEqual(['shop/a', 'shop/b']);
      // Nothing changed: the same array (200 watchers starting together hold one).
      expect(cache.list()).toBe(all);
      kube.emit('ADDED', storedObject('shop', 'aa'));
      await new Promise((r) => setTimeout(r, 20));
      expect(names(cache.list('shop'))).toEqual(['shop/a', 'shop/aa', 'shop/b']);
      expect(names(all), 'an answer already given is not changed').toEqual(['ops/c', 'shop/a', 'shop/b']);
      const modified = { ...storedObject('shop', 'a'), spec: { name: 'a', states: ['x', 'y'] } };
      kube.emit('MODIFIED', modified);
      await new Promise((r) => setTimeout(r, 20));
      expect(cache.list('shop')[0]!.spec.states).toEqual(['x', 'y']);
      kube.emit('DELETED', storedObject('ops', 'c'));
      await new Promise((r) => setTimeout(r, 20));
      expect(names(cache.list())).toEqual(['shop/a', 'shop/aa', 'shop/b']);
    } finally {
      await cache.stop();
    }
  });
});

/** Every event a subscriber sees, as `TYPE ns/name @rv`. */
function recorder() {
  const seen: string[] = [];
  return { seen, sub: { onEvent: (ev: CacheEvent) => void seen.push(`${ev.type} ${ev.object.metadata.namespace}/${ev.object.metadata.name} @${ev.rv}`) } };
}

async function settled(until: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !until(); i++) await new Promise((r) => setImmediate(r));
}

describe('CrdWatchCache.subscribe: replay, too old, re-list', () => {
  it('replays the events after a resourceVersion, then goes on live, none missed or twice', async () => {
    const kube = new FakeKube([storedObject('shop', 'a')]);
    const cache = await started(kube);
    try {
      kube.emit('ADDED', storedObject('shop', 'b')); // @11
      kube.emit('MODIFIED', storedObject('shop', 'a')); // @12
      await settled(() => cache.resourceVersion === 12);
      const { seen, sub } = recorder();
      cache.subscribe(sub, 11);
      kube.emit('DELETED', storedObject('shop', 'b')); // @13
      await settled(() => seen.length === 2);
      expect(seen).toEqual(['MODIFIED shop/a @12', 'DELETED shop/b @13']);
    } finally {
      await cache.stop();
    }
  });

  it('a resourceVersion older than the kept history is refused as too old (the watch answers 410)', async () => {
    const kube = new FakeKube([]);
    const cache = new CrdWatchCache({ client: kube, log: memoryLogger(), historySize: 2 });
    cache.start();
    await settled(() => cache.ready);
    try {
      for (const n of ['a', 'b', 'c']) kube.emit('ADDED', storedObject('shop', n)); // @11 @12 @13
      await settled(() => cache.resourceVersion === 13);
      expect(cache.oldestWatchableResourceVersion).toBe(11);
      expect(() => cache.subscribe(recorder().sub, 10)).toThrow(/too old resource version: 10 \(11\)/);
      const { seen, sub } = recorder();
      cache.subscribe(sub, 11);
      expect(seen).toEqual(['ADDED shop/b @12', 'ADDED shop/c @13']);
    } finally {
      await cache.stop();
    }
  });

  it('after a 410 it lists again and tells open subscribers the difference as events, deletions last', async () => {
    const a = storedObject('shop', 'a');
    const b = storedObject('shop', 'b');
    const kube = new FakeKube([a, b]);
    const cache = await started(kube);
    try {
      const { seen, sub } = recorder();
      cache.subscribe(sub);
      const changed = { ...a, metadata: { ...a.metadata, resourceVersion: '15' }, spec: { ...a.spec, name: 'renamed' } };
      const added = { ...storedObject('shop', 'c'), metadata: { ...storedObject('shop', 'c').metadata, resourceVersion: '14' } };
      kube.expireWatches([changed, added]);
      await settled(() => seen.length === 3);
      expect(seen).toEqual(['ADDED shop/c @14', 'MODIFIED shop/a @15', 'DELETED shop/b @20']);
      expect(names(cache.list())).toEqual(['shop/a', 'shop/c']);
      expect(cache.get('shop', 'a')!.spec.name).toBe('renamed');
      expect(cache.resourceVersion).toBe(20);
    } finally {
      await cache.stop();
    }
  });
});
