import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../log/logger.ts';
import { FakeKube, storedObject } from '../testing/in-process-server.ts';
import { CrdWatchCache } from './crd-watch-cache.ts';

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
