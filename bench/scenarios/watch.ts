// 3. Watch fan-out: N watchers on the aggregated API against N watchers on
// the CRD itself, in alternating phases on the same objects with the same
// changes (made through the aggregated API with set-state at a fixed rate).
// Latency is from the start of the write to the receipt of its event; every
// watcher must see every change once.
import type { Ctx } from '../context.ts';
import { createObjects, CUSTOM, getJson, STORAGE, waitCache } from '../fixtures.ts';
import { pool, type BenchClient } from '../http-client.ts';
import { cpuDiff, cpuSnapshot } from '../proc.ts';
import { log, ms } from '../report.ts';
import { summarize, type Summary } from '../stats.ts';

type SideName = 'aggregated' | 'crd';

/** Delivery of one phase's changes to a set of watchers. */
export class Deliveries {
  readonly seen: Uint8Array[];
  readonly latencies: Float64Array;
  count = 0;
  duplicates = 0;
  private readonly marker: string;
  private readonly changes: number;
  private readonly sent: Float64Array;
  constructor(watchers: number, changes: number, prefix: string, sent: Float64Array) {
    this.changes = changes;
    this.sent = sent;
    this.seen = Array.from({ length: watchers }, () => new Uint8Array(changes));
    this.latencies = new Float64Array(watchers * changes);
    this.marker = `"reason":"${prefix}`;
  }

  /**
   * A watch line: the change is the reason of the newest history entry (the
   * last one in the object), found without parsing the whole object, so the
   * load generator stays light with thousands of events a second.
   */
  onLine(w: number, line: string, at: number): void {
    if (!line.startsWith('{"type":"MODIFIED"')) return;
    const k = line.lastIndexOf(this.marker);
    if (k < 0) return;
    const start = k + this.marker.length;
    const i = Number(line.slice(start, line.indexOf('"', start)));
    if (!(i >= 0 && i < this.changes)) return;
    const seen = this.seen[w]!;
    if (seen[i]) {
      this.duplicates++;
      return;
    }
    seen[i] = 1;
    this.latencies[this.count++] = at - this.sent[i]!;
  }

  get complete(): number {
    return this.seen.filter((s) => s.every((x) => x === 1)).length;
  }

  get allSeen(): boolean {
    return this.count === this.seen.length * this.changes;
  }
}

async function openWatchers(c: BenchClient, path: string, n: number, d: Deliveries, offset = 0): Promise<(() => void)[]> {
  return pool(50, Array.from({ length: n }, (_, w) => () => c.watch(path, (line, at) => d.onLine(offset + w, line, at))));
}

