// 2. Writes: `promote` through the aggregated API against the smallest status
// change a plain-CRD user could send, a merge PATCH {"status":{"state":X}}
// straight to kube-apiserver. Same clients (each on its own objects), slices
// alternating between the sides; per side: throughput, latency, the CPU time
// of the backend, kube-apiserver and etcd per change, and the requests
// kube-apiserver served per change.
import { readFileSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import type { Ctx } from '../context.ts';
import { addRequests, apiserverRequests, checkFinalizers, createObjects, CUSTOM, deleteObjects, getJson, metric, perChange, requestDiff, STORAGE, totalOf, waitCache } from '../fixtures.ts';
import { cpuDiff, cpuSnapshot, idleCpuRate, settle } from '../proc.ts';
import { log, ms } from '../report.ts';
import { summarize } from '../stats.ts';

type SideName = 'promote' | 'patch';
type Cpu = { backend: number; kubeApiserver: number; etcd: number; bench: number };

interface SideTotals {
  ops: number;
  wallMs: number;
  latencies: number[];
  cpu: Cpu;
  requests: Map<string, number>;
  settleMs: number[];
  unsettled: number;
}

const NS: Record<SideName, string> = { promote: 'bench-promote', patch: 'bench-patch' };
/** 32 states, the last protected (entering it needs a permission and a reason): 30 moves from s0 to s30. */
const STATES = Array.from({ length: 32 }, (_, i) => `s${i}`);
const MOVES = 30;
const PROXIED = 'POST custom.example.com/customresources/promote (proxied)';

/** Splits `total` rounds into `parts` slices as evenly as possible. */
export function splitRounds(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor((total * (i + 1)) / parts) - Math.floor((total * i) / parts));
}

