// Refusals as notifications (issue 22): `refused` when the backend refuses a
// promote or set-state for a missing permission (403) or a gate not met
// (422). A refused change changes nothing, so it is in no trail and no
// status: the replica that refused sends it, right after answering, from a
// bounded queue (at most MAX_QUEUED events; more are dropped and counted as
// failed), with three attempts. At most once, then: a backend stopped or a
// receiver down for long loses refusals, never a state change. The id is
// random (there is no entry to name it by).
import { randomUUID } from 'node:crypto';
import { GROUP_PATH } from '../../../api/src/names.ts';
import type { NotificationPolicy, NotificationSink, StoredObject } from '../../../api/src/types.ts';
import type { UserInfo } from '../auth/user.ts';
import { evaluateCondition } from '../checks/condition.ts';
import type { Logger } from '../log/logger.ts';
import type { NotificationMetrics } from '../metrics/notification-metrics.ts';
import type { StatusError } from '../status/status-error.ts';
import type { TransitionRequest } from '../state/transitions.ts';
import type { CloudEvent } from './cloudevent.ts';
import type { SinkSender } from './sink-sender.ts';
import { selects } from './trail-events.ts';

const MAX_QUEUED = 1_000;
const ATTEMPTS = 3;

export type RefusedCloudEvent = CloudEvent & { data: CloudEvent['data'] & { refusal: { code: number; reason: string; message: string } } };

/** The event of a refused change of `obj` asked by `user`. */
export function refusedEvent(obj: StoredObject, user: UserInfo, request: TransitionRequest, err: StatusError, now: Date): RefusedCloudEvent {
  const { namespace, name } = obj.metadata;
  const from = obj.status?.state ?? obj.spec.states[0];
  const to = request.state ?? (from !== undefined ? obj.spec.states[obj.spec.states.indexOf(from) + 1] : undefined);
  const time = now.toISOString();
  return {
    specversion: '1.0',
    id: `refused-${randomUUID()}`,
    source: `${GROUP_PATH}/namespaces/${namespace}/customresources/${name}`,
    type: 'com.example.custom.refused',
    time,
    subject: `${namespace}/${name}`,
    datacontenttype: 'application/json',
    data: {
      object: { namespace, name, ...(obj.metadata.uid ? { uid: obj.metadata.uid } : {}) },
      event: 'refused',
      entry: { action: request.override ? 'override' : request.action, ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}), user: user.name, time, ...(request.reason ? { reason: request.reason } : {}) },
      refusal: { code: err.status.code, reason: err.status.reason ?? '', message: err.status.message },
    },
  };
}

/** Whether the policy sends a refusal: its namespace and selector, its events, its condition. */
function sends(policy: NotificationPolicy, obj: StoredObject, ev: RefusedCloudEvent): { send: boolean; problem?: string } {
  if (!selects(policy, obj.metadata.namespace, obj.metadata.labels)) return { send: false };
  const wanted = policy.spec.events;
  if (wanted?.length && !wanted.includes('refused')) return { send: false };
  if (policy.spec.condition === undefined) return { send: true };
  try {
    return { send: evaluateCondition(policy.spec.condition, { event: 'refused', object: { namespace: obj.metadata.namespace, name: obj.metadata.name, labels: obj.metadata.labels ?? {} }, entry: ev.data.entry, refusal: ev.data.refusal }) };
  } catch (err) {
    return { send: false, problem: err instanceof Error ? err.message : String(err) };
  }
}

interface Item {
  policy: string;
  namespace: string;
  sink: NotificationSink;
  ev: RefusedCloudEvent;
  attempt: number;
}

export class RefusalSender {
  private readonly queue: Item[] = [];
  private running = 0;
  private readonly d: { sender: SinkSender; metrics: NotificationMetrics; log: Logger; policies(): Iterable<NotificationPolicy>; now(): Date; concurrency?: number; backoffMs?: number };

  constructor(d: RefusalSender['d']) {
    this.d = d;
  }

  /** Called on the request's path after a refusal: only queues. */
  refused(obj: StoredObject | undefined, user: UserInfo, request: TransitionRequest, err: StatusError): void {
    if (!obj) return;
    let ev: RefusedCloudEvent | undefined;
    for (const policy of this.d.policies()) {
      ev ??= refusedEvent(obj, user, request, err, this.d.now());
      const decision = sends(policy, obj, ev);
      const key = `${policy.metadata.namespace}/${policy.metadata.name}`;
      if (decision.problem) this.d.log.warn('a notification policy\'s condition failed on a refusal', { policy: key, error: decision.problem });
      if (!decision.send) continue;
      for (const sink of policy.spec.sinks) {
        if (this.queue.length >= MAX_QUEUED) {
          this.d.metrics.failed.inc({ policy: key, sink: sink.name });
          continue;
        }
        this.queue.push({ policy: key, namespace: policy.metadata.namespace, sink, ev, attempt: 0 });
      }
    }
    this.pump();
  }

  private pump(): void {
    while (this.running < (this.d.concurrency ?? 4) && this.queue.length) {
      const item = this.queue.shift()!;
      this.running++;
      void this.deliver(item).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async deliver(item: Item): Promise<void> {
    const labels = { policy: item.policy, sink: item.sink.name };
    for (item.attempt = 1; item.attempt <= ATTEMPTS; item.attempt++) {
      try {
        await this.d.sender.send(item.namespace, item.sink, item.ev);
        this.d.metrics.delivered.inc(labels);
        return;
      } catch (err) {
        this.d.metrics.failed.inc(labels);
        if (item.attempt === ATTEMPTS) this.d.log.warn('a refused notification was not delivered', { ...labels, id: item.ev.id, error: err instanceof Error ? err.message : String(err) });
        else await new Promise((r) => setTimeout(r, (this.d.backoffMs ?? 500) * 2 ** (item.attempt - 1)).unref());
      }
    }
  }
}
