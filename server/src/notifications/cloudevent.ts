// What a notification says (issue 22), as a CloudEvent in structured JSON
// mode (CloudEvents 1.0: specversion, id, source, type, time, subject,
// datacontenttype, data). One event per entry of an object's trail: `id` is
// the entry's hash, so a receiver that sees the same id twice (a retry) can
// drop it; `source` is the object's path in the API, `type`
// com.example.custom.<event>.
import { GROUP_PATH } from '../../../api/src/names.ts';
import type { HistoryEntry } from '../../../api/src/types.ts';

export const EVENTS = ['promoted', 'rolled-back', 'overridden', 'approval-needed', 'approved', 'refused', 'frozen', 'unfrozen', 'check-failed', 'deleted'] as const;
export type NotificationEvent = (typeof EVENTS)[number];

export interface ObjectRef {
  namespace: string;
  name: string;
  uid?: string;
}

/** A CloudEvent 1.0 in structured JSON, with `data` of type D: what every sink is sent. */
export interface CloudEventOf<D, T extends string = string> {
  specversion: '1.0';
  id: string;
  source: string;
  type: T;
  time: string;
  subject: string;
  datacontenttype: 'application/json';
  data: D;
}

/** An entry of the trail as a CloudEvent. */
export interface CloudEvent extends CloudEventOf<{ object: ObjectRef; event: NotificationEvent; entry: HistoryEntry; previousHash?: string }> {
  /**
   * The entry, and the hash of the entry before it ("" for seq 1): with
   * seq and hash they let a receiver keep its own copy of the chain, which
   * `kubectl custom history --verify --against` compares with the cluster's.
   */
  data: { object: ObjectRef; event: NotificationEvent; entry: HistoryEntry; previousHash?: string };
}

/** The event an entry of the trail is, or undefined for one nobody is notified of (a revoked approval). A set-state is a rollback by its recorded direction, or (an older entry) by `path`, the object's states. */
export function eventOf(entry: HistoryEntry, path: readonly string[]): NotificationEvent | undefined {
  switch (entry.action) {
    case 'promote':
      return 'promoted';
    case 'set-state': {
      // Recorded when the move was made; an entry from before that was recorded is judged by today's path.
      if (entry.direction) return entry.direction === 'backward' ? 'rolled-back' : 'promoted';
      const from = entry.from === undefined ? -1 : path.indexOf(entry.from);
      const to = entry.to === undefined ? -1 : path.indexOf(entry.to);
      return from >= 0 && to >= 0 && to < from ? 'rolled-back' : 'promoted';
    }
    case 'override':
      return 'overridden';
    case 'approve':
      return 'approved';
    case 'deleted':
      return 'deleted';
    default:
      return undefined;
  }
}

/**
 * The event of an entry. Its id is the entry's hash; an event an entry
 * implies besides its own (approval-needed after a move into a state whose
 * next move needs approvals) has the hash and the event's name, so that
 * receivers dropping repeated ids keep both.
 */
export function cloudEvent(object: ObjectRef, entry: HistoryEntry, event: NotificationEvent, previousHash?: string): CloudEvent {
  if (!entry.hash) throw new Error(`the entry of ${object.namespace}/${object.name} at ${entry.time} has no hash to name its event by`);
  return {
    specversion: '1.0',
    id: event === 'approval-needed' ? `${entry.hash}.${event}` : entry.hash,
    source: `${GROUP_PATH}/namespaces/${object.namespace}/customresources/${object.name}`,
    type: `com.example.custom.${event}`,
    time: entry.time,
    subject: `${object.namespace}/${object.name}`,
    datacontenttype: 'application/json',
    data: { object, event, entry, ...(previousHash !== undefined ? { previousHash } : {}) },
  };
}
