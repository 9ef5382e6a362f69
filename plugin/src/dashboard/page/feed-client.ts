// The live feed in the browser: an EventSource on /api/events. The browser
// reconnects by itself after a dropped connection (the server sends a fresh
// snapshot on every connection, so nothing is missed); when it gives up
// (the server answered something other than a stream) we open a new one
// after a pause. A `problem` event (a label selector the API refuses) stops
// it until the filter changes.
import { FEED_EVENTS, type FeedEventName, type FeedEvents } from '../feed-events.ts';

export interface FeedHandlers {
  event<K extends FeedEventName>(name: K, data: FeedEvents[K]): void;
  /** The connection to the dashboard broke; the browser is reconnecting. */
  disconnected(): void;
}

const REOPEN_MS = 2000;

export class FeedClient {
  private source: EventSource | undefined;
  private timer: number | undefined;
  private selector = '';
  private stopped = false;
  private readonly h: FeedHandlers;

  constructor(handlers: FeedHandlers) {
    this.h = handlers;
  }

  /** (Re)opens the feed with a label selector ('' for none). */
  open(labelSelector: string): void {
    this.selector = labelSelector;
    this.stopped = false;
    this.connect();
  }

  private connect(): void {
    this.source?.close();
    window.clearTimeout(this.timer);
    const url = this.selector ? `/api/events?labelSelector=${encodeURIComponent(this.selector)}` : '/api/events';
    const source = new EventSource(url);
    this.source = source;
    for (const name of FEED_EVENTS) {
      source.addEventListener(name, (e) => {
        if (source !== this.source) return;
        const data = JSON.parse((e as MessageEvent<string>).data) as FeedEvents[typeof name];
        if (name === 'problem') {
          this.stopped = true;
          source.close();
        }
        this.h.event(name, data);
      });
    }
    source.onerror = () => {
      if (source !== this.source || this.stopped) return;
      this.h.disconnected();
      if (source.readyState === EventSource.CLOSED) this.timer = window.setTimeout(() => this.connect(), REOPEN_MS);
    };
  }
}
