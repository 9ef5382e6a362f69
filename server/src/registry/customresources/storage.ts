// The read side of customresources: get, list and the source of watches,
// served from the watch-fed cache of the storage CRD. Each object is
// converted to its custom.example.com view (computed status) on the way
// out; what matches a selector is selection.ts's to say.
import { GROUP_RESOURCE } from '../../../../api/src/names.ts';
import type { CustomResource, ListMeta, StoredObject } from '../../../../api/src/types.ts';
import type { Clock } from '../../clock.ts';
import type { GateSources } from '../../state/gate-sources.ts';
import type { CrdWatchCache, Subscriber } from '../../store/crd-watch-cache.ts';
import { newNotFound, newResourceExpired, newServiceUnavailable, newTooLargeResourceVersion } from '../../status/status-error.ts';
import { encodeContinue, type ListOptions } from './list-options.ts';
import { matches } from './selection.ts';
import { toCustomResource } from './view.ts';

/** How long a request that names a resourceVersion newer than the cache waits for it, as the apiserver's cacher does. */
const TOO_LARGE_RV_WAIT_MS = 3_000;

export class CustomResourceStorage {
  private readonly cache: CrdWatchCache;
  readonly clock: Clock;
  private readonly gates: GateSources | undefined;

  /** With `gates`, what is served counts GatePolicies and Freezes (the next move's gates, the soak left). */
  constructor(cache: CrdWatchCache, clock: Clock, gates?: GateSources) {
    this.cache = cache;
    this.clock = clock;
    this.gates = gates;
  }

  /** A stored object as custom.example.com serves it at `now`. */
  readonly view = (o: StoredObject, now: Date): CustomResource => toCustomResource(o, now, this.gates);

  private requireSynced(): void {
    if (!this.cache.hasSynced) throw newServiceUnavailable('the cache of customresources.example.com is not synced yet; retry in a few seconds');
  }

  /** Waits until the cache has seen `rv`; 504 Timeout with cause ResourceVersionTooLarge otherwise. */
  async waitForResourceVersion(rv: number, limitMs = TOO_LARGE_RV_WAIT_MS): Promise<void> {
    if (await this.cache.waitFresh(rv, Math.min(limitMs, TOO_LARGE_RV_WAIT_MS))) return;
    throw newTooLargeResourceVersion(rv, this.cache.resourceVersion);
  }

  /** The resourceVersion the cache is at. */
  get resourceVersion(): number {
    return this.cache.resourceVersion;
  }

  /** The stored objects now, in key order (a watch's initial events). */
  snapshot(namespace: string | undefined): readonly StoredObject[] {
    return this.cache.list(namespace);
  }

  /** Changes after `fromRv` (replayed from the cache's window) and every later one; RangeError when `fromRv` is older than the window. */
  subscribe(sub: Subscriber, fromRv?: number): () => void {
    return this.cache.subscribe(sub, fromRv);
  }

  get(namespace: string, name: string): CustomResource {
    this.requireSynced();
    const o = this.cache.get(namespace, name);
    if (!o) throw newNotFound(GROUP_RESOURCE, name);
    return this.view(o, this.clock.now());
  }

  /**
   * The objects a list selects (the cache's own, immutable: no copy) and its
   * list metadata; the caller converts and writes them one at a time.
   */
  async list(namespace: string | undefined, opts: ListOptions): Promise<{ metadata: ListMeta; objects: StoredObject[] }> {
    this.requireSynced();
    if (opts.resourceVersion) await this.waitForResourceVersion(opts.resourceVersion);
    const rv = this.cache.resourceVersion;
    if (opts.resourceVersionMatch === 'Exact' && opts.resourceVersion !== rv) {
      throw newResourceExpired(`too old resource version: ${opts.resourceVersion} (${rv}); this server serves Exact lists only at its current resourceVersion, list without resourceVersionMatch instead`);
    }
    if (opts.continue && opts.continue.rv < this.cache.oldestWatchableResourceVersion) {
      throw newResourceExpired('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
    }
    const objects: StoredObject[] = [];
    let remaining = 0;
    const after = opts.continue?.after;
    for (const o of this.cache.list(namespace)) {
      if (after !== undefined && `${o.metadata.namespace}/${o.metadata.name}` <= after) continue;
      if (!matches(o, namespace, opts)) continue;
      if (opts.limit > 0 && objects.length >= opts.limit) remaining++;
      else objects.push(o);
    }
    const last = objects[objects.length - 1];
    const cont = remaining > 0 && last ? encodeContinue({ rv: opts.continue?.rv ?? rv, after: `${last.metadata.namespace}/${last.metadata.name}` }) : undefined;
    const selective = !opts.labelSelector.empty || !opts.fieldSelector.empty;
    return {
      metadata: {
        resourceVersion: String(opts.continue?.rv ?? rv),
        ...(cont ? { continue: cont } : {}),
        // As kube-apiserver: only without selectors is the count exact.
        ...(cont && !selective ? { remainingItemCount: remaining } : {}),
      },
      objects,
    };
  }
}
