// FreezeSource.activeFor as the gate engine will ask it, with the cache fed
// through its reflector store functions (replace, apply) as the watch feeds
// it: namespaces, custom-system for every namespace, states, selectors,
// windows, and what fails closed.
import { describe, expect, it } from 'vitest';
import type { Freeze, FreezeSpec } from '../../../api/src/types.ts';
import type { RestClient } from '../../../client/src/rest-client.ts';
import { memoryLogger } from '../log/logger.ts';
import { FreezeCache } from './freeze-cache.ts';

const NOW = new Date('2026-06-10T12:00:00Z');
const NOW_WINDOW = { start: '2026-06-10T00:00:00Z', end: '2026-06-11T00:00:00Z' };

function freeze(namespace: string, name: string, spec: Partial<FreezeSpec>, rv = '1', generation = 1): Freeze {
  return { apiVersion: 'example.com/v1', kind: 'Freeze', metadata: { namespace, name, resourceVersion: rv, generation }, spec: { reason: `because ${name}`, ...NOW_WINDOW, ...spec } };
}

/** A cache whose reflector never starts: the tests feed it as the watch would. */
function newCache(): FreezeCache {
  return new FreezeCache({ client: {} as RestClient, log: memoryLogger() });
}

const FREEZES = [
  freeze('shop', 'prod-only', { states: ['prod'] }),
  freeze('shop', 'staging-only', { states: ['staging'] }),
  freeze('shop', 'every-state', {}),
  freeze('shop', 'empty-states', { states: [] }),
  freeze('shop', 'payments', { selector: { matchLabels: { team: 'payments' } } }),
  freeze('shop', 'web', { selector: { matchLabels: { team: 'web' } } }),
  freeze('shop', 'not-canary', { selector: { matchExpressions: [{ key: 'canary', operator: 'DoesNotExist' }] } }),
  freeze('shop', 'future', { start: '2026-07-01T00:00:00Z', end: '2026-07-02T00:00:00Z' }),
  freeze('shop', 'over', { start: '2026-06-01T00:00:00Z', end: '2026-06-02T00:00:00Z' }),
  freeze('shop', 'lunch', { start: undefined, end: undefined, schedule: '0 11 * * *', duration: '2h', timeZone: 'UTC' }),
  freeze('shop', 'night', { start: undefined, end: undefined, schedule: '0 22 * * *', duration: '8h' }),
  freeze('shop', 'mars', { start: undefined, end: undefined, schedule: '0 22 * * *', duration: '8h', timeZone: 'Mars/Olympus_Mons' }),
  freeze('other', 'elsewhere', {}),
  freeze('custom-system', 'everywhere-prod', { states: ['prod'] }),
  freeze('custom-system', 'everywhere-payments', { selector: { matchLabels: { team: 'payments' } } }),
];

