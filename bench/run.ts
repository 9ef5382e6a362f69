// npm run bench: the local stack (control plane + backend) under load, each
// scenario measured side by side with kube-apiserver serving the CRD itself
// (or kubectl get), interleaved, as ratios. Writes bench/results/<date>.json
// and bench/RESULTS.md.
import type { HistoryEntry } from '../api/src/types.ts';
import { append, HISTORY_WINDOW } from '../server/src/state/history.ts';
import { execFile } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import { cpus, totalmem } from 'node:os';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildExecutable, upToDate } from '../scripts/build-plugin.ts';
import { buildServer } from '../scripts/build-server.ts';
import { startStack, type Stack } from '../cluster/stack.ts';
import { KUBERNETES_VERSION } from '../cluster/versions.ts';
import { benchClient, pool, type BenchClient } from './http-client.ts';
import { interleave, summarize, type Summary } from './stats.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const CUSTOM = '/apis/custom.example.com/v1';
const STORAGE = '/apis/example.com/v1';
const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);

interface Result {
  scenario: string;
  measure: string;
  a: { name: string; summary?: Summary; value?: number };
  b?: { name: string; summary?: Summary; value?: number };
  ratio?: number;
  target: string;
  pass: boolean;
  note?: string;
}

const results: Result[] = [];
function record(r: Result) {
  results.push(r);
  log(`${r.scenario} — ${r.measure}: ${r.a.name} ${fmt(r.a)}${r.b ? `, ${r.b.name} ${fmt(r.b)}` : ''}${r.ratio !== undefined ? `, ratio ${r.ratio.toFixed(2)}` : ''} → ${r.pass ? 'pass' : 'SHORT'} (${r.target})`);
}
function fmt(x: { summary?: Summary; value?: number }): string {
  return x.summary ? `p50 ${x.summary.p50.toFixed(1)} ms, p99 ${x.summary.p99.toFixed(1)} ms` : `${x.value?.toFixed(1)}`;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => execFile(cmd, args, { env, maxBuffer: 64 << 20 }, (err) => (err ? reject(err) : resolve())));
}

function rssMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** The backend's /metrics, asked directly as the front proxy would for a cluster admin. */
function backendMetrics(stack: Stack): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({
      host: '127.0.0.1', port: stack.backend.port, path: '/metrics', ca: readFileSync(stack.backend.caFile), servername: 'localhost',
      cert: readFileSync(stack.cluster.frontProxyClient.cert), key: readFileSync(stack.cluster.frontProxyClient.key),
      headers: { 'X-Remote-User': 'bench', 'X-Remote-Group': 'system:masters' },
    }, (res) => {
      let t = '';
      res.on('data', (d: Buffer) => (t += d.toString()));
      res.on('end', () => resolve(t));
    });
    req.on('error', reject);
    req.end();
  });
}

async function createNamespace(c: BenchClient, name: string) {
  const r = await c.call('POST', '/api/v1/namespaces', { metadata: { name } });
  if (r.status !== 201 && r.status !== 409) throw new Error(`namespace ${name}: ${r.status} ${r.text}`);
}

async function createObjects(c: BenchClient, ns: string, count: number, opts: { prefix?: string; states?: string[]; labels?: Record<string, string> } = {}) {
  await createNamespace(c, ns);
  const states = opts.states ?? ['dev', 'staging', 'prod'];
  await pool(32, Array.from({ length: count }, (_, i) => async () => {
    const r = await c.call('POST', `${STORAGE}/namespaces/${ns}/customresources`, {
      apiVersion: 'example.com/v1', kind: 'CustomResource',
      metadata: { name: `${opts.prefix ?? 'obj'}-${i}`, labels: { bench: 'yes', ...(opts.labels ?? {}) } },
      spec: { name: `Object ${i} of the benchmark`, states, protectedStates: [states[states.length - 1]!], minSoakSeconds: { [states[0]!]: 0 } },
    });
    if (r.status !== 201) throw new Error(`create ${ns}/${i}: ${r.status} ${r.text.slice(0, 200)}`);
  }));
}

/**
 * Gives every object in `ns` a full status.history window, as a long-lived
 * object has (written as the backend writes it: numbered, chained), so the
 * memory samples hold what a real cache holds.
 */
