// Kubernetes Events about an object, as client-go's recorder and broadcaster
// write them (core/v1): recording only queues; one sender writes the queue
// to kube-apiserver, one Event at a time, so Events never compete with the
// work they describe; a full queue drops (1,000, as client-go). On the way
// the correlator of client-go's tools/record does what it does:
// - a spam filter per object and type: a burst of 25, then one every 5 minutes;
// - aggregation: from the 10th Event of the same reason about the same object
//   within 10 minutes, one Event "(combined from similar events): …" stands
//   for all of them;
// - an Event seen before (same object, reason, message) is counted: a PATCH of
//   count and lastTimestamp instead of a new object.
// Best effort: a change that was written is not undone because its Event
// could not be recorded.
import { LRUCache } from 'lru-cache';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { ApiError } from './errors.ts';
import type { ClientLogger } from './logger.ts';
import type { RestClient } from './rest-client.ts';

/** The object an Event is about (involvedObject). */
export interface EventSubject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; uid?: string; resourceVersion?: string };
}

export interface EventRecorder {
  /** Queues the Event; resolves at once (the sender writes it later). */
  record(obj: EventSubject, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

/** client-go's defaults (tools/record/events_cache.go and event.go). */
export const EVENT_DEFAULTS = {
  maxQueued: 1000,
  spamBurst: 25,
  /** One token every 5 minutes. */
  spamRefillMs: 300_000,
  aggregateMaxEvents: 10,
  aggregateIntervalMs: 600_000,
  lruEntries: 4096,
  /** How often a write that failed for want of a connection is tried in all. */
  maxTries: 12,
  retryMs: 10_000,
};

const MAX_MESSAGE = 1024;

interface EventBody {
  apiVersion: 'v1';
  kind: 'Event';
  metadata: { name: string; namespace: string };
  involvedObject: { apiVersion: string; kind: string; name: string; namespace: string; uid?: string; resourceVersion?: string };
  reason: string;
  message: string;
  type: string;
  source: { component: string; host: string };
  reportingComponent: string;
  reportingInstance: string;
  firstTimestamp: string;
  lastTimestamp: string;
  count: number;
}

interface Observed {
  name: string;
  count: number;
  firstTimestamp: string;
}

/** What the correlator made of an Event: drop it, create it, or count it on one written before. */
export type Correlated = { skip: true } | { skip: false; event: EventBody; patchOf?: Observed; key: string };

/**
 * client-go's EventCorrelator over plain objects; `now` is injected. Pure
 * but for its caches, so that the unit tests can walk it through time.
 */
class EventCorrelator {
  private readonly spam: LRUCache<string, { tokens: number; at: number }>;
  private readonly aggregates: LRUCache<string, { localKeys: Set<string>; last: number }>;
  private readonly seen: LRUCache<string, Observed>;
  private readonly o: typeof EVENT_DEFAULTS;

  constructor(opts: Partial<typeof EVENT_DEFAULTS> = {}) {
    this.o = { ...EVENT_DEFAULTS, ...opts };
    this.spam = new LRUCache({ max: this.o.lruEntries });
    this.aggregates = new LRUCache({ max: this.o.lruEntries });
    this.seen = new LRUCache({ max: this.o.lruEntries });
  }

  correlate(ev: EventBody, nowMs: number): Correlated {
    const obj = ev.involvedObject;
    const objectKey = [ev.source.component, ev.source.host, obj.kind, obj.namespace, obj.name, obj.uid ?? '', obj.apiVersion].join('\u0000');

    // Aggregation, before the spam filter (as client-go): a similar Event beyond the threshold becomes the aggregate.
    const aggregateKey = [objectKey, ev.type, ev.reason, ev.reportingComponent, ev.reportingInstance].join('\u0000');
    let agg = this.aggregates.get(aggregateKey);
    if (!agg || nowMs - agg.last > this.o.aggregateIntervalMs) agg = { localKeys: new Set(), last: nowMs };
    agg.localKeys.add(ev.message);
    agg.last = nowMs;
    this.aggregates.set(aggregateKey, agg);
    let event = ev;
    let key = [objectKey, ev.type, ev.reason, ev.message, ev.reportingComponent, ev.reportingInstance].join('\u0000');
    if (agg.localKeys.size >= this.o.aggregateMaxEvents) {
      // Keep the set from growing past the threshold.
      agg.localKeys.delete(agg.localKeys.values().next().value!);
      event = { ...ev, message: `(combined from similar events): ${ev.message}`.slice(0, MAX_MESSAGE) };
      key = aggregateKey;
    }

    // The spam filter: a token bucket per object and type.
    const spamKey = `${objectKey}\u0000${ev.type}`;
    const bucket = this.spam.get(spamKey) ?? { tokens: this.o.spamBurst, at: nowMs };
    bucket.tokens = Math.min(this.o.spamBurst, bucket.tokens + (nowMs - bucket.at) / this.o.spamRefillMs);
    bucket.at = nowMs;
    this.spam.set(spamKey, bucket);
    if (bucket.tokens < 1) return { skip: true };
    bucket.tokens -= 1;

    // Seen before: counted on the Event written then.
    const prev = this.seen.get(key);
    if (prev) {
      const counted = { ...prev, count: prev.count + 1 };
      this.seen.set(key, counted);
      return { skip: false, key, patchOf: counted, event: { ...event, metadata: { ...event.metadata, name: prev.name }, count: counted.count, firstTimestamp: prev.firstTimestamp } };
    }
    this.seen.set(key, { name: event.metadata.name, count: 1, firstTimestamp: event.firstTimestamp });
    return { skip: false, key, event };
  }

  /** A PATCH found its Event gone (deleted, or past the Event TTL): it is created anew under `name`, and counted from there. */
  recreated(key: string, name: string, firstTimestamp: string): void {
    this.seen.set(key, { name, count: 1, firstTimestamp });
  }
}

export interface ApiEventRecorderOptions {
  /** Events waiting to be written, at most; more are dropped. */
  maxQueued?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  correlator?: Partial<typeof EVENT_DEFAULTS>;
  /** Called when the queue is full and an Event is dropped. */
  onDrop?: () => void;
}

export class ApiEventRecorder implements EventRecorder {
  private readonly client: RestClient;
  private readonly log: ClientLogger;
  private readonly component: string;
  private readonly instance = hostname();
  private readonly queue: EventBody[] = [];
  private readonly correlator: EventCorrelator;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly opts: ApiEventRecorderOptions;
  private readonly maxQueued: number;
  private sending: Promise<void> | undefined;
  private dropped = 0;

  constructor(client: RestClient, log: ClientLogger, component: string, opts: ApiEventRecorderOptions = {}) {
    this.client = client;
    this.log = log;
    this.component = component;
    this.opts = opts;
    this.correlator = new EventCorrelator(opts.correlator);
    this.maxQueued = opts.maxQueued ?? EVENT_DEFAULTS.maxQueued;
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms).unref()));
  }

  record(obj: EventSubject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (this.queue.length >= this.maxQueued) {
      // As client-go's broadcaster (DropIfChannelFull): say so, sparingly.
      if (this.dropped++ % 100 === 0) this.log.warn('the Event queue is full; dropping Events', { dropped: this.dropped, object: `${obj.metadata.namespace}/${obj.metadata.name}`, reason });
      this.opts.onDrop?.();
      return;
    }
    const now = new Date(this.now()).toISOString();
    const ns = obj.metadata.namespace;
    this.queue.push({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: this.eventName(obj.metadata.name), namespace: ns },
      involvedObject: { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, namespace: ns, uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion },
      reason,
      message: message.slice(0, MAX_MESSAGE),
      type,
      source: { component: this.component, host: this.instance },
      reportingComponent: this.component,
      reportingInstance: this.instance,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    });
    this.sending ??= this.drain().finally(() => (this.sending = undefined));
  }

  /** A unique name, as client-go makes them: the object's name and the time in hex (with a little randomness for replicas). */
  private eventName(object: string): string {
    return `${object}.${(this.now() * 1e6).toString(16)}${randomBytes(2).toString('hex')}`;
  }

  /** Resolves once every queued Event is written (or given up on). */
  async flush(): Promise<void> {
    while (this.sending) await this.sending;
  }

  private async drain(): Promise<void> {
    for (let ev = this.queue.shift(); ev; ev = this.queue.shift()) {
      const c = this.correlator.correlate(ev, this.now());
      if (c.skip) continue;
      await this.write(c);
    }
  }

  private async write(c: Exclude<Correlated, { skip: true }>): Promise<void> {
    const ev = c.event;
    const ns = encodeURIComponent(ev.metadata.namespace);
    for (let attempt = 1; ; attempt++) {
      try {
        if (c.patchOf) {
          try {
            await this.client.json('PATCH', `/api/v1/namespaces/${ns}/events/${encodeURIComponent(ev.metadata.name)}`, {
              body: { count: ev.count, lastTimestamp: ev.lastTimestamp, message: ev.message },
              contentType: 'application/strategic-merge-patch+json',
              timeoutMs: 10_000,
            });
            return;
          } catch (err) {
            // Gone (deleted, or past the Event TTL): record it anew, as client-go does.
            if (!(err instanceof ApiError && err.code === 404)) throw err;
            const fresh: EventBody = { ...ev, count: 1, firstTimestamp: ev.lastTimestamp, metadata: { ...ev.metadata, name: this.eventName(ev.involvedObject.name) } };
            this.correlator.recreated(c.key, fresh.metadata.name, fresh.firstTimestamp);
            await this.client.json('POST', `/api/v1/namespaces/${ns}/events`, { body: fresh, timeoutMs: 10_000 });
            return;
          }
        }
        await this.client.json('POST', `/api/v1/namespaces/${ns}/events`, { body: ev, timeoutMs: 10_000 });
        return;
      } catch (err) {
        // Refused (the namespace is going, forbidden, invalid): not worth trying again.
        const retry = !(err instanceof ApiError) && attempt < EVENT_DEFAULTS.maxTries;
        if (!retry) {
          this.log.warn('could not record an Event', { object: `${ev.involvedObject.namespace}/${ev.involvedObject.name}`, reason: ev.reason, error: String(err instanceof Error ? err.message : err) });
          return;
        }
        await this.sleep(EVENT_DEFAULTS.retryMs * (0.5 + Math.random()));
      }
    }
  }
}
