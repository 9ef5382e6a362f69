// The benchmark's pure pieces: how it reads /proc and metrics, splits and
// interleaves its measurements, counts watch deliveries and writes its
// report. No timing is asserted here: figures belong to `npm run bench`.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { metric, parseRequestCounts, perChange, requestDiff } from './fixtures.ts';
import { statTicks } from './proc.ts';
import { machine, Report } from './report.ts';
import { deploymentMemoryLimitMiB } from './scenarios/memory.ts';
import { Deliveries } from './scenarios/watch.ts';
import { splitRounds } from './scenarios/writes.ts';
import { measureRounds, summarize } from './stats.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

describe('statTicks', () => {
  it('adds utime and stime, whatever the command name holds', () => {
    const stat = '4242 (node (a) b) S 1 4242 4242 0 -1 4194304 100 0 0 0 1234 567 0 0 20 0 11 0 999 1000000 5000 18446744073709551615';
    expect(statTicks(stat)).toBe(1234 + 567);
  });
});

describe('splitRounds', () => {
  it('splits the moves into slices that add up', () => {
    expect(splitRounds(30, 3)).toEqual([10, 10, 10]);
    expect(splitRounds(30, 4)).toEqual([7, 8, 7, 8]);
    expect(splitRounds(30, 4).reduce((a, b) => a + b)).toBe(30);
  });
});

describe('measureRounds', () => {
  it('runs every function once a round, rotating which goes first, and keeps what each measured', async () => {
    const calls: string[] = [];
    const f = (k: string, v: number) => async () => {
      calls.push(k);
      return v;
    };
    const r = await measureRounds(3, { a: f('a', 1), b: f('b', 2), c: f('c', 3) }, { warmup: 0 });
    expect(calls).toEqual(['a', 'b', 'c', 'b', 'c', 'a', 'c', 'a', 'b']);
    expect(r).toEqual({ a: [1, 1, 1], b: [2, 2, 2], c: [3, 3, 3] });
  });
});

describe('summarize', () => {
  it('takes percentiles by rank', () => {
    const s = summarize(Array.from({ length: 100 }, (_, i) => 100 - i));
    expect([s.p50, s.p99, s.min, s.max, s.n]).toEqual([50, 99, 1, 100, 100]);
  });
});

describe('kube-apiserver request counters', () => {
  const text = [
    '# HELP apiserver_request_total x',
    'apiserver_request_total{code="201",component="apiserver",dry_run="",group="",resource="events",scope="resource",subresource="",verb="POST",version="v1"} 12',
    'apiserver_request_total{code="409",component="apiserver",dry_run="",group="",resource="events",scope="resource",subresource="",verb="POST",version="v1"} 3',
    'apiserver_request_total{code="200",component="apiserver",dry_run="",group="example.com",resource="customresources",scope="resource",subresource="status",verb="PUT",version="v1"} 40',
    'apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="",scope="",subresource="/metrics",verb="GET",version=""} 7',
  ].join('\n');

  it('sums by verb and resource over codes, and leaves out non-resource requests', () => {
    expect([...parseRequestCounts(text)]).toEqual([['POST core/events', 15], ['PUT example.com/customresources/status', 40]]);
  });

  it('reports what changed, per change, largest first', () => {
    const before = parseRequestCounts(text);
    const after = new Map(before);
    after.set('POST core/events', 25);
    after.set('PUT example.com/customresources/status', 60);
    const d = requestDiff(before, after);
    expect(perChange(d, 20)).toBe('1.00 PUT example.com/customresources/status, 0.50 POST core/events');
  });

  it('reads a counter of the backend summed over its labels', () => {
    expect(metric('custom_events_dropped_total 4\ncustom_events_dropped_totalx 9\n', 'custom_events_dropped_total')).toBe(4);
    expect(metric('a{x="1"} 2\na{x="2"} 3\n', 'a')).toBe(5);
  });
});

describe('Deliveries', () => {
  it('counts each change once per watcher, from the newest history entry, with its latency', () => {
    const sent = Float64Array.from([100, 200]);
    const d = new Deliveries(2, 2, 'fan0a-', sent);
    const line = (i: number) => `{"type":"MODIFIED","object":{"status":{"history":[{"reason":"fan0a-${i - 1}"},{"reason":"fan0a-${i}"}],"nextGates":{"reason":"x"}}}}`;
    d.onLine(0, line(0), 110);
    d.onLine(0, line(0), 120);
    d.onLine(0, line(1), 230);
    d.onLine(1, '{"type":"ADDED","object":{"status":{"history":[{"reason":"fan0a-1"}]}}}', 300);
    d.onLine(1, line(1), 250);
    expect(d.duplicates).toBe(1);
    expect(d.complete).toBe(1);
    expect(d.allSeen).toBe(false);
    expect(Array.from(d.latencies.subarray(0, d.count))).toEqual([10, 30, 50]);
    d.onLine(1, line(0), 260);
    expect(d.allSeen).toBe(true);
  });
});

describe('loadConfig', () => {
  it('takes the real sizes by default and lists every override', () => {
    const d = loadConfig({});
    expect([d.writeClients, d.watchers, d.watchRate, d.watchSeconds, d.scale, d.overrides]).toEqual([32, 200, 50, 10, 1, []]);
    const o = loadConfig({ BENCH_WATCHERS: '20', BENCH_ONLY: 'writes,watch' });
    expect(o.watchers).toBe(20);
    expect([...o.only]).toEqual(['writes', 'watch']);
    expect(o.overrides.sort()).toEqual(['BENCH_ONLY=writes,watch', 'BENCH_WATCHERS=20']);
    expect(() => loadConfig({ BENCH_ONLY: 'nope' })).toThrow(/unknown scenario/);
    expect(() => loadConfig({ BENCH_WATCHERS: '-1' })).toThrow(/positive/);
  });
});

describe('deploymentMemoryLimitMiB', () => {
  it('reads the limit of manifests/base/deployment.yaml', () => {
    expect(deploymentMemoryLimitMiB(ROOT)).toBeGreaterThan(0);
  });
});

describe('Report', () => {
  it('writes every row with A, B, ratio and target, and a cause line for each target missed', () => {
    const r = new Report();
    const s = (p50: number) => ({ n: 1, p50, p90: p50, p99: p50 * 2, min: p50, max: p50 });
    r.add({ scenario: '3 Watch', measure: 'latency', a: { name: 'A', summary: s(30) }, b: { name: 'B', summary: s(10) }, target: '≤ 1.5×', pass: false, cause: 'two hops' });
    r.add({ scenario: '1 CLI', measure: 'start', a: { name: 'x', value: 2, unit: 'ms' }, b: { name: 'y', value: 4, unit: 'ms' } });
    const md = r.markdown({ ...machine('v1.37.2'), seconds: 1, loadAtEnd: [1, 1, 1] }, ['BENCH_SCALE=0.1'], 'bench/results/x.json');
    expect(md).toMatch(/\*\*Reduced run\*\* \(BENCH_SCALE=0\.1\)/);
    expect(md.indexOf('| 1 CLI')).toBeLessThan(md.indexOf('| 3 Watch'));
    expect(md).toContain('| 3 Watch | latency | A: **p50 30.0 ms** (p99 60.0 ms, n=1) | B: **p50 10.0 ms** (p99 20.0 ms, n=1) | 3.00× | ≤ 1.5× | **missed** |');
    expect(md).toContain('| 1 CLI | start | x: **2.00 ms** | y: **4.00 ms** | 0.50× | – | info |');
    expect(md).toContain('- **3 Watch, latency** (3.00×, target ≤ 1.5×): two hops');
  });
});
