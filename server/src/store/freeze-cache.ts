// The Freezes the backend enforces: a watch-fed cache of freezes.example.com
// in every namespace (client/src/reflector.ts: list, watch, re-list after a
// gap), each freeze compiled once (api/src/freeze-schedule.ts), answering
// the gate engine's question: which freezes hold a move into this state of
// this object now? A Freeze in custom-system holds objects in every
// namespace; one elsewhere holds its own namespace's.
//
// Readiness waits for the first list: a backend that has not seen the
// Freezes would let moves through that they forbid.
import { EventEmitter } from 'node:events';
import { compileFreeze, type CompiledFreeze, type FreezeEvaluation } from '../../../api/src/freeze-schedule.ts';
import { FREEZE_RESOURCE, STORAGE_GROUP, STORAGE_PATH, SYSTEM_NAMESPACE } from '../../../api/src/names.ts';
import type { Freeze } from '../../../api/src/types.ts';
import { Reflector, type ReflectorStore } from '../../../client/src/reflector.ts';
import type { RestClient } from '../../../client/src/rest-client.ts';
import type { Logger } from '../log/logger.ts';
import { selectorMatches } from '../selectors/label-selector-spec.ts';
import type { CacheReport } from './cache-report.ts';
import { CachePosition, ConsistentCollection, objectKey, type ConsistentTarget } from './consistent-collection.ts';

/** An active freeze that holds a move. */
export interface FreezeInfo {
  namespace: string;
  name: string;
  reason: string;
  /** The current window's end (RFC 3339); absent when it has none within a year or cannot be evaluated. */
  end?: string;
}

/** What the gate engine asks. */
export interface FreezeSource {
  /** The Freezes have been listed once: until then no answer can be trusted. */
  readonly synced: boolean;
  /** Freezes active at `now` that cover a move into `state` of an object in `namespace` with `labels`: those in the object's namespace and those in custom-system (cluster-wide). */
  activeFor(namespace: string, labels: Record<string, string> | undefined, state: string, now: Date): FreezeInfo[];
  /** Freezes active now or scheduled (a window still to come) that cover such a move. */
  inForceFor(namespace: string, labels: Record<string, string> | undefined, state: string, now: Date): FreezeInfo[];
}

/** A cached Freeze and its compiled schedule. */
export interface CachedFreeze {
  freeze: Freeze;
  at(now: Date): FreezeEvaluation;
}

const key = (namespace: string, name: string) => `${namespace}/${name}`;

/**
 * Emits 'change' with the key (namespace/name) of a Freeze added, changed or
 * deleted, and 'synced' after the first list.
 */
export class FreezeCache extends EventEmitter implements FreezeSource, ReflectorStore<Freeze>, ConsistentTarget<Freeze> {
  private readonly entries = new Map<string, { freeze: Freeze; compiled: CompiledFreeze }>();
  private readonly reflector: Reflector<Freeze>;
  private readonly position = new CachePosition();
  private readonly consistent: ConsistentCollection<Freeze>;
  private readonly log: Logger;
  private loaded = false;

  constructor(opts: { client: RestClient; log: Logger }) {
    super();
    this.log = opts.log;
    this.reflector = new Reflector<Freeze>({ client: opts.client, path: `${STORAGE_PATH}/${FREEZE_RESOURCE}`, description: 'freezes.example.com', log: opts.log, store: this });
    this.consistent = new ConsistentCollection({ client: opts.client, path: `${STORAGE_PATH}/${FREEZE_RESOURCE}`, target: this, description: 'Freezes' });
  }

  /** Resolves once the cache holds every Freeze write acknowledged before the call (a consistent read of kube-apiserver). */
  fresh(): Promise<void> {
    return this.consistent.fresh();
  }

  /** The resourceVersion of the last list, event or bookmark (or consistent read taken). */
  get resourceVersion(): number {
    return this.position.resourceVersion;
  }

  versions(): Map<string, string | undefined> {
    const m = new Map<string, string | undefined>();
    for (const { freeze } of this.entries.values()) m.set(objectKey(freeze), freeze.metadata.resourceVersion);
    return m;
  }

  /** A consistent list newer than the cache (consistent-collection.ts): the contents from now on. */
  adopt(items: Freeze[], rv: number): void {
    this.position.adopted(rv);
    this.fill(items);
    this.log.info('freezes read fresh from kube-apiserver (the watch had not brought them yet)', { freezes: items.length, resourceVersion: rv });
  }

