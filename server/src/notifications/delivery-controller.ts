// Delivers NotificationPolicies (issue 22) from the trail, on the replica
// that holds the notifications Lease (controllers/lease-election.ts).
//
// The trail is the queue. Nothing is copied at the moment of a change: the
// watch cache's event only marks the object as having news for each sink
// whose policy selects it (a Map keyed by the object's uid, so a sink's
// queue is bounded by the number of objects however long its receiver is
// down), and the sink's one loop reads the entries after the last it
// delivered, from the object's window in status and, when they have left
// it, from the archived segments. So a state change never waits for a
// notification, a slow receiver costs no memory per event, and nothing is
// lost while a receiver, or this backend, is away.
//
// Per sink: one event at a time, oldest first per object (at least once, in
// order per object); a failure is retried with exponential backoff (the
// same event again, same id) and holds only that sink. How far each sink got
// for each object (its last delivered seq) goes to the policy's status,
// written at most once a second with the resourceVersion as precondition;
// a restarted backend, or the next leader, resumes from there. A new policy
// sends entries from its creation on (status.since), not the past.
//
// Cursors are bounded without sending anything twice by a watermark per
// sink, `settledBefore`: every entry older than it, of every object the
// policy selects, was handled. It is the earliest entry any queued object
// may still have to send (an object queued at activation: the last
// watermark; one queued by a change: its new entries' time), an object
// being deleted (its `deleted` entry will carry that time), and the present
// less a margin for writes still on their way. An object without a cursor
// is sent from the watermark, so a cursor older than it can go: when its
// object is gone, or to keep 500. And the lives that ended while no replica
// delivered (changed and deleted, say, while the Lease was changing hands)
// are found on activation in the archive: the segment of a deletion is
// labelled with its day and keeps the object's labels.
import { NOTIFICATION_POLICY_RESOURCE, STORAGE_PATH } from '../../../api/src/names.ts';
import type { Condition, Freeze, HistoryEntry, NotificationCursor, NotificationFreezeCursor, NotificationPolicy, NotificationPolicyStatus, NotificationSink, NotificationSinkStatus, StateHistorySegment, StoredObject } from '../../../api/src/types.ts';
import { ApiError } from '../../../client/src/errors.ts';
import type { RestClient } from '../../../client/src/rest-client.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log/logger.ts';
import type { NotificationMetrics } from '../metrics/notification-metrics.ts';
import type { CacheEvent, Subscriber } from '../store/crd-watch-cache.ts';
import type { ArchivedLives } from '../store/history-archive.ts';
import { policyKey, type NotificationPolicyStore } from '../store/notification-policy-cache.ts';
import type { CloudEvent } from './cloudevent.ts';
import type { SinkSender } from './sink-sender.ts';
import { conditionProblem, plan, selects, type TrailObject } from './trail-events.ts';
import { cursorOf, freezeEvent, hearsFreezesOf, sendsFreezeEvent, type FreezeCloudEvent } from './freeze-events.ts';
import { checkFailedEvents, failedRunsOf, sendsCheckEvent, type CheckCloudEvent } from './check-events.ts';

/** The objects a sink's status remembers, at most (the CRD's maxItems). */
export const MAX_CURSORS = 500;
/**
 * The check-failed ids a sink's status remembers, at most (the CRD's
 * maxItems): only runs still in an object's status can be sent again, a few
 * per object. With MAX_CURSORS a sink's status stays under about 90 KB.
 */
const MAX_CHECK_IDS = 200;
/** The Freezes a sink's status remembers, at most (the CRD's maxItems). */
const MAX_FREEZE_CURSORS = 100;

/** The Freezes, as the watch-fed FreezeCache keeps them ('change' with namespace/name). */
export interface FreezeFeed {
  readonly synced: boolean;
  keys(): Iterable<string>;
  get(key: string): { freeze: Freeze } | undefined;
  on(event: 'change', fn: (key: string) => void): unknown;
  off(event: 'change', fn: (key: string) => void): unknown;
}

export interface DeliveryDeps {
  cache: {
    hasSynced: boolean;
    /** Synced and its watch open (absent: always); 'unready' and 'ready' say when that changes. */
    ready?: boolean;
    on?(event: 'ready' | 'unready', fn: () => void): unknown;
    off?(event: 'ready' | 'unready', fn: () => void): unknown;
    get(namespace: string, name: string): StoredObject | undefined;
    list(): readonly StoredObject[];
    subscribe(sub: Subscriber): () => void;
  };
  policies: NotificationPolicyStore;
  /** Freezes, for frozen and unfrozen; none: those events are not sent. */
  freezes?: FreezeFeed;
  sender: Pick<SinkSender, 'send'>;
  client: RestClient;
  log: Logger;
  clock: Clock;
  metrics: NotificationMetrics;
  /** Approvals a move of `obj` into `state` needs (its effective gates). */
  approvalsInto(obj: StoredObject, state: string): number;
  /** The StateHistory segments: a life's archived entries, and the lives that ended. */
  archive: ArchivedLives;
  /** How long an entry may take from its time to this cache (a write on its way, clocks apart): the watermark trails the present by this much. */
  settleMs?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  statusIntervalMs?: number;
}

