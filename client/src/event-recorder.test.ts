import { describe, expect, it } from 'vitest';
import { ApiError, ConnectionError } from './errors.ts';
import { ApiEventRecorder, EVENT_DEFAULTS, type EventSubject } from './event-recorder.ts';
import type { ClientLogger } from './logger.ts';
import type { RequestOpts, RestClient } from './rest-client.ts';

interface Call {
  method: string;
  path: string;
  body: Record<string, unknown>;
  contentType?: string;
}

/** Our RestClient, faked: records what the recorder sends; `answer` may throw. */
class FakeClient implements RestClient {
  readonly config = {} as RestClient['config'];
  readonly calls: Call[] = [];
  inFlight = 0;
  maxInFlight = 0;
  answer: (c: Call) => unknown = () => ({});
  release: (() => void)[] = [];
  hold = false;
  send(): never {
    throw new Error('not used');
  }
  stream(): never {
    throw new Error('not used');
  }
  close(): void {}
  async json<T>(method: string, path: string, opts: RequestOpts = {}): Promise<T> {
    const call = { method, path, body: opts.body as Record<string, unknown>, ...(opts.contentType ? { contentType: opts.contentType } : {}) };
    this.calls.push(call);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.hold) await new Promise<void>((r) => this.release.push(r));
      return this.answer(call) as T;
    } finally {
      this.inFlight--;
    }
  }
}

const logs: string[] = [];
const log: ClientLogger = { warn: (msg) => void logs.push(msg), info: () => {} };
const obj = (name = 'checkout'): EventSubject => ({ apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name, namespace: 'shop', uid: `uid-${name}` } });

function recorder(client: FakeClient, clock = { t: Date.parse('2026-01-01T00:00:00Z') }, opts: { maxQueued?: number } = {}) {
  return { r: new ApiEventRecorder(client, log, 'kubectl-custom-backend', { now: () => clock.t, sleep: async () => {}, ...opts }), clock };
}

