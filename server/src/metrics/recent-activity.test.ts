import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { Histogram, Registry } from 'prom-client';
import type { RequestInfo } from '../request/request-info.ts';
import { MaxInFlight } from '../http/max-in-flight.ts';
import { bucketsOf, RecentActivity } from './recent-activity.ts';
import type { Bucket } from './quantile.ts';

const b = (pairs: [number, number][]): Bucket[] => pairs.map(([le, count]) => ({ le, count }));

function setup() {
  let clock = 0;
  let buckets = b([[0.1, 0], [1, 0], [Infinity, 0]]);
  const inFlight = new MaxInFlight({ nonMutating: 10, mutating: 5 });
  const a = new RecentActivity({ buckets: async () => buckets, inFlight, now: () => clock, windowMs: 300_000, stepMs: 30_000 });
  return {
    a,
    inFlight,
    at: (ms: number) => (clock = ms),
    set: (x: Bucket[]) => (buckets = x),
  };
}

const info = (verb: string) => ({ verb }) as RequestInfo;
const user = { name: 'u', groups: [] as string[], extra: {} };
/** A response whose close the test decides. */
function response() {
  const listeners: (() => void)[] = [];
  return { once: (_e: string, f: () => void) => listeners.push(f), close: () => listeners.forEach((f) => f()) } as unknown as ServerResponse & { close(): void };
}

describe('recent activity: latency and requests in flight over the last five minutes', () => {
  it('latency: quantiles of the requests since the oldest sample of the window, not since start', async () => {
    const s = setup();
    await s.a.sample();
    // 100 fast requests in the first minute…
    s.at(60_000);
    s.set(b([[0.1, 100], [1, 100], [Infinity, 100]]));
    await s.a.sample();
    expect((await s.a.summary()).latency).toEqual({ windowSeconds: 60, requests: 100, p50Seconds: 0.05, p99Seconds: 0.099 });
    // …then, six minutes later, 10 slow ones: the fast ones have left the window.
    for (let t = 90_000; t <= 420_000; t += 30_000) {
      s.at(t);
      await s.a.sample();
    }
    s.at(430_000);
    s.set(b([[0.1, 100], [1, 110], [Infinity, 110]]));
    const { latency } = await s.a.summary();
    expect(latency.windowSeconds).toBe(280);
    expect(latency.requests).toBe(10);
    expect(latency.p50Seconds).toBeCloseTo(0.55);
  });

  it('no request in the window: no quantiles', async () => {
    const s = setup();
    await s.a.sample();
    s.at(10_000);
    expect((await s.a.summary()).latency).toEqual({ windowSeconds: 10, requests: 0 });
  });

  it('in flight: now, the peak of the window, the limit, and the 429s of the window', async () => {
    const s = setup();
    await s.a.sample();
    const open = Array.from({ length: 7 }, () => response());
    for (const r of open) s.inFlight.admit(info('get'), user, r);
    for (const r of open.slice(0, 6)) r.close();
    const m = response();
    s.inFlight.admit(info('create'), user, m);
    s.at(30_000);
    await s.a.sample();
    const { inFlight } = await s.a.summary();
    expect(inFlight.nonMutating).toEqual({ current: 1, peak: 7, limit: 10, rejected: 0 });
    expect(inFlight.mutating).toEqual({ current: 1, peak: 1, limit: 5, rejected: 0 });
    // Over the limit: refused, and counted.
    const full = Array.from({ length: 9 }, () => response());
    for (const r of full) s.inFlight.admit(info('list'), user, r);
    expect(() => s.inFlight.admit(info('get'), user, response())).toThrow(/Too many requests/);
    const later = (await s.a.summary()).inFlight.nonMutating;
    expect(later).toEqual({ current: 10, peak: 10, limit: 10, rejected: 1 });
    // Six minutes on, the storm has left the window; what is still open counts.
    for (const r of full) r.close();
    for (let t = 60_000; t <= 420_000; t += 30_000) {
      s.at(t);
      await s.a.sample();
    }
    expect((await s.a.summary()).inFlight.nonMutating).toEqual({ current: 1, peak: 1, limit: 10, rejected: 0 });
  });

  it("reads prom-client's histogram: the _bucket values summed over every label set", async () => {
    const registry = new Registry();
    const h = new Histogram({ name: 'x_seconds', help: 'x', labelNames: ['verb'], buckets: [0.1, 1], registers: [registry] });
    h.observe({ verb: 'get' }, 0.05);
    h.observe({ verb: 'list' }, 0.5);
    h.observe({ verb: 'list' }, 5);
    expect(bucketsOf(await h.get())).toEqual(b([[0.1, 1], [1, 2], [Infinity, 3]]));
  });
});