/** An object a sink has news of: its identity, and what it was when last seen (for a deleted one, all there is). */
interface Target {
  /** A Freeze (namespace/name) rather than an object. */
  freeze?: string;
  uid: string;
  namespace: string;
  name: string;
  labels?: Record<string, string>;
  states: readonly string[];
  last?: StoredObject;
}

interface SinkRun {
  sink: NotificationSink;
  /** Last delivered seq per object (uid), least recently delivered first. */
  cursors: Map<string, NotificationCursor>;
  /** What the sink was last told of each Freeze, by namespace/name. */
  freezeCursors: Map<string, NotificationFreezeCursor>;
  /** The check-failed events sent (their ids), least recent first. */
  checksSent: Set<string>;
  /** Last seq looked at per object this process (not persisted). */
  scanned: Map<string, number>;
  queue: Map<string, Target>;
  /** Per object queued or being sent: the time (ms) of its oldest entry that may not have been handled. */
  pending: Map<string, number>;
  /** The watermark (ms): every entry older than this, of every object selected, was handled. */
  settled: number;
  /** Events found and not yet delivered, of the object being sent. */
  inFlight: number;
  delivered: number;
  failed: number;
  lastDeliveryTime?: string;
  lastError?: string;
  lastErrorTime?: string;
  running: boolean;
  /** The loop while it runs. */
  loop?: Promise<void>;
  /** The loop of the sink this one replaced (the policy was edited): this one starts after it, so two never send at once. */
  after?: Promise<void>;
  wake?: () => void;
}

interface PolicyRun {
  /** The leadership (activation) that made it: a deactivation clears its own runs only. */
  term: number;
  key: string;
  policy: NotificationPolicy;
  generation: number | undefined;
  since: string;
  problem: string | undefined;
  sinks: Map<string, SinkRun>;
  statusDirty: boolean;
  /** Searches of the archive for the ended lives in flight: the watermark waits while there is one. */
  discovering: number;
}

const seconds = (d: Date) => new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
/** The watermark as status keeps it: rounded down to the millisecond it is. */
const stamp = (ms: number) => new Date(ms).toISOString();
/** Days (YYYY-MM-DD, UTC) from `fromMs` to `toMs`, both included; undefined when more than `max`. */
function daysBetween(fromMs: number, toMs: number, max = 31): string[] | undefined {
  const out: string[] = [];
  for (let d = Date.UTC(new Date(fromMs).getUTCFullYear(), new Date(fromMs).getUTCMonth(), new Date(fromMs).getUTCDate()); d <= toMs; d += 86_400_000) {
    out.push(new Date(d).toISOString().slice(0, 10));
    if (out.length > max) return undefined;
  }
  return out;
}
const lastHash = (o: StoredObject | undefined) => o?.status?.history?.at(-1)?.hash;
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

export class NotificationDelivery {
  private readonly d: DeliveryDeps;
  private readonly runs = new Map<string, PolicyRun>();
  private active = false;
  private activating: Promise<void> | undefined;
  private deactivating: Promise<void> | undefined;
  /** Counts activations and deactivations; `term` is the one delivering now. */
  private generation = 0;
  private term = 0;
  /** Aborts the sends in flight of the term delivering now, when it ends. */
  private sends: AbortController | undefined;
  private unsubscribe: (() => void) | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  /** Objects being deleted (their `deleted` entry is on its way, with the deletion's time), by uid. */
  private readonly terminating = new Map<string, { ms: number; namespace: string; labels: Record<string, string> | undefined }>();
  /**
   * Since when (ms) the cache's watch has been down: what changed meanwhile
   * comes late (the re-list's events) or not at all (an object made and
   * deleted in the gap, found in the archive when the watch is back), so the
   * watermark waits at the gap's start.
   */
  private gapSince: number | undefined;
  /** Reads of the archive's deletions begun this turn, by days (deletedOn). */
  private readonly deletionReads = new Map<string, Promise<StateHistorySegment[]>>();
  private readonly onUnready = () => {
    this.gapSince ??= this.d.clock.now().getTime();
  };
  private readonly onReady = () => {
    if (this.gapSince === undefined || !this.active) return;
    // The re-list's events have been marked (they came before the watch opened again): look for the lives that ended in the gap.
    for (const run of this.runs.values()) this.discover(run);
    this.gapSince = undefined;
  };
  private readonly onPolicy = (k: string) => {
    if (this.active) this.syncPolicy(k);
  };
  private readonly onFreeze = (k: string) => {
    if (!this.active) return;
    for (const run of this.runs.values()) this.enqueueFreeze(run, k);
  };

  constructor(deps: DeliveryDeps) {
    this.d = deps;
  }

  /** Delivering now (this replica leads). */
  get isActive(): boolean {
    return this.active;
  }

