// The read side of customresources: get, list and the source of watches,
// served from the watch-fed cache of the storage CRD, with kube-apiserver's
// consistency (issue 23; store/crd-consistent-read.ts): a GET or LIST without
// resourceVersion reflects every write acknowledged before it, one at a
// resourceVersion the cache has not reached is answered at once (read
// through), resourceVersion=0 is the cache as it is, and Exact is exact. Each
// object is converted to its custom.example.com view (computed status) on the
// way out; what matches a selector is selection.ts's to say.
import { GROUP_RESOURCE } from '../../../../api/src/names.ts';
import type { CustomResource, ListMeta, StoredObject } from '../../../../api/src/types.ts';
import type { Clock } from '../../clock.ts';
import type { GateSources } from '../../state/gate-sources.ts';
import { PROOF_PAGE, type CrdConsistentReader, type Freshness, type ListScope, type PageRead } from '../../store/crd-consistent-read.ts';
import type { CrdWatchCache, Subscriber } from '../../store/crd-watch-cache.ts';
import { newNotFound, newResourceExpired, newServiceUnavailable, newTooLargeResourceVersion } from '../../status/status-error.ts';
import { encodeContinue, type ListOptions } from './list-options.ts';
import { parseFieldSelector } from '../../selectors/field-selector.ts';
import { matches } from './selection.ts';
import { toCustomResource } from './view.ts';

const NO_FIELDS = parseFieldSelector('', []);

/** How long a request that names a resourceVersion newer than the cache waits for it, as the apiserver's cacher does. */
const TOO_LARGE_RV_WAIT_MS = 3_000;

export class CustomResourceStorage {
  private readonly cache: CrdWatchCache;
  readonly clock: Clock;
  private readonly gates: GateSources | undefined;
  private readonly reader: CrdConsistentReader | undefined;

