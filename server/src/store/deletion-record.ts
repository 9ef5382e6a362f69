// Who asked for a deletion. kube-apiserver tells only its admission webhooks
// who deletes an object; the finalizer (controllers/history-finalizer.ts)
// archives the object later, on whichever replica, so the webhook keeps the
// name in the object's status (`status.deletion`) before it allows the
// DELETE, and the `deleted` entry takes it from there. The write is guarded
// by the resourceVersion read and skipped when the same user is already
// recorded: kube-apiserver may ask the webhook again when its own update of
// the object lost a race with this write.
import type { DeletionRecord, StoredObject } from '../../../api/src/types.ts';
import type { StatusStore } from './status-store.ts';
import { rewriteStatus } from './status-rewrite.ts';

/** How long before the deletion's own timestamp a record still names its user (a record older than that is from a deletion that did not happen). */
const DELETION_RECORD_MAX_AGE_MS = 60_000;

export function recordDeletion(store: StatusStore, obj: StoredObject, user: string, now: Date): Promise<void> {
  return rewriteStatus(store, obj, 'the deletion was being recorded', (cur) => {
    // Already being deleted: the first deleter stands.
    if (cur.metadata.deletionTimestamp) return undefined;
    const had = cur.status?.deletion;
    if (had?.user === user && now.getTime() - Date.parse(had.time) < DELETION_RECORD_MAX_AGE_MS / 2) return undefined;
    const deletion: DeletionRecord = { user, time: now.toISOString() };
    return { ...(cur.status ?? {}), deletion };
  });
}

/**
 * The user a `deleted` entry names: the one the webhook recorded for this
 * deletion, when the record is from the moments before it (a record from a
 * DELETE that failed later, or one the webhook never saw, is not this
 * deletion's); otherwise unknown.
 */
export function deleterOf(obj: StoredObject, unknown: string): string {
  const rec = obj.status?.deletion;
  const at = Date.parse(obj.metadata.deletionTimestamp ?? '');
  if (!rec || Number.isNaN(at)) return unknown;
  const t = Date.parse(rec.time);
  // deletionTimestamp has whole seconds: a record made in the same second may read as up to 1 s later.
  return t <= at + 1000 && t >= at - DELETION_RECORD_MAX_AGE_MS ? rec.user : unknown;
}