  /**
   * Starts delivering once the caches have synced (called when this replica
   * becomes the leader). A deactivation still writing the status of the last
   * term is waited for first: it clears that term's runs, never this one's.
   */
  activate(): Promise<void> {
    if (this.active || this.activating) return this.activating ?? Promise.resolve();
    const gen = ++this.generation;
    this.activating = (async () => {
      while (this.deactivating) {
        await this.deactivating;
        if (gen !== this.generation) return;
      }
      while (!(this.d.cache.hasSynced && this.d.policies.synced && (this.d.freezes?.synced ?? true))) {
        await new Promise((r) => setTimeout(r, 100));
        if (gen !== this.generation) return;
      }
      this.active = true;
      this.term = gen;
      this.sends = new AbortController();
      this.d.metrics.leader.set(1);
      this.unsubscribe = this.d.cache.subscribe({ onEvent: (ev) => this.onObject(ev) });
      this.gapSince = this.d.cache.ready === false ? this.d.clock.now().getTime() : undefined;
      this.d.cache.on?.('unready', this.onUnready);
      this.d.cache.on?.('ready', this.onReady);
      this.terminating.clear();
      for (const obj of this.d.cache.list()) this.noteTerminating(obj, false);
      this.d.policies.on('change', this.onPolicy);
      this.d.freezes?.on('change', this.onFreeze);
      for (const k of this.d.policies.keys()) this.syncPolicy(k);
      this.flushTimer = setInterval(() => void this.flush(), this.d.statusIntervalMs ?? 1_000);
      this.flushTimer.unref();
      this.d.log.info('delivering notifications', { policies: this.runs.size });
    })().finally(() => (this.activating = undefined));
    return this.activating;
  }

  /**
   * Stops delivering (leadership lost, or shutdown): what was delivered is
   * written to the policies' status first. Clears only the runs of the term
   * it ends, so an activation that comes while it writes keeps its own.
   */
  async deactivate(): Promise<void> {
    this.generation++;
    if (!this.active) return this.deactivating;
    this.active = false;
    const term = this.term;
    // Leadership lost: another replica sends from here on, so what is in flight stops now, not after its timeout.
    this.sends?.abort();
    this.d.metrics.leader.set(0);
    this.unsubscribe?.();
    this.d.cache.off?.('unready', this.onUnready);
    this.d.cache.off?.('ready', this.onReady);
    this.d.policies.off('change', this.onPolicy);
    this.d.freezes?.off('change', this.onFreeze);
    if (this.flushTimer) clearInterval(this.flushTimer);
    for (const run of this.runs.values()) for (const s of run.sinks.values()) s.wake?.();
    const done = (async () => {
      await this.flush();
      for (const run of [...this.runs.values()]) {
        if (run.term !== term) continue;
        this.d.metrics.forget(run.key, run.sinks.keys());
        this.runs.delete(run.key);
      }
    })().finally(() => {
      if (this.deactivating === done) this.deactivating = undefined;
    });
    this.deactivating = done;
    return done;
  }

  /** The policies being delivered (tests). */
  get delivering(): string[] {
    return [...this.runs.keys()];
  }

  /** Nothing queued or being sent (tests). */
  get idle(): boolean {
    for (const r of this.runs.values()) for (const s of r.sinks.values()) if (s.running || s.queue.size) return false;
    return true;
  }

  /** A policy was added, changed or deleted (or this replica just started leading). */
  private syncPolicy(k: string): void {
    const policy = this.d.policies.get(k);
    const old = this.runs.get(k);
    if (!policy) {
      if (old) {
        this.runs.delete(k);
        for (const s of old.sinks.values()) s.wake?.();
        this.d.metrics.forget(k, old.sinks.keys());
      }
      return;
    }
    if (old && old.generation === policy.metadata.generation) {
      // Its status (our own write, most likely): keep the newest resourceVersion to write over.
      old.policy = policy;
      return;
    }
    const run = this.newRun(k, policy, old);
    this.runs.set(k, run);
    if (old) {
      for (const s of old.sinks.values()) s.wake?.();
      for (const name of old.sinks.keys()) if (!run.sinks.has(name)) this.d.metrics.forget(k, [name]);
    }
    if (run.problem) return;
    // Everything it selects may have news for it (from the watermark on); objects it delivered to and that are gone (deleted while no replica delivered) too.
    for (const obj of this.d.cache.list()) if (selects(policy, obj.metadata.namespace, obj.metadata.labels)) this.enqueue(run, targetOf(obj));
    for (const s of run.sinks.values()) {
      for (const c of s.cursors.values()) {
        const live = this.d.cache.get(c.namespace ?? '', c.name ?? '');
        if (live?.metadata.uid !== c.uid && c.namespace && c.name) this.queueOn(s, { uid: c.uid, namespace: c.namespace, name: c.name, states: [] }, s.settled);
      }
      this.kick(run, s);
    }
    this.discover(run);
    for (const k of this.d.freezes?.keys() ?? []) this.enqueueFreeze(run, k);
    for (const s of run.sinks.values()) for (const k of s.freezeCursors.keys()) this.enqueueFreeze(run, k);
  }

