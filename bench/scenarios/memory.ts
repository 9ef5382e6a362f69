// 4. The backend's memory: RSS as objects (every one with a full history
// window) are cached, growth per object, and the peak under concurrent
// cluster-wide lists and watchers that do not read, against the
// Deployment's memory limit.
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { Ctx } from '../context.ts';
import { cachedCount, CUSTOM, getJson, metric } from '../fixtures.ts';
import { resetPeakRss, rssMiB } from '../proc.ts';
import { log, ms } from '../report.ts';

export interface MemSample {
  label: string;
  objects: number;
  rss: number;
  peak: number;
  /** V8 old and large-object space in use (MiB): what the cache holds, without the young generation's churn. */
  heapUsed: number;
}

const MB_PER_MIB = 1.048576;

/** The backend Deployment's memory limit in MiB (manifests/base/deployment.yaml). */
export function deploymentMemoryLimitMiB(root: string): number {
  for (const doc of parseAllDocuments(readFileSync(join(root, 'manifests/base/deployment.yaml'), 'utf8'))) {
    const d = doc.toJS() as { kind?: string; spec?: { template?: { spec?: { containers?: { resources?: { limits?: { memory?: string } } }[] } } } };
    if (d?.kind !== 'Deployment') continue;
    const text = d.spec?.template?.spec?.containers?.[0]?.resources?.limits?.memory;
    const m = text ? /^(\d+(?:\.\d+)?)(Mi|Gi|M|G)$/.exec(text) : null;
    if (!m) throw new Error(`the Deployment's memory limit ${JSON.stringify(text)} is not understood`);
    const n = Number(m[1]);
    return m[2] === 'Gi' ? n * 1024 : m[2] === 'Mi' ? n : m[2] === 'G' ? (n * 1000) / MB_PER_MIB : n / MB_PER_MIB;
  }
  throw new Error('no Deployment in manifests/base/deployment.yaml');
}

/** The V8 old-space limit the backend runs with (server/runtime-flags.json), in MiB. */
function oldSpaceLimitMiB(root: string): number | undefined {
  const flags = JSON.parse(readFileSync(join(root, 'server/runtime-flags.json'), 'utf8')) as { nodeArgs: string[] };
  const f = flags.nodeArgs.find((a) => a.startsWith('--max-old-space-size='));
  return f ? Number(f.split('=')[1]) : undefined;
}

export class MemoryProbe {
  readonly samples: MemSample[] = [];
  private readonly ctx: Ctx;
  constructor(ctx: Ctx) {
    this.ctx = ctx;
  }

  async sample(label: string): Promise<MemSample> {
    const { stack, backend, c } = this.ctx;
    // A quiet moment and a full collection first (the backend runs with --expose-gc), so the heap figure is what is held.
    await new Promise((r) => setTimeout(r, 1000));
    process.kill(stack.backend.pid, 'SIGUSR2');
    await new Promise((r) => setTimeout(r, 1000));
    const objects = await cachedCount(c);
    const metrics = await backend.text('/metrics');
    const space = (name: string) => Number(new RegExp(`nodejs_heap_space_size_used_bytes\\{space="${name}"\\} (\\S+)`).exec(metrics)?.[1] ?? NaN);
    const m = rssMiB(stack.backend.pid);
    const s = { label, objects, ...m, heapUsed: (space('old') + space('large_object')) / 2 ** 20 };
    this.samples.push(s);
    log(`memory ${label}: ${objects} objects cached, RSS ${s.rss.toFixed(1)} MiB, peak ${s.peak.toFixed(1)} MiB, V8 old space used ${s.heapUsed.toFixed(1)} MiB`);
    return s;
  }
}

/** Peak RSS with `s.objects` objects, every window full: the 150 MB target. */
export function rowRss(ctx: Ctx, s: MemSample, base: MemSample | undefined): void {
  const mb = s.peak * MB_PER_MIB;
  ctx.report.add({
    scenario: '4 Memory', measure: `backend peak RSS with ${s.objects} objects cached, every history window full (${s.label})`,
    a: { name: 'peak RSS', value: mb, unit: 'MB' }, target: '≤ 150 MB', pass: mb <= 150, note: `${ms(s.peak)} MiB; RSS now ${ms(s.rss)} MiB`,
    cause: `V8's old space holds ${ms(s.heapUsed)} MiB with ${s.objects} objects${base ? ` (${ms(base.heapUsed)} MiB with ${base.objects}, so ${(((s.heapUsed - base.heapUsed) * 1024) / (s.objects - base.objects)).toFixed(1)} KiB per object)` : ''}; the rest of the ${ms(s.peak)} MiB peak is Node itself, code, buffers and the young generation${base ? ` (RSS was ${ms(base.rss)} MiB at ${base.objects} objects)` : ''}.`,
  });
}

