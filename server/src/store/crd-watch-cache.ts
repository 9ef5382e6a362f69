// A watch-fed cache of the storage CRD, as client-go's reflector and the
// apiserver's cacher do it: LIST, then WATCH from the list's resourceVersion
// with bookmarks; re-watch from the last resourceVersion after a dropped
// stream, re-LIST after 410 Expired. It keeps a window of recent events so
// clients can watch from a resourceVersion, and answers 410 for older ones.
import { EventEmitter } from 'node:events';
import type { StoredObject } from '../api/types.ts';
import { STORAGE_GROUP, STORAGE_VERSION } from '../api/types.ts';
import { readWatchStream } from '../../../plugin/src/kube/watch-stream.ts';
import { apiErrorFrom, KubeApiError, type RestClient } from '../kube/rest-client.ts';
import type { Logger } from '../log/logger.ts';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface CacheEvent {
  type: ChangeType;
  object: StoredObject;
  /** The object's resourceVersion (for DELETED: the deletion's). */
  rv: number;
  /** The object before this change, for MODIFIED and DELETED (filters need both sides). */
  prev?: StoredObject;
}

export interface Subscriber {
  /** Called synchronously, in resourceVersion order, for each change after the subscription started. */
  onEvent(ev: CacheEvent): void;
  /** The cache moved to `rv` without a change this subscriber saw (a bookmark). */
  onProgress?(rv: number): void;
}

export interface CrdWatchCacheOptions {
  client: RestClient;
  log: Logger;
  /** How many recent events to keep for watches that start from a resourceVersion. */
  historySize?: number;
  /** Page size for LIST. */
  pageSize?: number;
}

const LIST_PATH = `/apis/${STORAGE_GROUP}/${STORAGE_VERSION}/customresources`;

const key = (ns: string, name: string) => `${ns}/${name}`;

export class CrdWatchCache extends EventEmitter {
  private readonly client: RestClient;
  private readonly log: Logger;
  private readonly historySize: number;
  private readonly pageSize: number;
  private readonly store = new Map<string, StoredObject>();
  private readonly history: CacheEvent[] = [];
  /** Watches may start at any resourceVersion >= this one. */
  private historyStart = 0;
  private rv = 0;
  private synced = false;
  private live = false;
  private stopped = false;
  private abort: AbortController | undefined;
  private readonly subscribers = new Set<Subscriber>();
  private readonly rvWaiters: { rv: number; resolve: () => void }[] = [];
  private sortedKeys: string[] | undefined;
  private running: Promise<void> | undefined;

  constructor(opts: CrdWatchCacheOptions) {
    super();
    this.client = opts.client;
    this.log = opts.log;
    // Old versions are kept alive by the window: a bounded one bounds memory
    // under churn. A watcher further behind gets 410 and re-lists, as with
    // kube-apiserver's own watch cache.
    this.historySize = opts.historySize ?? 2_000;
    this.pageSize = opts.pageSize ?? 500;
  }

  /** Synced with kube-apiserver and its watch stream is open. */
  get ready(): boolean {
    return this.synced && this.live;
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  get resourceVersion(): number {
    return this.rv;
  }

  get oldestWatchableResourceVersion(): number {
    return this.historyStart;
  }

  get size(): number {
    return this.store.size;
  }

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    await this.running;
  }

  get(namespace: string, name: string): StoredObject | undefined {
    return this.store.get(key(namespace, name));
  }

  /** Objects in key order (namespace/name), as kube-apiserver lists them. */
  list(namespace?: string): StoredObject[] {
    this.sortedKeys ??= [...this.store.keys()].sort();
    const out: StoredObject[] = [];
    const prefix = namespace === undefined ? undefined : `${namespace}/`;
    for (const k of this.sortedKeys) {
      if (prefix && !k.startsWith(prefix)) continue;
      const o = this.store.get(k);
      if (o) out.push(o);
    }
    return out;
  }

  /**
   * Subscribes to changes after `fromRv`. Replays what the history holds
   * after it; throws RangeError when `fromRv` is older than the history.
   * Replay and subscription happen in one synchronous step, so no event is
   * missed or seen twice.
   */
  subscribe(sub: Subscriber, fromRv?: number): () => void {
    if (fromRv !== undefined) {
      if (fromRv < this.historyStart) throw new RangeError(`too old resource version: ${fromRv} (${this.historyStart})`);
      for (const ev of this.history) if (ev.rv > fromRv) sub.onEvent(ev);
    }
    this.subscribers.add(sub);
    return () => this.subscribers.delete(sub);
  }

