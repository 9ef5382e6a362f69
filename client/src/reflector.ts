// client-go's reflector: LIST (in pages), then WATCH from the list's
// resourceVersion with bookmarks; a dropped or ended stream is watched again
// from the last resourceVersion seen, a 410 Expired lists again, and other
// failures back off (200 ms doubling to 5 s). The store decides what a list
// or an event means; this loop only keeps it fed.
import type { IncomingMessage } from 'node:http';
import { apiErrorFromWatchEvent, isResourceExpired } from './errors.ts';
import type { ClientLogger } from './logger.ts';
import type { RestClient } from './rest-client.ts';
import { readWatchStream } from './watch-stream.ts';

export interface ObjectWithVersion {
  metadata: { resourceVersion?: string };
}

export interface ReflectorStore<T> {
  /** The whole collection at `resourceVersion`: the first sync, and every re-list after a gap. */
  replace(items: T[], resourceVersion: string): void;
  /** One watch event, in resourceVersion order. */
  apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: T): void;
  /** The server is at `resourceVersion` with no change for this watch (a bookmark). */
  bookmark?(resourceVersion: string): void;
  /** The watch stream opened (true) or broke (false). */
  setLive?(live: boolean): void;
}

export interface ReflectorOptions<T> {
  client: RestClient;
  /** The collection's path, e.g. /apis/example.com/v1/customresources. */
  path: string;
  /** Names what is reflected in log lines. */
  description: string;
  store: ReflectorStore<T>;
  log: ClientLogger;
  fieldSelector?: string;
  /** Only objects with these labels (a selector in kubectl's syntax), as the server matches them. */
  labelSelector?: string;
  /** Page size of LIST; 0 lists in one page. */
  pageSize?: number;
  /** The clock (ms since the epoch) that stamps lastHeardAt; Date.now by default. */
  now?: () => number;
}

/** How far a reflector has got, for status pages: what kube-apiserver last told it, and when. */
export interface ReflectorProgress {
  /** The resourceVersion of the last list, event or bookmark ('' before the first list). */
  resourceVersion: string;
  /** When the last list, event or bookmark arrived (ms since the epoch); undefined before the first list. */
  lastHeardAt: number | undefined;
  /** A watch stream is open. */
  watching: boolean;
}

interface ListPage<T> {
  metadata: { resourceVersion: string; continue?: string };
  items: T[];
}

const INITIAL_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 5_000;
/**
 * kube-apiserver's watch cache bookmarks a watch 2 s before its timeout (and
 * otherwise about once a minute): a watch of this length gets a bookmark at
 * the cache's current resourceVersion within one or two seconds.
 */
const BOOKMARK_WATCH_SECONDS = 3;

export class Reflector<T extends ObjectWithVersion> {
  private readonly o: ReflectorOptions<T>;
  private stopped = false;
  private abort: AbortController | undefined;
  private running: Promise<void> | undefined;
  private rv = '';
  /** The current watch is being replaced on purpose (requestBookmark): not a failure. */
  private restarting = false;
  /** The next watch is to be a short one (a bookmark was asked for). */
  private wantShort = false;
  private watching = false;
  /** The running watch is a short one, and whether its bookmark came. */
  private currentShort = false;
  private currentBookmarked = false;
  private heardAt: number | undefined;
  private readonly now: () => number;

  constructor(opts: ReflectorOptions<T>) {
    this.o = opts;
    this.now = opts.now ?? Date.now;
  }

  /**
   * What kube-apiserver last told this reflector, and when. A watch that
   * kube-apiserver keeps feeding hears from it at least once a minute (it
   * bookmarks every watch that asks about that often, changes or not), so a
   * long silence means the stream is stuck.
   */
  get progress(): ReflectorProgress {
    return { resourceVersion: this.rv, lastHeardAt: this.heardAt, watching: this.watching };
  }

  /** The resourceVersion of the last list, event or bookmark. */
  get lastSyncResourceVersion(): string {
    return this.rv;
  }

  start(): void {
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    await this.running;
  }

