// The page's picture of the cluster, kept by the live feed's events: a
// snapshot replaces it (nothing stale survives a re-list), a change updates
// one object. Pure, so the page's behaviour on reconnects and re-lists is
// tested without a browser.
import type { FeedEvents } from './feed-events.ts';
import { keyOf, type FeedObject } from './view-model.ts';

export interface FeedState {
  objects: Map<string, FeedObject>;
  /** The watch is open. */
  live: boolean;
  /** Why it is not, or why the feed stopped. */
  message?: string;
  /** The feed will not come back by itself (a bad label selector). */
  stopped: boolean;
  /** Keys of the objects the last event changed (the page marks them briefly). */
  changed: Set<string>;
}

export function emptyFeedState(): FeedState {
  return { objects: new Map(), live: false, stopped: false, changed: new Set() };
}

export function applyFeedEvent<K extends keyof FeedEvents>(s: FeedState, event: K, data: FeedEvents[K], now: number): FeedState {
  switch (event) {
    case 'snapshot': {
      const d = data as FeedEvents['snapshot'];
      const objects = new Map(d.items.map((o) => [keyOf(o), { object: o, receivedAt: now }] as const));
      const changed = new Set([...objects.keys()].filter((k) => s.objects.get(k)?.object.metadata.resourceVersion !== objects.get(k)!.object.metadata.resourceVersion));
      // A list means the watch is (about to be) open again.
      return { objects, live: true, stopped: false, changed };
    }
    case 'change': {
      const d = data as FeedEvents['change'];
      const objects = new Map(s.objects);
      const key = keyOf(d.object);
      if (d.type === 'DELETED') objects.delete(key);
      else objects.set(key, { object: d.object, receivedAt: now });
      return { ...s, objects, changed: new Set([key]) };
    }
    case 'live': {
      const d = data as FeedEvents['live'];
      const { message: _m, ...rest } = s;
      return { ...rest, live: d.live, ...(d.message !== undefined ? { message: d.message } : {}), changed: new Set() };
    }
    case 'problem': {
      const d = data as FeedEvents['problem'];
      return { ...s, live: false, stopped: true, message: d.message, changed: new Set() };
    }
  }
  return s;
}
