// Metrics of notification delivery (issue 22), registered with the server's
// registry: what each sink of each policy was sent, what failed, and what
// waits. Labels are the policy (namespace/name) and the sink's name: one
// series per sink that exists, removed with it.
import { Counter, Gauge, type Registry } from 'prom-client';

export interface NotificationMetrics {
  delivered: Counter<'policy' | 'sink'>;
  failed: Counter<'policy' | 'sink'>;
  queued: Gauge<'policy' | 'sink'>;
  /** 1 on the replica that delivers (it holds the Lease), 0 on the others. */
  leader: Gauge;
  /** Forgets a policy's series (it was deleted, or this replica stopped delivering). */
  forget(policy: string, sinks: Iterable<string>): void;
}

export function newNotificationMetrics(registry: Registry): NotificationMetrics {
  const delivered = new Counter({ name: 'custom_notifications_delivered_total', help: 'Notification events a sink accepted (answered 2xx), by policy and sink.', labelNames: ['policy', 'sink'], registers: [registry] });
  const failed = new Counter({ name: 'custom_notifications_failed_total', help: 'Failed attempts to deliver a notification event (each retry counts), by policy and sink.', labelNames: ['policy', 'sink'], registers: [registry] });
  const queued = new Gauge({ name: 'custom_notifications_queued', help: 'What waits to be sent, by policy and sink: objects with changes not yet looked at, and the events found and not yet delivered.', labelNames: ['policy', 'sink'], registers: [registry] });
  const leader = new Gauge({ name: 'custom_notifications_leader', help: '1 on the replica that delivers notifications (it holds the Lease), 0 elsewhere.', registers: [registry] });
  return {
    delivered,
    failed,
    queued,
    leader,
    forget(policy, sinks) {
      for (const sink of sinks) for (const m of [delivered, failed, queued]) m.remove({ policy, sink });
    },
  };
}
