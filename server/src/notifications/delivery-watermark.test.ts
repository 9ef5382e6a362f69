// The delivery controller's watermark (issue 22): cursors are bounded
// without sending anything twice, and the lives that ended while no replica
// delivered are found in the archive. Fakes of our own interfaces: a cache of
// many objects, a REST client whose status writes come back to the policy
// store (as the watch brings them), an archive, a clock the test moves, and a
// sender that records what it is given.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { HistoryEntry, NotificationPolicy, StateHistorySegment, StoredObject } from '../../../api/src/types.ts';
import type { RestClient } from '../../../client/src/rest-client.ts';
import { memoryLogger } from '../log/logger.ts';
import { newNotificationMetrics } from '../metrics/notification-metrics.ts';
import type { CacheEvent, Subscriber } from '../store/crd-watch-cache.ts';
import { NotificationPolicyStore } from '../store/notification-policy-cache.ts';
import type { CloudEvent } from './cloudevent.ts';
import { MAX_CURSORS, NotificationDelivery, type DeliveryDeps } from './delivery-controller.ts';

const T0 = Date.parse('2026-12-07T10:00:00Z');
const at = (ms: number) => new Date(ms).toISOString();
const entry = (uid: string, seq: number, time: number, action: HistoryEntry['action'] = 'promote'): HistoryEntry => ({ seq, action, from: 'dev', ...(action === 'deleted' ? {} : { to: 'prod' }), user: 'alice', time: at(time), hash: `${uid}-h${seq}` });
const object = (name: string, history: HistoryEntry[]): StoredObject =>
  ({ apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { namespace: 'shop', name, uid: `u-${name}`, labels: { team: 'pay' } }, spec: { name, states: ['dev', 'prod'] }, status: { history } }) as StoredObject;
const POLICY: NotificationPolicy = { apiVersion: 'example.com/v1', kind: 'NotificationPolicy', metadata: { namespace: 'shop', name: 'p', generation: 1, creationTimestamp: at(T0) }, spec: { selector: { matchLabels: { team: 'pay' } }, sinks: [{ name: 'hook', webhook: { url: 'https://receiver.example', secretRef: { name: 's' } } }] } };

