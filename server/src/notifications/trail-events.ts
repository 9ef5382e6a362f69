// Which events of an object's trail a NotificationPolicy sends (issue 22):
// pure, so the delivery controller and its tests share it. An entry is one
// event (eventOf), and a move into a state whose next move needs approvals
// (as the move recorded it, `next`) is also `approval-needed`. The policy's namespace, selector, events and
// CEL condition decide what goes.
import { SYSTEM_NAMESPACE } from '../../../api/src/names.ts';
import type { HistoryEntry, NotificationPolicy } from '../../../api/src/types.ts';
import { conditionSyntaxError, evaluateCondition } from '../checks/condition.ts';
import { selectorMatches } from '../selectors/label-selector-spec.ts';
import { cloudEvent, eventOf, type CloudEvent, type NotificationEvent } from './cloudevent.ts';

/** An object whose trail is sent: its identity for this life, and what decides its events. */
export interface TrailObject {
  uid: string;
  namespace: string;
  name: string;
  labels?: Record<string, string>;
  states: readonly string[];
  /** Approvals a move into `state` needs (the effective gates: spec and GatePolicies). */
  approvalsInto(state: string): number;
}

/** Whether `policy` selects objects of `namespace` with `labels`: its own namespace (every one from custom-system) and its selector. */
export function selects(policy: NotificationPolicy, namespace: string, labels: Record<string, string> | undefined): boolean {
  if (policy.metadata.namespace !== SYSTEM_NAMESPACE && policy.metadata.namespace !== namespace) return false;
  return selectorMatches(policy.spec.selector, labels);
}

/** Why the policy's condition cannot be used, or undefined. */
export function conditionProblem(policy: NotificationPolicy): string | undefined {
  const c = policy.spec.condition;
  return c === undefined ? undefined : conditionSyntaxError(c);
}

/** The events an entry is, before the policy's filters. */
export function eventsOfEntry(obj: TrailObject, entry: HistoryEntry): NotificationEvent[] {
  const out: NotificationEvent[] = [];
  const own = eventOf(entry, obj.states);
  if (own) out.push(own);
  if ((entry.action === 'promote' || entry.action === 'set-state' || entry.action === 'override') && entry.to) {
    if (entry.direction) {
      // Recorded with the move: the gates as they were then.
      if (entry.next) out.push('approval-needed');
    } else {
      // An entry from before that was recorded: today's gates.
      const next = obj.states[obj.states.indexOf(entry.to) + 1];
      if (next !== undefined && obj.states.includes(entry.to) && obj.approvalsInto(next) > 0) out.push('approval-needed');
    }
  }
  return out;
}

export interface PlannedEntry {
  seq: number;
  /** What to send for this entry, in order (none: the policy sends nothing of it). */
  events: CloudEvent[];
  /** Why an event was not sent though it was asked for (its condition failed to evaluate). */
  problems: string[];
}

/**
 * The events to send for `entries` (contiguous, oldest first) of `obj`,
 * those after `afterSeq`; an entry before them, when given, supplies the
 * previous hash of the first.
 */
export function plan(policy: NotificationPolicy, obj: TrailObject, entries: readonly HistoryEntry[], afterSeq: number): PlannedEntry[] {
  const wanted = policy.spec.events?.length ? new Set<string>(policy.spec.events) : undefined;
  const out: PlannedEntry[] = [];
  let prev: HistoryEntry | undefined;
  for (const entry of entries) {
    const seq = entry.seq ?? 0;
    if (seq <= afterSeq) {
      prev = entry;
      continue;
    }
    const previousHash = seq === 1 ? '' : prev?.seq === seq - 1 ? prev.hash : undefined;
    const p: PlannedEntry = { seq, events: [], problems: [] };
    for (const event of eventsOfEntry(obj, entry)) {
      if (wanted && !wanted.has(event)) continue;
      if (policy.spec.condition !== undefined) {
        try {
          const vars = { event, object: { namespace: obj.namespace, name: obj.name, labels: obj.labels ?? {} }, entry: { ...entry } };
          if (!evaluateCondition(policy.spec.condition, vars)) continue;
        } catch (err) {
          p.problems.push(`the condition failed on seq ${seq} (${event}): ${err instanceof Error ? err.message : String(err)}`);
          continue;
        }
      }
      p.events.push(cloudEvent({ namespace: obj.namespace, name: obj.name, uid: obj.uid }, entry, event, previousHash));
    }
    out.push(p);
    prev = entry;
  }
  return out;
}
