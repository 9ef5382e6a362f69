// Approvals lapse for good when the object's labels change, as they do when
// its spec changes: labels decide which GatePolicy rules and Freezes hold it,
// so an approval is of the move under the labels it was given for. Each
// approval records their fingerprint (state/approvals.ts) and counts only
// while it matches; that alone would let labels changed and put back revive
// the approvals, so the admission webhook, when it allows a change of
// labels, first removes from status the approvals given under the labels
// being left. The write is guarded by the resourceVersion read, and skipped
// when there is nothing to remove (kube-apiserver asks the webhook again
// after its own update lost the race with this write; a PUT that carried the
// old resourceVersion is answered 409, and its retry passes).
import type { StoredObject } from '../../../api/src/types.ts';
import type { StatusStore } from './status-store.ts';
import { rewriteStatus } from './status-rewrite.ts';

/** Removes the approvals given while the object's labels had the fingerprint `labelsHash` (undefined: no labels). */
export function dropApprovalsGivenUnder(store: StatusStore, obj: StoredObject, labelsHash: string | undefined): Promise<void> {
  return rewriteStatus(store, obj, 'the approvals given under its old labels were being dropped', (cur) => {
    const approvals = cur.status?.approvals ?? [];
    const kept = approvals.filter((a) => a.labelsHash !== labelsHash);
    if (kept.length === approvals.length) return undefined;
    const { approvals: _dropped, ...rest } = cur.status ?? {};
    return kept.length ? { ...rest, approvals: kept } : rest;
  });
}
