// A small guarded rewrite of one object's status, for the backend's own
// bookkeeping beside the state changes (who asked for a deletion, approvals
// that lapsed): read the object (the cache first, then kube-apiserver after a
// lost precondition), let `change` say the new status or that there is
// nothing to write, write it with the read resourceVersion, and on a conflict
// read and decide again. It adds no finalizer and archives nothing: that is
// registry/customresources/guarded-write.ts's, for state changes.
import type { StoredObject, StoredStatus } from '../../../api/src/types.ts';
import { WriteConflict, type StatusStore } from './status-store.ts';

const ATTEMPTS = 5;

/**
 * Rewrites the status of `obj`'s life (same uid) as `change` decides;
 * nothing when the object is gone, is another life of the name, or `change`
 * returns undefined. Throws saying `what` after repeated conflicts.
 */
export async function rewriteStatus(store: StatusStore, obj: StoredObject, what: string, change: (cur: StoredObject) => StoredStatus | undefined): Promise<void> {
  const { namespace, name, uid } = obj.metadata;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const cur = attempt === 0 ? (store.cached(namespace, name) ?? (await store.fetch(namespace, name))) : await store.fetch(namespace, name);
    if (!cur || cur.metadata.uid !== uid) return;
    const status = change(cur);
    if (!status) return;
    try {
      await store.writeStatus(cur, status);
      return;
    } catch (err) {
      if (!(err instanceof WriteConflict)) throw err;
    }
  }
  throw new Error(`customresources.example.com "${name}" kept changing while ${what}`);
}
