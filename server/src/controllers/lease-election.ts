// Leader election on a coordination.k8s.io/v1 Lease, as client-go's
// leaderelection package does it: a candidate takes the Lease when it is
// free or its holder has not renewed it for leaseDurationSeconds (timed by
// this process's clock from when it saw the record change, not by the
// holder's renewTime, so clocks need not agree), renews it every
// retryPeriod, and stops leading when it could not renew for renewDeadline:
// a leader's look at the Lease is aborted when that deadline comes (a hung
// GET or PUT does not keep it leading), and a failure is timed when it
// happens. Its onStoppedLeading stops what it does at once (delivery aborts
// the sends in flight), before another candidate can take the Lease.
// Every write carries the resourceVersion read, so two candidates never both
// win. Stopping releases the Lease (client-go's ReleaseOnCancel), so a
// rolling upgrade hands over at once; a killed leader is replaced after
// leaseDurationSeconds.
//
// Used for notifications (issue 22): one replica sends, so receivers do not
// get every event once per replica. A leader that pauses past the Lease's
// term may send a few events the next leader sends again: delivery is at
// least once, and receivers drop repeated ids.
import { randomUUID } from 'node:crypto';
import { ApiError } from '../../../client/src/errors.ts';
import type { RestClient } from '../../../client/src/rest-client.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log/logger.ts';

interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string; leaseTransitions?: number };
}

export interface LeaseElectionOptions {
  client: RestClient;
  log: Logger;
  clock: Clock;
  namespace: string;
  name: string;
  /** This candidate; unique per process (client-go: hostname and a uuid). */
  identity?: string;
  leaseDurationSeconds?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onStartedLeading(): void;
  onStoppedLeading(): void;
}

/** metav1.MicroTime: RFC 3339 with microseconds. */
const microTime = (d: Date) => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export class LeaseElection {
  readonly identity: string;
  private readonly o: LeaseElectionOptions;
  private readonly durationMs: number;
  private leading = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private lastRenew = 0;
  /** The record last seen and when this process saw it change. */
  private observed: { record: string; at: number } | undefined;
  private loop: Promise<void> | undefined;

  constructor(o: LeaseElectionOptions) {
    this.o = o;
    this.identity = o.identity ?? `${randomUUID()}`;
    this.durationMs = (o.leaseDurationSeconds ?? 15) * 1000;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.loop;
    if (this.leading) {
      this.setLeading(false);
      await this.release().catch((err: unknown) => this.o.log.warn('could not release the lease', { lease: this.o.name, error: err instanceof Error ? err.message : String(err) }));
    }
  }

  private get path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${this.o.namespace}/leases`;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.loop = this.tick().finally(() => this.schedule(this.o.retryPeriodMs ?? 2_000));
    }, ms);
    this.timer.unref();
  }

  /**
   * One look at the Lease (the loop's, every retryPeriod). A leader's look
   * is bounded by what is left of renewDeadline since its last renewal: the
   * GET and PUT are aborted then, and the failure is timed by the clock when
   * it happens, not when the look began, so a renewal that hangs or fails
   * late stops the leading in time (before another replica's wait for the
   * Lease's term can end).
   */
  async tick(): Promise<void> {
    const now = this.o.clock.now();
    const deadlineMs = this.o.renewDeadlineMs ?? 10_000;
    const deadline = this.leading ? this.lastRenew + deadlineMs : undefined;
    if (deadline !== undefined && deadline <= now.getTime()) {
      this.setLeading(false);
      return;
    }
    const abort = new AbortController();
    const timer = deadline === undefined ? undefined : setTimeout(() => abort.abort(new Error('renewDeadline passed')), deadline - now.getTime());
    // Each call waits at most 5 s, and a leader's no later than its deadline.
    const budget = () => ({ signal: abort.signal, timeoutMs: deadline === undefined ? 5_000 : Math.max(1, Math.min(5_000, deadline - this.o.clock.now().getTime())) });
    try {
      const held = await this.tryAcquireOrRenew(now, budget);
      if (held) this.lastRenew = now.getTime();
      if (held && !this.leading) this.setLeading(true);
      if (!held && this.leading) this.setLeading(false);
    } catch (err) {
      const failedAt = this.o.clock.now().getTime();
      this.o.log.debug('lease not renewed', { lease: this.o.name, error: err instanceof Error ? err.message : String(err) });
      // As client-go: a leader that cannot renew within renewDeadline stops leading, before its term ends elsewhere.
      if (this.leading && (abort.signal.aborted || failedAt - this.lastRenew >= deadlineMs)) this.setLeading(false);
    } finally {
      clearTimeout(timer);
    }
  }

  private setLeading(leading: boolean): void {
    this.leading = leading;
    this.o.log.info(leading ? 'became the leader' : 'stopped leading', { lease: `${this.o.namespace}/${this.o.name}`, identity: this.identity });
    if (leading) this.o.onStartedLeading();
    else this.o.onStoppedLeading();
  }

  /** True when this candidate holds the Lease after this look. */
  private async tryAcquireOrRenew(now: Date, budget: () => { signal: AbortSignal; timeoutMs: number }): Promise<boolean> {
    const spec = { holderIdentity: this.identity, leaseDurationSeconds: this.durationMs / 1000, renewTime: microTime(now) };
    let lease: Lease;
    try {
      lease = await this.o.client.json<Lease>('GET', `${this.path}/${this.o.name}`, budget());
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
      const body: Lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.o.name, namespace: this.o.namespace }, spec: { ...spec, acquireTime: microTime(now), leaseTransitions: 0 } };
      try {
        await this.o.client.json('POST', this.path, { body, ...budget() });
        return true;
      } catch (e) {
        if (e instanceof ApiError && e.code === 409) return false;
        throw e;
      }
    }
    const record = JSON.stringify([lease.spec.holderIdentity ?? '', lease.spec.renewTime ?? '', lease.spec.leaseDurationSeconds ?? 0]);
    if (this.observed?.record !== record) this.observed = { record, at: now.getTime() };
    const holder = lease.spec.holderIdentity ?? '';
    const term = (lease.spec.leaseDurationSeconds ?? this.durationMs / 1000) * 1000;
    if (holder && holder !== this.identity && this.observed.at + term > now.getTime()) return false;
    const mine = holder === this.identity;
    const next: Lease = {
      ...lease,
      spec: {
        ...lease.spec,
        ...spec,
        acquireTime: mine ? (lease.spec.acquireTime ?? microTime(now)) : microTime(now),
        leaseTransitions: (lease.spec.leaseTransitions ?? 0) + (mine || !holder ? 0 : 1),
      },
    };
    try {
      await this.o.client.json('PUT', `${this.path}/${this.o.name}`, { body: next, ...budget() });
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.code === 409) return false;
      throw err;
    }
  }

  /** Gives the Lease up: no holder, so the next candidate takes it at its next look. */
  private async release(): Promise<void> {
    const lease = await this.o.client.json<Lease>('GET', `${this.path}/${this.o.name}`, { timeoutMs: 5_000 });
    if (lease.spec.holderIdentity !== this.identity) return;
    const now = this.o.clock.now();
    await this.o.client.json('PUT', `${this.path}/${this.o.name}`, { body: { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(now) } }, timeoutMs: 5_000 });
  }
}
