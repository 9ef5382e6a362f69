// What an accepted change writes: the new status (state, approvals dropped,
// the history entry appended, what leaves the window to be archived) and the
// Event that tells of it.
import type { RecordedCheck } from '../../../../api/src/checks.ts';
import type { HistoryAction, HistoryEntry, Spec, StoredObject, StoredStatus } from '../../../../api/src/types.ts';
import type { UserInfo } from '../../auth/user.ts';
import { append } from '../../state/history.ts';
import type { Transition } from '../../state/transitions.ts';

/** A decided change: the move, the action recorded, and what an override passed. */
export interface Change {
  t: Transition;
  action: HistoryAction;
  /** For an override: the gates it passed. */
  overrode?: string[];
  /** The approvers of the move, when its target required approvals. */
  approvers?: string[];
  /** For an override: the freeze it broke (namespace/name). */
  freeze?: string;
  /** A forward move into a state with checks: their results. */
  checks?: RecordedCheck[];
  /** The move out of its target needs approvals (by the gates now): into which state, how many. */
  next?: { state: string; approvals: number };
}

/** `next` of a move into `to`, by the effective spec: the state after it in the path, when moving there needs approvals. */
export function nextApprovals(spec: Pick<Spec, 'states' | 'requiredApprovals'>, to: string): Pick<Change, 'next'> {
  const i = spec.states.indexOf(to);
  const state = i >= 0 ? spec.states[i + 1] : undefined;
  const approvals = state === undefined ? 0 : (spec.requiredApprovals?.[state] ?? 0);
  return state !== undefined && approvals > 0 ? { next: { state, approvals } } : {};
}

/** The status after a change: the new state since `now`, the spec generation seen, the entry appended to the window, and what leaves the window. */
export function statusAfter(obj: StoredObject, change: Change, reason: string | undefined, user: UserInfo, now: Date): { status: StoredStatus; archive: HistoryEntry[] } {
  const { t, action, overrode, approvers, freeze, checks, next } = change;
  const { window, archive } = append(obj.status?.history ?? [], {
    action,
    from: t.from,
    to: t.to,
    user: user.name,
    time: now.toISOString(),
    ...(reason ? { reason } : {}),
    ...(approvers?.length ? { approvers } : {}),
    ...(overrode ? { overrode } : {}),
    ...(freeze ? { freeze } : {}),
    ...(checks?.length ? { checks } : {}),
    // What a notification sent later says of this move: a rollback or not, and whether the next move needs approvals, as the gates were now.
    direction: t.direction,
    ...(next ? { next } : {}),
  });
  // A new state: the approvals given for moves out of the old one, and the runs of its checks, no longer count.
  const { checks: _runs, ...kept } = obj.status ?? {};
  return { status: { ...kept, state: t.to, stateSince: now.toISOString(), observedGeneration: obj.metadata.generation ?? 0, approvals: [], history: window }, archive };
}

/** The Event a change raises: its type, reason and message. An override is a Warning. */
export function eventOf(name: string, change: Change, reason: string | undefined, user: UserInfo): { type: 'Normal' | 'Warning'; reason: string; message: string } {
  const { t, action, overrode } = change;
  const why = reason ? `: ${reason}` : '';
  if (action === 'override') {
    return { type: 'Warning', reason: 'Override', message: `${user.name} overrode ${overrode?.length ? overrode.join(', ') : 'no gate'} to move ${name} from ${t.from} to ${t.to}${why}` };
  }
  const verb = action === 'promote' ? 'promoted' : 'moved';
  return { type: 'Normal', reason: action === 'promote' ? 'Promoted' : 'StateSet', message: `${user.name} ${verb} ${name} from ${t.from} to ${t.to}${why}` };
}
