// The delivery controller's leadership changes (issue 22), with fakes of our
// own interfaces: a cache of objects, a REST client whose status writes wait
// until the test lets them go, and a sender that records what it is given.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { HistoryEntry, NotificationPolicy, StoredObject } from '../../../api/src/types.ts';
import type { RestClient } from '../../../client/src/rest-client.ts';
import { memoryLogger } from '../log/logger.ts';
import { newNotificationMetrics } from '../metrics/notification-metrics.ts';
import type { CacheEvent, Subscriber } from '../store/crd-watch-cache.ts';
import { NotificationPolicyStore } from '../store/notification-policy-cache.ts';
import type { CloudEvent } from './cloudevent.ts';
import { NotificationDelivery, type DeliveryDeps } from './delivery-controller.ts';

const T0 = new Date('2026-12-07T10:00:00Z');
const entry = (seq: number): HistoryEntry => ({ seq, action: 'promote', from: 'dev', to: 'prod', user: 'alice', time: new Date(T0.getTime() + seq * 1000).toISOString(), hash: `h${seq}` });
const object = (seqs: number): StoredObject => ({ apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { namespace: 'shop', name: 'cart', uid: 'u1' }, spec: { states: ['dev', 'prod'] }, status: { history: Array.from({ length: seqs }, (_, i) => entry(i + 1)) } } as StoredObject);
const policy: NotificationPolicy = { apiVersion: 'example.com/v1', kind: 'NotificationPolicy', metadata: { namespace: 'shop', name: 'p', generation: 1, creationTimestamp: T0.toISOString() }, spec: { sinks: [{ name: 'hook', webhook: { url: 'https://receiver.example', secretRef: { name: 's' } } }] } };

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Everything the controller talks to, faked; `holdStatus` makes status writes wait for `releaseStatus`. */
function fakes(opts: { hang?: boolean } = {}) {
  let obj = object(1);
  const signals: (AbortSignal | undefined)[] = [];
  const started = deferred();
  const subscribers = new Set<Subscriber>();
  const sent: string[] = [];
  const waiters: { id: string; resolve: () => void }[] = [];
  let hold: ReturnType<typeof deferred> | undefined;
  const policies = new NotificationPolicyStore();
  policies.replace([structuredClone(policy)], '1');
  const client = {
    // A status write, as kube-apiserver takes it: the watch brings it back to the store.
    json: async (method: string, _path: string, opts: { body: NotificationPolicy }) => {
      if (method !== 'PUT') throw new Error(`unexpected ${method}`);
      if (hold) await hold.promise;
      const written = structuredClone(opts.body);
      policies.apply('MODIFIED', written);
      return written;
    },
  } as unknown as RestClient;
  const deps: DeliveryDeps = {
    cache: {
      hasSynced: true,
      get: (ns, name) => (ns === obj.metadata.namespace && name === obj.metadata.name ? obj : undefined),
      list: () => [obj],
      subscribe: (sub) => {
        subscribers.add(sub);
        return () => subscribers.delete(sub);
      },
    },
    policies,
    sender: {
      send: (_ns: string, _sink: unknown, ev: CloudEvent, signal?: AbortSignal) => {
        signals.push(signal);
        started.resolve(undefined);
        // A receiver that never answers: only the signal ends the send.
        if (opts.hang) return new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(new Error('aborted'))));
        sent.push(ev.id);
        for (const w of waiters.splice(0)) if (sent.includes(w.id)) w.resolve();
        return Promise.resolve(200);
      },
    } as unknown as DeliveryDeps['sender'],
    client,
    log: memoryLogger(),
    clock: { now: () => T0 },
    metrics: newNotificationMetrics(new Registry()),
    approvalsInto: () => 0,
    archive: { entriesOf: () => Promise.resolve([]), deletedOn: () => Promise.resolve([]) },
    statusIntervalMs: 3_600_000,
  };
  return {
    deps,
    sent,
    signals,
    /** Resolves when the first send starts. */
    started: started.promise,
    holdStatus: () => (hold = deferred()),
    releaseStatus: () => hold?.resolve(undefined),
    /** The object gets entry `seq` (the watch cache's event goes to every subscriber). */
    change(seq: number) {
      const prev = obj;
      obj = object(seq);
      const ev: CacheEvent = { type: 'MODIFIED', object: obj, prev, rv: seq };
      for (const s of subscribers) s.onEvent(ev);
    },
    /** Resolves once event `id` was sent. */
    sentOnce(id: string) {
      const d = deferred();
      if (sent.includes(id)) d.resolve();
      else waiters.push({ id, resolve: d.resolve });
      return d.promise;
    },
  };
}

describe('NotificationDelivery leadership', () => {
  it('leadership lost and won again while the status is being written: the new term keeps its runs and delivers', async () => {
    const f = fakes();
    const delivery = new NotificationDelivery(f.deps);
    await delivery.activate();
    await f.sentOnce('h1');

    // Lost: the status write of the ending term hangs; won again before it finishes.
    f.holdStatus();
    const lost = delivery.deactivate();
    const won = delivery.activate();
    f.releaseStatus();
    await lost;
    await won;

    expect(delivery.isActive).toBe(true);
    expect(delivery.delivering).toEqual(['shop/p']);
    f.change(2);
    await f.sentOnce('h2');
    expect(f.sent).toEqual(['h1', 'h2']);
    await delivery.deactivate();
    expect(delivery.delivering).toEqual([]);
  });

  it('a second deactivation (shutdown while leadership is being lost) waits for the status of the first', async () => {
    const f = fakes();
    const delivery = new NotificationDelivery(f.deps);
    await delivery.activate();
    await f.sentOnce('h1');
    f.holdStatus();
    const first = delivery.deactivate();
    let secondDone = false;
    const second = delivery.deactivate().then(() => (secondDone = true));
    await Promise.resolve();
    expect(secondDone).toBe(false);
    f.releaseStatus();
    await Promise.all([first, second]);
    expect(delivery.delivering).toEqual([]);
  });

  it('leadership lost while a send hangs: the send is aborted (the next leader sends it), and the stop is not counted a failure', async () => {
    const f = fakes({ hang: true });
    const delivery = new NotificationDelivery(f.deps);
    await delivery.activate();
    await f.started;
    expect(f.signals[0]?.aborted).toBe(false);
    await delivery.deactivate();
    expect(f.signals[0]?.aborted).toBe(true);
    // The aborted send's loop ends without a retry or a warning.
    await new Promise((r) => setImmediate(r));
    expect((f.deps.log as ReturnType<typeof memoryLogger>).lines.filter((l) => l['level'] === 'warn')).toEqual([]);
  });
});