  private async run(): Promise<void> {
    let needList = true;
    let backoff = INITIAL_BACKOFF_MS;
    while (!this.stopped) {
      try {
        if (needList) {
          await this.list();
          needList = false;
        }
        await this.watch();
        backoff = INITIAL_BACKOFF_MS;
      } catch (err) {
        if (this.restarting && !this.stopped) {
          this.restarting = false;
          continue;
        }
        this.o.store.setLive?.(false);
        if (this.stopped) break;
        if (isResourceExpired(err)) {
          this.o.log.info(`watch of ${this.o.description} expired; listing again`, { resourceVersion: this.rv });
          needList = true;
          continue;
        }
        this.o.log.warn(`list/watch of ${this.o.description} failed; retrying`, { error: err instanceof Error ? err.message : String(err), retryInMs: backoff });
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }

  /**
   * Asks kube-apiserver for a bookmark soon: watches again from the last
   * resourceVersion, briefly, so that its watch cache sends one at the
   * resourceVersion it has reached. Nothing is missed: the new watch starts
   * where the old one was.
   */
  requestBookmark(): void {
    if (!this.watching) {
      this.wantShort = true;
      return;
    }
    // A short watch whose bookmark has not come yet will bring one later than now: wait for it.
    if (this.currentShort && !this.currentBookmarked) return;
    this.wantShort = true;
    this.restarting = true;
    this.abort?.abort();
  }

  /**
   * The collection's current resourceVersion, by a consistent read (a LIST of
   * one item): it also brings kube-apiserver's watch cache up to date, so a
   * bookmark asked for afterwards is at least this recent.
   */
  async latestResourceVersion(): Promise<string> {
    const page = await this.o.client.json<ListPage<T>>('GET', this.o.path, { query: { limit: '1', fieldSelector: this.o.fieldSelector, labelSelector: this.o.labelSelector } });
    return page.metadata.resourceVersion;
  }

  private async list(): Promise<void> {
    const items: T[] = [];
    let cont: string | undefined;
    let rv: string;
    do {
      const page = await this.o.client.json<ListPage<T>>('GET', this.o.path, {
        query: { limit: this.o.pageSize ? String(this.o.pageSize) : undefined, continue: cont, fieldSelector: this.o.fieldSelector, labelSelector: this.o.labelSelector },
      });
      items.push(...page.items);
      rv = page.metadata.resourceVersion;
      cont = page.metadata.continue || undefined;
    } while (cont);
    this.rv = rv;
    this.heardAt = this.now();
    this.o.store.replace(items, rv);
  }

  private async watch(): Promise<void> {
    this.abort = new AbortController();
    this.restarting = false;
    const short = this.wantShort;
    this.wantShort = false;
    // A random timeout, as the reflector's, spreads the re-watches of many replicas.
    const timeoutSeconds = short ? BOOKMARK_WATCH_SECONDS : 300 + Math.floor(Math.random() * 300);
    const res = await this.o.client.stream(this.o.path, {
      query: { watch: 'true', resourceVersion: this.rv, allowWatchBookmarks: 'true', timeoutSeconds: String(timeoutSeconds), fieldSelector: this.o.fieldSelector, labelSelector: this.o.labelSelector },
      signal: this.abort.signal,
    });
    this.o.store.setLive?.(true);
    this.watching = true;
    this.currentShort = short;
    this.currentBookmarked = false;
    try {
      await this.read(res);
    } finally {
      this.watching = false;
    }
  }

  private read(res: IncomingMessage): Promise<void> {
    return readWatchStream(res, (ev) => {
      if (ev.type === 'ERROR') throw apiErrorFromWatchEvent(ev.object, this.o.path);
      const obj = ev.object as T;
      const rv = obj.metadata?.resourceVersion;
      if (ev.type === 'BOOKMARK') {
        this.currentBookmarked = true;
        this.heardAt = this.now();
        if (rv) {
          this.rv = rv;
          this.o.store.bookmark?.(rv);
        }
        return;
      }
      if (ev.type !== 'ADDED' && ev.type !== 'MODIFIED' && ev.type !== 'DELETED') return;
      this.o.store.apply(ev.type, obj);
      if (rv) this.rv = rv;
      this.heardAt = this.now();
    });
  }
}
