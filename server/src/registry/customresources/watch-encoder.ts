// How a watch's events are framed: one JSON WatchEvent per line, the object
// as served or, for a Table watch, a one-row Table whose column definitions
// travel with the first event only (later ones have null), as kube-apiserver
// sends them. Bookmarks carry only a resourceVersion.
import { GROUP_VERSION, KIND } from '../../../../api/src/names.ts';
import type { CustomResource, StoredObject } from '../../../../api/src/types.ts';
import type { CacheEvent } from '../../store/crd-watch-cache.ts';
import type { Target } from '../../http/negotiate.ts';
import { COLUMNS, tableRow, type IncludeObject } from './table-columns.ts';

/** The annotation of the bookmark that ends a watch's initial events (sendInitialEvents). */
const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';

export class WatchEncoder {
  private readonly asTable: boolean;
  private readonly tableVersion: string;
  private readonly include: IncludeObject;
  private firstTable = true;

  constructor(target: Target, include: IncludeObject) {
    this.asTable = target.kind === 'table';
    this.tableVersion = target.kind === 'table' ? target.version : 'v1';
    this.include = include;
  }

  private frame(type: string, object: unknown): string {
    return JSON.stringify({ type, object }) + '\n';
  }

  private table(rv: string | undefined, row: unknown) {
    const t = { kind: 'Table', apiVersion: `meta.k8s.io/${this.tableVersion}`, metadata: { resourceVersion: rv }, columnDefinitions: this.firstTable ? COLUMNS : null, rows: [row] };
    this.firstTable = false;
    return t;
  }

  object(type: string, o: CustomResource, now: Date): string {
    return this.frame(type, this.asTable ? this.table(o.metadata.resourceVersion, tableRow(o, now, this.include, this.tableVersion)) : o);
  }

  /**
   * The frame of one watch event of a change, encoded once for every watcher
   * that encodes it alike (the first frame of a Table watch carries the
   * columns, so it is its own).
   */
  shared(change: SharedChange, type: string, o: CustomResource): Buffer {
    if (this.asTable && this.firstTable) return Buffer.from(this.object(type, o, change.now));
    return change.frame(`${type}|${this.asTable ? `table/${this.tableVersion}/${this.include}` : 'json'}`, () => this.object(type, o, change.now));
  }

  bookmark(rv: number, initialEnd = false): string {
    const metadata = { resourceVersion: String(rv), ...(initialEnd ? { annotations: { [INITIAL_EVENTS_END]: 'true' } } : {}) };
    if (!this.asTable) return this.frame('BOOKMARK', { kind: KIND, apiVersion: GROUP_VERSION, metadata });
    const row = { cells: COLUMNS.map(() => ''), object: { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${this.tableVersion}`, metadata } };
    return this.frame('BOOKMARK', this.table(metadata.resourceVersion, row));
  }

  error(status: unknown): string {
    return this.frame('ERROR', status);
  }
}

/**
 * What every watcher of one change shares, as kube-apiserver's cacher
 * encodes an event once per format: the objects as served, computed once
 * (at the instant the first watcher asks), and the encoded frames, written
 * as the same bytes to each watcher. Within one change a watch event type
 * names one object (ADDED and MODIFIED the new one, DELETED the deleted one,
 * or the old one leaving a watcher's selection), so type and encoding key a
 * frame.
 */
export class SharedChange {
  readonly now: Date;
  private readonly toView: (o: StoredObject, now: Date) => CustomResource;
  private readonly views = new Map<StoredObject, CustomResource>();
  private readonly frames = new Map<string, Buffer>();

  constructor(now: Date, view: (o: StoredObject, now: Date) => CustomResource) {
    this.now = now;
    this.toView = view;
  }

  readonly view = (o: StoredObject): CustomResource => {
    let v = this.views.get(o);
    if (!v) this.views.set(o, (v = this.toView(o, this.now)));
    return v;
  };

  frame(key: string, encode: () => string): Buffer {
    let f = this.frames.get(key);
    if (!f) this.frames.set(key, (f = Buffer.from(encode())));
    return f;
  }
}

const changes = new WeakMap<CacheEvent, SharedChange>();

/** The shared part of a change, made by the first watcher that sees it. */
export function sharedChange(ev: CacheEvent, now: () => Date, view: (o: StoredObject, now: Date) => CustomResource): SharedChange {
  let c = changes.get(ev);
  if (!c) changes.set(ev, (c = new SharedChange(now(), view)));
  return c;
}