/** Peak RSS at the largest sample against the Deployment's limit, and growth per object between samples. */
export function rowsGrowth(ctx: Ctx, first: MemSample, middle: MemSample, last: MemSample): void {
  const { report, root } = ctx;
  const limit = deploymentMemoryLimitMiB(root);
  const oldSpace = oldSpaceLimitMiB(root);
  report.add({
    scenario: '4 Memory', measure: `backend peak RSS while growing to ${last.objects} objects cached, every history window full (MiB)`,
    a: { name: 'peak RSS', value: last.peak, unit: 'MiB' }, target: `≤ ${limit} MiB (the Deployment's memory limit)`, pass: last.peak <= limit, note: `RSS at ${last.objects} objects ${ms(last.rss)} MiB, V8 old space ${ms(last.heapUsed)} MiB${oldSpace ? ` of its ${oldSpace} MiB limit` : ''}`,
    cause: `at ${last.objects} objects V8's old space holds ${ms(last.heapUsed)} MiB${oldSpace ? ` (limit ${oldSpace} MiB, server/runtime-flags.json)` : ''} and RSS is ${ms(last.rss)} MiB. From ${middle.objects} to ${last.objects} objects the old space grew ${ms(last.heapUsed - middle.heapUsed)} MiB and RSS ${ms(last.rss - middle.rss)} MiB; RSS was ${ms(middle.rss)} MiB at ${middle.objects} objects with ${ms(middle.heapUsed)} MiB of old space, and ${ms(first.rss)} MiB at ${first.objects} objects.${last.rss - middle.rss <= last.heapUsed - middle.heapUsed + 5 ? ' RSS grew no more than the heap: the objects fit in memory the process already held after earlier load (the scenario under load, cluster-wide lists), and that held memory is what stands near the limit.' : ''}`,
  });
  const perObj = (x: MemSample, y: MemSample) => ((y.heapUsed - x.heapUsed) * 1024) / (y.objects - x.objects);
  const s1 = perObj(first, middle);
  const s2 = perObj(middle, last);
  report.add({
    scenario: '4 Memory', measure: `V8 old-space growth per cached object, ${first.objects}→${middle.objects} and ${middle.objects}→${last.objects} (KiB/object)`,
    a: { name: `${first.objects}→${middle.objects}`, value: s1, unit: 'KiB' }, b: { name: `${middle.objects}→${last.objects}`, value: s2, unit: 'KiB' },
    target: 'linear: the two slopes within 0.5–2× of each other', pass: s2 / s1 <= 2 && s2 / s1 >= 0.5, note: `RSS ${ms(first.rss)} → ${ms(middle.rss)} → ${ms(last.rss)} MiB`,
    cause: `the old space grew ${s1.toFixed(1)} KiB per object up to ${middle.objects} objects and ${s2.toFixed(1)} KiB per object beyond: something held grows faster than the objects.`,
  });
}

/**
 * The backend under memory pressure, as issue 12 asks: 10 cluster-wide lists
 * at a time, again and again, while 200 watchers that never read hold
 * watches open and changes keep coming (on the first `churnObjects` objects
 * of `ns`). Straight to the backend for the watchers, as kube-apiserver
 * connects, so that they really do not read.
 */