  /**
   * With `gates`, what is served counts GatePolicies and Freezes (the next
   * move's gates, the soak left); with `reader`, reads are as consistent as
   * kube-apiserver's (without it, the cache as it is: in-process tests).
   */
  constructor(cache: CrdWatchCache, clock: Clock, gates?: GateSources, reader?: CrdConsistentReader) {
    this.cache = cache;
    this.clock = clock;
    this.gates = gates;
    this.reader = reader;
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

  /**
   * A watch's initial events when it names no resourceVersion (watch-list's
   * sendInitialEvents=true, or a plain watch), as kube-apiserver's cacher
   * starts one: at etcd's current revision, not the cache as it happens to be
   * (getWatchCacheResourceVersion, then waitUntilFreshAndBlock). The objects
   * the watch selects, from the cache once it is shown to hold the scope at
   * that revision, else read through, exactly as a LIST without
   * resourceVersion answers; and the revision they are at, which the
   * initial-events-end bookmark carries and after which the watch goes on.
   */
  async initialState(namespace: string | undefined, opts: ListOptions): Promise<{ objects: readonly StoredObject[]; resourceVersion: number }> {
    this.requireSynced();
    const { labelSelector, fieldSelector, watch, allowWatchBookmarks } = opts;
    const l = await this.list(namespace, { labelSelector, fieldSelector, watch, allowWatchBookmarks, limit: 0 });
    return { objects: l.objects, resourceVersion: Number(l.metadata.resourceVersion) };
  }

  /** Changes after `fromRv` (replayed from the cache's window) and every later one; RangeError when `fromRv` is older than the window. */
  subscribe(sub: Subscriber, fromRv?: number): () => void {
    return this.cache.subscribe(sub, fromRv);
  }

  /**
   * The object: without `resourceVersion` as kube-apiserver holds it now (a
   * quorum read, as kube-apiserver's GET); at "0" as cached; at N not older
   * than N: cached when the cache has reached N, else asked of kube-apiserver
   * at N, whose watch cache waits for N and answers 504 Timeout
   * (ResourceVersionTooLarge) when etcd has not reached it.
   */
  async get(namespace: string, name: string, resourceVersion?: number): Promise<CustomResource> {
    this.requireSynced();
    if (this.reader && resourceVersion !== 0 && !(resourceVersion !== undefined && this.cache.resourceVersion >= resourceVersion)) {
      return this.view(await this.reader.get(namespace, name, resourceVersion), this.clock.now());
    }
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
    if (this.reader) return this.consistentList(this.reader, namespace, opts);
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

  /**
   * A list as kube-apiserver answers it: resourceVersion=0 from the cache as
   * it is; a page (limit) or an exact resourceVersion the cache cannot answer
   * at once read through; the rest from the cache once it is shown to hold
   * the scope at kube-apiserver's current revision (or at the one asked for),
   * else read through. A list the cache answers is labelled with the cache's
   * revision (its contents are as of then), never an older one. A
   * continuation is one snapshot with its first page: the cache answers it
   * only while it is still at the token's revision (nothing changed since);
   * otherwise kube-apiserver answers it at that revision, or 410 when etcd has
   * compacted it.
   */
  private async consistentList(reader: CrdConsistentReader, namespace: string | undefined, opts: ListOptions): Promise<{ metadata: ListMeta; objects: StoredObject[] }> {
    const cont = opts.continue;
    const fields = opts.fieldSelector.toString();
    // kube-apiserver selects the storage CRD by metadata.name and metadata.namespace only; status.state is ours.
    const expressible = !fields.includes('status.state');
    const scope: ListScope = {
      ...(namespace !== undefined ? { namespace } : {}),
      labelSelector: opts.labelSelector.toString(),
      fieldSelector: expressible ? fields : '',
      includes: (o) => matches(o, namespace, expressible ? opts : { labelSelector: opts.labelSelector, fieldSelector: NO_FIELDS }),
    };
    const rv = opts.resourceVersion;
    // A continuation is read at its token's revision exactly; a resourceVersion with it is refused unless "0" (list-options.ts), which it overrides.
    const fresh: Freshness = cont ? { kind: 'exact', rv: cont.rv } : rv === undefined ? { kind: 'consistent' } : opts.resourceVersionMatch === 'Exact' ? { kind: 'exact', rv } : { kind: 'notOlderThan', rv };
    const at0 = this.cache.resourceVersion;
    const cacheAnswers = cont ? cont.rv === at0 : rv === 0 || (fresh.kind === 'exact' ? fresh.rv === at0 : fresh.kind === 'notOlderThan' && at0 >= fresh.rv);
    if (cacheAnswers) return this.select(this.cache.list(namespace), namespace, opts, this.cache.resourceVersion);
    if (fresh.kind === 'exact' && !expressible) {
      // A past revision, selected by a field kube-apiserver does not know: the whole scope read at it, selected here (after the continue key).
      const page = await reader.page(scope, fresh, 0);
      return this.select(page.objects, namespace, opts, page.resourceVersion);
    }
    // A first page as large as a page of the proof, without resourceVersion, is served from the cache once the scope is proved
    // fresh, as kube-apiserver 1.37 serves a paged consistent LIST from its cache: the proof holds one page of names and
    // resourceVersions at a time, where reading the page through would hold that many whole objects parsed (kubectl's chunks
    // and client-go's lists are 500); its continue token is at the proof's revision, so the next pages come from the cache
    // while it is still there. Smaller pages (a count, limit=1) are cheaper read through than a proof of the whole scope.
    const largePage = fresh.kind === 'consistent' && opts.limit >= PROOF_PAGE;
    if (largePage && expressible) {
      const proof = await reader.proved(scope);
      // The cache as it is now, which may have moved past the proof's revision since.
      if (proof.held) return this.select(this.cache.list(namespace), namespace, opts, Math.max(proof.resourceVersion, this.cache.resourceVersion));
      // Not shown to hold it (an event late): this page alone read through at that revision, not the whole scope.
      const page = await reader.page(scope, { kind: 'notOlderThan', rv: proof.resourceVersion }, opts.limit);
      return pageAnswer(page, page.resourceVersion);
    }
    if (expressible && ((opts.limit > 0 && !largePage) || fresh.kind === 'exact')) {
      // A page, a continuation or a past revision: kube-apiserver answers it as asked, continue token and all.
      const page = await reader.page(scope, fresh, opts.limit, cont);
      return pageAnswer(page, cont?.rv ?? page.resourceVersion);
    }
    const read = await reader.list(scope, fresh as Exclude<Freshness, { kind: 'exact' }>);
    if (fresh.kind === 'notOlderThan' && read.resourceVersion < fresh.rv) {
      // etcd had not reached the resourceVersion asked for when it was read: wait for the cache to, as kube-apiserver's cacher does, else 504.
      await this.waitForResourceVersion(fresh.rv);
      return this.select(this.cache.list(namespace), namespace, opts, this.cache.resourceVersion);
    }
    if (!read.fromCache) return this.select(read.objects, namespace, opts, read.resourceVersion);
    // The cache as it is now, which may have moved past the proof's revision since.
    return this.select(this.cache.list(namespace), namespace, opts, Math.max(read.resourceVersion, this.cache.resourceVersion));
  }

  /** What a list selects from `all` (in key order) after the continue key, up to the limit, with its list metadata at `rv`. */
  private select(all: readonly StoredObject[], namespace: string | undefined, opts: ListOptions, rv: number): { metadata: ListMeta; objects: StoredObject[] } {
    const objects: StoredObject[] = [];
    let remaining = 0;
    const after = opts.continue?.after;
    for (const o of all) {
      if (after !== undefined && `${o.metadata.namespace}/${o.metadata.name}` <= after) continue;
      if (!matches(o, namespace, opts)) continue;
      if (opts.limit > 0 && objects.length >= opts.limit) remaining++;
      else objects.push(o);
    }
    const last = objects[objects.length - 1];
    const cont = remaining > 0 && last ? encodeContinue({ rv, after: `${last.metadata.namespace}/${last.metadata.name}` }) : undefined;
    const selective = !opts.labelSelector.empty || !opts.fieldSelector.empty;
    return {
      metadata: {
        resourceVersion: String(rv),
        ...(cont ? { continue: cont } : {}),
        ...(cont && !selective ? { remainingItemCount: remaining } : {}),
      },
      objects,
    };
  }
}

/** A page kube-apiserver answered, as this list answers it: at `at` (a continuation's revision, or the page's), with our continue token after its last object. */
function pageAnswer(page: PageRead, at: number): { metadata: ListMeta; objects: StoredObject[] } {
  const next = page.continueAfter !== undefined ? encodeContinue({ rv: at, after: page.continueAfter }) : undefined;
  return {
    metadata: { resourceVersion: String(at), ...(next ? { continue: next } : {}), ...(next && page.remainingItemCount !== undefined ? { remainingItemCount: page.remainingItemCount } : {}) },
    objects: page.objects,
  };
}
