// Reads of a small watch-fed collection (GatePolicies, Freezes) at least as
// new as every write kube-apiserver acknowledged before the read began, as
// kube-apiserver's consistent reads from its cache are (k8s.io/apiserver
// storage/cacher: learn the current resourceVersion from etcd, then serve
// from the cache once it has reached it, else from etcd).
//
// Here the consistent read is a LIST of the whole collection, which
// kube-apiserver answers at the current revision: for a collection of a few
// dozen objects it costs what a LIST of one item costs, and it carries the
// answer as well as the revision. The cache is fresh enough when it has
// reached that revision or holds exactly the listed objects (by name and
// resourceVersion: nothing in the collection changed since the cache's
// position, only other collections moved etcd's revision). Otherwise the
// listed objects are taken as the cache's contents at that revision (the
// direct read), and the watch's older events are then left out, so the cache
// never goes back.
//
// Waiting for the watch instead would not be cheaper: kube-apiserver tells a
// watch how far it is only with a bookmark, about once a second at best.
import type { RestClient } from '../../../client/src/rest-client.ts';
import { ConnectionError } from '../../../client/src/errors.ts';
import { newServiceUnavailable } from '../status/status-error.ts';
import { detached } from '../http/request-scope.ts';

export interface Versioned {
  metadata: { namespace?: string; name?: string; resourceVersion?: string };
}

/** A cache's position and contents, as a consistent read checks them. */
export interface ConsistentTarget<T extends Versioned> {
  /** The resourceVersion of the cache's last list, event or bookmark (0 before the first list). */
  readonly resourceVersion: number;
  /** Every cached object: namespace/name → resourceVersion. */
  versions(): ReadonlyMap<string, string | undefined>;
  /** Takes `items`, a consistent list at `rv`, as the contents (events up to `rv` that arrive later are left out). */
  adopt(items: T[], rv: number): void;
}

export const objectKey = (o: Versioned) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;

/** The cache holds exactly `items`, each at its listed resourceVersion. */
export function holdsExactly(cached: ReadonlyMap<string, string | undefined>, items: readonly Versioned[]): boolean {
  if (cached.size !== items.length) return false;
  for (const o of items) if (cached.get(objectKey(o)) !== o.metadata.resourceVersion) return false;
  return true;
}

/**
 * The position a cache has reached and a floor below which watch events are
 * stale (the cache took a newer consistent read): the part of a store that
 * consistent reads need.
 */
export class CachePosition {
  private rv = 0;
  private floor = 0;

  get resourceVersion(): number {
    return this.rv;
  }

  /** A list at `rv`: false when it is older than what the cache already holds (leave it out). */
  listed(rv: number): boolean {
    if (rv < this.floor) return false;
    this.advance(rv);
    return true;
  }

  /** An event at `rv`: false when the cache already holds a consistent read at or after it (leave it out). */
  event(rv: number): boolean {
    if (rv <= this.floor) return false;
    this.advance(rv);
    return true;
  }

  /** A bookmark: nothing changed up to `rv`. */
  advance(rv: number): void {
    if (rv > this.rv) this.rv = rv;
  }

  /** The cache took a consistent list at `rv`. */
  adopted(rv: number): void {
    if (rv > this.floor) this.floor = rv;
    this.advance(rv);
  }
}

interface ListPage<T> {
  metadata: { resourceVersion: string };
  items: T[];
}

/**
 * `fresh()` resolves once the target is at least as new as kube-apiserver
 * was when it was called. Callers that arrive while a read is on its way wait
 * for the next one (the one on its way may have been answered before their
 * write was), so at most one read is in flight and one waits. What a read
 * costs is mostly kube-apiserver's wait: it answers a consistent LIST of a
 * quiet collection once its watch cache has heard etcd's progress
 * notification, about 50 ms on average under the bench's write load
 * (apiserver_watch_cache_read_wait_seconds); letting up to four reads run at
 * once was measured too and did not make promotes faster.
 */
export class ConsistentCollection<T extends Versioned> {
  private readonly client: RestClient;
  private readonly path: string;
  private readonly target: ConsistentTarget<T>;
  private readonly description: string;
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private reads = 0;
  private adoptions = 0;

  constructor(opts: { client: RestClient; path: string; target: ConsistentTarget<T>; description: string }) {
    this.client = opts.client;
    this.path = opts.path;
    this.target = opts.target;
    this.description = opts.description;
  }

  /** Consistent reads made, and how many of them the cache had not caught up with (metrics, tests). */
  get counts(): { reads: number; adopted: number } {
    return { reads: this.reads, adopted: this.adoptions };
  }

  fresh(): Promise<void> {
    if (!this.running) return this.start();
    this.queued ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.start();
      });
    return this.queued;
  }

  private start(): Promise<void> {
    // Shared by every caller waiting: not cancelled when the request that started it ends.
    const p = detached(() => this.read()).finally(() => {
      if (this.running === p) this.running = undefined;
    });
    this.running = p;
    return p;
  }

  private async read(): Promise<void> {
    let page: ListPage<T>;
    try {
      page = await this.client.json<ListPage<T>>('GET', this.path, { timeoutMs: 10_000 });
    } catch (err) {
      const why = err instanceof ConnectionError ? `kube-apiserver is not reachable: ${err.message}` : err instanceof Error ? err.message : String(err);
      throw newServiceUnavailable(`could not read the current ${this.description} from kube-apiserver, so the gates in force cannot be known: ${why}`);
    }
    this.reads++;
    const rv = Number(page.metadata.resourceVersion);
    if (this.target.resourceVersion >= rv || holdsExactly(this.target.versions(), page.items)) return;
    this.adoptions++;
    this.target.adopt(page.items, rv);
  }
}
