// A watch-fed cache of the storage CRD, as the apiserver's cacher keeps one:
// fed by the client's reflector (list, watch, re-list after 410), it holds
// every object and a window of recent events so clients can watch from a
// resourceVersion, and answers 410 for older ones.
import { EventEmitter } from 'node:events';
import type { StoredObject } from '../../../api/src/types.ts';
import { STORAGE_GROUP, STORAGE_VERSION } from '../../../api/src/names.ts';
import { Reflector } from '../../../client/src/reflector.ts';
import type { RestClient } from '../../../client/src/rest-client.ts';
import type { Logger } from '../log/logger.ts';
import type { CacheReport } from './cache-report.ts';
import { detached } from '../http/request-scope.ts';

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

/** The least time between two consistent reads made to catch up with a resourceVersion. */
const MIN_FRESHEN_INTERVAL_MS = 250;

export class CrdWatchCache extends EventEmitter {
  private readonly log: Logger;
  private readonly historySize: number;
  private readonly reflector: Reflector<StoredObject>;
  private readonly store = new Map<string, StoredObject>();
  /** What list() answered, by namespace ('' for all), until the next change. */
  private readonly listed = new Map<string, readonly StoredObject[]>();
  private readonly history: CacheEvent[] = [];
  /** Watches may start at any resourceVersion >= this one. */
  private historyStart = 0;
  private rv = 0;
  private synced = false;
  private live = false;
  private readonly subscribers = new Set<Subscriber>();
  private readonly rvWaiters: { rv: number; resolve: () => void }[] = [];
  private sortedKeys: string[] | undefined;
  private freshening: Promise<number> | undefined;
  private lastFreshen = 0;
  private freshenCount = 0;
  private stopped = false;

  constructor(opts: CrdWatchCacheOptions) {
    super();
    this.log = opts.log;
    // Old versions are kept alive by the window: a bounded one bounds memory
    // under churn. A watcher further behind gets 410 and re-lists, as with
    // kube-apiserver's own watch cache.
    this.historySize = opts.historySize ?? 2_000;
    this.reflector = new Reflector<StoredObject>({
      client: opts.client,
      path: LIST_PATH,
      description: 'customresources.example.com',
      log: opts.log,
      pageSize: opts.pageSize ?? 500,
      store: {
        replace: (items, rv) => this.replace(items, Number(rv)),
        apply: (type, obj) => {
          strip(obj);
          this.apply(type, obj, Number(obj.metadata.resourceVersion));
        },
        bookmark: (rv) => {
          this.advance(Number(rv));
          for (const s of this.subscribers) s.onProgress?.(Number(rv));
        },
        setLive: (live) => this.setLive(live),
      },
    });
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

  /** Open subscriptions (watches of clients, and the backend's own controllers). */
  get subscriberCount(): number {
    return this.subscribers.size;
  }

  get size(): number {
    return this.store.size;
  }

  get report(): CacheReport {
    return { resource: `customresources.${STORAGE_GROUP}`, synced: this.synced, objects: this.store.size, progress: this.reflector.progress };
  }

  start(): void {
    this.reflector.start();
  }

  stop(): Promise<void> {
    this.stopped = true;
    return this.reflector.stop();
  }

  get(namespace: string, name: string): StoredObject | undefined {
    return this.store.get(key(namespace, name));
  }

  /** Objects in key order (namespace/name), as kube-apiserver lists them. */
  list(namespace?: string): readonly StoredObject[] {
    // Watchers starting together (say, 200 after a restart) and lists between two changes share one array.
    const memoKey = namespace ?? '';
    const memo = this.listed.get(memoKey);
    if (memo) return memo;
    this.sortedKeys ??= [...this.store.keys()].sort();
    const out: StoredObject[] = [];
    const prefix = namespace === undefined ? undefined : `${namespace}/`;
    for (const k of this.sortedKeys) {
      if (prefix && !k.startsWith(prefix)) continue;
      const o = this.store.get(k);
      if (o) out.push(o);
    }
    this.listed.set(memoKey, out);
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

  /**
   * Resolves true once the cache has reached `rv`, a resourceVersion a client
   * got elsewhere (from the CRD itself, or from another replica); false after
   * timeoutMs. etcd's revision moves with every write in the cluster, and
   * kube-apiserver bookmarks a watch only about once a minute, so the cache
   * finds out for itself: a consistent read of one item says how far
   * kube-apiserver is, and when that is further, a short re-watch brings a
   * bookmark at least that far within a second or two. Waiting requests share
   * those reads (coalesced, and at most one every MIN_FRESHEN_INTERVAL_MS).
   */
  waitFresh(rv: number, timeoutMs: number): Promise<boolean> {
    if (this.rv >= rv) return Promise.resolve(true);
    const reached = this.waitFor(rv, timeoutMs);
    void this.freshenUntil(rv, Date.now() + timeoutMs);
    return reached;
  }

  private async freshenUntil(rv: number, deadline: number): Promise<void> {
    while (this.rv < rv && Date.now() < deadline && !this.stopped) {
      const latest = await this.freshen().catch((err: unknown) => {
        this.log.warn('could not read how far kube-apiserver is', { error: err instanceof Error ? err.message : String(err) });
        return 0;
      });
      // A bookmark at least that recent is on its way, or the resourceVersion is not one kube-apiserver has.
      if (latest >= rv) return;
      await new Promise((r) => setTimeout(r, MIN_FRESHEN_INTERVAL_MS).unref());
    }
  }

  /** One coalesced consistent read; asks for a bookmark when kube-apiserver is ahead of the cache. */
  private freshen(): Promise<number> {
    // Shared by every request waiting: not cancelled when the request that started it ends.
    this.freshening ??= detached(async () => {
      const wait = this.lastFreshen + MIN_FRESHEN_INTERVAL_MS - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait).unref());
      this.lastFreshen = Date.now();
      const latest = Number(await this.reflector.latestResourceVersion());
      this.freshenCount++;
      this.log.debug('consistent read to catch up', { latest, cached: this.rv });
      if (latest > this.rv) this.reflector.requestBookmark();
      return latest;
    }).finally(() => (this.freshening = undefined));
    return this.freshening;
  }

