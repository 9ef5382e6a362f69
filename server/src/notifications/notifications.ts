// Notifications as one component of the backend (issue 22): the watch of
// NotificationPolicies, the Lease that picks the one replica that delivers,
// the delivery controller that replica runs, and the test action. config.ts
// makes it; main.ts starts and stops it with the other components.
import type { Registry } from 'prom-client';
import { NOTIFICATION_LEASE, SYSTEM_NAMESPACE } from '../../../api/src/names.ts';
import type { StoredObject } from '../../../api/src/types.ts';
import type { RestClient } from '../../../client/src/rest-client.ts';
import type { UserInfo } from '../auth/user.ts';
import type { Clock } from '../clock.ts';
import { LeaseElection } from '../controllers/lease-election.ts';
import type { Logger } from '../log/logger.ts';
import { newNotificationMetrics } from '../metrics/notification-metrics.ts';
import type { RequestInfo } from '../request/request-info.ts';
import type { CrdWatchCache } from '../store/crd-watch-cache.ts';
import type { ArchivedLives } from '../store/history-archive.ts';
import { NotificationPolicyCache } from '../store/notification-policy-cache.ts';
import { NotificationDelivery, type FreezeFeed } from './delivery-controller.ts';
import { serveNotifyTest } from './notify-test.ts';
import { SinkSender } from './sink-sender.ts';
import { RefusalSender } from './refusal-events.ts';
import type { TransitionRequest } from '../state/transitions.ts';
import type { StatusError } from '../status/status-error.ts';
import type { NotificationPolicy } from '../../../api/src/types.ts';
import type { ServerResponse } from 'node:http';

export interface NotificationsDeps {
  client: RestClient;
  cache: CrdWatchCache;
  /** The StateHistory segments, read for entries that left an object's window and for lives that ended. */
  archive: ArchivedLives;
  /** The Freezes (for frozen and unfrozen). */
  freezes?: FreezeFeed;
  log: Logger;
  clock: Clock;
  registry: Registry;
  /** Approvals a move of `obj` into `state` needs (its effective gates). */
  approvalsInto(obj: StoredObject, state: string): number;
  /** This replica, for the Lease's holderIdentity. */
  replica: string;
}

export class Notifications {
  readonly policies: NotificationPolicyCache;
  readonly delivery: NotificationDelivery;
  private readonly election: LeaseElection;
  private readonly refusals: RefusalSender;
  private readonly sender: SinkSender;
  private readonly d: NotificationsDeps;

  constructor(d: NotificationsDeps) {
    this.d = d;
    const log = d.log.with({ component: 'notifications' });
    this.policies = new NotificationPolicyCache({ client: d.client, log });
    this.sender = new SinkSender({ client: d.client, now: () => d.clock.now() });
    const metrics = newNotificationMetrics(d.registry);
    this.delivery = new NotificationDelivery({ cache: d.cache, policies: this.policies.store, ...(d.freezes ? { freezes: d.freezes } : {}), sender: this.sender, client: d.client, archive: d.archive, log, clock: d.clock, metrics, approvalsInto: d.approvalsInto });
    const store = this.policies.store;
    // Every replica sends the refusals it made: each is made by one replica only.
    this.refusals = new RefusalSender({ sender: this.sender, metrics, log, now: () => d.clock.now(), policies: () => store.keys().map((k) => store.get(k)).filter((p): p is NotificationPolicy => p !== undefined) });
    this.election = new LeaseElection({
      client: d.client,
      log,
      clock: d.clock,
      namespace: SYSTEM_NAMESPACE,
      name: NOTIFICATION_LEASE,
      identity: `${d.replica}_${Math.random().toString(36).slice(2, 10)}`,
      onStartedLeading: () => void this.delivery.activate(),
      onStoppedLeading: () => void this.delivery.deactivate(),
    });
  }

  start(): void {
    this.policies.start();
    this.election.start();
  }

  async stop(): Promise<void> {
    // What was delivered goes to the status before the Lease is released, so the next leader resumes from it.
    await this.delivery.deactivate();
    await this.election.stop();
    await this.policies.stop();
  }

  /** A promote or set-state refused (403 or 422): queued for the policies that want it, never awaited. */
  refused(obj: StoredObject | undefined, user: UserInfo, request: TransitionRequest, err: StatusError): void {
    this.refusals.refused(obj, user, request, err);
  }

  /** POST …/notificationpolicies/NAME/test. */
  serveTest(res: ServerResponse, info: RequestInfo, user: UserInfo): Promise<void> {
    return serveNotifyTest(res, info, user, { client: this.d.client, sender: this.sender, now: () => this.d.clock.now() });
  }
}