describe('ApiEventRecorder', () => {
  it('records without waiting, and writes one Event at a time', async () => {
    const c = new FakeClient();
    c.hold = true;
    const { r } = recorder(c);
    for (let i = 0; i < 5; i++) r.record(obj(`o${i}`), 'Normal', 'Promoted', `promoted ${i}`);
    await Promise.resolve();
    expect(c.calls).toHaveLength(1);
    while (c.calls.length < 5 || c.release.length) {
      c.release.shift()?.();
      await new Promise((res) => setImmediate(res));
    }
    await r.flush();
    expect(c.maxInFlight).toBe(1);
    expect(c.calls.map((x) => [x.method, x.path, x.body['message']])).toEqual(Array.from({ length: 5 }, (_, i) => ['POST', '/api/v1/namespaces/shop/events', `promoted ${i}`]));
    expect(c.calls[0]!.body).toMatchObject({ involvedObject: { kind: 'CustomResource', name: 'o0', namespace: 'shop', uid: 'uid-o0' }, type: 'Normal', reason: 'Promoted', count: 1, source: { component: 'kubectl-custom-backend' } });
  });

  it('drops Events when the queue is full, and says so', async () => {
    const c = new FakeClient();
    c.hold = true;
    const dropped: number[] = [];
    const r = new ApiEventRecorder(c, log, 'x', { maxQueued: 3, onDrop: () => dropped.push(1), sleep: async () => {} });
    for (let i = 0; i < 6; i++) r.record(obj(`o${i}`), 'Normal', 'Promoted', `m${i}`);
    // One is being written (taken off the queue), three wait: two are dropped.
    await Promise.resolve();
    expect(dropped).toHaveLength(2);
    expect(logs.at(-1)).toBe('the Event queue is full; dropping Events');
    c.hold = false;
    for (const f of c.release.splice(0)) f();
    await r.flush();
    expect(c.calls).toHaveLength(4);
  });

  it('the same Event again is counted on the first: a PATCH of count and lastTimestamp', async () => {
    const c = new FakeClient();
    const { r, clock } = recorder(c);
    r.record(obj(), 'Warning', 'Override', 'alice overrode soak');
    await r.flush();
    clock.t += 60_000;
    r.record(obj(), 'Warning', 'Override', 'alice overrode soak');
    r.record(obj(), 'Warning', 'Override', 'alice overrode soak');
    await r.flush();
    const name = c.calls[0]!.body['metadata'] as { name: string };
    expect(c.calls.map((x) => x.method)).toEqual(['POST', 'PATCH', 'PATCH']);
    expect(c.calls[1]!.path).toBe(`/api/v1/namespaces/shop/events/${name.name}`);
    expect(c.calls[1]!.contentType).toBe('application/strategic-merge-patch+json');
    expect(c.calls.slice(1).map((x) => x.body)).toEqual([
      { count: 2, lastTimestamp: '2026-01-01T00:01:00.000Z', message: 'alice overrode soak' },
      { count: 3, lastTimestamp: '2026-01-01T00:01:00.000Z', message: 'alice overrode soak' },
    ]);
  });

  it('a counted Event that is gone (past the Event TTL) is created anew, and counted from there', async () => {
    const c = new FakeClient();
    const { r } = recorder(c);
    r.record(obj(), 'Normal', 'Approved', 'bob approved');
    await r.flush();
    c.answer = (call) => {
      if (call.method === 'PATCH') throw new ApiError(404, { reason: 'NotFound', message: 'events "x" not found' }, '', call.path);
      return {};
    };
    r.record(obj(), 'Normal', 'Approved', 'bob approved');
    await r.flush();
    c.answer = () => ({});
    r.record(obj(), 'Normal', 'Approved', 'bob approved');
    await r.flush();
    expect(c.calls.map((x) => x.method)).toEqual(['POST', 'PATCH', 'POST', 'PATCH']);
    const fresh = (c.calls[2]!.body['metadata'] as { name: string }).name;
    expect(fresh).not.toBe((c.calls[0]!.body['metadata'] as { name: string }).name);
    expect(c.calls[3]!.path.endsWith(`/events/${fresh}`)).toBe(true);
    expect(c.calls[3]!.body['count']).toBe(2);
  });

  it('from the 10th Event of one reason about one object in 10 minutes, one aggregate Event stands for them', async () => {
    const c = new FakeClient();
    const { r, clock } = recorder(c);
    for (let i = 1; i <= 14; i++) {
      r.record(obj(), 'Normal', 'Promoted', `promoted to s${i}`);
      clock.t += 1000;
    }
    // Another object and another reason are not aggregated with them.
    r.record(obj('other'), 'Normal', 'Promoted', 'promoted to s1');
    r.record(obj(), 'Normal', 'Approved', 'bob approved');
    await r.flush();
    expect(c.calls.map((x) => `${x.method} ${String(x.body['message'] ?? '')}`)).toEqual([
      ...Array.from({ length: 9 }, (_, i) => `POST promoted to s${i + 1}`),
      'POST (combined from similar events): promoted to s10',
      ...[11, 12, 13, 14].map((i) => `PATCH (combined from similar events): promoted to s${i}`),
      'POST promoted to s1',
      'POST bob approved',
    ]);
    // After 10 quiet minutes, Events are single again.
    clock.t += EVENT_DEFAULTS.aggregateIntervalMs + 1;
    r.record(obj(), 'Normal', 'Promoted', 'promoted to s15');
    await r.flush();
    expect(c.calls.at(-1)!.body['message']).toBe('promoted to s15');
  });

  it('a burst of 25 Events per object and type, then one every 5 minutes (the spam filter)', async () => {
    const c = new FakeClient();
    const { r, clock } = recorder(c);
    // Same message each time: counted (PATCH) but still each a token.
    for (let i = 0; i < 30; i++) r.record(obj(), 'Normal', 'Promoted', 'again');
    r.record(obj(), 'Warning', 'Override', 'a Warning has its own bucket');
    await r.flush();
    expect(c.calls.filter((x) => x.body['type'] === 'Normal' || x.method === 'PATCH')).toHaveLength(25);
    expect(c.calls.at(-1)!.body['type']).toBe('Warning');
    clock.t += EVENT_DEFAULTS.spamRefillMs;
    r.record(obj(), 'Normal', 'Promoted', 'again');
    r.record(obj(), 'Normal', 'Promoted', 'again');
    await r.flush();
    expect(c.calls).toHaveLength(27);
  });

  it('a refused Event is logged and not tried again; a connection failure is tried again', async () => {
    const c = new FakeClient();
    const { r } = recorder(c);
    let fails = 2;
    c.answer = (call) => {
      if (call.body['reason'] === 'Refused') throw new ApiError(403, { reason: 'Forbidden', message: 'forbidden' }, '', call.path);
      if (fails-- > 0) throw new ConnectionError('https://127.0.0.1:6443', 'connection refused', 'ECONNREFUSED');
      return {};
    };
    r.record(obj(), 'Normal', 'Promoted', 'needs three tries');
    r.record(obj('x'), 'Normal', 'Refused', 'no');
    await r.flush();
    expect(c.calls.map((x) => x.body['reason'])).toEqual(['Promoted', 'Promoted', 'Promoted', 'Refused']);
    expect(logs.at(-1)).toBe('could not record an Event');
  });
});
