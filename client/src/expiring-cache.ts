// A map whose entries expire, bounded in size, for answers that may be
// reused for a few seconds (TokenReviews and SubjectAccessReviews, as
// k8s.io/apiserver's delegating authenticator and authorizer cache them).
// When it is full, expired entries go first, then the oldest. Identical
// lookups in flight share one load.

export class ExpiringCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();
  private readonly inFlight = new Map<string, Promise<V>>();
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(opts: { maxEntries?: number; now?: () => number } = {}) {
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The value, or undefined when it is absent or expired. */
  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expires <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  set(key: string, value: V, ttlMs: number): void {
    const now = this.now();
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.evict(now);
    this.entries.set(key, { value, expires: now + ttlMs });
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

  private evict(now: number): void {
    for (const [k, e] of this.entries) if (e.expires <= now) this.entries.delete(k);
    // Still full: drop the oldest (Map keeps insertion order).
    for (const k of this.entries.keys()) {
      if (this.entries.size < this.maxEntries) break;
      this.entries.delete(k);
    }
  }
}