  bookmark(resourceVersion: string): void {
    this.position.advance(Number(resourceVersion));
  }

  get synced(): boolean {
    return this.loaded;
  }

  get report(): CacheReport {
    return { resource: `${FREEZE_RESOURCE}.${STORAGE_GROUP}`, synced: this.loaded, objects: this.entries.size, progress: this.reflector.progress };
  }

  start(): void {
    this.reflector.start();
  }

  stop(): Promise<void> {
    return this.reflector.stop();
  }

  /** The reflector's list: the first sync, and every re-list after a gap. */
  replace(items: Freeze[], resourceVersion?: string): void {
    // A list answered before a consistent read the cache has since taken is older than what it holds.
    if (resourceVersion !== undefined && !this.position.listed(Number(resourceVersion))) return;
    this.fill(items);
  }

  private fill(items: Freeze[]): void {
    const before = new Map(this.entries);
    this.entries.clear();
    for (const f of items) this.put(f);
    const changed = new Set<string>();
    for (const [k, e] of this.entries) if (before.get(k)?.freeze.metadata.resourceVersion !== e.freeze.metadata.resourceVersion) changed.add(k);
    for (const k of before.keys()) if (!this.entries.has(k)) changed.add(k);
    const first = !this.loaded;
    this.loaded = true;
    if (first) this.log.info('freezes listed', { freezes: this.entries.size });
    for (const k of changed) this.emit('change', k);
    if (first) this.emit('synced');
  }

  /** One watch event. */
  apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', f: Freeze): void {
    // Already in a consistent read the cache took: the watch is catching up with it.
    if (!this.position.event(Number(f.metadata.resourceVersion))) return;
    if (type === 'DELETED') this.entries.delete(key(f.metadata.namespace, f.metadata.name));
    else this.put(f);
    this.emit('change', key(f.metadata.namespace, f.metadata.name));
  }

  private put(f: Freeze): void {
    delete f.metadata['managedFields'];
    // A spec change (or the first sight) compiles again; a status write keeps the compiled schedule.
    const old = this.entries.get(key(f.metadata.namespace, f.metadata.name));
    const same = old !== undefined && old.freeze.metadata.generation === f.metadata.generation && f.metadata.generation !== undefined;
    this.entries.set(key(f.metadata.namespace, f.metadata.name), { freeze: f, compiled: same ? old.compiled : compileFreeze(f.spec ?? { reason: '' }) });
  }

  /** A cached Freeze by namespace/name. */
  get(k: string): CachedFreeze | undefined {
    const e = this.entries.get(k);
    return e && { freeze: e.freeze, at: (now) => e.compiled.at(now.getTime()) };
  }

  /** Every key (namespace/name), sorted. */
  keys(): string[] {
    return [...this.entries.keys()].sort();
  }

  activeFor(namespace: string, labels: Record<string, string> | undefined, state: string, now: Date): FreezeInfo[] {
    return this.covering(namespace, labels, state, now, false);
  }

  /** Freezes active now or with a window still to come that cover `state` for such an object (what an edit may not escape). */
  inForceFor(namespace: string, labels: Record<string, string> | undefined, state: string, now: Date): FreezeInfo[] {
    return this.covering(namespace, labels, state, now, true);
  }

  private covering(namespace: string, labels: Record<string, string> | undefined, state: string, now: Date, scheduledToo: boolean): FreezeInfo[] {
    const found: FreezeInfo[] = [];
    for (const { freeze: f, compiled } of this.entries.values()) {
      const ns = f.metadata.namespace;
      if (ns !== namespace && ns !== SYSTEM_NAMESPACE) continue;
      const states = f.spec?.states ?? [];
      if (states.length > 0 && !states.includes(state)) continue;
      if (!selectorMatches(f.spec?.selector, labels)) continue;
      const e = compiled.at(now.getTime());
      if (!e.active && !(scheduledToo && e.next)) continue;
      const end = e.current?.end;
      found.push({ namespace: ns, name: f.metadata.name, reason: f.spec?.reason ?? '', ...(end !== undefined ? { end } : {}) });
    }
    // The object's own namespace first, then the cluster-wide ones; by name within each.
    return found.sort((a, b) => Number(a.namespace !== namespace) - Number(b.namespace !== namespace) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}
