import { describe, expect, it } from 'vitest';
import { customResource as obj } from '../testing/harness.ts';
import { applyFeedEvent, emptyFeedState } from './feed-state.ts';

describe('the page picture of the cluster', () => {
  it('a snapshot replaces everything (nothing stale survives a re-list) and marks what changed', () => {
    let s = applyFeedEvent(emptyFeedState(), 'snapshot', { resourceVersion: '5', items: [obj('a', '1'), obj('b', '2')] }, 100);
    expect([...s.objects.keys()]).toEqual(['shop/a', 'shop/b']);
    expect(s.live).toBe(true);
    s = applyFeedEvent(s, 'snapshot', { resourceVersion: '9', items: [obj('b', '8', 'prod')] }, 200);
    expect([...s.objects.keys()]).toEqual(['shop/b']);
    expect(s.objects.get('shop/b')).toEqual({ object: obj('b', '8', 'prod'), receivedAt: 200 });
    expect([...s.changed]).toEqual(['shop/b']);
  });

  it('changes add, update and delete one object', () => {
    let s = applyFeedEvent(emptyFeedState(), 'snapshot', { resourceVersion: '1', items: [obj('a', '1')] }, 0);
    s = applyFeedEvent(s, 'change', { type: 'ADDED', object: obj('b', '2') }, 1);
    s = applyFeedEvent(s, 'change', { type: 'MODIFIED', object: obj('a', '3', 'prod') }, 2);
    expect(s.objects.get('shop/a')?.object.status.state).toBe('prod');
    expect([...s.changed]).toEqual(['shop/a']);
    s = applyFeedEvent(s, 'change', { type: 'DELETED', object: obj('b', '4') }, 3);
    expect([...s.objects.keys()]).toEqual(['shop/a']);
  });

  it('live and problem say how the feed stands', () => {
    let s = applyFeedEvent(emptyFeedState(), 'live', { live: false, message: 'forbidden' }, 0);
    expect(s).toMatchObject({ live: false, message: 'forbidden', stopped: false });
    s = applyFeedEvent(s, 'live', { live: true }, 0);
    expect(s.message).toBeUndefined();
    s = applyFeedEvent(s, 'problem', { message: 'label selector: bad' }, 0);
    expect(s).toMatchObject({ live: false, stopped: true, message: 'label selector: bad' });
  });
});