  /** A Freeze changed (or the policy is new): the sinks that hear of its namespace look at it. */
  private enqueueFreeze(run: PolicyRun, k: string): void {
    if (run.problem || !hearsFreezesOf(run.policy, k.slice(0, k.indexOf('/')))) return;
    for (const s of run.sinks.values()) {
      s.queue.set(`freeze:${k}`, { freeze: k, uid: `freeze:${k}`, namespace: '', name: '', states: [] });
      this.kick(run, s);
    }
  }

  private newRun(k: string, policy: NotificationPolicy, old: PolicyRun | undefined): PolicyRun {
    const st = policy.status;
    // From the policy's creation: what happened after it was made is sent, even if no backend was delivering then.
    const since = st?.since ?? old?.since ?? policy.metadata.creationTimestamp ?? seconds(this.d.clock.now());
    const run: PolicyRun = { term: this.term, key: k, policy, generation: policy.metadata.generation, since, problem: conditionProblem(policy), sinks: new Map(), statusDirty: true, discovering: 0 };
    const sinceMs = Date.parse(since);
    for (const sink of policy.spec.sinks) {
      const prev = old?.sinks.get(sink.name);
      const stored = st?.sinks?.find((s) => s.name === sink.name);
      const cursors = prev?.cursors ?? new Map((stored?.objects ?? []).slice().reverse().map((c) => [c.uid, c] as const));
      run.sinks.set(sink.name, {
        sink,
        cursors,
        checksSent: prev?.checksSent ?? new Set(stored?.checks ?? []),
        freezeCursors: prev?.freezeCursors ?? new Map((stored?.freezes ?? []).map((c) => [`${c.namespace}/${c.name}`, c] as const)),
        scanned: prev?.scanned ?? new Map(),
        queue: prev?.queue ?? new Map(),
        pending: prev?.pending ?? new Map(),
        settled: Math.max(sinceMs, prev?.settled ?? (Date.parse(stored?.settledBefore ?? '') || sinceMs)),
        inFlight: 0,
        delivered: prev?.delivered ?? stored?.delivered ?? 0,
        failed: prev?.failed ?? stored?.failed ?? 0,
        ...(prev?.lastDeliveryTime ?? stored?.lastDeliveryTime ? { lastDeliveryTime: prev?.lastDeliveryTime ?? stored?.lastDeliveryTime } : {}),
        ...(prev?.lastError ?? stored?.lastError ? { lastError: prev?.lastError ?? stored?.lastError, lastErrorTime: prev?.lastErrorTime ?? stored?.lastErrorTime } : {}),
        running: false,
        ...(prev?.loop ? { after: prev.loop } : {}),
      });
    }
    if (run.problem) this.d.log.warn('notification policy not delivered', { policy: k, problem: run.problem });
    return run;
  }

  /** A change of an object in the watch cache: called synchronously on the cache's path, so it only marks. */
  private onObject(ev: CacheEvent): void {
    // Another life of the same name (the re-list after a gap saw it deleted and made again): the old one's deletion is in the archive.
    if (ev.prev && ev.prev.metadata.uid !== ev.object.metadata.uid) this.terminating.delete(ev.prev.metadata.uid ?? '');
    this.noteTerminating(ev.object, ev.type === 'DELETED');
    if (ev.type !== 'DELETED' && ev.prev && ev.prev.metadata.uid === ev.object.metadata.uid) this.selectionChanged(ev.prev, ev.object);
    if (ev.type !== 'DELETED' && lastHash(ev.object) === lastHash(ev.prev) && failedRunsOf(ev.object) === failedRunsOf(ev.prev)) return;
    const obj = ev.object;
    const since = this.newsSince(ev);
    for (const run of this.runs.values()) {
      if (run.problem || !selects(run.policy, obj.metadata.namespace, obj.metadata.labels)) continue;
      this.enqueue(run, targetOf(obj), since);
    }
  }

  /**
   * An object a policy starts selecting (its labels changed): what it did
   * before is not that policy's news, as a new policy does not send the past.
   * Its sinks note it as handled up to its last entry then (a cursor, kept
   * like any other), so whether its earlier entries go does not depend on
   * where the watermark happens to be.
   */
  private selectionChanged(prev: StoredObject, obj: StoredObject): void {
    const last = prev.status?.history?.at(-1);
    if (!last?.seq) return;
    const uid = obj.metadata.uid ?? '';
    for (const run of this.runs.values()) {
      if (run.problem || selects(run.policy, prev.metadata.namespace, prev.metadata.labels) || !selects(run.policy, obj.metadata.namespace, obj.metadata.labels)) continue;
      for (const s of run.sinks.values()) {
        if (s.pending.has(uid) || (s.cursors.get(uid)?.seq ?? 0) >= last.seq) continue;
        s.cursors.delete(uid);
        s.cursors.set(uid, { uid, namespace: obj.metadata.namespace, name: obj.metadata.name, seq: last.seq, time: last.time });
        s.scanned.delete(uid);
        this.trim(s);
        run.statusDirty = true;
      }
    }
  }

