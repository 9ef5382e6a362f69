// The events of the page's live feed (server-sent events), shared by the
// server side (live-feed.ts) and the page (feed-state.ts).
import type { CustomResource } from '../../../api/src/types.ts';

export interface FeedEvents {
  /** Every object in scope: the first list and each re-list (after 410 Gone, or a new connection). */
  snapshot: { resourceVersion: string; items: CustomResource[] };
  /** One watch event. */
  change: { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: CustomResource };
  /** Whether the watch is open, and why not. */
  live: { live: boolean; message?: string };
  /** The feed cannot start (a bad label selector): the page shows it and stops reconnecting. */
  problem: { message: string };
}

export type FeedEventName = keyof FeedEvents;
export const FEED_EVENTS: readonly FeedEventName[] = ['snapshot', 'change', 'live', 'problem'];