describe('FreezeCache.activeFor', () => {
  const cache = newCache();
  cache.replace(structuredClone(FREEZES));
  const names = (ns: string, labels: Record<string, string> | undefined, state: string, now = NOW) => cache.activeFor(ns, labels, state, now).map((f) => `${f.namespace}/${f.name}`);

  it.each([
    {
      name: 'into prod, team payments, in shop: its namespace and the cluster-wide ones',
      args: ['shop', { team: 'payments' }, 'prod'] as const,
      want: ['shop/empty-states', 'shop/every-state', 'shop/lunch', 'shop/mars', 'shop/not-canary', 'shop/payments', 'shop/prod-only', 'custom-system/everywhere-payments', 'custom-system/everywhere-prod'],
    },
    {
      name: 'into staging: the prod-only ones do not hold',
      args: ['shop', { team: 'payments' }, 'staging'] as const,
      want: ['shop/empty-states', 'shop/every-state', 'shop/lunch', 'shop/mars', 'shop/not-canary', 'shop/payments', 'shop/staging-only', 'custom-system/everywhere-payments'],
    },
    {
      name: 'team web, a canary: other selectors',
      args: ['shop', { team: 'web', canary: 'true' }, 'prod'] as const,
      want: ['shop/empty-states', 'shop/every-state', 'shop/lunch', 'shop/mars', 'shop/prod-only', 'shop/web', 'custom-system/everywhere-prod'],
    },
    {
      name: 'no labels: only freezes with empty selectors or ones that hold for missing labels',
      args: ['shop', undefined, 'dev'] as const,
      want: ['shop/empty-states', 'shop/every-state', 'shop/lunch', 'shop/mars', 'shop/not-canary'],
    },
    {
      name: 'another namespace: its own and the cluster-wide ones, never shop\'s',
      args: ['other', { team: 'payments' }, 'prod'] as const,
      want: ['other/elsewhere', 'custom-system/everywhere-payments', 'custom-system/everywhere-prod'],
    },
    {
      name: 'a namespace without freezes: the cluster-wide ones',
      args: ['quiet', {}, 'prod'] as const,
      want: ['custom-system/everywhere-prod'],
    },
    {
      name: 'an object in custom-system: its freezes, once',
      args: ['custom-system', { team: 'payments' }, 'prod'] as const,
      want: ['custom-system/everywhere-payments', 'custom-system/everywhere-prod'],
    },
  ])('$name', ({ args: [ns, labels, state], want }) => {
    expect(names(ns, labels, state)).toEqual(want);
  });

  it.each([
    { name: 'at night the night window holds, lunch does not', now: '2026-06-10T23:00:00Z', has: 'shop/night', hasNot: 'shop/lunch' },
    { name: 'after the one-off window, its freezes are over', now: '2026-06-11T00:00:00Z', has: 'shop/night', hasNot: 'shop/every-state' },
    { name: 'inside the future window', now: '2026-07-01T12:00:00Z', has: 'shop/future', hasNot: 'shop/over' },
    { name: 'a time zone it cannot evaluate holds at any time (fails closed)', now: '2026-07-01T12:00:00Z', has: 'shop/mars', hasNot: 'shop/every-state' },
  ])('windows: $name', ({ now, has, hasNot }) => {
    const got = names('shop', {}, 'prod', new Date(now));
    expect(got).toContain(has);
    expect(got).not.toContain(hasNot);
  });

  it('names each freeze with its reason and the end of its current window (none when it cannot be evaluated)', () => {
    const got = cache.activeFor('shop', { team: 'payments' }, 'prod', NOW);
    expect(got.find((f) => f.name === 'prod-only')).toEqual({ namespace: 'shop', name: 'prod-only', reason: 'because prod-only', end: '2026-06-11T00:00:00Z' });
    expect(got.find((f) => f.name === 'lunch')).toEqual({ namespace: 'shop', name: 'lunch', reason: 'because lunch', end: '2026-06-10T13:00:00Z' });
    expect(got.find((f) => f.name === 'mars')).toEqual({ namespace: 'shop', name: 'mars', reason: 'because mars' });
  });
});

describe('FreezeCache as the watch feeds it', () => {
  it('is synced after the first list, and says so once', () => {
    const cache = newCache();
    let synced = 0;
    cache.on('synced', () => synced++);
    expect(cache.synced).toBe(false);
    cache.replace([]);
    cache.replace([]);
    expect(cache.synced).toBe(true);
    expect(synced).toBe(1);
  });

  it('follows additions, changes and deletions, and tells which', () => {
    const cache = newCache();
    const changed: string[] = [];
    cache.on('change', (k: string) => changed.push(k));
    cache.replace([freeze('shop', 'a', { states: ['prod'] })]);
    cache.apply('ADDED', freeze('shop', 'b', {}));
    expect(cache.activeFor('shop', {}, 'prod', NOW).map((f) => f.name)).toEqual(['a', 'b']);
    // A new spec (generation 2): moved to the future, no longer active.
    cache.apply('MODIFIED', freeze('shop', 'a', { states: ['prod'], start: '2027-01-01T00:00:00Z', end: '2027-01-02T00:00:00Z' }, '5', 2));
    cache.apply('DELETED', freeze('shop', 'b', {}));
    expect(cache.activeFor('shop', {}, 'prod', NOW)).toEqual([]);
    expect(cache.keys()).toEqual(['shop/a']);
    expect(changed).toEqual(['shop/a', 'shop/b', 'shop/a', 'shop/b']);
  });

  it('a re-list after a gap replaces everything, and tells what changed', () => {
    const cache = newCache();
    cache.replace([freeze('shop', 'kept', {}, '1'), freeze('shop', 'gone', {}, '2'), freeze('shop', 'edited', {}, '3')]);
    const changed: string[] = [];
    cache.on('change', (k: string) => changed.push(k));
    cache.replace([freeze('shop', 'kept', {}, '1'), freeze('shop', 'edited', { states: ['qa'] }, '7', 2), freeze('shop', 'new', {}, '8')]);
    expect(changed.sort()).toEqual(['shop/edited', 'shop/gone', 'shop/new']);
    expect(cache.activeFor('shop', {}, 'prod', NOW).map((f) => f.name)).toEqual(['kept', 'new']);
  });

  it('keeps what get returns current with the last event', () => {
    const cache = newCache();
    cache.replace([freeze('shop', 'a', {})]);
    cache.apply('MODIFIED', { ...freeze('shop', 'a', {}, '9'), status: { active: true } });
    expect(cache.get('shop/a')?.freeze.metadata.resourceVersion).toBe('9');
    expect(cache.get('shop/a')?.at(NOW).active).toBe(true);
    expect(cache.get('shop/missing')).toBeUndefined();
  });
});