  /** Keeps `terminating` up to date with one object. */
  private noteTerminating(obj: StoredObject, gone: boolean): void {
    const uid = obj.metadata.uid ?? '';
    const ms = Date.parse(obj.metadata.deletionTimestamp ?? '');
    if (gone || Number.isNaN(ms)) this.terminating.delete(uid);
    else this.terminating.set(uid, { ms, namespace: obj.metadata.namespace, labels: obj.metadata.labels });
  }

  /** The time of the oldest entry a change may bring (its new entries, its deletion's), and at most the present (or the start of the cache's gap) less the margin. */
  private newsSince(ev: CacheEvent): number {
    let ms = this.bound();
    const prevSeq = ev.prev?.metadata.uid === ev.object.metadata.uid ? (ev.prev?.status?.history?.at(-1)?.seq ?? 0) : 0;
    for (const e of ev.object.status?.history ?? []) if ((e.seq ?? 0) > prevSeq) ms = Math.min(ms, Date.parse(e.time) || ms);
    const deleting = Date.parse(ev.object.metadata.deletionTimestamp ?? '');
    return Number.isNaN(deleting) ? ms : Math.min(ms, deleting);
  }

  private get settleMs(): number {
    return this.d.settleMs ?? 60_000;
  }

  /** What the watermark may reach at most: the present, or the start of the cache's gap, less the margin. */
  private bound(): number {
    return Math.min(this.d.clock.now().getTime(), this.gapSince ?? Infinity) - this.settleMs;
  }

  /** Queues `t` on every sink of `run`; `since` is the time of its oldest entry that may be news (by default each sink's watermark). */
  private enqueue(run: PolicyRun, t: Target, since?: number): void {
    for (const s of run.sinks.values()) {
      this.queueOn(s, t, since ?? s.settled);
      this.kick(run, s);
    }
  }

  private queueOn(s: SinkRun, t: Target, since: number): void {
    s.queue.set(t.uid, t);
    s.pending.set(t.uid, Math.min(s.pending.get(t.uid) ?? Infinity, since));
  }

  /**
   * Finds the lives that ended, selected by the policy, since its sinks'
   * watermark: deleted while no replica delivered, their `deleted` event
   * would otherwise never be sent. The watermark waits until this is done.
   */
  private discover(run: PolicyRun): void {
    if (run.problem || run.sinks.size === 0) return;
    run.discovering++;
    const from = Math.min(...[...run.sinks.values()].map((s) => s.settled));
    const attempt = async (n: number): Promise<void> => {
      if (this.runs.get(run.key) !== run || !this.active) return;
      try {
        const segments = await this.deletedOn(daysBetween(from, this.d.clock.now().getTime()));
        if (this.runs.get(run.key) !== run) return;
        for (const seg of segments) {
          const o = seg.spec.object;
          const deleted = seg.spec.entries.find((e) => e.action === 'deleted');
          const at = Date.parse(deleted?.time ?? '');
          if (!deleted || Number.isNaN(at) || !selects(run.policy, o.namespace, o.labels)) continue;
          if (this.d.cache.get(o.namespace, o.name)?.metadata.uid === o.uid) continue;
          const t: Target = { uid: o.uid, namespace: o.namespace, name: o.name, ...(o.labels ? { labels: o.labels } : {}), states: o.states ?? [] };
          for (const s of run.sinks.values()) {
            if (at < s.settled) continue;
            this.queueOn(s, t, s.settled);
            this.kick(run, s);
          }
        }
        run.discovering--;
      } catch (err) {
        this.d.log.warn('could not look for deleted objects in the archive; retrying', { policy: run.key, attempt: n, error: message(err) });
        await new Promise((r) => setTimeout(r, Math.min(30_000, 1_000 * 2 ** Math.min(n, 5))).unref?.());
        return attempt(n + 1);
      }
    };
    void attempt(1);
  }

  private current(run: PolicyRun, s: SinkRun): boolean {
    return this.active && this.runs.get(run.key) === run && run.sinks.get(s.sink.name) === s;
  }

  private gauge(run: PolicyRun, s: SinkRun): void {
    this.d.metrics.queued.set({ policy: run.key, sink: s.sink.name }, s.queue.size + s.inFlight);
  }

