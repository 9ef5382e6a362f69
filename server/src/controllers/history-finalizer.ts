// Keeps the trail through deletions, as a controller: every object carries
// the backend's finalizer (kube-apiserver adds it at creation through the
// MutatingAdmissionPolicy of manifests/base/finalizer-policy.yaml; objects
// from before it get it here, in the background, rate-limited, and a change
// adds it at the latest), and an object being deleted has its window archived with a
// `deleted` entry before the finalizer is released. Every replica runs it;
// each step is idempotent (deterministic segments, guarded patches), so two
// replicas archive each deletion once. Objects deleted while the backend was
// down are handled as soon as its cache syncs.
import { FINALIZER } from '../../../api/src/names.ts';
import { deleterOf } from '../store/deletion-record.ts';
import type { HistoryEntry, StoredObject } from '../../../api/src/types.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log/logger.ts';
import { positionOf } from '../state/position.ts';
import { nextEntry, normalize } from '../state/history.ts';
import type { CrdWatchCache } from '../store/crd-watch-cache.ts';
import type { HistoryArchive } from '../store/history-archive.ts';
import { hasFinalizer, WriteConflict, type StatusStore } from '../store/status-store.ts';

/** The `deleted` entry's user when the admission webhook recorded none (it was not installed, say): kube-apiserver's audit log has it. */
const DELETED_BY = '<unknown>';

export interface HistoryFinalizerDeps {
  cache: CrdWatchCache;
  store: StatusStore;
  archive: HistoryArchive;
  log: Logger;
  clock: Clock;
  /** Finalizer additions and releases per second, at most (a burst of twice that). */
  ratePerSecond?: number;
  /** Objects handled at once. */
  workers?: number;
}

/** The entries a deletion archives: what of the window is not archived yet, then `deleted`. */
function deletionEntries(obj: StoredObject, archivedThrough: number): HistoryEntry[] {
  const window = normalize(obj.status?.history ?? []);
  const deleted = nextEntry(window, {
    action: 'deleted',
    from: positionOf(obj.spec, obj.status, obj.metadata.creationTimestamp).state,
    user: deleterOf(obj, DELETED_BY),
    // The deletion's own time, so every replica writes the same entry.
    time: obj.metadata.deletionTimestamp!,
  });
  return [...window, deleted].filter((e) => e.seq! > archivedThrough);
}

const key = (o: StoredObject) => `${o.metadata.namespace}/${o.metadata.name}`;

export class HistoryFinalizer {
  private readonly d: HistoryFinalizerDeps;
  private readonly queue = new Set<string>();
  private readonly retries = new Map<string, number>();
  private tokens: number;
  private readonly rate: number;
  private running = 0;
  private stopped = false;
  private unsubscribe: (() => void) | undefined;
  private refill: NodeJS.Timeout | undefined;
  private idle: (() => void)[] = [];

  constructor(deps: HistoryFinalizerDeps) {
    this.d = deps;
    this.rate = deps.ratePerSecond ?? 20;
    this.tokens = this.rate * 2;
  }

  start(): void {
    this.unsubscribe = this.d.cache.subscribe({ onEvent: (ev) => ev.type !== 'DELETED' && this.consider(ev.object) });
    // After every (re)sync, look at everything: objects made or deleted while no backend ran.
    this.d.cache.on('ready', () => this.resync());
    if (this.d.cache.ready) this.resync();
    this.refill = setInterval(() => {
      this.tokens = Math.min(this.rate * 2, this.tokens + this.rate / 10);
      this.pump();
    }, 100);
    this.refill.unref();
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.refill) clearInterval(this.refill);
  }

  /** Resolves when the queue is empty and nothing is in flight (tests). */
  whenIdle(): Promise<void> {
    if (this.queue.size === 0 && this.running === 0) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  private resync(): void {
    for (const o of this.d.cache.list()) this.consider(o);
  }

  private needsWork(o: StoredObject): boolean {
    return o.metadata.deletionTimestamp ? hasFinalizer(o, FINALIZER) : !hasFinalizer(o, FINALIZER);
  }

  private consider(o: StoredObject): void {
    if (!this.needsWork(o)) return;
    this.queue.add(key(o));
    this.pump();
  }

  private pump(): void {
    const workers = this.d.workers ?? 4;
    while (!this.stopped && this.running < workers && this.queue.size > 0 && this.tokens >= 1) {
      const k = this.queue.values().next().value as string;
      this.queue.delete(k);
      this.tokens -= 1;
      this.running++;
      void this.handle(k).finally(() => {
        this.running--;
        this.pump();
        if (this.queue.size === 0 && this.running === 0) for (const r of this.idle.splice(0)) r();
      });
    }
  }

  private async handle(k: string): Promise<void> {
    const [namespace, name] = k.split('/') as [string, string];
    const obj = this.d.cache.get(namespace, name);
    if (!obj || !this.needsWork(obj)) return;
    try {
      if (obj.metadata.deletionTimestamp) await this.archiveAndRelease(obj);
      else await this.d.store.setFinalizers(obj, [...(obj.metadata.finalizers ?? []), FINALIZER]);
      this.retries.delete(k);
    } catch (err) {
      // A conflict means the cache will bring the newer object (and an event): look again then.
      if (err instanceof WriteConflict) return void this.later(k, 0);
      const n = (this.retries.get(k) ?? 0) + 1;
      this.retries.set(k, n);
      this.d.log.warn(obj.metadata.deletionTimestamp ? 'could not archive a deleted object; retrying' : 'could not add the history finalizer; retrying', { object: k, attempt: n, error: err instanceof Error ? err.message : String(err) });
      this.later(k, Math.min(30_000, 500 * 2 ** Math.min(n, 6)));
    }
  }

  private later(k: string, ms: number): void {
    setTimeout(() => {
      const [namespace, name] = k.split('/') as [string, string];
      const obj = this.d.cache.get(namespace, name);
      if (obj) this.consider(obj);
    }, ms).unref();
  }

  /** Archives what the window holds and a `deleted` entry, then releases the object. */
  async archiveAndRelease(obj: StoredObject): Promise<void> {
    const { namespace, name, uid } = obj.metadata;
    const entries = deletionEntries(obj, await this.d.archive.archivedThrough(uid!));
    await this.d.archive.write({ namespace, name, uid: uid!, ...(obj.metadata.labels ? { labels: obj.metadata.labels } : {}), states: obj.spec.states ?? [] }, entries);
    await this.d.store.setFinalizers(obj, (obj.metadata.finalizers ?? []).filter((f) => f !== FINALIZER));
    this.d.log.info('archived a deleted object and released it', { object: `${namespace}/${name}`, uid, entries: entries.length });
  }
}