  /** Resolves once the cache has seen `rv` (read-your-writes after a status update); false on timeout. */
  waitFor(rv: number, timeoutMs: number): Promise<boolean> {
    if (this.rv >= rv) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = { rv, resolve: () => resolve(true) };
      this.rvWaiters.push(waiter);
      setTimeout(() => {
        const i = this.rvWaiters.indexOf(waiter);
        if (i >= 0) {
          this.rvWaiters.splice(i, 1);
          resolve(this.rv >= rv);
        }
      }, timeoutMs).unref();
    });
  }

  private advance(rv: number): void {
    if (rv <= this.rv) return;
    this.rv = rv;
    for (let i = this.rvWaiters.length - 1; i >= 0; i--) {
      const w = this.rvWaiters[i]!;
      if (w.rv <= rv) {
        this.rvWaiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  private record(ev: CacheEvent): void {
    this.history.push(ev);
    if (this.history.length > this.historySize) {
      const dropped = this.history.splice(0, this.history.length - this.historySize);
      this.historyStart = dropped[dropped.length - 1]!.rv;
    }
    for (const s of this.subscribers) s.onEvent(ev);
  }

  private apply(type: ChangeType, obj: StoredObject, rv: number): void {
    const k = key(obj.metadata.namespace, obj.metadata.name);
    const prev = this.store.get(k);
    const had = prev !== undefined;
    if (type === 'DELETED') {
      this.store.delete(k);
      if (had) this.sortedKeys = undefined;
    } else {
      this.store.set(k, obj);
      if (!had) this.sortedKeys = undefined;
    }
    this.advance(rv);
    this.record({ type, object: obj, rv, ...(prev ? { prev } : {}) });
  }

  private setLive(live: boolean): void {
    if (this.live === live) return;
    this.live = live;
    this.emit(live ? 'ready' : 'unready');
  }

  private async loop(): Promise<void> {
    let needList = true;
    let backoff = 200;
    while (!this.stopped) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
        }
        await this.watchOnce();
        backoff = 200;
      } catch (err) {
        this.setLive(false);
        if (this.stopped) break;
        if (err instanceof KubeApiError && (err.code === 410 || err.reason === 'Expired' || err.reason === 'Gone')) {
          this.log.info('watch of the storage CRD expired; re-listing', { resourceVersion: this.rv });
          needList = true;
          continue;
        }
        this.log.warn('list/watch of the storage CRD failed; retrying', { error: String(err instanceof Error ? err.message : err), retryInMs: backoff });
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 5_000);
      }
    }
  }

  private async relist(): Promise<void> {
    const fresh = new Map<string, StoredObject>();
    let cont: string | undefined;
    let listRv: number;
    do {
      const page = await this.client.json<{ metadata: { resourceVersion: string; continue?: string }; items: StoredObject[] }>('GET', LIST_PATH, {
        query: { limit: String(this.pageSize), continue: cont },
      });
      for (const item of page.items) {
        strip(item);
        fresh.set(key(item.metadata.namespace, item.metadata.name), item);
      }
      listRv = Number(page.metadata.resourceVersion);
      cont = page.metadata.continue || undefined;
    } while (cont);
    if (!this.synced) {
      for (const [k, o] of fresh) this.store.set(k, o);
      this.sortedKeys = undefined;
      this.historyStart = listRv;
      this.synced = true;
      this.log.info('storage CRD cache synced', { objects: fresh.size, resourceVersion: listRv });
      this.advance(listRv);
      return;
    }
    // Re-list after a gap: turn the difference into events so that open
    // watches stay correct, in resourceVersion order, deletions last.
    const changes: CacheEvent[] = [];
    for (const [k, o] of fresh) {
      const old = this.store.get(k);
      if (!old) changes.push({ type: 'ADDED', object: o, rv: Number(o.metadata.resourceVersion) });
      else if (old.metadata.resourceVersion !== o.metadata.resourceVersion) changes.push({ type: 'MODIFIED', object: o, rv: Number(o.metadata.resourceVersion) });
    }
    for (const [k, o] of this.store) if (!fresh.has(k)) changes.push({ type: 'DELETED', object: o, rv: listRv });
    changes.sort((a, b) => a.rv - b.rv);
    for (const c of changes) this.apply(c.type, c.object, Math.max(c.rv, this.rv));
    this.advance(listRv);
    this.log.info('storage CRD cache re-listed', { objects: fresh.size, changes: changes.length, resourceVersion: listRv });
  }

  private async watchOnce(): Promise<void> {
    this.abort = new AbortController();
    // Like the reflector: a random timeout spreads re-watches of many replicas.
    const timeoutSeconds = 300 + Math.floor(Math.random() * 300);
    const res = await this.client.send('GET', LIST_PATH, {
      query: { watch: 'true', resourceVersion: String(this.rv), allowWatchBookmarks: 'true', timeoutSeconds: String(timeoutSeconds) },
      signal: this.abort.signal,
    });
    if (res.statusCode !== 200) throw await apiErrorFrom(res, `watch ${LIST_PATH}`);
    this.setLive(true);
    await readWatchStream(res, (ev) => {
      if (ev.type === 'ERROR') {
        const st = ev.object as { code?: number; reason?: string; message?: string };
        throw new KubeApiError(st.code ?? 500, st as never, st.message ?? 'watch error');
      }
      const obj = ev.object as StoredObject;
      const rv = Number(obj.metadata.resourceVersion);
      if (ev.type === 'BOOKMARK') {
        this.advance(rv);
        for (const s of this.subscribers) s.onProgress?.(rv);
        return;
      }
      if (ev.type !== 'ADDED' && ev.type !== 'MODIFIED' && ev.type !== 'DELETED') return;
      strip(obj);
      this.apply(ev.type, obj, rv);
    });
  }
}

/** managedFields are the storage object's business and most of its bytes. */
function strip(obj: StoredObject): void {
  delete obj.metadata['managedFields'];
}
