// GET and LIST of customresources as kube-apiserver promises them (issue 23):
// without a resourceVersion they reflect every write acknowledged before the
// request, to the storage CRD directly or through any replica; at a
// resourceVersion the watch cache has not reached they are answered at once,
// not after a bookmark.
//
// - GET without resourceVersion is a quorum read of the storage object, as
//   kube-apiserver's GET goes to etcd (one request to kube-apiserver).
// - A page of a LIST (limit) the cache cannot answer at once, or a LIST at an
//   exact resourceVersion other than the cache's, is read through: the same
//   question asked of kube-apiserver (its watch cache answers it, or etcd),
//   its continue token carried over into ours.
// - A whole LIST proves the cache fresh for the request's scope (namespace,
//   label and name selectors), as kube-apiserver's consistent LIST from its cache
//   does by asking etcd for its current revision and waiting until the cache
//   has reached it. A watch client learns how far kube-apiserver is only from
//   bookmarks (one a second at best), so the proof here is a consistent LIST
//   of the scope as metadata only (PartialObjectMetadataList: each object's
//   name and resourceVersion, at etcd's current revision): when the cache
//   holds exactly those objects at those resourceVersions, or has reached
//   that revision, it answers for the scope at that revision. When it lacks a
//   change (the event is on its way) it waits for it a little, then reads
//   the scope through from kube-apiserver instead (the direct read).
//   The metadata is read in pages of PROOF_PAGE (one snapshot: the pages
//   after the first carry its continue token) and compared with the cache as
//   each page arrives, both in key order, keeping only the differences: a
//   proof of a scope of thousands of objects holds one page of their
//   metadata at a time, not the whole scope; and of each page only the
//   names and resourceVersions, scanned out of kube-apiserver's text
//   (scanMetadataList), never its managedFields, labels and annotations as
//   objects to collect.
import { GROUP_RESOURCE, STORAGE_GROUP, STORAGE_VERSION } from '../../../api/src/names.ts';
import type { StoredObject } from '../../../api/src/types.ts';
import { ApiError, ConnectionError } from '../../../client/src/errors.ts';
import type { RestClient } from '../../../client/src/rest-client.ts';
import { newNotFound, newResourceExpired, newServiceUnavailable, StatusError } from '../status/status-error.ts';
import type { CrdWatchCache } from './crd-watch-cache.ts';
import { detached } from '../http/request-scope.ts';

const COLLECTION = `/apis/${STORAGE_GROUP}/${STORAGE_VERSION}`;
const METADATA_LIST = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';

/**
 * How long a LIST waits for the watch to bring the changes the consistent
 * read shows, before reading the scope through (a watch that stuck): those
 * events are on their way, so this is the bound, not the usual wait.
 */
const CATCH_UP_MS = 1_000;
const TIMEOUT_MS = 30_000;
/** Objects per page of the proof's metadata read (the reflector's page size too). */
export const PROOF_PAGE = 500;

/** What a LIST asks for, in terms kube-apiserver answers for the storage CRD. */
export interface ListScope {
  namespace?: string;
  /** kube-apiserver's label selector syntax ('' for all). */
  labelSelector: string;
  /** A field selector kube-apiserver can apply (metadata.name, metadata.namespace), '' for none. */
  fieldSelector: string;
  /** Whether a cached object is in the scope, as kube-apiserver would select it. */
  includes(o: StoredObject): boolean;
}

/** How new the answer must be: the newest (consistent), not older than a resourceVersion, or exactly at one. */
export type Freshness = { kind: 'consistent' } | { kind: 'notOlderThan'; rv: number } | { kind: 'exact'; rv: number };

/** The scope's objects at `resourceVersion`: the cache's own (`fromCache`), or read through from kube-apiserver. */
export type ScopeRead = { resourceVersion: number; fromCache: true } | { resourceVersion: number; fromCache: false; objects: StoredObject[] };

/** One page read through: its objects, where the next one starts (namespace/name) and how many remain, as kube-apiserver said. */
export interface PageRead {
  resourceVersion: number;
  objects: StoredObject[];
  continueAfter?: string;
  remainingItemCount?: number;
}

