// A map whose entries expire, bounded in size, for answers that may be
// reused for a few seconds (TokenReviews and SubjectAccessReviews, as
// k8s.io/apiserver's delegating authenticator and authorizer cache them).
// The store is lru-cache (expiry per entry, the least recently used out
// first when full); what it adds is the TTL chosen by the answer (allowed
// and denied are kept for different times, 0 not at all) and identical
// lookups in flight sharing one load.
import { LRUCache } from 'lru-cache';

export class ExpiringCache<V> {
  // Boxed: lru-cache holds no null or undefined, and a cached answer may be null.
  private readonly lru: LRUCache<string, { value: V }>;
  private readonly inFlight = new Map<string, Promise<V>>();

  constructor(opts: { maxEntries?: number; now?: () => number } = {}) {
    this.lru = new LRUCache<string, { value: V }>({ max: opts.maxEntries ?? 10_000, ttlResolution: 0, ...(opts.now ? { perf: { now: opts.now } } : {}) });
  }

  get size(): number {
    return this.lru.size;
  }

  /** The value, or undefined when it is absent or expired. */
  get(key: string): V | undefined {
    return this.lru.get(key)?.value;
  }

  /** Keeps `value` for `ttlMs`; 0 or less keeps nothing (and forgets what was kept). */
  set(key: string, value: V, ttlMs: number): void {
    if (ttlMs <= 0) this.lru.delete(key);
    else this.lru.set(key, { value }, { ttl: ttlMs });
  }

  /**
   * The cached value, else the one `load` resolves (kept for `ttlMs(value)`);
   * callers asking for the same key while it loads share that load. A failed
   * load is not cached. `hit` says whether no new load was started.
   */
  async getOrLoad(key: string, load: () => Promise<V>, ttlMs: (value: V) => number): Promise<{ value: V; hit: boolean }> {
    const cached = this.get(key);
    if (cached !== undefined) return { value: cached, hit: true };
    const pending = this.inFlight.get(key);
    if (pending) return { value: await pending, hit: true };
    const p = load().then(
      (value) => {
        this.inFlight.delete(key);
        this.set(key, value, ttlMs(value));
        return value;
      },
      (err: unknown) => {
        this.inFlight.delete(key);
        throw err;
      },
    );
    this.inFlight.set(key, p);
    return { value: await p, hit: false };
  }
}