/** A cluster of objects and an archive, shared by the backends (NotificationDelivery instances) a test starts one after another. */
function world() {
  const objects = new Map<string, StoredObject>();
  const archive: StateHistorySegment[] = [];
  const policies = new NotificationPolicyStore();
  policies.replace([structuredClone(POLICY)], '1');
  const sent: CloudEvent[] = [];
  const subscribers = new Set<Subscriber>();
  const listeners = { ready: new Set<() => void>(), unready: new Set<() => void>() };
  let ready = true;
  let failing = false;
  let now = T0;
  const client = {
    json: async (method: string, _path: string, opts: { body: NotificationPolicy }) => {
      if (method !== 'PUT') throw new Error(`unexpected ${method}`);
      const written = structuredClone(opts.body);
      policies.apply('MODIFIED', written);
      return written;
    },
  } as unknown as RestClient;
  const deps = (): DeliveryDeps => ({
    cache: {
      hasSynced: true,
      get ready() {
        return ready;
      },
      on: (ev: 'ready' | 'unready', fn: () => void) => listeners[ev].add(fn),
      off: (ev: 'ready' | 'unready', fn: () => void) => listeners[ev].delete(fn),
      get: (_ns, name) => objects.get(name),
      list: () => [...objects.values()],
      subscribe: (sub) => {
        subscribers.add(sub);
        return () => subscribers.delete(sub);
      },
    },
    policies,
    sender: {
      send: (_ns: string, _sink: unknown, ev: CloudEvent) => {
        if (failing) return Promise.reject(new Error('the receiver answered 503'));
        sent.push(ev);
        return Promise.resolve(200);
      },
    } as unknown as DeliveryDeps['sender'],
    client,
    log: memoryLogger(),
    clock: { now: () => new Date(now) },
    metrics: newNotificationMetrics(new Registry()),
    approvalsInto: () => 0,
    archive: {
      entriesOf: (uid) => Promise.resolve(archive.filter((s) => s.spec.object.uid === uid).flatMap((s) => s.spec.entries)),
      deletedOn: (days) => Promise.resolve(archive.filter((s) => s.spec.entries.some((e) => e.action === 'deleted' && (!days || days.includes(e.time.slice(0, 10)))))),
    },
    statusIntervalMs: 3_600_000,
    settleMs: 60_000,
    baseBackoffMs: 1,
    maxBackoffMs: 1,
  });
  return {
    objects,
    archive,
    policies,
    sent,
    deps,
    set failing(f: boolean) {
      failing = f;
    },
    /** The cache's watch goes down (or comes back: its re-list's events come first, then 'ready'). */
    watchDown() {
      ready = false;
      for (const fn of listeners.unready) fn();
    },
    watchBack(events: CacheEvent[]) {
      for (const ev of events) for (const sub of subscribers) sub.onEvent(ev);
      ready = true;
      for (const fn of listeners.ready) fn();
    },
    set now(ms: number) {
      now = ms;
    },
    get now() {
      return now;
    },
    /** The object changes (the watch cache's event goes to the running backend). */
    change(obj: StoredObject, type: CacheEvent['type'] = 'MODIFIED') {
      const prev = objects.get(obj.metadata.name);
      if (type === 'DELETED') objects.delete(obj.metadata.name);
      else objects.set(obj.metadata.name, obj);
      for (const s of subscribers) s.onEvent({ type, object: obj, ...(prev ? { prev } : {}), rv: 0 } as CacheEvent);
    },
    /** The history finalizer on some replica: the window and a `deleted` entry go to the archive, labelled with the day, with the labels. */
    deleteWhileAway(name: string, when: number, obj = objects.get(name)!) {
      const window = obj.status?.history ?? [];
      const uid = obj.metadata.uid!;
      archive.push({ apiVersion: 'example.com/v1', kind: 'StateHistory', metadata: { name: `${uid}.1`, namespace: 'custom-system' }, spec: { object: { namespace: 'shop', name, uid, labels: obj.metadata.labels!, states: ['dev', 'prod'] }, entries: [...window, entry(uid, window.length + 1, when, 'deleted')] } });
      objects.delete(name);
    },
    sinkStatus: () => policies.get('shop/p')?.status?.sinks?.[0],
  };
}

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !ok(); i++) await new Promise((r) => setImmediate(r));
  if (!ok()) throw new Error(`never: ${what}`);
}