async function fillWindows(c: BenchClient, ns: string, count: number, prefix = 'obj') {
  let window: HistoryEntry[] = [];
  for (let i = 0; i < HISTORY_WINDOW; i++) {
    window = append(window, { action: 'promote', from: 'dev', to: 'staging', user: `system:serviceaccount:ci-${i % 7}:deployer`, time: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(), reason: `release 1.${i}: tests green, approved in change CHG-${1000 + i}` }).window;
  }
  await pool(32, Array.from({ length: count }, (_, i) => async () => {
    const r = await c.call('PATCH', `${STORAGE}/namespaces/${ns}/customresources/${prefix}-${i}/status`, { status: { state: 'staging', stateSince: window.at(-1)!.time, history: window } }, 'application/merge-patch+json');
    if (r.status !== 200) throw new Error(`fill ${ns}/${prefix}-${i}: ${r.status} ${r.text.slice(0, 200)}`);
  }));
}

async function waitCache(c: BenchClient, ns: string | undefined, count: number, labelSelector?: string) {
  const path = `${CUSTOM}${ns ? `/namespaces/${ns}` : ''}/customresources?limit=1${labelSelector ? `&labelSelector=${encodeURIComponent(labelSelector)}` : ''}`;
  for (let i = 0; i < 600; i++) {
    const r = await c.call('GET', path);
    const meta = (JSON.parse(r.text) as { metadata?: { remainingItemCount?: number }; items?: unknown[] });
    const n = (meta.items?.length ?? 0) + (meta.metadata?.remainingItemCount ?? 0);
    if (n >= count || (labelSelector && r.status === 200 && n > 0 && count <= 1)) return;
    if (labelSelector) {
      const full = JSON.parse((await c.call('GET', path.replace('limit=1', 'limit=0'))).text) as { items: unknown[] };
      if (full.items.length >= count) return;
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`the backend never served ${count} objects in ${ns ?? 'all namespaces'}`);
}

async function scenarioCli(stack: Stack, c: BenchClient) {
  const ns = 'bench-cli';
  await createObjects(c, ns, 100);
  await waitCache(c, ns, 100);
  const kubectl = stack.cluster.binaries.kubectl;
  const env = { ...process.env, PATH: [join(ROOT, 'dist'), dirname(kubectl), process.env['PATH'] ?? ''].join(delimiter), KUBECONFIG: stack.cluster.kubeconfigs.admin, NO_COLOR: '1' };
  const list = await interleave(25, { a: () => run(kubectl, ['custom', 'list', '-n', ns], env), b: () => run(kubectl, ['get', 'customresources.example.com', '-n', ns], env) });
  const a = summarize(list.a);
  const b = summarize(list.b);
  record({ scenario: '1 CLI', measure: 'list 100 objects, wall time', a: { name: 'kubectl custom list', summary: a }, b: { name: 'kubectl get customresources.example.com', summary: b }, ratio: a.p50 / b.p50, target: '≤ 1.5×', pass: a.p50 / b.p50 <= 1.5 });
  const help = await interleave(25, { a: () => run(kubectl, ['custom', '--help'], env), b: () => run(join(ROOT, 'dist/kubectl-custom'), ['--help'], env) });
  const h = summarize(help.a);
  record({ scenario: '1 CLI', measure: '`kubectl custom --help`, wall time', a: { name: 'kubectl custom --help', summary: h }, b: { name: 'kubectl-custom --help (no kubectl in front)', summary: summarize(help.b) }, target: '≤ 100 ms (p50)', pass: h.p50 <= 100 });
}

async function scenarioGet(c: BenchClient) {
  const path = 'namespaces/bench-cli/customresources/obj-7';
  const r = await interleave(1000, { a: () => c.call('GET', `${CUSTOM}/${path}`), b: () => c.call('GET', `${STORAGE}/${path}`) }, 20);
  const a = summarize(r.a);
  const b = summarize(r.b);
  record({ scenario: '2 Get', measure: 'one object, 1,000 interleaved requests', a: { name: 'aggregated (custom.example.com)', summary: a }, b: { name: 'CRD direct (example.com)', summary: b }, ratio: a.p50 / b.p50, target: 'p50 ≤ 1.3×', pass: a.p50 / b.p50 <= 1.3 });
}

async function scenarioList(c: BenchClient, label: string, aPath: string, bPath: string, n = 15) {
  const r = await interleave(n, {
    a: async () => {
      const x = await c.call('GET', aPath);
      if (x.status !== 200) throw new Error(`${aPath}: ${x.status}`);
    },
    b: async () => {
      const x = await c.call('GET', bPath);
      if (x.status !== 200) throw new Error(`${bPath}: ${x.status}`);
    },
  }, 2);
  const a = summarize(r.a);
  const b = summarize(r.b);
  record({ scenario: '3 List', measure: label, a: { name: 'aggregated', summary: a }, b: { name: 'CRD direct', summary: b }, ratio: a.p50 / b.p50, target: '≤ 1.0×', pass: a.p50 / b.p50 <= 1.0 });
}

async function scenarioWrites(c: BenchClient) {
  const clients = 32;
  const perClient = 2;
  const states = Array.from({ length: 32 }, (_, i) => `s${i}`);
  await createObjects(c, 'bench-promote', clients * perClient, { states });
  await createObjects(c, 'bench-patch', clients * perClient, { states });
  await waitCache(c, 'bench-promote', clients * perClient);
  const at = new Map<string, number>();
  const promoteOps = async (rounds: number) => {
    await Promise.all(Array.from({ length: clients }, async (_, k) => {
      for (let r = 0; r < rounds; r++) {
        for (let j = 0; j < perClient; j++) {
          const name = `obj-${k * perClient + j}`;
          const i = at.get(`p/${name}`) ?? 0;
          const res = await c.call('POST', `${CUSTOM}/namespaces/bench-promote/customresources/${name}/promote`, { from: states[i], reason: `r${i}` });
          if (res.status !== 201) throw new Error(`promote ${name} from ${states[i]}: ${res.status} ${res.text.slice(0, 300)}`);
          at.set(`p/${name}`, i + 1);
        }
      }
    }));
  };
  const patchOps = async (rounds: number) => {
    await Promise.all(Array.from({ length: clients }, async (_, k) => {
      for (let r = 0; r < rounds; r++) {
        for (let j = 0; j < perClient; j++) {
          const name = `obj-${k * perClient + j}`;
          const i = at.get(`d/${name}`) ?? 0;
          const res = await c.call('PATCH', `${STORAGE}/namespaces/bench-patch/customresources/${name}/status`, { status: { state: states[i + 1], stateSince: new Date().toISOString() } }, 'application/merge-patch+json');
          if (res.status !== 200) throw new Error(`patch ${name}: ${res.status} ${res.text.slice(0, 300)}`);
          at.set(`d/${name}`, i + 1);
        }
      }
    }));
  };
  // Alternate the two in three slices of ten rounds each (the last state is protected: stop before it).
  let tPromote = 0;
  let tPatch = 0;
  for (let slice = 0; slice < 3; slice++) {
    let t = performance.now();
    await promoteOps(slice === 2 ? 9 : 10);
    tPromote += performance.now() - t;
    t = performance.now();
    await patchOps(slice === 2 ? 9 : 10);
    tPatch += performance.now() - t;
  }
  const ops = clients * perClient * 29;
  const a = (ops / tPromote) * 1000;
  const b = (ops / tPatch) * 1000;
  // Zero lost updates: every promote is in its object's whole trail (window and archive), once, in order.
  let lost = 0;
  for (let i = 0; i < clients * perClient; i++) {
    const v = JSON.parse((await c.call('GET', `${CUSTOM}/namespaces/bench-promote/customresources/obj-${i}/state`)).text) as { state: string };
    const h = JSON.parse((await c.call('GET', `${CUSTOM}/namespaces/bench-promote/customresources/obj-${i}/history`)).text) as { lives: { entries: { seq: number; reason: string }[] }[] };
    const entries = h.lives[0]?.entries ?? [];
    const inOrder = entries.every((e, k) => e.seq === k + 1 && e.reason === `r${k}`);
    if (entries.length !== 29 || !inOrder || v.state !== 's29') lost++;
  }
  record({ scenario: '4 Writes', measure: `${ops} promotes vs ${ops} status PATCHes, 32 concurrent clients (ops/s)`, a: { name: 'promote (aggregated)', value: a }, b: { name: 'PATCH status (CRD direct)', value: b }, ratio: a / b, target: '≥ 0.8× throughput, 0 lost', pass: a / b >= 0.8 && lost === 0, note: `${lost} objects with a lost or extra update` });
}

async function scenarioWatch(c: BenchClient) {
  const ns = 'bench-watch';
  // Enough objects that 50 changes/s are possible while each object's changes are chained.
  const objects = 30;
  await createObjects(c, ns, objects, { states: ['a', 'b'] });
  await waitCache(c, ns, objects);
  const rv = (JSON.parse((await c.call('GET', `${CUSTOM}/namespaces/${ns}/customresources`)).text) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
  const watchers = 200;
  const sent = new Map<string, number>();
  const latencies: number[] = [];
  const seen: Set<string>[] = Array.from({ length: watchers }, () => new Set());
  const closers = await pool(50, Array.from({ length: watchers }, (_, w) => () => c.watch(`${CUSTOM}/namespaces/${ns}/customresources?watch=1&resourceVersion=${rv}`, (line) => {
    const ev = JSON.parse(line) as { type: string; object: { status?: { history?: { reason?: string }[] } } };
    if (ev.type !== 'MODIFIED') return;
    const reason = ev.object.status?.history?.at(-1)?.reason;
    if (!reason) return;
    seen[w]!.add(reason);
    const t = sent.get(reason);
    if (t !== undefined) latencies.push(performance.now() - t);
  })));
  const rate = 50;
  const seconds = 10;
  const state = new Map<string, string>();
  const start = performance.now();
  // Changes of one object are chained (each waits for the previous answer); objects change side by side.
  const chains = new Map<string, Promise<void>>();
  for (let i = 0; i < rate * seconds; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const name = `obj-${i % objects}`;
    const from = state.get(name) ?? 'a';
    const to = from === 'a' ? 'b' : 'a';
    state.set(name, to);
    const reason = `w${i}`;
    chains.set(name, (chains.get(name) ?? Promise.resolve()).then(async () => {
      sent.set(reason, performance.now());
      const r = await c.call('PUT', `${CUSTOM}/namespaces/${ns}/customresources/${name}/state`, { state: to, from, reason });
      if (r.status !== 200) throw new Error(`set-state ${name}: ${r.status} ${r.text.slice(0, 200)}`);
    }));
  }
  await Promise.all(chains.values());
  const achieved = (rate * seconds) / ((performance.now() - start) / 1000);
  const deadline = performance.now() + 15_000;
  while (performance.now() < deadline && seen.some((s) => s.size < rate * seconds)) await new Promise((r) => setTimeout(r, 100));
  for (const close of closers) close();
  const complete = seen.filter((s) => s.size === rate * seconds).length;
  const s = summarize(latencies);
  record({ scenario: '5 Watch', measure: `${watchers} watchers, ${rate} transitions/s for ${seconds} s: delivery latency`, a: { name: 'write start → event received', summary: s }, target: 'every watcher sees every event; p99 reported', pass: complete === watchers, note: `${complete}/${watchers} watchers saw all ${rate * seconds} events; ${achieved.toFixed(0)} transitions/s achieved` });
}

/**
 * The backend under memory pressure, as issue 12 asks: 10 cluster-wide lists
 * at a time, again and again, while 200 watchers that never read hold
 * watches open and changes keep coming. Returns the backend's peak RSS.
 */
async function scenarioMemoryUnderLoad(stack: Stack, c: BenchClient, objects: number): Promise<void> {
  const proxy = { ca: readFileSync(stack.backend.caFile), cert: readFileSync(stack.cluster.frontProxyClient.cert), key: readFileSync(stack.cluster.frontProxyClient.key) };
  const slow: { destroy(): void }[] = [];
  // Directly to the backend as the front proxy would connect: they take the headers and then read nothing.
  for (let i = 0; i < 200; i++) {
    await new Promise<void>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port: stack.backend.port, servername: 'localhost', ...proxy, path: `${CUSTOM}/namespaces/bench-list/customresources?watch=1`, headers: { 'X-Remote-User': `slow-${i}`, 'X-Remote-Group': 'system:masters' } }, (res) => {
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
      const name = `obj-${i % 500}`;
      const v = JSON.parse((await c.call('GET', `${CUSTOM}/namespaces/bench-list/customresources/${name}/state`)).text) as { state: string; nextState?: string; path: string[] };
      const forward = v.state === v.path[0];
      const to = forward ? v.path[1]! : v.path[0]!;
      // Forward past a gate needs the override (the bench is cluster admin); back is a rollback.
      if ((await c.call('PUT', `${CUSTOM}/namespaces/bench-list/customresources/${name}/state`, { state: to, from: v.state, reason: `churn ${i}`, ...(forward ? { override: true } : {}) })).status === 200) changes++;
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
  const m = rssMiB(stack.backend.pid);
  const limitMiB = 256;
  record({
    scenario: '6 Memory',
    measure: `backend peak RSS, ${lists} cluster-wide lists of ${objects} objects 10 at a time, 200 watchers that do not read, ${changes} changes meanwhile (MiB)`,
    a: { name: 'peak RSS', value: m.peak },
    target: `≤ ${limitMiB} MiB (the Deployment's memory limit)`,
    pass: m.peak <= limitMiB,
    note: `${((performance.now() - t0) / 1000).toFixed(1)} s; node runs with server/runtime-flags.json`,
  });
}

async function main() {
  const started = Date.now();
  if (!upToDate()) await buildExecutable({ log });
  const dir = mkdtempSync(join(tmpdir(), 'kubectl-custom-bench-'));
  // The backend as it runs in its image: the bundle under plain node (running
  // the TypeScript sources directly would add Node's type stripper, ~20 MB).
  // --expose-gc only lets the memory samples collect garbage first (SIGUSR2).
  const stack = await startStack({ dir, log, backendEntry: await buildServer(), backendNodeArgs: ['--expose-gc'] });
  const c = benchClient(stack.cluster);
  const memory: { objects: number; rss: number; peak: number; heapUsed: number }[] = [];
  const mem = async (label: string) => {
    // A quiet moment and a full collection first, so the heap figure is what is held.
    await new Promise((r) => setTimeout(r, 1000));
    process.kill(stack.backend.pid, 'SIGUSR2');
    await new Promise((r) => setTimeout(r, 1000));
    const objs = (JSON.parse((await c.call('GET', `${CUSTOM}/customresources?limit=1`)).text) as { metadata: { remainingItemCount?: number } }).metadata.remainingItemCount ?? 0;
    // prom-client's default metrics carry the V8 heap in use.
    const metrics = await backendMetrics(stack);
    // Old and large-object spaces: what the cache holds, without the young generation's churn.
    const space = (name: string) => Number(new RegExp(`nodejs_heap_space_size_used_bytes\\{space="${name}"\\} (\\S+)`).exec(metrics)?.[1] ?? NaN);
    const direct = String(space('old') + space('large_object'));
    const m = rssMiB(stack.backend.pid);
    const heapUsed = direct ? Number(direct) / 2 ** 20 : NaN;
    memory.push({ objects: objs + 1, ...m, heapUsed });
    log(`memory ${label}: ${objs + 1} objects cached, RSS ${m.rss.toFixed(1)} MiB, peak ${m.peak.toFixed(1)} MiB, V8 old space used ${heapUsed.toFixed(1)} MiB`);
  };
  try {
    await scenarioCli(stack, c);
    await scenarioGet(c);
    await createObjects(c, 'bench-grow', 900, { prefix: 'grow' });
    await fillWindows(c, 'bench-grow', 900, 'grow');
    await waitCache(c, undefined, 1000);
    await mem('at ~1,000');
    await createObjects(c, 'bench-list', 5000);
    await fillWindows(c, 'bench-list', 5000);
    await waitCache(c, 'bench-list', 5000);
    await scenarioList(c, '5,000 objects in one namespace', `${CUSTOM}/namespaces/bench-list/customresources`, `${STORAGE}/namespaces/bench-list/customresources`);
    await scenarioWrites(c);
    await mem('after the writes (scenario 4)');
    const after4 = memory[memory.length - 1]!;
    record({ scenario: '6 Memory', measure: `backend peak RSS with ${after4.objects} objects cached, after scenario 4 (MiB)`, a: { name: 'peak RSS', value: after4.peak }, target: '≤ 150 MB', pass: after4.peak * 1.048576 <= 150 });
    await scenarioMemoryUnderLoad(stack, c, after4.objects);
    // 50 namespaces × 100 objects, listed across all namespaces by label.
    await Promise.all(Array.from({ length: 50 }, (_, i) => createObjects(c, `bench-spread-${i}`, 100, { labels: { spread: 'yes' } }).then(() => fillWindows(c, `bench-spread-${i}`, 100))));
    await waitCache(c, undefined, 5000, 'spread=yes');
    await scenarioList(c, '5,000 objects across 50 namespaces (cluster-wide list by label)', `${CUSTOM}/customresources?labelSelector=spread%3Dyes`, `${STORAGE}/customresources?labelSelector=spread%3Dyes`);
    // Growth: up to 20,000 objects cached (before the watch scenario, whose 200 connections would blur RSS).
    const have = memory[memory.length - 1]!.objects;
    await mem('at ~11,000');
    const more = Math.max(0, 20_000 - have - 5_100);
    await createObjects(c, 'bench-grow-2', more, { prefix: 'grow2' });
    await fillWindows(c, 'bench-grow-2', more, 'grow2');
    await waitCache(c, undefined, 19_000);
    await mem('at ~20,000');
    await scenarioWatch(c);
    const [m1, , m11, m20] = memory;
    // Heap in use, not RSS: RSS holds V8's free headroom from the bursts above.
    const perObj = (x: typeof m1, y: typeof m1) => ((y!.heapUsed - x!.heapUsed) * 1024) / (y!.objects - x!.objects);
    const slopes = [perObj(m1, m11), perObj(m11, m20)];
    record({ scenario: '6 Memory', measure: 'V8 old-space growth per cached object, 1k→11k and 11k→20k (KiB/object)', a: { name: '1k→11k', value: slopes[0]! }, b: { name: '11k→20k', value: slopes[1]! }, ratio: slopes[1]! / slopes[0]!, target: 'linear: ratio of the two slopes within 0.5–2', pass: slopes[1]! / slopes[0]! <= 2 && slopes[1]! / slopes[0]! >= 0.5, note: `RSS ${m1!.rss.toFixed(0)} → ${m11!.rss.toFixed(0)} → ${m20!.rss.toFixed(0)} MiB` });
  } finally {
    c.close();
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const cpu = cpus()[0]?.model ?? 'unknown';
  const machine = { cpu, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, kubernetes: KUBERNETES_VERSION, date: new Date().toISOString(), seconds: Math.round((Date.now() - started) / 1000) };
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  const file = join(ROOT, 'bench/results', `${machine.date.slice(0, 10)}.json`);
  writeFileSync(file, JSON.stringify({ machine, results, memory }, null, 2) + '\n');
  const rows = results.map((r) => `| ${r.scenario} | ${r.measure} | ${r.a.name}: ${fmt(r.a)} | ${r.b ? `${r.b.name}: ${fmt(r.b)}` : ''} | ${r.ratio !== undefined ? r.ratio.toFixed(2) : ''} | ${r.target} | ${r.pass ? 'pass' : '**short**'}${r.note ? ` (${r.note})` : ''} |`);
  const md = `# Benchmark results

Run with \`npm run bench\` on ${machine.date} (${machine.seconds} s): ${machine.cores} × ${cpu}, ${machine.memoryGiB} GiB, Node ${machine.node}, Kubernetes ${machine.kubernetes}. Each comparison ran interleaved in the same run (A then B, alternating which goes first); figures are wall times unless stated.

| scenario | measure | A | B | A/B | target | result |
|---|---|---|---|---|---|---|
${rows.join('\n')}

Memory samples (objects cached → backend RSS / peak RSS / V8 old space used, MiB): ${memory.map((m) => `${m.objects} → ${m.rss.toFixed(0)} / ${m.peak.toFixed(0)} / ${m.heapUsed.toFixed(0)}`).join('; ')}.

Raw data: \`bench/results/${machine.date.slice(0, 10)}.json\`.
`;
  writeFileSync(join(ROOT, 'bench/RESULTS.md'), md);
  log(`wrote ${file} and bench/RESULTS.md in ${machine.seconds} s`);
}

await main();