interface ListPage<T> {
  metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number };
  items: T[];
}

interface Meta {
  metadata: { namespace: string; name: string; resourceVersion: string };
}

/**
 * Where the cache differed from kube-apiserver's listing at `rv`: each key
 * the two did not hold at the same resourceVersion, with the listed one
 * (undefined: not in the scope at `rv`).
 */
interface Proof {
  rv: number;
  differences: Map<string, string | undefined>;
}

/**
 * Keys the cache saw change since the proof's copy was taken: a change the
 * listing does not account for (an object made and deleted before the
 * revision, whose ADDED reached the cache during the proof and whose DELETED
 * has not yet) must not be answered as if it were there.
 */
type Touched = ReadonlySet<string>;

const key = (o: { metadata: { namespace?: string; name?: string } }) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;

function storageError(err: unknown): unknown {
  if (err instanceof ConnectionError) return newServiceUnavailable(`kube-apiserver is not reachable: ${err.message}`);
  if (err instanceof ApiError && err.code === 410) return newResourceExpired(err.message);
  // A resourceVersion kube-apiserver has not reached in time: its 504 Timeout (ResourceVersionTooLarge) as it gave it, retry and all.
  if (err instanceof ApiError && err.code === 504 && err.status?.details?.causes?.some((c) => c.reason === 'ResourceVersionTooLarge')) {
    return new StatusError(504, 'Timeout', err.message, err.status.details);
  }
  if (err instanceof ApiError && (err.code === 503 || err.code === 504 || err.code === 429)) return newServiceUnavailable(`kube-apiserver could not answer a consistent read: ${err.message}`);
  return err;
}

/**
 * Each item of a PartialObjectMetadataList as kube-apiserver encodes it: Go
 * writes the fields in their declared order (kind, apiVersion, then
 * ObjectMeta's name, generateName, namespace, selfLink, uid,
 * resourceVersion, …). Inside a JSON string every quote is escaped, so the
 * item's opening can only be structure.
 */
const ITEM_OPENING = '{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{';
const ITEM = /\{"kind":"PartialObjectMetadata","apiVersion":"meta\.k8s\.io\/v1","metadata":\{"name":"([^"\\]*)",(?:"generateName":"(?:[^"\\]|\\.)*",)?"namespace":"([^"\\]*)",(?:"selfLink":"(?:[^"\\]|\\.)*",)?(?:"uid":"[^"\\]*",)?"resourceVersion":"(\d+)"/g;
const LIST_HEAD = /^\{"kind":"PartialObjectMetadataList","apiVersion":"meta\.k8s\.io\/v1","metadata":\{(?:"selfLink":"(?:[^"\\]|\\.)*",)?"resourceVersion":"(\d+)"(?:,"continue":"([^"\\]*)")?(?:,"remainingItemCount":\d+)?\},"items":/;

/**
 * The namespace, name and resourceVersion of each item of a
 * PartialObjectMetadataList, and the list's resourceVersion and continue
 * token, read from the text without parsing the rest; undefined when the
 * text is not laid out as expected (then it is parsed as JSON).
 */
export function scanMetadataList(text: string): ListPage<Meta> | undefined {
  const head = LIST_HEAD.exec(text);
  if (!head) return undefined;
  let openings = 0;
  for (let at = text.indexOf(ITEM_OPENING); at >= 0; at = text.indexOf(ITEM_OPENING, at + ITEM_OPENING.length)) openings++;
  const items: Meta[] = [];
  for (const m of text.matchAll(ITEM)) items.push({ metadata: { name: m[1]!, namespace: m[2]!, resourceVersion: m[3]! } });
  if (items.length !== openings) return undefined;
  // None found: only when the list is empty (items [] or null), else the items are laid out otherwise.
  if (items.length === 0 && !/"items":(?:\[\]|null)\}?\s*$/.test(text)) return undefined;
  return { metadata: { resourceVersion: head[1]!, ...(head[2] ? { continue: head[2] } : {}) }, items };
}

/**
 * kube-apiserver's continue token for a list resuming after `after`
 * (namespace/name) at `rv`: its start key is relative to the list's prefix
 * (the name in a namespace, namespace/name across them).
 */
export function apiserverContinue(namespace: string | undefined, after: string, rv: number): string {
  const start = namespace !== undefined ? after.slice(after.indexOf('/') + 1) : after;
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: `${start}\u0000` })).toString('base64url');
}

