// The read side of customresources: get, list and watch, served from the
// watch-fed cache of the storage CRD. Each object is converted to its
// custom.example.com view (computed status) on the way out.
import { GROUP_RESOURCE, GROUP_VERSION, LIST_KIND } from '../../../../api/src/names.ts';
import type { CustomResource, CustomResourceList, StoredObject } from '../../../../api/src/types.ts';
import type { CacheEvent, CrdWatchCache } from '../../store/crd-watch-cache.ts';
import { newNotFound, newResourceExpired, newServiceUnavailable, newTooLargeResourceVersion } from '../../status/status-error.ts';
import { positionOf } from '../../state/transitions.ts';
import { encodeContinue, type ListOptions } from './list-options.ts';
import { toCustomResource } from './view.ts';

export interface Clock {
  now(): Date;
}

/** How long a request that names a resourceVersion newer than the cache waits for it, as the apiserver's cacher does. */
const TOO_LARGE_RV_WAIT_MS = 3_000;

export function fieldsOf(o: StoredObject): Record<string, string> {
  return {
    'metadata.name': o.metadata.name,
    'metadata.namespace': o.metadata.namespace,
    'status.state': positionOf(o.spec, o.status).state,
  };
}

export function matches(o: StoredObject, namespace: string | undefined, opts: Pick<ListOptions, 'labelSelector' | 'fieldSelector'>): boolean {
  if (namespace !== undefined && o.metadata.namespace !== namespace) return false;
  if (!opts.labelSelector.empty && !opts.labelSelector.matches(o.metadata.labels)) return false;
  if (!opts.fieldSelector.empty && !opts.fieldSelector.matches(fieldsOf(o))) return false;
  return true;
}

export class CustomResourceStorage {
  readonly cache: CrdWatchCache;
  readonly clock: Clock;

  constructor(cache: CrdWatchCache, clock: Clock) {
    this.cache = cache;
    this.clock = clock;
  }

  private requireSynced(): void {
    if (!this.cache.hasSynced) throw newServiceUnavailable('the cache of customresources.example.com is not synced yet; retry in a few seconds');
  }

  /** Waits until the cache has seen `rv`; 504 Timeout with cause ResourceVersionTooLarge otherwise. */
  async waitForResourceVersion(rv: number): Promise<void> {
    if (await this.cache.waitFor(rv, TOO_LARGE_RV_WAIT_MS)) return;
    throw newTooLargeResourceVersion(rv, this.cache.resourceVersion);
  }

  get(namespace: string, name: string): CustomResource {
    this.requireSynced();
    const o = this.cache.get(namespace, name);
    if (!o) throw newNotFound(GROUP_RESOURCE, name);
    return toCustomResource(o, this.clock.now());
  }

  async list(namespace: string | undefined, opts: ListOptions): Promise<CustomResourceList> {
    this.requireSynced();
    if (opts.resourceVersion) await this.waitForResourceVersion(opts.resourceVersion);
    const rv = this.cache.resourceVersion;
    if (opts.resourceVersionMatch === 'Exact' && opts.resourceVersion !== rv) {
      throw newResourceExpired(`too old resource version: ${opts.resourceVersion} (${rv}); this server serves Exact lists only at its current resourceVersion, list without resourceVersionMatch instead`);
    }
    if (opts.continue && opts.continue.rv < this.cache.oldestWatchableResourceVersion) {
      throw newResourceExpired('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
    }
    const now = this.clock.now();
    const all = this.cache.list(namespace);
    const items: CustomResource[] = [];
    let cont: string | undefined;
    let remaining = 0;
    const after = opts.continue?.after;
    for (const o of all) {
      if (after !== undefined && `${o.metadata.namespace}/${o.metadata.name}` <= after) continue;
      if (!matches(o, namespace, opts)) continue;
      if (opts.limit > 0 && items.length >= opts.limit) {
        remaining++;
        continue;
      }
      items.push(toCustomResource(o, now));
    }
    if (remaining > 0) {
      const last = items[items.length - 1]!;
      cont = encodeContinue({ rv: opts.continue?.rv ?? rv, after: `${last.metadata.namespace}/${last.metadata.name}` });
    }
    const selective = !opts.labelSelector.empty || !opts.fieldSelector.empty;
    return {
      apiVersion: GROUP_VERSION,
      kind: LIST_KIND,
      metadata: {
        resourceVersion: String(opts.continue?.rv ?? rv),
        ...(cont ? { continue: cont } : {}),
        // As kube-apiserver: only without selectors is the count exact.
        ...(cont && !selective ? { remainingItemCount: remaining } : {}),
      },
      items,
    };
  }
}

export type WatchEvent = { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: CustomResource; rv: number };

/**
 * Turns a cache event into what a watcher with these filters sees: an object
 * entering the selection is ADDED, one leaving it is DELETED, as the
 * apiserver's cacher reports it.
 */
export function filterEvent(ev: CacheEvent, namespace: string | undefined, opts: Pick<ListOptions, 'labelSelector' | 'fieldSelector'>, now: Date): WatchEvent | undefined {
  const cur = ev.type !== 'DELETED' && matches(ev.object, namespace, opts);
  const before = ev.prev !== undefined && matches(ev.prev, namespace, opts);
  if (ev.type === 'DELETED') return before || matches(ev.object, namespace, opts) ? { type: 'DELETED', object: toCustomResource(ev.object, now), rv: ev.rv } : undefined;
  if (cur && (ev.type === 'ADDED' || !before)) return { type: 'ADDED', object: toCustomResource(ev.object, now), rv: ev.rv };
  if (cur && before) return { type: 'MODIFIED', object: toCustomResource(ev.object, now), rv: ev.rv };
  // Leaving the selection: the object as the watcher last saw it (it matched), at this event's resourceVersion, as the cacher sends it.
  if (!cur && before) {
    const last = toCustomResource(ev.prev!, now);
    return { type: 'DELETED', object: { ...last, metadata: { ...last.metadata, resourceVersion: String(ev.rv) } }, rv: ev.rv };
  }
  return undefined;
}
