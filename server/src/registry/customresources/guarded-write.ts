// The one way a change reaches the storage CRD, as registry.Store's
// GuaranteedUpdate: decide from the object as read, write with its
// resourceVersion as precondition, and when it changed meanwhile read it
// again and decide again (never retry a stale decision). On the way: the
// backend's finalizer, at the latest with an object's first change, and the
// entries leaving the history window archived before the window is trimmed.
import { FINALIZER, GROUP_RESOURCE } from '../../../../api/src/names.ts';
import type { HistoryEntry, StoredObject, StoredStatus } from '../../../../api/src/types.ts';
import { newConflict, newNotFound, StatusError } from '../../status/status-error.ts';
import type { HistoryArchive } from '../../store/history-archive.ts';
import { hasFinalizer, WriteConflict, type StatusStore } from '../../store/status-store.ts';

/** What a decision writes: the new status, and the entries that leave the window. */
export interface Decided<T> {
  status: StoredStatus;
  archive: HistoryEntry[];
  /** Whatever the caller wants back about the decision (the move, the action). */
  decision: T;
}

export interface GuardedWriteDeps {
  store: StatusStore;
  archive: HistoryArchive;
}

/**
 * Runs `decide` on the object, writes what it decided, and resolves the
 * object as written with the decision. `decide` returns undefined when there
 * is nothing to write (the object is answered as it is). A dry run decides
 * and writes nothing.
 */
export async function guardedWrite<T>(
  d: GuardedWriteDeps,
  first: StoredObject,
  decide: (obj: StoredObject) => Promise<Decided<T> | undefined>,
  opts: { dryRun: boolean; maxAttempts: number },
): Promise<{ written: StoredObject; decision?: T }> {
  const { namespace: ns, name } = first.metadata;
  let obj = first;
  // `first` comes from the watch cache, which may not have seen a write another replica (or kube-apiserver)
  // acknowledged a moment ago: a client's own change made through the other replica, say. A refusal decided on
  // it is checked against the object read fresh, and decided again if that one is newer, as GuaranteedUpdate
  // does when its update function fails on a cached object (etcd3 store: origStateIsCurrent).
  let current = false;
  for (let attempt = 1; ; attempt++) {
    let decided: Decided<T> | undefined;
    try {
      decided = await decide(obj);
    } catch (err) {
      if (current || !(err instanceof StatusError)) throw err;
      current = true;
      const fresh = await d.store.fetch(ns, name);
      if (!fresh) throw newNotFound(GROUP_RESOURCE, name);
      if (fresh.metadata.resourceVersion === obj.metadata.resourceVersion) throw err;
      obj = fresh;
      attempt--;
      continue;
    }
    if (!decided) return { written: obj };
    if (opts.dryRun) {
      // A dry run answers as the real request would: an acceptance decided on the cached object is decided
      // again on the object read fresh when that is newer (the real write would conflict and decide again).
      if (!current) {
        current = true;
        const fresh = await d.store.fetch(ns, name);
        if (!fresh) throw newNotFound(GROUP_RESOURCE, name);
        if (fresh.metadata.resourceVersion !== obj.metadata.resourceVersion) {
          obj = fresh;
          attempt--;
          continue;
        }
      }
      return { written: { ...obj, status: decided.status }, decision: decided.decision };
    }
    try {
      if (!hasFinalizer(obj, FINALIZER)) {
        obj = (await d.store.setFinalizers(obj, [...(obj.metadata.finalizers ?? []), FINALIZER]))!;
        attempt--;
        continue;
      }
      // Segment first, then the window trimmed: a crash between the two loses nothing.
      if (decided.archive.length) await d.archive.write({ namespace: ns, name, uid: obj.metadata.uid! }, decided.archive);
      return { written: await d.store.writeStatus(obj, decided.status), decision: decided.decision };
    } catch (err) {
      if (!(err instanceof WriteConflict)) throw err;
      if (attempt >= opts.maxAttempts) throw newConflict(GROUP_RESOURCE, name, 'the object kept changing while this change was being made; retry');
      // Someone else changed the object since it was read: read it fresh and decide again.
      const fresh = await d.store.fetch(ns, name);
      if (!fresh) throw newNotFound(GROUP_RESOURCE, name);
      obj = fresh;
      current = true;
      // Many writers at once (approvals): spread the retries a little.
      if (attempt > 2) await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
    }
  }
}
