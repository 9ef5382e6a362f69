// npm run bench: the local stack (control plane + backend) under load, each
// scenario measured side by side with kube-apiserver serving the CRD itself
// (or kubectl), interleaved, as ratios against issue 15's targets. Writes
// bench/results/<date>.json and bench/RESULTS.md. BENCH_* environment
// variables shrink it for quick runs (bench/config.ts).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildExecutable, upToDate } from '../scripts/build-plugin.ts';
import { buildServer } from '../scripts/build-server.ts';
import { startStack } from '../cluster/stack.ts';
import { KUBERNETES_VERSION } from '../cluster/versions.ts';
import { loadConfig, type ScenarioName } from './config.ts';
import type { Ctx } from './context.ts';
import { checkWindowsFull, createObjects, CUSTOM, fillWindows, STORAGE, waitCache } from './fixtures.ts';
import { backendClient, benchClient } from './http-client.ts';
import { log, machine, Report } from './report.ts';
import { nodeSeaExecutable, scenarioCli } from './scenarios/cli.ts';
import { scenarioFreshRead } from './scenarios/fresh-read.ts';
import { scenarioNotify } from './scenarios/notify.ts';
import { MemoryProbe, type MemSample, rowRss, rowsGrowth, scenarioMemoryUnderLoad } from './scenarios/memory.ts';
import { scenarioGet, scenarioList } from './scenarios/reads.ts';
import { scenarioWatch } from './scenarios/watch.ts';
import { scenarioWrites } from './scenarios/writes.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** The CLI's objects (issue 15: 100), also those of the GET and fresh-read scenarios. */
const CLI_OBJECTS = 100;
const SPREAD_NAMESPACES = 50;

async function main() {
  const started = Date.now();
  const cfg = loadConfig();
  const on = (s: ScenarioName) => cfg.only.has(s);
  const report = new Report();
  const m = machine(KUBERNETES_VERSION);
  const sc = (x: number) => Math.round(x * cfg.scale);
  // Object counts: ~1,000, then 6,000 (5,000 in one namespace), 11,000 (5,000 more across 50 namespaces), 20,000.
  const counts = { first: Math.max(CLI_OBJECTS, sc(1000)), list: sc(5000), spread: SPREAD_NAMESPACES * sc(100), total: sc(20_000) };
  if (on('cli')) {
    if (!upToDate()) await buildExecutable({ log });
    // The runtime the plugin does not ship, for the side-by-side comparison.
    await buildExecutable({ runtime: 'node-sea', output: nodeSeaExecutable(ROOT), log });
  }
  const dir = mkdtempSync(join(tmpdir(), 'kubectl-custom-bench-'));
  // The backend as it runs in its image: the bundle under plain node with the
  // image's flags (running the TypeScript sources would add Node's type
  // stripper, ~20 MB). --expose-gc only lets the memory samples collect
  // garbage first (SIGUSR2).
  const stack = await startStack({ dir, log, backendEntry: await buildServer(), backendNodeArgs: ['--expose-gc'] });
  const c = benchClient(stack.cluster);
  const backend = backendClient(stack);
  const ctx: Ctx = { stack, c, backend, cfg, report, root: ROOT, pids: { backend: stack.backend.pid, kubeApiserver: stack.cluster.pids.kubeApiserver, etcd: stack.cluster.pids.etcd } };
  const mem = new MemoryProbe(ctx);
  let expected = 0;
  const add = async (ns: string, count: number, opts: { prefix?: string; labels?: Record<string, string> } = {}) => {
    if (count <= 0) return;
    await createObjects(c, ns, count, opts);
    await fillWindows(c, ns, count, opts.prefix);
    expected += count;
  };
  try {
    await add('bench-cli', CLI_OBJECTS);
    await waitCache(c, undefined, expected);
    if (on('cli')) await scenarioCli(ctx, 'bench-cli', CLI_OBJECTS);
    if (on('get')) await scenarioGet(ctx, 'bench-cli', 'obj-7');
    const populate = on('list') || on('memory') || on('fresh');
    let first: MemSample | undefined;
    if (populate) {
      await add('bench-grow', counts.first - CLI_OBJECTS, { prefix: 'grow' });
      await waitCache(c, undefined, expected);
      if (on('memory')) {
        await checkWindowsFull(c, expected);
        first = await mem.sample('the first sample');
      }
      await add('bench-list', counts.list);
      await waitCache(c, undefined, expected);
      if (on('list')) await scenarioList(ctx, `${counts.list} objects in one namespace`, `${CUSTOM}/namespaces/bench-list/customresources`, `${STORAGE}/namespaces/bench-list/customresources`);
      if (on('memory')) {
        await checkWindowsFull(c, expected);
        rowRss(ctx, await mem.sample('after the list scenario'), first);
      }
    }
    if (on('writes')) await scenarioWrites(ctx, () => expected);
    if (populate) {
      if (on('memory')) {
        const churn = Math.min(500, counts.list);
        await scenarioMemoryUnderLoad(ctx, 'bench-list', churn);
        // The churn's objects have partial windows now: full again before the next samples.
        await fillWindows(c, 'bench-list', churn);
      }
      await Promise.all(Array.from({ length: SPREAD_NAMESPACES }, (_, i) => add(`bench-spread-${i}`, counts.spread / SPREAD_NAMESPACES, { labels: { spread: 'yes' } })));
      await waitCache(c, undefined, expected);
      if (on('list')) await scenarioList(ctx, `${counts.spread} objects across ${SPREAD_NAMESPACES} namespaces (cluster-wide list by label)`, `${CUSTOM}/customresources?labelSelector=spread%3Dyes`, `${STORAGE}/customresources?labelSelector=spread%3Dyes`);
      let middle: MemSample | undefined;
      if (on('memory')) {
        await checkWindowsFull(c, expected);
        middle = await mem.sample('after the cluster-wide list scenario');
      }
      // Up to 20,000 (before the watch scenario, whose 200 connections would blur RSS).
      await add('bench-grow-2', counts.total - expected, { prefix: 'grow2' });
      await waitCache(c, undefined, expected);
      if (on('memory') && first && middle) {
        await checkWindowsFull(c, expected);
        rowsGrowth(ctx, first, middle, await mem.sample('at the largest count'));
      }
    }
    if (on('fresh')) await scenarioFreshRead(ctx, 'bench-cli', 'obj-0');
    if (on('watch')) await scenarioWatch(ctx);
    if (on('notify')) expected += await scenarioNotify(ctx);
  } finally {
    c.close();
    backend.close();
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  m.loadAtEnd = loadavg().map((x) => Number(x.toFixed(2)));
  m.seconds = Math.round((Date.now() - started) / 1000);
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  const json = `bench/results/${m.date.slice(0, 10)}.json`;
  if (on('memory')) report.note('4 Memory', `samples (objects cached → backend RSS / peak RSS / V8 old space used, MiB, after a full collection): ${mem.samples.map((s) => `${s.objects} → ${s.rss.toFixed(0)} / ${s.peak.toFixed(0)} / ${s.heapUsed.toFixed(0)}`).join('; ') || 'none'}. Every object cached at a sample has a full history window (checked through the backend before each sample); the write scenario's objects are deleted after it.`);
  writeFileSync(join(ROOT, json), JSON.stringify({ machine: m, overrides: cfg.overrides, rows: report.rows, notes: report.notes, memory: mem.samples }, null, 2) + '\n');
  writeFileSync(join(ROOT, 'bench/RESULTS.md'), report.markdown(m, cfg.overrides, json));
  log(`wrote ${json} and bench/RESULTS.md in ${m.seconds} s`);
}

await main();
