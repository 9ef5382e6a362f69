// What a selector may name of an object, and what a watcher of a selection
// is shown as an object enters, changes within or leaves it (strategy.go's
// GetAttrs and the watch cache's filtering, as sample-apiserver splits them).
import type { CustomResource, StoredObject } from '../../../../api/src/types.ts';
import { positionOf } from '../../state/position.ts';
import type { CacheEvent } from '../../store/crd-watch-cache.ts';
import type { ListOptions } from './list-options.ts';
import { toCustomResource } from './view.ts';

/** The fields a field selector may name, and their values for an object. */
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

export type WatchEvent = { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: CustomResource; rv: number };

/**
 * Turns a change into what a watcher with these filters sees: an object
 * entering the selection is ADDED, one leaving it is DELETED, as the
 * apiserver's cacher reports it.
 */
export function filterEvent(
  ev: CacheEvent,
  namespace: string | undefined,
  opts: Pick<ListOptions, 'labelSelector' | 'fieldSelector'>,
  now: Date,
  view: (o: StoredObject, now: Date) => CustomResource = toCustomResource,
): WatchEvent | undefined {
  const cur = ev.type !== 'DELETED' && matches(ev.object, namespace, opts);
  const before = ev.prev !== undefined && matches(ev.prev, namespace, opts);
  if (ev.type === 'DELETED') return before || matches(ev.object, namespace, opts) ? { type: 'DELETED', object: view(ev.object, now), rv: ev.rv } : undefined;
  if (cur && (ev.type === 'ADDED' || !before)) return { type: 'ADDED', object: view(ev.object, now), rv: ev.rv };
  if (cur && before) return { type: 'MODIFIED', object: view(ev.object, now), rv: ev.rv };
  // Leaving the selection: the object as the watcher last saw it (it matched), at this event's resourceVersion, as the cacher sends it.
  if (!cur && before) {
    const last = view(ev.prev!, now);
    return { type: 'DELETED', object: { ...last, metadata: { ...last.metadata, resourceVersion: String(ev.rv) } }, rv: ev.rv };
  }
  return undefined;
}