export async function scenarioWatch(ctx: Ctx): Promise<void> {
  const { c, backend, cfg, report, pids } = ctx;
  const ns = 'bench-watch';
  const { watchers, watchRate: rate, watchSeconds: seconds } = cfg;
  const changes = Math.round(rate * seconds);
  // Enough objects that each one's changes can be chained (the next waits for the previous answer) at this rate.
  const objects = Math.max(30, Math.ceil(rate * 0.6));
  await createObjects(c, ns, objects, { states: ['a', 'b'] });
  await waitCache(c, ns, objects);
  const state = new Map<string, string>();
  const lat: Record<SideName, number[][]> = { aggregated: [], crd: [] };
  const probe: Record<SideName, number[][]> = { aggregated: [], crd: [] };
  const writes: Record<SideName, number[]> = { aggregated: [], crd: [] };
  type Cpu = ReturnType<typeof cpuSnapshot<keyof typeof pids>>;
  const zero = (): Cpu => ({ backend: 0, kubeApiserver: 0, etcd: 0, bench: 0 });
  const done: Record<SideName, { complete: number; total: number; duplicates: number; achieved: number[]; cpu: Cpu; ms: number; changes: number }> = {
    aggregated: { complete: 0, total: 0, duplicates: 0, achieved: [], cpu: zero(), ms: 0, changes: 0 },
    crd: { complete: 0, total: 0, duplicates: 0, achieved: [], cpu: zero(), ms: 0, changes: 0 },
  };

  const phase = async (side: SideName, tag: string) => {
    const base = side === 'aggregated' ? CUSTOM : STORAGE;
    const prefix = `${tag}-`;
    const sent = new Float64Array(changes).fill(NaN);
    const d = new Deliveries(watchers, changes, prefix, sent);
    const p = new Deliveries(1, changes, prefix, sent);
    // Each side's watchers start from its own list's resourceVersion, as kubectl get -w does.
    const rv = (await getJson<{ metadata: { resourceVersion: string } }>(c, `${base}/namespaces/${ns}/customresources?limit=1`)).metadata.resourceVersion;
    const closers = await openWatchers(c, `${base}/namespaces/${ns}/customresources?watch=1&resourceVersion=${rv}`, watchers, d);
    // One more watcher straight on the backend, in both phases alike: the backend's own delivery, without kube-apiserver's proxy.
    const backendRv = (await getJson<{ metadata: { resourceVersion: string } }>(backend, `${CUSTOM}/namespaces/${ns}/customresources?limit=1`)).metadata.resourceVersion;
    closers.push(...(await openWatchers(backend, `${CUSTOM}/namespaces/${ns}/customresources?watch=1&resourceVersion=${backendRv}`, 1, p)));
    await new Promise((r) => setTimeout(r, 500));
    // Changes of one object are chained; objects change side by side, one started every 1/rate s.
    const chains = new Map<string, Promise<void>>();
    const cpu0 = cpuSnapshot(pids);
    const start = performance.now();
    for (let i = 0; i < changes; i++) {
      const wait = start + (i * 1000) / rate - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const name = `obj-${i % objects}`;
      const from = state.get(name) ?? 'a';
      const to = from === 'a' ? 'b' : 'a';
      state.set(name, to);
      chains.set(name, (chains.get(name) ?? Promise.resolve()).then(async () => {
        const t = performance.now();
        sent[i] = t;
        const r = await c.call('PUT', `${CUSTOM}/namespaces/${ns}/customresources/${name}/state`, { state: to, from, reason: `${prefix}${i}` });
        if (r.status !== 200) throw new Error(`set-state ${name}: ${r.status} ${r.text.slice(0, 200)}`);
        writes[side].push(performance.now() - t);
      }));
    }
    await Promise.all(chains.values());
    const achieved = (changes * 1000) / (performance.now() - start);
    const deadline = performance.now() + 15_000;
    while (performance.now() < deadline && !(d.allSeen && p.allSeen)) await new Promise((r) => setTimeout(r, 100));
    const cpu = cpuDiff(cpu0, cpuSnapshot(pids));
    const phaseMs = performance.now() - start;
    for (const close of closers) close();
    lat[side].push(Array.from(d.latencies.subarray(0, d.count)));
    probe[side].push(Array.from(p.latencies.subarray(0, p.count)));
    const t = done[side];
    t.complete += d.complete;
    t.total += watchers;
    t.duplicates += d.duplicates + p.duplicates;
    t.achieved.push(achieved);
    for (const k of Object.keys(t.cpu) as (keyof Cpu)[]) t.cpu[k] += cpu[k];
    t.ms += phaseMs;
    t.changes += changes;
    const s = summarize(d.latencies.subarray(0, d.count));
    log(`watch: ${side} phase ${tag}: p50 ${ms(s.p50)} ms, p99 ${ms(s.p99)} ms, ${d.complete}/${watchers} watchers complete, ${achieved.toFixed(0)} changes/s`);
    await new Promise((r) => setTimeout(r, 1000));
  };

  for (let i = 0; i < cfg.watchPhases; i++) {
    await phase('aggregated', `fan${i}a`);
    await phase('crd', `fan${i}c`);
  }

  const sum = (side: SideName, from: Record<SideName, number[][]>): Summary => summarize(from[side].flat());
  const A = sum('aggregated', lat);
  const B = sum('crd', lat);
  const probeA = sum('aggregated', probe);
  const scenario = '3 Watch';
  const measure = `${watchers} watchers, ${rate} changes/s for ${seconds} s per phase, ${cfg.watchPhases} phase${cfg.watchPhases === 1 ? "" : "s"} a side: delivery latency`;
  const cause = (stat: 'p50' | 'p99') => `CRD watchers get each change from kube-apiserver's watch cache (${ms(B[stat])} ms at ${stat}); aggregated watchers get it after two more hops: the backend's own watch of the CRD, then the backend's stream through kube-apiserver's proxy. One watcher straight on the backend saw ${ms(probeA[stat])} ms at ${stat} during the aggregated phases, so kube-apiserver's proxy added about ${ms(A[stat] - probeA[stat])} ms and the backend's hop and fan-out ${ms(probeA[stat] - B[stat])} ms. Floor: the backend hears of a change no sooner than a CRD watcher does, so with the proxy hop as measured the ratio cannot go below ${((B[stat] + Math.max(0, A[stat] - probeA[stat])) / B[stat]).toFixed(2)}× here.`;
  report.add({ scenario, measure: `${measure}, p50`, a: { name: 'aggregated', summary: A }, b: { name: 'CRD direct', summary: B }, stat: 'p50', target: '≤ 1.5×', pass: A.p50 / B.p50 <= 1.5, cause: cause('p50') });
  report.add({ scenario, measure: `${measure}, p99`, a: { name: 'aggregated', summary: A }, b: { name: 'CRD direct', summary: B }, stat: 'p99', target: '≤ 1.5×', pass: A.p99 / B.p99 <= 1.5, cause: cause('p99') });
  const completeText = (side: SideName) => `${done[side].complete}/${done[side].total} watchers saw all ${changes} changes, ${done[side].duplicates} duplicates`;
  const allComplete = (['aggregated', 'crd'] as const).every((s) => done[s].complete === done[s].total && done[s].duplicates === 0);
  report.add({
    scenario, measure: 'completeness (every watcher, every change, once)',
    a: { name: 'aggregated', text: completeText('aggregated') }, b: { name: 'CRD direct', text: completeText('crd') },
    target: 'every watcher sees every change', pass: allComplete,
    cause: `watchers missed changes or saw them twice: aggregated ${completeText('aggregated')}; CRD ${completeText('crd')}.`,
  });
  report.add({ scenario, measure: 'breakdown: one watcher straight on the backend (no proxy), during the aggregated phases', a: { name: 'backend direct', summary: probeA }, b: { name: `CRD direct (${watchers} watchers)`, summary: B } });
  const cpuRow = (label: string, k: keyof Cpu) => report.add({ scenario, measure: `CPU time per change delivered to ${watchers} watchers: ${label}`, a: { name: 'aggregated', value: done.aggregated.cpu[k] / done.aggregated.changes, unit: 'ms' }, b: { name: 'CRD direct', value: done.crd.cpu[k] / done.crd.changes, unit: 'ms' } });
  cpuRow('kube-apiserver', 'kubeApiserver');
  cpuRow('the backend', 'backend');
  cpuRow('the load generator (this process)', 'bench');
  // Share of one core the load generator used: near a whole core, its own delays are in both sides' figures.
  const benchLoad = (side: SideName) => done[side].cpu.bench / done[side].ms;
  const w = { aggregated: summarize(writes.aggregated), crd: summarize(writes.crd) };
  report.note(scenario, `${objects} objects in one namespace change between two states through the aggregated API (set-state, each object's changes chained), ${rate} a second for ${seconds} s in each phase; phases alternate aggregated, CRD, … (${cfg.watchPhases * 2} in all) with the same objects and change pattern, each with ${watchers} fresh watchers from the list's resourceVersion plus one watcher straight on the backend. Achieved rates: aggregated phases ${done.aggregated.achieved.map((x) => x.toFixed(0)).join(', ')}, CRD phases ${done.crd.achieved.map((x) => x.toFixed(0)).join(', ')} changes/s; the set-state writes took p50 ${ms(w.aggregated.p50)} / p99 ${ms(w.aggregated.p99)} ms in aggregated phases and ${ms(w.crd.p50)} / ${ms(w.crd.p99)} ms in CRD phases. Latency runs from the start of the write request to the arrival of the chunk holding its event. CPU time is read from /proc around the changes and their delivery in each phase (the changes' writes are in both sides alike); the load generator used ${(benchLoad('aggregated') * 100).toFixed(0)}% of a core in aggregated phases and ${(benchLoad('crd') * 100).toFixed(0)}% in CRD phases${Math.max(benchLoad('aggregated'), benchLoad('crd')) > 0.8 ? ' — **near a whole core: its own delays are in both sides\' latencies**' : ''}.`);
}
