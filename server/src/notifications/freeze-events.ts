// Freezes as notifications (issue 22): `frozen` when a Freeze starts holding
// moves (its status says active, written by controllers/freeze-status.ts at
// each window's start), `unfrozen` when it stops or is deleted while active.
// They are not entries of any object's trail, so they carry no seq or hash:
// the event's id is the Freeze's uid, its window's start and the event, the
// same for every retry and every replica. A policy gets the Freezes that can
// hold the objects it may select: those of its namespace, and those in
// custom-system (which hold every namespace); one in custom-system gets
// them all. How far each sink got per Freeze is kept in its status
// (`freezes`), so an unfrozen is sent after a restart too.
import { FREEZE_RESOURCE, STORAGE_PATH, SYSTEM_NAMESPACE } from '../../../api/src/names.ts';
import type { Freeze, NotificationFreezeCursor, NotificationPolicy } from '../../../api/src/types.ts';
import { evaluateCondition } from '../checks/condition.ts';
import type { CloudEventOf } from './cloudevent.ts';

export type FreezeCloudEvent = CloudEventOf<{
  event: 'frozen' | 'unfrozen';
  freeze: { namespace: string; name: string; uid: string; states?: string[]; reason?: string; window?: { start?: string; end?: string } };
}>;

/** Whether `policy` is told of Freezes in `namespace`. */
export function hearsFreezesOf(policy: NotificationPolicy, namespace: string): boolean {
  const ns = policy.metadata.namespace;
  return ns === SYSTEM_NAMESPACE || namespace === SYSTEM_NAMESPACE || ns === namespace;
}

/** What a sink was last told of a Freeze, from the Freeze as it is now. */
export function cursorOf(f: Freeze, event: 'frozen' | 'unfrozen'): NotificationFreezeCursor {
  const start = f.status?.currentWindow?.start;
  return { namespace: f.metadata.namespace, name: f.metadata.name, uid: f.metadata.uid ?? '', ...(start ? { start } : {}), ...(f.spec.states?.length ? { states: f.spec.states } : {}), event };
}

export function freezeEvent(c: NotificationFreezeCursor, f: Freeze | undefined, event: 'frozen' | 'unfrozen', now: Date): FreezeCloudEvent {
  const window = f?.status?.currentWindow;
  return {
    specversion: '1.0',
    id: `${c.uid}.${c.start ?? 'open'}.${event}`,
    source: `${STORAGE_PATH}/namespaces/${c.namespace}/${FREEZE_RESOURCE}/${c.name}`,
    type: `com.example.custom.${event}`,
    time: (event === 'frozen' ? window?.start : undefined) ?? now.toISOString(),
    subject: `${c.namespace}/${c.name}`,
    datacontenttype: 'application/json',
    data: {
      event,
      freeze: {
        namespace: c.namespace,
        name: c.name,
        uid: c.uid,
        ...((f?.spec.states ?? c.states)?.length ? { states: f?.spec.states ?? c.states } : {}),
        ...(f?.spec.reason ? { reason: f.spec.reason } : {}),
        ...(c.start || window ? { window: { ...(c.start ? { start: c.start } : {}), ...(window?.end ? { end: window.end } : {}) } } : {}),
      },
    },
  };
}

/**
 * Whether the policy sends this freeze event: its events, then its condition
 * (over `event`, `object` the Freeze's namespace and name, an empty `entry`,
 * and `freeze`); a condition that fails to evaluate sends nothing and says why.
 */
export function sendsFreezeEvent(policy: NotificationPolicy, ev: FreezeCloudEvent): { send: boolean; problem?: string } {
  const wanted = policy.spec.events;
  if (wanted?.length && !wanted.includes(ev.data.event)) return { send: false };
  if (policy.spec.condition === undefined) return { send: true };
  try {
    const f = ev.data.freeze;
    return { send: evaluateCondition(policy.spec.condition, { event: ev.data.event, object: { namespace: f.namespace, name: f.name, labels: {} }, entry: {}, freeze: f }) };
  } catch (err) {
    return { send: false, problem: `the condition failed on ${ev.data.event} of Freeze ${ev.subject}: ${err instanceof Error ? err.message : String(err)}` };
  }
}
