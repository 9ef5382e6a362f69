// Writes each Freeze's status (active now, the current or next window, a
// Ready condition), so that `kubectl get freezes` and the plugin show what
// the gate enforces. It looks again when a Freeze changes and at the next
// window boundary of any of them (one timer; at least hourly, for windows
// that merge beyond a year and for a clock that jumped). Every replica runs
// it: each writes only when the status it computes differs from the stored
// one, with the resourceVersion it read as precondition, so the first
// replica's write wins and the others, seeing it, have nothing to write.
import { canonicalJson } from '../../../api/src/history-chain.ts';
import type { FreezeEvaluation } from '../../../api/src/freeze-schedule.ts';
import { freezePath } from '../../../api/src/names.ts';
import type { Condition, Freeze, FreezeStatus } from '../../../api/src/types.ts';
import { ApiError } from '../../../client/src/errors.ts';
import type { RestClient } from '../../../client/src/rest-client.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log/logger.ts';
import type { FreezeCache } from '../store/freeze-cache.ts';

export interface FreezeStatusDeps {
  cache: FreezeCache;
  client: RestClient;
  log: Logger;
  clock: Clock;
  /** The longest time between two looks at every Freeze. */
  resyncMs?: number;
}

const READY_MESSAGE = 'the backend evaluates this freeze as written';

/** The time of a condition's transition: whole seconds, as metav1.Time. */
const seconds = (d: Date) => new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/**
 * The status a Freeze should have, given its evaluation now. The Ready
 * condition keeps its lastTransitionTime while its status stays the same.
 */
export function desiredStatus(freeze: Freeze, e: FreezeEvaluation, now: Date): FreezeStatus {
  const generation = freeze.metadata.generation;
  const ready: Omit<Condition, 'lastTransitionTime'> = e.problem
    ? { type: 'Ready', status: 'False', reason: e.problem.reason, message: e.problem.message }
    : { type: 'Ready', status: 'True', reason: 'Evaluated', message: READY_MESSAGE };
  const previous = freeze.status?.conditions?.find((c) => c.type === 'Ready');
  const since = previous && previous.status === ready.status ? previous.lastTransitionTime : seconds(now);
  const nonEmpty = (w: { start?: string; end?: string } | undefined) => (w && (w.start !== undefined || w.end !== undefined) ? w : undefined);
  const current = e.active ? nonEmpty(e.current) : undefined;
  const next = e.active ? undefined : nonEmpty(e.next);
  return {
    active: e.active,
    ...(current ? { currentWindow: current } : {}),
    ...(next ? { nextWindow: next } : {}),
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    conditions: [{ ...ready, ...(generation !== undefined ? { observedGeneration: generation } : {}), lastTransitionTime: since }],
  };
}

/** Whether two statuses say the same (field order aside). */
export function sameStatus(a: FreezeStatus | undefined, b: FreezeStatus | undefined): boolean {
  return canonicalJson(a ?? {}) === canonicalJson(b ?? {});
}

export class FreezeStatusController {
  private readonly d: FreezeStatusDeps;
  private readonly queue = new Set<string>();
  private readonly retries = new Map<string, number>();
  private pumping: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private wakeAt: number | undefined;
  private stopped = false;
  private readonly onChange = (k: string) => this.enqueue([k]);
  private readonly onSynced = () => this.enqueue(this.d.cache.keys());

  constructor(deps: FreezeStatusDeps) {
    this.d = deps;
  }

  start(): void {
    this.d.cache.on('change', this.onChange);
    this.d.cache.on('synced', this.onSynced);
    if (this.d.cache.synced) this.onSynced();
  }

  stop(): void {
    this.stopped = true;
    this.d.cache.off('change', this.onChange);
    this.d.cache.off('synced', this.onSynced);
    if (this.timer) clearTimeout(this.timer);
  }

  /** When the controller looks at every Freeze next (epoch ms); for tests and logs. */
  get nextWake(): number | undefined {
    return this.wakeAt;
  }

  /** Resolves when nothing is queued or being written (tests). */
  async whenIdle(): Promise<void> {
    while (this.pumping) await this.pumping;
  }

  /** Queues Freezes to look at; one pass writes them one after the other. */
  enqueue(keys: Iterable<string>): void {
    for (const k of keys) this.queue.add(k);
    if (this.stopped || this.pumping) return;
    this.pumping = (async () => {
      // Changes that arrive together (a re-list) are taken in one pass.
      await new Promise((r) => setImmediate(r));
      while (this.queue.size > 0 && !this.stopped) {
        const k = this.queue.values().next().value!;
        this.queue.delete(k);
        await this.reconcile(k);
      }
      this.schedule();
    })().finally(() => {
      this.pumping = undefined;
      // Queued after the last look of that pass.
      if (this.queue.size > 0) this.enqueue([]);
    });
  }

  /** Writes one Freeze's status when it is not what it should be. */
  async reconcile(k: string): Promise<void> {
    const cached = this.d.cache.get(k);
    if (!cached) return;
    const now = this.d.clock.now();
    const { freeze } = cached;
    const status = desiredStatus(freeze, cached.at(now), now);
    if (sameStatus(status, freeze.status)) return;
    const { namespace, name } = freeze.metadata;
    try {
      await this.d.client.json('PUT', freezePath(namespace, name, 'status'), { body: { ...freeze, status } });
      this.retries.delete(k);
      this.d.log.info('freeze status written', { freeze: k, active: status.active, ...(status.conditions?.[0]?.status === 'False' ? { problem: status.conditions[0].reason } : {}) });
    } catch (err) {
      // Another replica wrote first, or the Freeze changed or went: the cache brings what is newer, and with it a look.
      if (err instanceof ApiError && (err.code === 409 || err.code === 404)) return;
      const n = (this.retries.get(k) ?? 0) + 1;
      this.retries.set(k, n);
      this.d.log.warn('could not write a freeze status; retrying', { freeze: k, attempt: n, error: err instanceof Error ? err.message : String(err) });
      setTimeout(() => this.enqueue([k]), Math.min(30_000, 500 * 2 ** Math.min(n, 6))).unref();
    }
  }

  /** One timer, to the earliest boundary of any Freeze (at most resyncMs away). */
  private schedule(): void {
    if (this.stopped) return;
    const now = this.d.clock.now();
    let wake = now.getTime() + (this.d.resyncMs ?? 3_600_000);
    for (const k of this.d.cache.keys()) {
      const at = this.d.cache.get(k)?.at(now).changesAt;
      if (at !== undefined && at > now.getTime()) wake = Math.min(wake, at);
    }
    if (this.timer) clearTimeout(this.timer);
    this.wakeAt = wake;
    // A millisecond past the boundary: the window's end is outside it.
    this.timer = setTimeout(() => this.enqueue(this.d.cache.keys()), Math.max(0, wake - now.getTime()) + 1);
    this.timer.unref();
  }
}