describe('NotificationDelivery watermark', () => {
  it('more objects than status keeps cursors for: after a restart nothing is sent twice', async () => {
    const w = world();
    const n = MAX_CURSORS + 20;
    for (let i = 0; i < n; i++) w.objects.set(`o${i}`, object(`o${i}`, [entry(`u-o${i}`, 1, T0 + 1_000)]));
    w.now = T0 + 10 * 60_000;
    const first = new NotificationDelivery(w.deps());
    await first.activate();
    await until('every object sent', () => w.sent.length === n && first.idle);
    await first.flush();
    const st = w.sinkStatus()!;
    expect(st.objects).toHaveLength(MAX_CURSORS);
    // The watermark is past every entry sent: the objects whose cursor went were handled before it.
    expect(Date.parse(st.settledBefore!)).toBe(w.now - 60_000);
    await first.deactivate();

    const second = new NotificationDelivery(w.deps());
    await second.activate();
    await until('the restarted backend looked at every object', () => second.idle);
    await second.flush();
    expect(w.sent).toHaveLength(n);
    expect(new Set(w.sent.map((e) => e.id)).size).toBe(n);
    await second.deactivate();
  });

  it('a change keeps the watermark below its entry until it is sent, so a cursor is never dropped ahead of it', async () => {
    const w = world();
    w.objects.set('a', object('a', [entry('u-a', 1, T0 + 1_000)]));
    w.now = T0 + 10 * 60_000;
    const d = new NotificationDelivery({ ...w.deps(), sender: { send: () => new Promise(() => undefined) } as unknown as DeliveryDeps['sender'] });
    await d.activate();
    // The send of a hangs: the watermark may not pass its entry.
    await d.flush();
    expect(Date.parse(w.sinkStatus()!.settledBefore!)).toBeLessThanOrEqual(T0);
    await d.deactivate();
  });

  it('an object changed and deleted while no replica delivered: its events, deleted last, are sent when one starts', async () => {
    const w = world();
    w.objects.set('kept', object('kept', [entry('u-kept', 1, T0 + 1_000)]));
    const first = new NotificationDelivery(w.deps());
    w.now = T0 + 2_000;
    await first.activate();
    await until('kept was sent', () => w.sent.length === 1 && first.idle);
    w.now = T0 + 5 * 60_000;
    await first.flush();
    await first.deactivate();

    // No replica delivers: bin is made, promoted and deleted meanwhile.
    w.objects.set('bin', object('bin', [entry('u-bin', 1, T0 + 6 * 60_000)]));
    w.deleteWhileAway('bin', T0 + 7 * 60_000);
    w.now = T0 + 8 * 60_000;

    const second = new NotificationDelivery(w.deps());
    await second.activate();
    await until('bin was sent', () => w.sent.length === 3 && second.idle);
    expect(w.sent.map((e) => [e.subject, e.type])).toEqual([
      ['shop/kept', 'com.example.custom.promoted'],
      ['shop/bin', 'com.example.custom.promoted'],
      ['shop/bin', 'com.example.custom.deleted'],
    ]);
    await second.flush();
    // Its cursor stays until the watermark passes its deletion, so a restart meanwhile does not send it again…
    expect(w.sinkStatus()!.objects!.map((c) => c.uid)).toContain('u-bin');
    await second.deactivate();
    const third = new NotificationDelivery(w.deps());
    await third.activate();
    await until('the third backend is idle', () => third.idle);
    expect(w.sent).toHaveLength(3);
    // …and then it goes, the status bounded.
    w.now = T0 + 20 * 60_000;
    await third.flush();
    expect(w.sinkStatus()!.objects!.map((c) => c.uid)).toEqual(['u-kept']);
    await third.deactivate();
  });

  it('an object being deleted holds the watermark at its deletion until its deleted entry arrives', async () => {
    const w = world();
    const obj = object('going', [entry('u-going', 1, T0 + 1_000)]);
    w.objects.set('going', obj);
    w.now = T0 + 2_000;
    const d = new NotificationDelivery(w.deps());
    await d.activate();
    await until('going was sent', () => w.sent.length === 1 && d.idle);
    const deletion = T0 + 3_000;
    w.change({ ...obj, metadata: { ...obj.metadata, deletionTimestamp: at(deletion) } });
    w.now = T0 + 30 * 60_000;
    await d.flush();
    expect(Date.parse(w.sinkStatus()!.settledBefore!)).toBeLessThanOrEqual(deletion);
    await d.deactivate();
  });

  it("the leader's watch down: the watermark waits at the gap's start, and what changed meanwhile is sent when it is back", async () => {
    const w = world();
    w.objects.set('quiet', object('quiet', []));
    w.now = T0 + 60_000;
    const d = new NotificationDelivery(w.deps());
    await d.activate();
    await until('idle', () => d.idle);
    const gap = T0 + 2 * 60_000;
    w.now = gap;
    w.watchDown();
    // Meanwhile (the cache hears nothing): quiet, which had no entry, is promoted and deleted; bin is made, promoted and deleted.
    const quietOld = w.objects.get('quiet')!;
    w.deleteWhileAway('quiet', gap + 2 * 60_000, object('quiet', [entry('u-quiet', 1, gap + 60_000)]));
    w.deleteWhileAway('bin', gap + 4 * 60_000, object('bin', [entry('u-bin', 1, gap + 3 * 60_000)]));
    w.now = gap + 10 * 60_000;
    await d.flush();
    expect(Date.parse(w.sinkStatus()!.settledBefore!)).toBeLessThanOrEqual(gap - 60_000);
    expect(w.sent).toEqual([]);
    // Back: the re-list saw quiet go (its old copy: no entry, no deletionTimestamp); bin it never saw.
    w.watchBack([{ type: 'DELETED', object: quietOld, rv: 9 } as CacheEvent]);
    await until('both sent', () => w.sent.length === 4 && d.idle);
    expect(w.sent.map((e) => [e.subject, e.type.replace('com.example.custom.', '')]).sort()).toEqual([
      ['shop/bin', 'deleted'], ['shop/bin', 'promoted'], ['shop/quiet', 'deleted'], ['shop/quiet', 'promoted'],
    ]);
    await d.deactivate();
  });

  it('a policy edited to select otherwise while a send is failing: the watermark moves on', async () => {
    const w = world();
    w.objects.set('a', object('a', [entry('u-a', 1, T0 + 1_000)]));
    w.now = T0 + 2_000;
    w.failing = true;
    const d = new NotificationDelivery(w.deps());
    await d.activate();
    // A few attempts fail.
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    expect(d.idle).toBe(false);
    // The sink is fixed by editing the policy, which now selects another team.
    w.failing = false;
    const edited = structuredClone(w.policies.get('shop/p')!);
    edited.metadata.generation = 2;
    edited.spec.selector = { matchLabels: { team: 'ops' } };
    w.policies.apply('MODIFIED', edited);
    await until('idle', () => d.idle);
    w.now = T0 + 20 * 60_000;
    await d.flush();
    expect(Date.parse(w.sinkStatus()!.settledBefore!)).toBe(w.now - 60_000);
    expect(w.sent).toEqual([]);
    await d.deactivate();
  });

  it('an object relabelled into a policy: what it did before is not sent, what it does after is, and a restart sends nothing again', async () => {
    const w = world();
    const ops = (history: HistoryEntry[]) => ({ ...object('x', history), metadata: { ...object('x', history).metadata, labels: { team: 'ops' } } }) as StoredObject;
    w.objects.set('x', ops([entry('u-x', 1, T0 + 1_000), entry('u-x', 2, T0 + 2_000)]));
    w.now = T0 + 3_000;
    const first = new NotificationDelivery(w.deps());
    await first.activate();
    await until('idle', () => first.idle);
    // Relabelled into team pay, then moved.
    w.change(object('x', [entry('u-x', 1, T0 + 1_000), entry('u-x', 2, T0 + 2_000)]));
    w.change(object('x', [entry('u-x', 1, T0 + 1_000), entry('u-x', 2, T0 + 2_000), entry('u-x', 3, T0 + 4_000)]));
    await until('seq 3 sent', () => w.sent.length > 0 && first.idle);
    expect(w.sent.map((e) => e.id)).toEqual(['u-x-h3']);
    await first.flush();
    await first.deactivate();
    const second = new NotificationDelivery(w.deps());
    await second.activate();
    await until('idle', () => second.idle);
    expect(w.sent.map((e) => e.id)).toEqual(['u-x-h3']);
    await second.deactivate();
  });

  it('two policies taken up at once search the archive for ended lives with one read', async () => {
    const w = world();
    const second = structuredClone(POLICY);
    second.metadata.name = 'q';
    w.policies.apply('ADDED', second);
    const deps = w.deps();
    let reads = 0;
    const deletedOn = deps.archive.deletedOn.bind(deps.archive);
    deps.archive = { ...deps.archive, deletedOn: (days) => (reads++, deletedOn(days)) };
    const d = new NotificationDelivery(deps);
    await d.activate();
    expect(d.delivering.sort()).toEqual(['shop/p', 'shop/q']);
    expect(reads).toBe(1);
    await d.deactivate();
  });
});