export class CrdConsistentReader {
  private readonly client: RestClient;
  private readonly cache: CrdWatchCache;
  private readonly counts = { fences: 0, fromCache: 0, readThrough: 0, quorumGets: 0 };
  /** Consistent reads of each scope: the one in flight and the one callers arriving meanwhile wait for. */
  private readonly rounds = new Map<string, { running?: Promise<unknown>; queued?: Promise<unknown> }>();

  constructor(client: RestClient, cache: CrdWatchCache) {
    this.client = client;
    this.cache = cache;
  }

  /** How reads were answered (tests, metrics). */
  get stats(): Readonly<{ fences: number; fromCache: number; readThrough: number; quorumGets: number }> {
    return { ...this.counts };
  }

  /**
   * The object as kube-apiserver holds it now (a quorum read), or not older
   * than `notOlderThan` as kube-apiserver answers that (its watch cache waits
   * for it, then 504 Timeout with cause ResourceVersionTooLarge); NotFound
   * when it is gone.
   */
  async get(namespace: string, name: string, notOlderThan?: number): Promise<StoredObject> {
    this.counts.quorumGets++;
    this.cache.noteConsistentRead();
    let o: StoredObject;
    try {
      const path = `${COLLECTION}/namespaces/${encodeURIComponent(namespace)}/customresources/${encodeURIComponent(name)}`;
      o = await this.client.json<StoredObject>('GET', path, { timeoutMs: TIMEOUT_MS, ...(notOlderThan !== undefined ? { query: { resourceVersion: String(notOlderThan) } } : {}) });
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) throw newNotFound(GROUP_RESOURCE, name);
      throw storageError(err);
    }
    delete o.metadata['managedFields'];
    // The cache's copy when it is the same version: its strings are already shared with the rest.
    const cached = this.cache.get(namespace, name);
    return cached && cached.metadata.resourceVersion === o.metadata.resourceVersion ? cached : o;
  }

  /**
   * The whole scope, at least as new as every write acknowledged before the
   * call (consistent) or as the resourceVersion the client names: from the
   * cache when it can be shown to hold the scope at that revision, else read
   * through. The revision answered is kube-apiserver's current one, which may
   * be below a resourceVersion the client names (one etcd has not reached):
   * the caller waits for the cache or answers 504 as kube-apiserver does.
   */
  async list(scope: ListScope, fresh: Exclude<Freshness, { kind: 'exact' }>): Promise<ScopeRead> {
    if (fresh.kind === 'notOlderThan' && this.cache.resourceVersion >= fresh.rv) return this.cached(this.cache.resourceVersion);
    return this.shared(`${scope.namespace ?? ''}\u0000${scope.labelSelector}\u0000${scope.fieldSelector}`, () => this.prove(scope));
  }

  /**
   * Whether the cache holds the scope at etcd's current revision (and that
   * revision), without reading the scope through when it does not: for a
   * caller that reads a page through instead (a first page of a paged LIST).
   * Shared as list's reads are.
   */
  proved(scope: ListScope): Promise<{ resourceVersion: number; held: boolean }> {
    return this.shared(`proof\u0000${scope.namespace ?? ''}\u0000${scope.labelSelector}\u0000${scope.fieldSelector}`, async () => {
      const r = await this.proveScope(scope);
      if (r.held) this.counts.fromCache++;
      return r;
    });
  }

  /**
   * One consistent read of a scope for every LIST of it waiting: a caller
   * arriving while one is in flight waits for the next (the one in flight
   * may have been answered before the caller's write was), so many LISTs of
   * one scope cost kube-apiserver (and this heap) at most two at a time.
   * Detached: one request's end does not cancel it for the others.
   */
  private shared<T>(key: string, read: () => Promise<T>): Promise<T> {
    let r = this.rounds.get(key) as { running?: Promise<T>; queued?: Promise<T> } | undefined;
    if (!r) this.rounds.set(key, (r = {}));
    const round = r;
    const start = (): Promise<T> => {
      const p: Promise<T> = detached(read).finally(() => {
        if (round.running === p) round.running = undefined;
        if (!round.running && !round.queued) this.rounds.delete(key);
      });
      round.running = p;
      return p;
    };
    if (!round.running) return start();
    round.queued ??= round.running
      .catch(() => undefined)
      .then(() => {
        round.queued = undefined;
        return start();
      });
    return round.queued;
  }

  private async prove(scope: ListScope): Promise<ScopeRead> {
    const proof = await this.proveScope(scope);
    if (proof.held) return this.cached(proof.resourceVersion);
    const full = await this.page(scope, { kind: 'notOlderThan', rv: proof.resourceVersion }, 0);
    return { resourceVersion: full.resourceVersion, fromCache: false, objects: full.objects };
  }

  /** Proves the cache fresh for the scope: etcd's current revision, and whether the cache holds the scope at it (after waiting a little for events on their way). */
  private async proveScope(scope: ListScope): Promise<{ resourceVersion: number; held: boolean }> {
    this.counts.fences++;
    this.cache.noteConsistentRead();
    const touched = new Set<string>();
    // Subscribed when the cache is copied (compare, synchronously): every change after the copy is seen.
    const unsubscribe = this.cache.subscribe({ onEvent: (ev) => void touched.add(key(ev.object)) });
    let proof: Proof;
    try {
      try {
        proof = await this.compare(scope);
      } catch (err) {
        // etcd compacted the revision between two pages: once more, from a new one.
        if (!(err instanceof StatusError && err.status.code === 410)) throw err;
        proof = await this.compare(scope);
      }
      return { resourceVersion: proof.rv, held: await this.caughtUp(scope, proof, touched) };
    } finally {
      unsubscribe();
    }
  }

  /**
   * The scope's metadata at etcd's current revision, page by page, against
   * the cache's objects in the scope as they were when the read began (both
   * in key order: kube-apiserver lists by etcd key, namespace/name): what
   * differed. Objects the cache held at the listed resourceVersion are let
   * go with their page.
   */
  private async compare(scope: ListScope): Promise<Proof> {
    const cached = this.cache.list(scope.namespace);
    const differences = new Map<string, string | undefined>();
    let i = 0;
    /** The cache's next object in the scope (in key order) at or before `upTo`, counting each one the listing lacks as a difference. */
    const cachedUpTo = (upTo: string | undefined): StoredObject | undefined => {
      for (; i < cached.length; i++) {
        const o = cached[i]!;
        if (!scope.includes(o)) continue;
        const k = key(o);
        if (upTo !== undefined && k >= upTo) return k === upTo ? (i++, o) : undefined;
        differences.set(k, undefined);
      }
      return undefined;
    };
    let rv: number | undefined;
    let cont: string | undefined;
    do {
      const page = await this.metadataPage(scope, cont);
      rv ??= Number(page.metadata.resourceVersion);
      for (const m of page.items) {
        const k = key(m);
        if (cachedUpTo(k)?.metadata.resourceVersion !== m.metadata.resourceVersion) differences.set(k, m.metadata.resourceVersion);
      }
      cont = page.metadata.continue || undefined;
    } while (cont);
    cachedUpTo(undefined);
    return { rv, differences };
  }

  /** One page (limit; 0 for all) read through from kube-apiserver, resuming after `after` (namespace/name) at the token's resourceVersion. */
  async page(scope: ListScope, fresh: Freshness, limit: number, cont?: { rv: number; after: string }): Promise<PageRead> {
    this.counts.readThrough++;
    this.cache.noteConsistentRead();
    const query: Record<string, string | undefined> = { limit: limit > 0 ? String(limit) : undefined };
    if (cont) query['continue'] = apiserverContinue(scope.namespace, cont.after, cont.rv);
    else if (fresh.kind !== 'consistent') Object.assign(query, { resourceVersion: String(fresh.rv), resourceVersionMatch: fresh.kind === 'exact' ? 'Exact' : 'NotOlderThan' });
    const got = await this.read<StoredObject>(scope, 'application/json', query);
    for (const o of got.items) delete o.metadata['managedFields'];
    const last = got.items[got.items.length - 1];
    return {
      resourceVersion: Number(got.metadata.resourceVersion),
      objects: got.items,
      ...(got.metadata.continue && last ? { continueAfter: key(last) } : {}),
      ...(got.metadata.remainingItemCount !== undefined ? { remainingItemCount: got.metadata.remainingItemCount } : {}),
    };
  }

  /** The cache answers as it is now: at its own revision when it has passed `resourceVersion` (its contents may be newer). */
  private cached(resourceVersion: number): ScopeRead {
    this.counts.fromCache++;
    return { resourceVersion: Math.max(resourceVersion, this.cache.resourceVersion), fromCache: true };
  }

  /**
   * One page of the scope's metadata: each object's namespace, name and
   * resourceVersion, scanned from kube-apiserver's answer as it encodes it
   * (scanMetadataList) rather than parsed whole, so that the rest of each
   * object's metadata (managedFields, labels, annotations) never becomes
   * objects to collect; parsed as JSON when the scan does not account for
   * every item.
   */
  private metadataPage(scope: ListScope, cont: string | undefined): Promise<ListPage<Meta>> {
    return this.read<Meta>(scope, METADATA_LIST, { limit: String(PROOF_PAGE), continue: cont }, (text) => scanMetadataList(text) ?? JSON.parse(text));
  }

  private async read<T>(scope: ListScope, accept: string, query: Record<string, string | undefined>, parse?: (text: string) => unknown): Promise<ListPage<T>> {
    const path = scope.namespace !== undefined ? `${COLLECTION}/namespaces/${encodeURIComponent(scope.namespace)}/customresources` : `${COLLECTION}/customresources`;
    try {
      const page = await this.client.json<ListPage<T>>('GET', path, { accept, timeoutMs: TIMEOUT_MS, query: { labelSelector: scope.labelSelector || undefined, fieldSelector: scope.fieldSelector || undefined, ...query }, ...(parse ? { parse } : {}) });
      // An empty list comes as items: null.
      page.items ??= [];
      return page;
    } catch (err) {
      throw storageError(err);
    }
  }

  /**
   * The cache answers for the scope at the proof's revision: it has reached
   * it, or holds exactly what kube-apiserver listed (no difference left: each
   * object that differed is now held at its listed resourceVersion, or gone
   * from the scope when it was not listed; the others it held as listed, and
   * any later change of them is past the revision, so the cache is too).
   * Waits a little for events on their way.
   */
  private caughtUp(scope: ListScope, proof: Proof, touched: Touched): Promise<boolean> {
    const holds = () => this.cache.resourceVersion >= proof.rv || this.resolved(scope, proof, touched);
    if (holds()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (holds()) done(true);
      };
      const unsubscribe = this.cache.subscribe({ onEvent: check, onProgress: check });
      const timer = setTimeout(() => done(holds()), CATCH_UP_MS);
      function done(ok: boolean) {
        clearTimeout(timer);
        unsubscribe();
        resolve(ok);
      }
    });
  }

  /**
   * Every difference resolved: the cache now holds each such key in the
   * scope at its listed resourceVersion, or not at all when it was not
   * listed; and no other key changed since the copy is in the scope at a
   * resourceVersion the listing would have shown (at or below its revision).
   */
  private resolved(scope: ListScope, proof: Proof, touched: Touched): boolean {
    const inScope = (k: string) => {
      const slash = k.indexOf('/');
      const o = this.cache.get(k.slice(0, slash), k.slice(slash + 1));
      return o && scope.includes(o) ? o.metadata.resourceVersion : undefined;
    };
    for (const [k, listed] of proof.differences) if (inScope(k) !== listed) return false;
    for (const k of touched) {
      if (proof.differences.has(k)) continue;
      const held = inScope(k);
      if (held !== undefined && Number(held) <= proof.rv) return false;
    }
    return true;
  }
}
