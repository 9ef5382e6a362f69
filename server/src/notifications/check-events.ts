// Check runs as notifications (issue 22): `check-failed` when a run of a
// check of an object's next move ends Failed or Error (issue 21's runs, in
// status.checks, written by the backend's check runner). Not trail
// entries: the event's id is the object's uid, the stay (status.checks.since),
// the check's name, its attempt and the event, the same for every retry and
// every replica; a sink's status keeps the ids it was sent (at most 500), so
// a restarted backend does not send them again.
import type { CheckRun } from '../../../api/src/checks.ts';
import { GROUP_PATH } from '../../../api/src/names.ts';
import type { NotificationPolicy, StoredObject } from '../../../api/src/types.ts';
import { evaluateCondition } from '../checks/condition.ts';
import type { CloudEventOf } from './cloudevent.ts';

export type CheckCloudEvent = CloudEventOf<
  {
    event: 'check-failed';
    object: { namespace: string; name: string; uid: string };
    check: { name: string; source: string; phase: CheckRun['phase']; attempt: number; from: string; to: string; time: string; value?: string; message?: string };
  },
  'com.example.custom.check-failed'
>;

/** A run that has ended badly. */
const failed = (r: CheckRun) => r.phase === 'Failed' || r.phase === 'Error';

/** A fingerprint of an object's failed runs, to tell a change of them from any other status write. */
export function failedRunsOf(obj: StoredObject | undefined): string {
  const c = obj?.status?.checks;
  return c ? c.runs.filter(failed).map((r) => `${c.since}/${r.name}/${r.attempt ?? 1}`).join(' ') : '';
}

/** The check-failed events of an object now: one per run of the current stay that ended Failed or Error. */
export function checkFailedEvents(obj: StoredObject): CheckCloudEvent[] {
  const c = obj.status?.checks;
  if (!c) return [];
  const { namespace, name } = obj.metadata;
  const uid = obj.metadata.uid ?? '';
  return c.runs.filter(failed).map((r) => {
    const last = r.measurements.at(-1);
    const attempt = r.attempt ?? 1;
    return {
      specversion: '1.0',
      id: `${uid}.${c.since}.${r.name}.${attempt}.check-failed`,
      source: `${GROUP_PATH}/namespaces/${namespace}/customresources/${name}`,
      type: 'com.example.custom.check-failed',
      time: last?.time ?? r.startedAt,
      subject: `${namespace}/${name}`,
      datacontenttype: 'application/json',
      data: {
        event: 'check-failed',
        object: { namespace, name, uid },
        check: { name: r.name, source: r.source, phase: r.phase, attempt, from: c.from, to: c.to, time: last?.time ?? r.startedAt, ...(last?.value !== undefined ? { value: last.value } : {}), ...(last?.message ? { message: last.message } : {}) },
      },
    };
  });
}

/** Whether the policy sends it: its events, then its condition (over event, object with labels, an empty entry, and check). */
export function sendsCheckEvent(policy: NotificationPolicy, ev: CheckCloudEvent, labels: Record<string, string> | undefined): { send: boolean; problem?: string } {
  const wanted = policy.spec.events;
  if (wanted?.length && !wanted.includes('check-failed')) return { send: false };
  if (policy.spec.condition === undefined) return { send: true };
  try {
    return { send: evaluateCondition(policy.spec.condition, { event: 'check-failed', object: { namespace: ev.data.object.namespace, name: ev.data.object.name, labels: labels ?? {} }, entry: {}, check: ev.data.check }) };
  } catch (err) {
    return { send: false, problem: `the condition failed on check-failed of ${ev.subject} (${ev.data.check.name}): ${err instanceof Error ? err.message : String(err)}` };
  }
}
