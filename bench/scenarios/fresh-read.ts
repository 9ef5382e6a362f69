// 5. The consistent read behind a fresh resourceVersion: a client that got a
// resourceVersion elsewhere (a write to kube-apiserver, another replica)
// lists through the backend at that resourceVersion before the backend's
// cache has seen it; the backend asks kube-apiserver the same question (a
// page read through, server/src/store/crd-consistent-read.ts) instead of
// waiting for a bookmark. And GET without resourceVersion right after a
// write must show it (a quorum read).
// Measured with the whole cache loaded, against the same list without
// resourceVersion and against the CRD asked the same question.
import type { Ctx } from '../context.ts';
import { addRequests, apiserverRequests, CUSTOM, getJson, metric, perChange, requestDiff, STORAGE, totalOf } from '../fixtures.ts';
import type { BenchClient } from '../http-client.ts';
import { cpuDiff, cpuSnapshot, settle } from '../proc.ts';
import { ms } from '../report.ts';
import { measureRounds, summarize } from '../stats.ts';

/** Longer than the backend's least interval between two consistent reads (250 ms), so that each request gets its own. */
const SPACING_MS = 300;

export async function scenarioFreshRead(ctx: Ctx, ns: string, name: string): Promise<void> {
  const { c, backend, cfg, report, pids } = ctx;
  const objects = (await getJson<{ items: unknown[]; metadata: { remainingItemCount?: number } }>(c, `${CUSTOM}/customresources?limit=1`)).metadata.remainingItemCount ?? 0;
  const cm = `/api/v1/namespaces/${ns}/configmaps`;
  const made = await c.call('POST', cm, { metadata: { name: 'bench-fresh' }, data: { n: '0' } });
  if (made.status !== 201 && made.status !== 409) throw new Error(`configmap: ${made.status} ${made.text.slice(0, 200)}`);
  let n = 0;
  const rvOf = (r: { status: number; text: string }, what: string) => {
    if (r.status !== 200) throw new Error(`${what}: ${r.status} ${r.text.slice(0, 200)}`);
    return (JSON.parse(r.text) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
  };
  // A write elsewhere in the cluster: etcd's revision moves, no CustomResource changes.
  const writeConfigMap = async () => rvOf(await c.call('PATCH', `${cm}/bench-fresh`, { data: { n: String(++n) } }, 'application/merge-patch+json'), 'configmap write');
  // A write to a CustomResource: its event is on its way to the backend's watch.
  const writeObject = async () => rvOf(await c.call('PATCH', `${STORAGE}/namespaces/${ns}/customresources/${name}`, { metadata: { annotations: { 'bench.example.com/fresh': String(++n) } } }, 'application/merge-patch+json'), 'object write');
  const list = async (client: BenchClient, base: string, rv?: string) => {
    const path = `${base}/namespaces/${ns}/customresources?limit=1${rv ? `&resourceVersion=${rv}` : ''}`;
    const t = performance.now();
    const r = await client.call('GET', path);
    const took = performance.now() - t;
    if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${r.text.slice(0, 200)}`);
    return took;
  };
  const fns = {
    fresh: async () => list(c, CUSTOM, await writeConfigMap()),
    plain: async () => (await writeConfigMap(), list(c, CUSTOM)),
    crd: async () => list(c, STORAGE, await writeConfigMap()),
    freshObject: async () => list(c, CUSTOM, await writeObject()),
  };
  const r = await measureRounds(cfg.freshRuns, fns, { warmup: 2, pauseMs: SPACING_MS });
  const s = { fresh: summarize(r.fresh), plain: summarize(r.plain), crd: summarize(r.crd), freshObject: summarize(r.freshObject) };

  // What one fresh read costs: CPU and kube-apiserver requests, each kind in a block of its own.
  const block = async (f: () => Promise<number>, k: number) => {
    const reads0 = metric(await backend.text('/metrics'), 'custom_cache_consistent_reads');
    const before = await apiserverRequests(c);
    const cpu0 = cpuSnapshot(pids);
    for (let i = 0; i < k; i++) {
      await f();
      await new Promise((res) => setTimeout(res, SPACING_MS));
    }
    await settle([pids.backend, pids.kubeApiserver, pids.etcd], { quietMs: 50 });
    const cpu = cpuDiff(cpu0, cpuSnapshot(pids));
    const requests = new Map<string, number>();
    addRequests(requests, requestDiff(before, await apiserverRequests(c)));
    // kube-apiserver's request counters leave out what it proxies to the backend: one list per read.
    addRequests(requests, new Map([['LIST custom.example.com/customresources (proxied)', k]]));
    const reads = metric(await backend.text('/metrics'), 'custom_cache_consistent_reads') - reads0;
    return { cpu, requests, reads, k };
  };
  const k = Math.min(10, cfg.freshRuns);
  const costFresh = await block(fns.fresh, k);
  const costPlain = await block(fns.plain, k);

  // Read-after-write without resourceVersion: kube-apiserver answers a GET without one from etcd (the
  // most recent); does the backend answer with the write just made?
  const upToDate = { backend: 0, crd: 0 };
  for (let i = 0; i < cfg.freshRuns; i++) {
    await writeObject();
    const want = String(n);
    for (const [k, base] of [['backend', CUSTOM], ['crd', STORAGE]] as const) {
      const o = await getJson<{ metadata: { annotations?: Record<string, string> } }>(c, `${base}/namespaces/${ns}/customresources/${name}`);
      if (o.metadata.annotations?.['bench.example.com/fresh'] === want) upToDate[k]++;
    }
  }

  const scenario = '5 Fresh read';
  const measure = `LIST limit=1 in a namespace through the backend, ${objects + 1} objects cached, at the resourceVersion of a ConfigMap write just made`;
  report.add({ scenario, measure: `${measure}, p50`, a: { name: 'at the fresh resourceVersion', summary: s.fresh }, b: { name: 'without resourceVersion', summary: s.plain }, stat: 'p50' });
  report.add({ scenario, measure: `${measure}, p99`, a: { name: 'at the fresh resourceVersion', summary: s.fresh }, b: { name: 'without resourceVersion', summary: s.plain }, stat: 'p99' });
  report.add({
    scenario, measure: 'the same question asked of the CRD (kube-apiserver\'s watch cache)', a: { name: 'backend, fresh resourceVersion', summary: s.fresh }, b: { name: 'CRD direct, fresh resourceVersion', summary: s.crd },
    target: '≤ 10×', pass: s.fresh.p50 / s.crd.p50 <= 10,
    cause: `the backend's answer is kube-apiserver's proxy (in front) plus the same LIST asked of kube-apiserver (behind): ${ms(s.fresh.p50)} ms against ${ms(s.crd.p50)} ms for the CRD alone.`,
  });
  report.add({ scenario, measure: 'at the resourceVersion of a write to a CustomResource (its event on the way to the backend)', a: { name: 'at the fresh resourceVersion', summary: s.freshObject }, b: { name: 'without resourceVersion (after a ConfigMap write)', summary: s.plain } });
  const per = (x: typeof costFresh, key: 'backend' | 'kubeApiserver' | 'etcd') => x.cpu[key] / x.k;
  report.add({ scenario, measure: 'CPU time per read: kube-apiserver (the ConfigMap write included on both sides)', a: { name: 'fresh', value: per(costFresh, 'kubeApiserver'), unit: 'ms' }, b: { name: 'without resourceVersion', value: per(costPlain, 'kubeApiserver'), unit: 'ms' } });
  report.add({ scenario, measure: 'CPU time per read: the backend', a: { name: 'fresh', value: per(costFresh, 'backend'), unit: 'ms' }, b: { name: 'without resourceVersion', value: per(costPlain, 'backend'), unit: 'ms' } });
  report.add({
    scenario, measure: 'requests kube-apiserver served per read (the ConfigMap write included)',
    a: { name: 'fresh', value: totalOf(costFresh.requests) / k }, b: { name: 'without resourceVersion', value: totalOf(costPlain.requests) / k },
    note: `fresh: ${perChange(costFresh.requests, k)}; without: ${perChange(costPlain.requests, k)}; the backend made ${(costFresh.reads / k).toFixed(2)} consistent reads per fresh read`,
  });
  report.add({
    scenario, measure: 'GET without resourceVersion right after a direct write to the object: answers that show the write',
    a: { name: 'aggregated', text: `${upToDate.backend}/${cfg.freshRuns}` }, b: { name: 'CRD direct', text: `${upToDate.crd}/${cfg.freshRuns}` },
    target: 'every answer', pass: upToDate.backend === cfg.freshRuns,
    cause: `${cfg.freshRuns - upToDate.backend} of ${cfg.freshRuns} GETs through the backend did not show the write acknowledged just before.`,
  });
  report.note(scenario, `one request at a time, ${cfg.freshRuns} of each kind interleaved, spaced ${SPACING_MS} ms apart (longer than the backend's least interval between two consistent reads, so each fresh read pays for its own); the write just before each read is not timed. A LIST page (limit) at a resourceVersion the cache has not reached, and one without resourceVersion, is asked of kube-apiserver as asked (read through; a whole LIST instead proves the cache fresh with a metadata-only consistent LIST of its scope, server/src/store/crd-consistent-read.ts), so nothing waits for a bookmark. CPU and request counts come from blocks of ${k} reads of one kind, read around the block and after the processes went quiet. The p50 of the fresh read was ${ms(s.fresh.p50)} ms against ${ms(s.crd.p50)} ms for kube-apiserver answering the same question about the CRD.`);
}
