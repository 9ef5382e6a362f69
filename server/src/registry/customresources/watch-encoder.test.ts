import { describe, expect, it } from 'vitest';
import type { StoredObject } from '../../../../api/src/types.ts';
import type { CacheEvent } from '../../store/crd-watch-cache.ts';
import { sharedChange, WatchEncoder } from './watch-encoder.ts';
import { toCustomResource } from './view.ts';

const obj = (state: string, rv: string): StoredObject => ({
  apiVersion: 'example.com/v1',
  kind: 'CustomResource',
  metadata: { name: 'checkout', namespace: 'shop', uid: 'u1', resourceVersion: rv, creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: { name: 'Checkout', states: ['dev', 'prod'] },
  status: { state, stateSince: '2026-01-01T00:00:00Z' },
});

describe('a change shared by its watchers', () => {
  const ev: CacheEvent = { type: 'MODIFIED', object: obj('prod', '12'), prev: obj('dev', '11'), rv: 12 };

  it('is computed once: one instant, one view per object, however many watchers ask', () => {
    let views = 0;
    let clock = 0;
    const view = (o: StoredObject, now: Date) => (views++, toCustomResource(o, now));
    const now = () => new Date(Date.UTC(2026, 0, 2) + clock++ * 1000);
    const a = sharedChange(ev, now, view);
    const b = sharedChange(ev, now, view);
    expect(b).toBe(a);
    expect(a.view(ev.object)).toBe(b.view(ev.object));
    a.view(ev.prev!);
    expect(views).toBe(2);
    expect(clock).toBe(1);
  });

  it('is encoded once per format: JSON watchers get the same bytes; Table watchers theirs, after each one\'s first frame with the columns', () => {
    const change = sharedChange({ ...ev }, () => new Date('2026-01-02T00:00:00Z'), toCustomResource);
    const o = change.view(ev.object);
    const json = [0, 1, 2].map(() => new WatchEncoder({ kind: 'json' }, 'Object').shared(change, 'MODIFIED', o));
    expect(json[1]).toBe(json[0]);
    expect(json[2]).toBe(json[0]);
    expect(JSON.parse(json[0]!.toString())).toEqual({ type: 'MODIFIED', object: JSON.parse(JSON.stringify(o)) });

    const t1 = new WatchEncoder({ kind: 'table', version: 'v1' }, 'None');
    const t2 = new WatchEncoder({ kind: 'table', version: 'v1' }, 'None');
    const first1 = t1.shared(change, 'MODIFIED', o);
    const first2 = t2.shared(change, 'MODIFIED', o);
    expect(first1).not.toBe(first2);
    expect((JSON.parse(first1.toString()) as { object: { columnDefinitions: unknown[] } }).object.columnDefinitions.length).toBeGreaterThan(0);
    // Later frames: shared, without the columns; a DELETED of the same change is its own frame.
    const later = sharedChange({ ...ev, rv: 13 }, () => new Date('2026-01-02T00:00:00Z'), toCustomResource);
    const l1 = t1.shared(later, 'MODIFIED', o);
    expect(t2.shared(later, 'MODIFIED', o)).toBe(l1);
    expect((JSON.parse(l1.toString()) as { object: { columnDefinitions: unknown } }).object.columnDefinitions).toBeNull();
    expect(t2.shared(later, 'DELETED', o)).not.toBe(l1);
    // Another includeObject is another encoding.
    expect(new WatchEncoder({ kind: 'table', version: 'v1' }, 'Object').shared(later, 'MODIFIED', o)).not.toBe(l1);
  });
});