  /** Runs the sink's loop unless it runs. */
  private kick(run: PolicyRun, s: SinkRun): void {
    this.gauge(run, s);
    if (s.running) return;
    s.running = true;
    s.loop = (async () => {
      if (s.after) {
        await s.after;
        delete s.after;
      }
      try {
        while (this.current(run, s) && s.queue.size > 0) {
          const [uid, t] = s.queue.entries().next().value!;
          s.queue.delete(uid);
          const done = await this.deliverObject(run, s, t).catch(async (err: unknown) => {
            // The archive could not be read: look again later, in order.
            this.failure(run, s, t.freeze ? `could not look at Freeze ${t.freeze}: ${message(err)}` : `could not read the trail of ${t.namespace}/${t.name}: ${message(err)}`);
            await this.pause(run, s, 5);
            return false;
          });
          // Not done: again later, by this loop or by that of the sink that replaced it (an edited policy: the queue is shared).
          if (!done && !s.queue.has(uid)) s.queue.set(uid, t);
          else if (done && !s.queue.has(uid)) s.pending.delete(uid);
        }
      } finally {
        s.running = false;
        s.inFlight = 0;
        if (this.runs.get(run.key) === run) this.gauge(run, s);
        // A policy replaced while this loop ran: its successor's loop takes over the queue.
        const next = this.runs.get(run.key)?.sinks.get(s.sink.name);
        if (next && next !== s && next.queue.size) this.kick(this.runs.get(run.key)!, next);
      }
    })().catch((err: unknown) => this.d.log.error('a notification loop stopped', { policy: run.key, sink: s.sink.name, error: message(err) }));
  }

  /** Tells one sink what changed of one Freeze: unfrozen for one it was told is frozen and no longer is, frozen for a new window. */
  private async deliverFreeze(run: PolicyRun, s: SinkRun, key: string): Promise<boolean> {
    const f = this.d.freezes?.get(key)?.freeze;
    const now = this.d.clock.now();
    const told = s.freezeCursors.get(key);
    const active = f?.status?.active === true;
    if (told?.event === 'frozen' && (!f || f.metadata.uid !== told.uid || !active)) {
      if (!(await this.sendFreeze(run, s, freezeEvent(told, f?.metadata.uid === told.uid ? f : undefined, 'unfrozen', now)))) return false;
      s.freezeCursors.delete(key);
      run.statusDirty = true;
    }
    if (!f || !active) return true;
    const next = cursorOf(f, 'frozen');
    const known = s.freezeCursors.get(key);
    if (known && known.uid === next.uid && known.start === next.start) return true;
    // A freeze that held before the policy was made (made earlier, in a window begun earlier) is noted for its unfrozen, not announced.
    const began = Math.max(Date.parse(next.start ?? '') || 0, Date.parse(f.metadata.creationTimestamp ?? '') || 0);
    if (!(began < Date.parse(run.since)) && !(await this.sendFreeze(run, s, freezeEvent(next, f, 'frozen', now)))) return false;
    s.freezeCursors.delete(key);
    s.freezeCursors.set(key, next);
    while (s.freezeCursors.size > MAX_FREEZE_CURSORS) s.freezeCursors.delete(s.freezeCursors.keys().next().value!);
    run.statusDirty = true;
    return true;
  }

  /** Sends a freeze event if the policy wants it; false when interrupted. */
  private async sendFreeze(run: PolicyRun, s: SinkRun, ev: FreezeCloudEvent): Promise<boolean> {
    const decision = sendsFreezeEvent(run.policy, ev);
    if (decision.problem) this.failure(run, s, decision.problem);
    return decision.send ? this.send(run, s, ev) : true;
  }

  /** Sends what is new of one object to one sink; false when interrupted (to be taken up again). */
  private async deliverObject(run: PolicyRun, s: SinkRun, t: Target): Promise<boolean> {
    if (t.freeze) return this.deliverFreeze(run, s, t.freeze);
    const live = this.d.cache.get(t.namespace, t.name);
    // Queued for a policy since edited that no longer selects it: nothing to send.
    const labels = live?.metadata.uid === t.uid ? live.metadata.labels : (t.last?.metadata.labels ?? t.labels);
    if (!selects(run.policy, t.namespace, labels)) return true;
    const obj = live?.metadata.uid === t.uid ? live : t.last;
    const window = live?.metadata.uid === t.uid ? (live.status?.history ?? []) : [];
    const cursor = s.cursors.get(t.uid)?.seq;
    const from = s.scanned.get(t.uid) ?? cursor;
    const sinceMs = Date.parse(run.since);
    // Without a cursor, what is older than the watermark (or than this object's oldest news, when that came late) was handled.
    const handledBefore = Math.max(sinceMs, Math.min(s.settled, s.pending.get(t.uid) ?? s.settled));
    if (live?.metadata.uid === t.uid && window.length === 0) return this.deliverChecks(run, s, live, sinceMs);
    let entries: readonly HistoryEntry[] = window;
    const first = window[0];
    const needArchive = from === undefined
      ? !first || ((first.seq ?? 1) > 1 && Date.parse(first.time) >= handledBefore)
      : !first || (first.seq ?? 0) > from;
    if (needArchive) entries = merge(await this.d.archive.entriesOf(t.uid), window);
    let after = from;
    if (after === undefined) {
      // Not sent anything of this life (or not since the watermark): from the policy's start or the watermark.
      after = 0;
      for (const e of entries) if (Date.parse(e.time) < handledBefore) after = Math.max(after, e.seq ?? 0);
    }
    const trail: TrailObject = {
      uid: t.uid,
      namespace: t.namespace,
      name: t.name,
      ...(obj?.metadata.labels ?? t.labels ? { labels: obj?.metadata.labels ?? t.labels } : {}),
      states: obj?.spec.states ?? t.states,
      approvalsInto: (state) => (obj ? this.d.approvalsInto(obj, state) : 0),
    };
    const planned = plan(run.policy, trail, entries, after);
    s.inFlight = planned.reduce((n, p) => n + p.events.length, 0);
    this.gauge(run, s);
    for (const p of planned) {
      for (const ev of p.events) {
        if (!(await this.send(run, s, ev))) return false;
        s.inFlight--;
        this.gauge(run, s);
      }
      for (const problem of p.problems) this.failure(run, s, problem);
      s.scanned.set(t.uid, p.seq);
      const at = entries.find((e) => e.seq === p.seq);
      if (p.events.length) {
        s.cursors.delete(t.uid);
        s.cursors.set(t.uid, { uid: t.uid, namespace: t.namespace, name: t.name, seq: p.seq, ...(at ? { time: at.time } : {}) });
        this.trim(s);
        run.statusDirty = true;
      }
      // The life is over: nothing more will come of it (its cursor goes once the watermark passes it).
      if (at?.action === 'deleted') s.scanned.delete(t.uid);
    }
    return live?.metadata.uid === t.uid ? this.deliverChecks(run, s, live, sinceMs) : true;
  }