export async function scenarioWrites(ctx: Ctx, expectedObjects: () => number): Promise<void> {
  const { c, cfg, report, pids } = ctx;
  const clients = cfg.writeClients;
  const per = cfg.writeObjectsPerClient;
  const objects = clients * per;
  for (const side of ['promote', 'patch'] as const) await createObjects(c, NS[side], objects, { states: STATES });
  await waitCache(c, undefined, expectedObjects() + 2 * objects);
  // The finalizer is set at creation (MutatingAdmissionPolicy): nothing adds it in the background meanwhile.
  for (const side of ['promote', 'patch'] as const) {
    const n = await checkFinalizers(c, NS[side]);
    if (n !== objects) throw new Error(`${NS[side]} holds ${n} objects, not ${objects}`);
  }
  const name = (k: number, j: number) => `obj-${k * per + j}`;
  const at = { promote: 0, patch: 0 };
  const op: Record<SideName, (obj: string, i: number) => Promise<void>> = {
    async promote(obj, i) {
      const r = await c.call('POST', `${CUSTOM}/namespaces/${NS.promote}/customresources/${obj}/promote`, { from: STATES[i], reason: `r${i}` });
      if (r.status !== 201) throw new Error(`promote ${obj} from ${STATES[i]}: ${r.status} ${r.text.slice(0, 300)}`);
    },
    async patch(obj, i) {
      const r = await c.call('PATCH', `${STORAGE}/namespaces/${NS.patch}/customresources/${obj}/status`, { status: { state: STATES[i + 1] } }, 'application/merge-patch+json');
      if (r.status !== 200) throw new Error(`PATCH ${obj} status to ${STATES[i + 1]}: ${r.status} ${r.text.slice(0, 300)}`);
    },
  };
  const totals: Record<SideName, SideTotals> = {
    promote: { ops: 0, wallMs: 0, latencies: [], cpu: { backend: 0, kubeApiserver: 0, etcd: 0, bench: 0 }, requests: new Map(), settleMs: [], unsettled: 0 },
    patch: { ops: 0, wallMs: 0, latencies: [], cpu: { backend: 0, kubeApiserver: 0, etcd: 0, bench: 0 }, requests: new Map(), settleMs: [], unsettled: 0 },
  };
  const watched = [pids.backend, pids.kubeApiserver, pids.etcd];
  await new Promise((r) => setTimeout(r, 1000));
  const idle = await idleCpuRate(watched);
  // Quiet: the three together below twice their idle rate (at least 30 ms in a second: CPU time counts in
  // 10 ms ticks; at most 100 ms, well below what writing queued Events costs).
  const quietMs = Math.min(100, Math.max(30, 2 * idle));
  const eventsDropped0 = await droppedEvents(ctx);
  const logStart = statSync(ctx.stack.backend.logFile).size;

  // Issue 23: every change waits for kube-apiserver's consistent LISTs of GatePolicies and Freezes; how long its watch cache made them wait.
  const gateWait = { seconds: 0, reads: 0 };
  const readWait = (text: string) => (['gatepolicies', 'freezes'] as const).reduce((w, resource) => ({
    seconds: w.seconds + metric(text, 'apiserver_watch_cache_read_wait_seconds_sum', { resource }),
    reads: w.reads + metric(text, 'apiserver_watch_cache_read_wait_seconds_count', { resource }),
  }), { seconds: 0, reads: 0 });
  const slice = async (side: SideName, rounds: number) => {
    const t = totals[side];
    const wait0 = side === 'promote' ? readWait(await c.text('/metrics')) : undefined;
    const before = await apiserverRequests(c);
    const cpu0 = cpuSnapshot(pids);
    const t0 = performance.now();
    const first = at[side];
    await Promise.all(Array.from({ length: clients }, async (_, k) => {
      for (let r = 0; r < rounds; r++) {
        for (let j = 0; j < per; j++) {
          const s = performance.now();
          await op[side](name(k, j), first + r);
          t.latencies.push(performance.now() - s);
        }
      }
    }));
    const wall = performance.now() - t0;
    t.wallMs += wall;
    // Work the writes left queued (the backend's Events, kube-apiserver's watchers) belongs to this slice.
    const settled = await settle(watched, { quietMs });
    t.settleMs.push(settled.waitedMs);
    if (!settled.quiet) t.unsettled++;
    const d = cpuDiff(cpu0, cpuSnapshot(pids));
    for (const k of Object.keys(t.cpu) as (keyof Cpu)[]) t.cpu[k] += d[k];
    addRequests(t.requests, requestDiff(before, await apiserverRequests(c)));
    // kube-apiserver's request counters leave out what it proxies to an aggregated API server: count those here.
    if (side === 'promote') addRequests(t.requests, new Map([[PROXIED, clients * per * rounds]]));
    if (wait0) {
      const w = readWait(await c.text('/metrics'));
      gateWait.seconds += w.seconds - wait0.seconds;
      gateWait.reads += w.reads - wait0.reads;
    }
    at[side] += rounds;
    t.ops += clients * per * rounds;
    log(`writes: ${side} slice of ${rounds} rounds: ${((clients * per * rounds * 1000) / wall).toFixed(0)} changes/s, settled in ${(settled.waitedMs / 1000).toFixed(1)} s`);
  };
  const rounds = splitRounds(MOVES, cfg.writeSlices);
  for (let i = 0; i < rounds.length; i++) {
    const order: SideName[] = i % 2 === 0 ? ['promote', 'patch'] : ['patch', 'promote'];
    for (const side of order) await slice(side, rounds[i]!);
  }

  // Zero lost or doubled: every promote is in its object's whole trail (archive and window), once, in order.
  let bad = 0;
  const badNames: string[] = [];
  for (let i = 0; i < objects; i++) {
    const obj = `obj-${i}`;
    const v = await getJson<{ state: string }>(c, `${CUSTOM}/namespaces/${NS.promote}/customresources/${obj}/state`);
    const h = await getJson<{ lives: { entries: { seq: number; action: string; reason?: string }[] }[] }>(c, `${CUSTOM}/namespaces/${NS.promote}/customresources/${obj}/history`);
    const entries = (h.lives[0]?.entries ?? []).filter((e) => e.action === 'promote');
    const inOrder = entries.length === MOVES && entries.every((e, k) => e.seq === k + 1 && e.reason === `r${k}`);
    if (!inOrder || v.state !== STATES[MOVES]) {
      bad++;
      if (badNames.length < 5) badNames.push(`${obj}: state ${v.state}, ${entries.length} promotes in the trail`);
    }
  }
  let patchBad = 0;
  for (let i = 0; i < objects; i++) {
    const o = await getJson<{ status?: { state?: string } }>(c, `${STORAGE}/namespaces/${NS.patch}/customresources/obj-${i}`);
    if (o.status?.state !== STATES[MOVES]) patchBad++;
  }
  if (patchBad) throw new Error(`${patchBad} objects of ${NS.patch} did not reach ${STATES[MOVES]}: the direct PATCHes were not all applied`);
  const eventsDropped = (await droppedEvents(ctx)) - eventsDropped0;
  const events = await eventsIn(ctx, NS.promote);
  const eventsFailed = countLines(readFileSync(ctx.stack.backend.logFile).subarray(logStart).toString('utf8'), 'could not record an Event');

  const P = totals.promote;
  const D = totals.patch;
  const tput = (t: SideTotals) => (t.ops * 1000) / t.wallMs;
  const perOp = (t: SideTotals, k: keyof Cpu) => t.cpu[k] / t.ops;
  const scenario = '2 Writes';
  const lat = { promote: summarize(P.latencies), patch: summarize(D.latencies) };
  const cpuSum = (t: SideTotals) => perOp(t, 'backend') + perOp(t, 'kubeApiserver') + perOp(t, 'etcd') + perOp(t, 'bench');
  const cores = cpus().length;
  const ratio = tput(P) / tput(D);
  const kasRatio = perOp(P, 'kubeApiserver') / perOp(D, 'kubeApiserver');
  const reqP = totalOf(P.requests) / P.ops;
  const reqD = totalOf(D.requests) / D.ops;
  report.add({
    scenario, measure: `throughput, ${clients} clients each on its own ${per} objects, ${P.ops} changes a side in ${rounds.length * 2} alternating slices`,
    a: { name: 'promote (aggregated)', value: tput(P), unit: 'changes/s' }, b: { name: 'PATCH {"status":{"state":X}} (CRD direct)', value: tput(D), unit: 'changes/s' },
    target: '≥ 0.45×, 0 lost or doubled', pass: ratio >= 0.45 && bad === 0,
    note: `${bad} of ${objects} objects with a promote lost, doubled or out of order${badNames.length ? `: ${badNames.join('; ')}` : ''}`,
    cause: `every promote crosses kube-apiserver twice or more: it served ${reqP.toFixed(2)} requests per promote (${perChange(P.requests, P.ops)}) against ${reqD.toFixed(2)} per direct PATCH (${perChange(D.requests, D.ops)}), and spent ${ms(perOp(P, 'kubeApiserver'))} ms of CPU per promote against ${ms(perOp(D, 'kubeApiserver'))} ms per PATCH (${kasRatio.toFixed(2)}×); etcd ${ms(perOp(P, 'etcd'))} against ${ms(perOp(D, 'etcd'))} ms; the backend ${ms(perOp(P, 'backend'))} ms per promote. Floor: were kube-apiserver's CPU the only limit, the ratio could reach 1/${kasRatio.toFixed(2)} = ${(1 / kasRatio).toFixed(2)}×; with all ${cores} cores shared by every process (backend, kube-apiserver, etcd and this load generator: ${ms(cpuSum(P))} ms of CPU per promote against ${ms(cpuSum(D))} ms per PATCH) the CPU-bound ratio is ${(cpuSum(D) / cpuSum(P)).toFixed(2)}×. Each promote is decided after consistent LISTs of GatePolicies and Freezes (decisions on fresh gates, issue 23: ${(gateWait.reads / P.ops).toFixed(2)} per promote, shared by the changes arriving together), which kube-apiserver answers only once its watch cache of that quiet collection has heard etcd's progress notification: ${gateWait.reads ? ms((gateWait.seconds * 1000) / gateWait.reads) : '0'} ms on average (apiserver_watch_cache_read_wait_seconds).`,
  });
  report.add({ scenario, measure: 'latency per change, p50', a: { name: 'promote', summary: lat.promote }, b: { name: 'direct PATCH', summary: lat.patch }, stat: 'p50' });
  report.add({ scenario, measure: 'latency per change, p99', a: { name: 'promote', summary: lat.promote }, b: { name: 'direct PATCH', summary: lat.patch }, stat: 'p99' });
  const cpuRow = (label: string, k: keyof Cpu) => report.add({ scenario, measure: `CPU time per change: ${label}`, a: { name: 'promote', value: perOp(P, k), unit: 'ms' }, b: { name: 'direct PATCH', value: perOp(D, k), unit: 'ms' } });
  cpuRow('the backend', 'backend');
  cpuRow('kube-apiserver', 'kubeApiserver');
  cpuRow('etcd', 'etcd');
  cpuRow('the load generator (this process)', 'bench');
  report.add({ scenario, measure: 'requests kube-apiserver served per change', a: { name: 'promote', value: reqP }, b: { name: 'direct PATCH', value: reqD }, note: `promote: ${perChange(P.requests, P.ops)}; direct PATCH: ${perChange(D.requests, D.ops)}` });
  const ev = (verb: string) => P.requests.get(`${verb} core/events`) ?? 0;
  report.note(scenario, `${clients} clients, each changing only its own ${per} objects one request at a time; the two sides on separate objects created alike (states s0…s31, the finalizer set at creation by the MutatingAdmissionPolicy and checked on every object before measuring), ${MOVES} changes per object, in ${rounds.length} slices a side (${rounds.join(', ')} rounds) alternating which side goes first. Throughput is changes over the wall time of the requests. CPU time is utime + stime from /proc/<pid>/stat of the backend, kube-apiserver and etcd (and this process) read around each slice; a slice ends only when the three together have used less than ${ms(quietMs)} ms of CPU in one second (twice their idle rate of ${ms(idle)} ms/s measured before), which took ${(P.settleMs.reduce((a, b) => a + b, 0) / P.settleMs.length / 1000).toFixed(1)} s on average after promote slices and ${(D.settleMs.reduce((a, b) => a + b, 0) / D.settleMs.length / 1000).toFixed(1)} s after PATCH slices${P.unsettled + D.unsettled ? ` (${P.unsettled + D.unsettled} slices never went quiet within 30 s)` : ''}. **Events**: the backend records one per promote, queued and written one at a time after the answer (as client-go's recorder); they are written before the slice ends, so their cost is in the promote side's CPU and request counts: ${ev('POST')} created and ${ev('PATCH')} updated (count) for ${P.ops} promotes, the rest absorbed by client-go's correlation (aggregation, spam filter); ${eventsDropped} dropped for a full queue${eventsFailed ? `, and **${eventsFailed} Event writes refused by kube-apiserver** (the backend's log: "could not record an Event")` : ''}. ${NS.promote} then held ${events.objects} Events whose counts add up to ${events.count}. Requests per change are kube-apiserver's apiserver_request_total read before and after each slice (the bench's own reads outside the slice); those counters leave out the requests kube-apiserver proxies to the backend and those it refuses, so the proxied promotes are counted by the bench.`);
  // The write objects have partial windows: gone before the memory samples, which count full windows only.
  await deleteObjects(c, NS.promote);
  await deleteObjects(c, NS.patch);
}

/** The Events in `ns`: how many objects, and the sum of their counts. */
async function eventsIn(ctx: Ctx, ns: string): Promise<{ objects: number; count: number }> {
  const list = await getJson<{ items: { count?: number }[] }>(ctx.c, `/api/v1/namespaces/${ns}/events`);
  return { objects: list.items.length, count: list.items.reduce((s, e) => s + (e.count ?? 1), 0) };
}

const countLines = (text: string, needle: string) => text.split('\n').filter((l) => l.includes(needle)).length;

async function droppedEvents(ctx: Ctx): Promise<number> {
  return metric(await ctx.backend.text('/metrics'), 'custom_events_dropped_total');
}