  /** Consistent reads of kube-apiserver made to answer as new as a client asked (a metric): the cache's own and those noted by readers (noteConsistentRead). */
  get freshenReads(): number {
    return this.freshenCount;
  }

  /** A consistent read made on the cache's behalf (store/crd-consistent-read.ts), counted in freshenReads. */
  noteConsistentRead(): void {
    this.freshenCount++;
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
    this.listed.clear();
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

  /** The reflector's list: the first sync, or a re-list after a gap. */
  private replace(items: StoredObject[], listRv: number): void {
    const fresh = new Map<string, StoredObject>();
    for (const item of items) {
      strip(item);
      fresh.set(key(item.metadata.namespace, item.metadata.name), item);
    }
    if (!this.synced) {
      for (const [k, o] of fresh) this.store.set(k, o);
      this.sortedKeys = undefined;
      this.listed.clear();
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
}

/** managedFields are the storage object's business and most of its bytes. */
/**
 * Shares the strings that repeat across objects and entries (namespaces,
 * state names, actions, users): JSON.parse makes a new string for every
 * value, and every object holds its window of history. Bounded: past the
 * limit new strings are kept as they come.
 */
const INTERNED_MAX = 100_000;
const interned = new Map<string, string>();
function intern(s: string): string;
function intern(s: string | undefined): string | undefined;
function intern(s: string | undefined): string | undefined {
  if (s === undefined) return s;
  const hit = interned.get(s);
  if (hit !== undefined) return hit;
  if (interned.size < INTERNED_MAX) interned.set(s, s);
  return s;
}

/** What the cache keeps of an object: no managedFields (the writers' business and most of its bytes), repeated strings shared. */
function strip(obj: StoredObject): void {
  delete obj.metadata['managedFields'];
  obj.metadata.namespace = intern(obj.metadata.namespace);
  if (obj.spec.states) obj.spec.states = obj.spec.states.map((x) => intern(x));
  if (obj.spec.protectedStates) obj.spec.protectedStates = obj.spec.protectedStates.map((x) => intern(x));
  const st = obj.status;
  if (!st) return;
  if (st.state) st.state = intern(st.state);
  for (const e of st.history ?? []) {
    e.action = intern(e.action) as typeof e.action;
    e.from = intern(e.from);
    e.to = intern(e.to);
    e.user = intern(e.user);
  }
  for (const a of st.approvals ?? []) {
    a.to = intern(a.to);
    a.from = intern(a.from);
    a.user = intern(a.user);
  }
}