export async function scenarioMemoryUnderLoad(ctx: Ctx, ns: string, churnObjects: number): Promise<void> {
  const { stack, c, report, root } = ctx;
  const objects = await cachedCount(c);
  // Its own peak, not the run's so far.
  const ownPeak = resetPeakRss(stack.backend.pid);
  const proxy = { ca: readFileSync(stack.backend.caFile), cert: readFileSync(stack.cluster.frontProxyClient.cert), key: readFileSync(stack.cluster.frontProxyClient.key) };
  const slow: { destroy(): void }[] = [];
  for (let i = 0; i < 200; i++) {
    await new Promise<void>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port: stack.backend.port, servername: 'localhost', ...proxy, path: `${CUSTOM}/namespaces/${ns}/customresources?watch=1`, headers: { 'X-Remote-User': `slow-${i}`, 'X-Remote-Group': 'system:masters' } }, (res) => {
        res.pause();
        resolve();
      });
      req.on('error', reject);
      slow.push(req);
      req.end();
    });
  }
  let changes = 0;
  let stop = false;
  const churn = (async () => {
    for (let i = 0; !stop; i++) {
      const name = `obj-${i % churnObjects}`;
      const v = await getJson<{ state: string; path: string[] }>(c, `${CUSTOM}/namespaces/${ns}/customresources/${name}/state`);
      const forward = v.state === v.path[0];
      const to = forward ? v.path[1]! : v.path[0]!;
      // Forward past a gate needs the override (the bench is cluster admin); back is a rollback.
      if ((await c.call('PUT', `${CUSTOM}/namespaces/${ns}/customresources/${name}/state`, { state: to, from: v.state, reason: `churn ${i}`, ...(forward ? { override: true } : {}) })).status === 200) changes++;
    }
  })();
  // What the backend's memory is made of at its highest RSS: sampled every half second meanwhile.
  let highest = { rss: 0, heap: NaN, heapUsed: NaN, external: NaN };
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const rss = rssMiB(stack.backend.pid).rss;
      const text = await ctx.backend.text('/metrics').catch(() => '');
      const mib = (name: string) => metric(text, name) / 2 ** 20;
      if (rss > highest.rss) highest = { rss, heap: mib('nodejs_heap_size_total_bytes'), heapUsed: mib('nodejs_heap_size_used_bytes'), external: mib('nodejs_external_memory_bytes') };
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  const t0 = performance.now();
  let lists = 0;
  for (let round = 0; round < 5; round++) {
    await Promise.all(Array.from({ length: 10 }, async () => {
      const r = await c.call('GET', `${CUSTOM}/customresources`);
      if (r.status !== 200) throw new Error(`list: ${r.status} ${r.text.slice(0, 200)}`);
      lists++;
    }));
  }
  stop = true;
  await churn;
  for (const w of slow) w.destroy();
  sampling = false;
  await sampler;
  const m = rssMiB(stack.backend.pid);
  // And once the load is gone and garbage collected: what the process keeps.
  await new Promise((r) => setTimeout(r, 1000));
  process.kill(stack.backend.pid, 'SIGUSR2');
  await new Promise((r) => setTimeout(r, 1000));
  const after = rssMiB(stack.backend.pid).rss;
  const heapAfter = metric(await ctx.backend.text('/metrics'), 'nodejs_heap_size_used_bytes') / 2 ** 20;
  // Later peaks are their own too.
  resetPeakRss(stack.backend.pid);
  const limit = deploymentMemoryLimitMiB(root);
  report.add({
    scenario: '4 Memory',
    measure: `backend peak RSS, ${lists} cluster-wide lists of ${objects} objects 10 at a time, 200 watchers that do not read, ${changes} changes meanwhile (MiB)`,
    a: { name: 'peak RSS', value: m.peak, unit: 'MiB' },
    target: `≤ ${limit} MiB (the Deployment's memory limit)`,
    pass: m.peak <= limit,
    note: `${((performance.now() - t0) / 1000).toFixed(1)} s; node runs with server/runtime-flags.json${ownPeak ? '' : '; the peak is the run\'s so far (VmHWM could not be reset)'}`,
    cause: `at the highest RSS sampled meanwhile (${ms(highest.rss)} MiB) V8's heap took ${ms(highest.heap)} MiB (${ms(highest.heapUsed)} MiB in use) and memory outside it (Buffers of responses and socket writes: nodejs_external_memory_bytes) ${ms(highest.external)} MiB, the rest (${ms(highest.rss - highest.heap - highest.external)} MiB) being Node itself, code and the allocator. Once the load was gone and collected, RSS stayed at ${ms(after)} MiB with ${ms(heapAfter)} MiB of heap in use: freed memory is not all returned to the system.`,
  });
}