  /** Sends the check-failed events of an object the sink has not been sent; false when interrupted. */
  private async deliverChecks(run: PolicyRun, s: SinkRun, obj: StoredObject, sinceMs: number): Promise<boolean> {
    for (const ev of checkFailedEvents(obj)) {
      if (s.checksSent.has(ev.id)) continue;
      // A run that failed before the policy was made is noted, not announced.
      if (Date.parse(ev.time) >= sinceMs) {
        const decision = sendsCheckEvent(run.policy, ev, obj.metadata.labels);
        if (decision.problem) this.failure(run, s, decision.problem);
        if (decision.send && !(await this.send(run, s, ev))) return false;
      }
      s.checksSent.add(ev.id);
      while (s.checksSent.size > MAX_CHECK_IDS) s.checksSent.delete(s.checksSent.values().next().value!);
      run.statusDirty = true;
    }
    return true;
  }

  /** Sends one event until it is delivered; false when the sink stopped mattering (policy changed, leadership lost). */
  private async send(run: PolicyRun, s: SinkRun, ev: CloudEvent | FreezeCloudEvent | CheckCloudEvent): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      if (!this.current(run, s)) return false;
      try {
        await this.d.sender.send(run.policy.metadata.namespace, s.sink, ev, this.sends?.signal);
        s.delivered++;
        s.lastDeliveryTime = seconds(this.d.clock.now());
        delete s.lastError;
        delete s.lastErrorTime;
        run.statusDirty = true;
        this.d.metrics.delivered.inc({ policy: run.key, sink: s.sink.name });
        this.d.log.debug('notification delivered', { policy: run.key, sink: s.sink.name, id: ev.id, type: ev.type });
        return true;
      } catch (err) {
        // Stopped (leadership lost, the policy changed): not a failure of the sink; taken up again from its cursor.
        if (!this.current(run, s)) return false;
        this.d.metrics.failed.inc({ policy: run.key, sink: s.sink.name });
        s.failed++;
        this.failure(run, s, message(err));
        this.d.log.warn('notification not delivered; retrying', { policy: run.key, sink: s.sink.name, id: ev.id, attempt, error: message(err) });
        await this.pause(run, s, attempt);
      }
    }
  }

  private failure(run: PolicyRun, s: SinkRun, why: string): void {
    s.lastError = why.slice(0, 1024);
    s.lastErrorTime = seconds(this.d.clock.now());
    run.statusDirty = true;
  }

  /** Waits before the next attempt (exponential, capped), or less when the sink stops mattering. */
  private pause(run: PolicyRun, s: SinkRun, attempt: number): Promise<void> {
    const ms = Math.min(this.d.maxBackoffMs ?? 30_000, (this.d.baseBackoffMs ?? 250) * 2 ** Math.min(attempt - 1, 20));
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      s.wake = done;
      if (!this.current(run, s)) done();
    });
  }

  /**
   * The lives that ended on `days`: one read of the archive for every
   * search begun in the same turn (activation, or the watch coming back,
   * begins one per policy), not one each.
   */
  private deletedOn(days: readonly string[] | undefined): Promise<StateHistorySegment[]> {
    const k = days?.join(',') ?? '';
    let read = this.deletionReads.get(k);
    if (!read) {
      read = this.d.archive.deletedOn(days);
      this.deletionReads.set(k, read);
      queueMicrotask(() => this.deletionReads.delete(k));
    }
    return read;
  }

  /** Whether a cursor is older than the sink's watermark (one written before cursors had a time counts as older). */
  private settledPast(s: SinkRun, c: NotificationCursor): boolean {
    const ms = Date.parse(c.time ?? '');
    return Number.isNaN(ms) || ms < s.settled;
  }

  /** Keeps at most MAX_CURSORS, dropping the least recently sent of those older than the watermark (nothing queued); true when one went. */
  private trim(s: SinkRun): boolean {
    let dropped = false;
    for (const [uid, c] of s.cursors) {
      if (s.cursors.size <= MAX_CURSORS) break;
      if (this.settledPast(s, c) && !s.pending.has(uid)) dropped = s.cursors.delete(uid);
    }
    return dropped;
  }

  /**
   * Moves each sink's watermark up to the oldest entry that may still be
   * news (see the top of this file), and drops the cursors older than it
   * whose object is gone. Marks the status dirty when a cursor went, so the
   * watermark that allowed it is written with it.
   */
  settle(): void {
    for (const run of this.runs.values()) {
      if (run.problem || run.discovering > 0) continue;
      let bound = this.bound();
      for (const t of this.terminating.values()) if (t.ms < bound && selects(run.policy, t.namespace, t.labels)) bound = t.ms;
      for (const s of run.sinks.values()) {
        let to = bound;
        for (const ms of s.pending.values()) to = Math.min(to, ms);
        if (to > s.settled) s.settled = to;
        for (const [uid, c] of s.cursors) {
          if (!this.settledPast(s, c) || s.pending.has(uid)) continue;
          if (this.d.cache.get(c.namespace ?? '', c.name ?? '')?.metadata.uid === uid) continue;
          s.cursors.delete(uid);
          run.statusDirty = true;
        }
        if (this.trim(s)) run.statusDirty = true;
      }
    }
  }

  /** Writes the status of every policy whose delivery moved. */
  async flush(): Promise<void> {
    if (this.active) this.settle();
    for (const run of [...this.runs.values()]) {
      if (!run.statusDirty) continue;
      run.statusDirty = false;
      const { namespace, name } = run.policy.metadata;
      const status = statusOf(run, this.d.clock.now());
      try {
        const written = await this.d.client.json<NotificationPolicy>('PUT', `${STORAGE_PATH}/namespaces/${namespace}/${NOTIFICATION_POLICY_RESOURCE}/${name}/status`, { body: { ...run.policy, status }, timeoutMs: 10_000 });
        if (this.runs.get(run.key) === run && written.metadata.generation === run.generation) run.policy = written;
      } catch (err) {
        if (err instanceof ApiError && err.code === 404) continue;
        // A newer policy (a spec edit, or a conflict): the cache brings it, and the next flush writes over it.
        run.statusDirty = true;
        if (!(err instanceof ApiError && err.code === 409)) this.d.log.warn('could not write a notification policy status', { policy: policyKey(namespace, name), error: message(err) });
      }
    }
  }
}

