import { describe, expect, it } from 'vitest';
import { ExpiringCache } from './expiring-cache.ts';

describe('ExpiringCache', () => {
  it('forgets an entry when its time is up', () => {
    let now = 1000;
    const c = new ExpiringCache<string>({ now: () => now });
    c.set('a', 'x', 10);
    expect(c.get('a')).toBe('x');
    now = 1010;
    expect(c.get('a')).toBe('x');
    now = 1011;
    expect(c.get('a')).toBeUndefined();
  });

  it('when full, drops expired entries and then the oldest, never everything', () => {
    let now = 0;
    const c = new ExpiringCache<number>({ maxEntries: 3, now: () => now });
    c.set('short', 1, 5);
    c.set('b', 2, 100);
    c.set('c', 3, 100);
    now = 10;
    c.set('d', 4, 100);
    expect([c.get('short'), c.get('b'), c.get('c'), c.get('d')]).toEqual([undefined, 2, 3, 4]);
    c.set('e', 5, 100);
    expect([c.get('b'), c.get('c'), c.get('d'), c.get('e')]).toEqual([undefined, 3, 4, 5]);
    expect(c.size).toBe(3);
  });

  it('merges identical lookups in flight and does not cache a failure', async () => {
    const c = new ExpiringCache<string>();
    let loads = 0;
    let release!: (v: string) => void;
    const load = () => {
      loads++;
      return new Promise<string>((r) => (release = r));
    };
    const a = c.getOrLoad('k', load, () => 1000);
    const b = c.getOrLoad('k', load, () => 1000);
    release('v');
    expect(await a).toEqual({ value: 'v', hit: false });
    expect(await b).toEqual({ value: 'v', hit: true });
    expect(loads).toBe(1);
    await expect(c.getOrLoad('bad', () => Promise.reject(new Error('boom')), () => 1000)).rejects.toThrow('boom');
    expect(await c.getOrLoad('bad', () => Promise.resolve('ok'), () => 1000)).toEqual({ value: 'ok', hit: false });
  });

  it('a TTL of 0 keeps nothing, and forgets what was kept', () => {
    const c = new ExpiringCache<string>();
    c.set('a', 'x', 1000);
    c.set('a', 'y', 0);
    expect(c.get('a')).toBeUndefined();
  });

  it('keeps a null answer (a token that authenticates nobody)', async () => {
    const c = new ExpiringCache<string | null>();
    let loads = 0;
    const load = async () => (loads++, null);
    expect(await c.getOrLoad('t', load, () => 1000)).toEqual({ value: null, hit: false });
    expect(await c.getOrLoad('t', load, () => 1000)).toEqual({ value: null, hit: true });
    expect(loads).toBe(1);
  });
});