function targetOf(obj: StoredObject): Target {
  return { uid: obj.metadata.uid ?? '', namespace: obj.metadata.namespace, name: obj.metadata.name, ...(obj.metadata.labels ? { labels: obj.metadata.labels } : {}), states: obj.spec.states, last: obj };
}

/** Archived entries and the window, by seq, each once. */
function merge(archived: readonly HistoryEntry[], window: readonly HistoryEntry[]): HistoryEntry[] {
  const bySeq = new Map<number, HistoryEntry>();
  for (const e of [...archived, ...window]) bySeq.set(e.seq ?? 0, e);
  return [...bySeq.values()].sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
}

/** The status that says where delivery of `run` stands. */
function statusOf(run: PolicyRun, now: Date): NotificationPolicyStatus {
  const previous = run.policy.status?.conditions?.find((c) => c.type === 'Ready');
  const ready: Omit<Condition, 'lastTransitionTime'> = run.problem
    ? { type: 'Ready', status: 'False', reason: 'InvalidCondition', message: `spec.condition: ${run.problem}` }
    : { type: 'Ready', status: 'True', reason: 'Delivering', message: 'the backend sends the trail of the objects this policy selects' };
  const since = previous && previous.status === ready.status ? previous.lastTransitionTime : seconds(now);
  const sinks: NotificationSinkStatus[] = [...run.sinks.values()].map((s) => ({
    name: s.sink.name,
    delivered: s.delivered,
    failed: s.failed,
    pending: s.queue.size + s.inFlight,
    ...(s.lastDeliveryTime ? { lastDeliveryTime: s.lastDeliveryTime } : {}),
    ...(s.lastError ? { lastError: s.lastError, lastErrorTime: s.lastErrorTime! } : {}),
    settledBefore: stamp(s.settled),
    objects: [...s.cursors.values()].reverse().slice(0, MAX_CURSORS),
    ...(s.freezeCursors.size ? { freezes: [...s.freezeCursors.values()].reverse() } : {}),
    ...(s.checksSent.size ? { checks: [...s.checksSent] } : {}),
  }));
  return {
    ...(run.generation !== undefined ? { observedGeneration: run.generation } : {}),
    since: run.since,
    sinks,
    conditions: [{ ...ready, ...(run.generation !== undefined ? { observedGeneration: run.generation } : {}), lastTransitionTime: since }],
  };
}
