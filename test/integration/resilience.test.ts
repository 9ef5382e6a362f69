// Faults on a stack of this file's own (so other files keep theirs): the
// backend SIGKILLed in the middle of a stream of transitions, and
// kube-apiserver killed and brought back.
import { verifyChain } from '../../api/src/history-chain.ts';
import type { CustomResourceHistory } from '../../api/src/types.ts';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { lineSplitter } from '../../client/src/watch-stream.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerLocalApiService } from '../../cluster/aggregation.ts';
import { adminKubeConfig, BACKEND_SERVICE, restartBackend, startBackend, waitFinalizerPolicy } from '../../cluster/backend.ts';
import { restartApiserver, restartEtcd } from '../../cluster/control-plane.ts';
import { isAlive, stopProcess } from '../../cluster/processes.ts';
import { startStack, type Stack } from '../../cluster/stack.ts';
import { asUser, direct } from './backend-client.ts';
import { apiOn, CUSTOM, eventually, STORAGE } from './harness.ts';

let stack: Stack;
let dir: string;
const NS = 'resilience';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kubectl-custom-resilience-'));
  stack = await startStack({ dir });
  const r = await apiOn(stack.cluster, 'admin', 'POST', '/api/v1/namespaces', { metadata: { name: NS } });
  expect(r.status).toBe(201);
});

afterAll(async () => {
  await stack?.stop();
  if (dir && !process.env['KEEP_CLUSTER_DIR']) rmSync(dir, { recursive: true, force: true });
});

const api = <T = Record<string, unknown>>(method: string, path: string, body?: unknown, timeoutMs = 10_000) => apiOn<T>(stack.cluster, 'admin', method, path, body, {}, timeoutMs).catch((err: Error) => ({ status: 0, body: undefined as T, text: err.message }));
const ready = async () => (await direct({ path: '/readyz' }, stack.backend.port, stack.backend.caFile).catch(() => ({ status: 0 }))).status === 200;
type View = { state: string; history: { from: string; to: string; reason?: string }[] };

async function create(name: string, states: string[]) {
  const r = await api('POST', `${STORAGE}/namespaces/${NS}/customresources`, { apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name }, spec: { name, states } });
  expect(r.status, r.text).toBe(201);
  await eventually(`backend serves ${name}`, async () => (await api('GET', `${CUSTOM}/namespaces/${NS}/customresources/${name}`)).status === 200, 30_000);
}

interface LoadResult {
  acked: { name: string; reason: string }[];
  unanswered: { name: string; reason: string }[];
  errors: number[];
}

/**
 * Scenario 4's kind of load (clients changing state, each on its own
 * objects, retrying unanswered changes with the same `from` as a real client
 * would) while `fault` runs; then checks that every acknowledged change is in
 * the history once, nothing is there twice, and each history is one chain.
 */
async function underLoad(prefix: string, fault: (progress: () => number) => Promise<void>): Promise<LoadResult> {
  const states = ['s0', 's1', 's2'];
  const names = Array.from({ length: 6 }, (_, i) => `${prefix}-${i}`);
  for (const n of names) await create(n, states);
  const res: LoadResult = { acked: [], unanswered: [], errors: [] };
  let stop = false;
  const client = async (c: number) => {
    for (let i = 0; !stop && i < 400; i++) {
      const name = names[c]!;
      const seen = await api<View>('GET', `${CUSTOM}/namespaces/${NS}/customresources/${name}/state`, undefined, 5_000);
      if (seen.status !== 200) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      const from = seen.body.state;
      const to = states[(states.indexOf(from) + 1) % states.length]!;
      const reason = `${prefix}-c${c}-t${i}`;
      for (let attempt = 0; attempt < 8; attempt++) {
        const r = await api('PUT', `${CUSTOM}/namespaces/${NS}/customresources/${name}/state`, { state: to, from, reason }, 5_000);
        if (r.status === 200) {
          res.acked.push({ name, reason });
          break;
        }
        if (r.status === 409) {
          // Someone else moved it, or an earlier attempt of ours went through unanswered.
          res.unanswered.push({ name, reason });
          break;
        }
        res.errors.push(r.status);
        if (attempt === 7) res.unanswered.push({ name, reason });
        await new Promise((w) => setTimeout(w, 250));
      }
    }
  };
  const clients = names.map((_, c) => client(c));
  await eventually('some transitions acknowledged', async () => res.acked.length >= 10, 30_000);
  await fault(() => res.acked.length);
  const after = res.acked.length;
  await eventually('transitions acknowledged after the fault', async () => res.acked.length >= after + 10, 60_000);
  stop = true;
  await Promise.all(clients);
  // Clients saw "unavailable" (5xx from the aggregator or the backend) or no answer during the fault, never a wrong answer.
  expect(res.errors.filter((s) => !(s === 0 || s >= 500))).toEqual([]);
  for (const name of names) {
    const v = (await api<View>('GET', `${CUSTOM}/namespaces/${NS}/customresources/${name}/state`)).body;
    // The whole trail (the window in status plus the archived segments), chained without a gap.
    const h = await api<CustomResourceHistory>('GET', `${CUSTOM}/namespaces/${NS}/customresources/${name}/history`);
    expect(h.status, h.text).toBe(200);
    const trail = h.body.lives[0]!.entries;
    expect(verifyChain(trail)).toMatchObject({ ok: true, firstSeq: 1 });
    const reasons = trail.map((h) => h.reason);
    expect(new Set(reasons).size, 'no change recorded twice').toBe(reasons.length);
    for (const a of res.acked.filter((x) => x.name === name)) expect(reasons, `acknowledged ${a.reason}`).toContain(a.reason);
    const sent = new Set([...res.acked, ...res.unanswered].filter((x) => x.name === name).map((x) => x.reason));
    for (const r of reasons) expect(sent.has(r!), `history entry ${r} was sent by a client`).toBe(true);
    let at = 's0';
    for (const h of trail) {
      expect(h.from).toBe(at);
      at = h.to!;
    }
    expect(v.state).toBe(at);
  }
  return res;
}

describe('resilience under load', () => {
  it('the backend SIGKILLed and restarted three times', async () => {
    await underLoad('crash', async (progress) => {
      for (let round = 0; round < 3; round++) {
        const before = progress();
        await eventually('transitions go through', async () => progress() >= before + 5, 60_000);
        process.kill(stack.backend.pid, 'SIGKILL');
        await eventually('the backend is gone', async () => !isAlive(stack.backend.pid));
        const b = await restartBackend(stack.backend);
        stack.backend.pid = b.pid;
        await eventually('the backend is ready again by itself', ready, 30_000);
      }
    });
  }, 240_000);

  it('kube-apiserver restarted', async () => {
    await underLoad('apiserver', async () => {
      await stopProcess(stack.cluster.pids.kubeApiserver);
      await new Promise((r) => setTimeout(r, 1000));
      await restartApiserver(stack.cluster);
      await eventually('the backend is ready again by itself', ready, 60_000);
      // Until kube-apiserver's admission has read the CRD's schema again,
      // creates answer 503; the next test creates objects.
      await waitFinalizerPolicy(stack.cluster);
    });
  }, 240_000);

  it('etcd restarted', async () => {
    await underLoad('etcd', async () => {
      await stopProcess(stack.cluster.pids.etcd);
      await new Promise((r) => setTimeout(r, 1000));
      await restartEtcd(stack.cluster);
      await eventually('the backend is ready again by itself', ready, 60_000);
    });
  }, 240_000);
});

describe('resilience', () => {
  it('kube-apiserver killed for a few seconds: readyz goes false, then true, and the cache is correct', async () => {
    await create('before-outage', ['a', 'b']);
    expect(await ready()).toBe(true);
    process.kill(stack.cluster.pids.kubeApiserver, 'SIGKILL');
    await eventually('readyz fails', async () => !(await ready()), 20_000);
    await new Promise((r) => setTimeout(r, 3000));
    expect(await ready()).toBe(false);
    await restartApiserver(stack.cluster);
    await eventually('readyz passes again', ready, 60_000);
    await waitFinalizerPolicy(stack.cluster);
    // Changes after the outage reach the cache, and nothing from before is lost.
    await create('after-outage', ['a', 'b']);
    const promoted = await api<View>('POST', `${CUSTOM}/namespaces/${NS}/customresources/before-outage/promote`, { from: 'a' });
    expect(promoted.status, promoted.text).toBe(201);
    const viaBackend = (await api<{ items: { metadata: { name: string; resourceVersion: string } }[] }>('GET', `${CUSTOM}/namespaces/${NS}/customresources`)).body.items;
    const direct = (await api<{ items: { metadata: { name: string; resourceVersion: string } }[] }>('GET', `${STORAGE}/namespaces/${NS}/customresources`)).body.items;
    expect(viaBackend.map((i) => [i.metadata.name, i.metadata.resourceVersion])).toEqual(direct.map((i) => [i.metadata.name, i.metadata.resourceVersion]));
  }, 240_000);

  it('two replicas behind one APIService: consistent writes while the APIService switches, and a write on one is read on the other within a bound', async () => {
    const second = await startBackend({ cluster: stack.cluster, dir: join(dir, 'replica-2'), register: false, tls: { caFile: stack.backend.caFile, certFile: stack.backend.certFile, keyFile: stack.backend.keyFile } });
    try {
      const kc = adminKubeConfig(stack.cluster);
      const ports = [stack.backend.port, second.port];
      const caBundle = readFileSync(stack.backend.caFile, 'utf8');
      let switches = 0;
      await underLoad('replicas', async () => {
        for (let i = 1; i <= 4; i++) {
          await registerLocalApiService(kc, { group: 'custom.example.com', version: 'v1', service: BACKEND_SERVICE, port: ports[i % 2]!, caBundle });
          switches++;
          await new Promise((r) => setTimeout(r, 1500));
        }
      });
      expect(switches).toBe(4);
      // Read-after-write across replicas: write through one, poll the other directly.
      await create('raw', ['a', 'b', 'c']);
      // This stack's own front-proxy certificate, as its kube-apiserver presents it.
      const proxyCert = { cert: readFileSync(stack.cluster.frontProxyClient.cert, 'utf8'), key: readFileSync(stack.cluster.frontProxyClient.key, 'utf8') };
      const admin = { cert: proxyCert, headers: { ...asUser('root', ['system:masters']), 'Content-Type': 'application/json' } };
      const lags: number[] = [];
      for (let i = 0; i < 10; i++) {
        const [writer, reader] = i % 2 === 0 ? [stack.backend, second] : [second, stack.backend];
        const path = `${CUSTOM}/namespaces/${NS}/customresources/raw`;
        const cur = JSON.parse((await direct({ path, ...admin }, writer.port, writer.caFile)).body) as { status: { state: string } };
        const to = cur.status.state === 'a' ? 'b' : 'a';
        const w = await direct({ method: 'PUT', path: `${path}/state`, body: JSON.stringify({ state: to, from: cur.status.state }), ...admin }, writer.port, writer.caFile);
        expect(w.status, w.body).toBe(200);
        const t0 = performance.now();
        await eventually('the other replica sees the write', async () => (JSON.parse((await direct({ path, ...admin }, reader.port, reader.caFile)).body) as { status: { state: string } }).status.state === to, 5_000);
        lags.push(performance.now() - t0);
      }
      lags.sort((a, b) => a - b);
      console.log(`read-after-write on the other replica: median ${lags[5]!.toFixed(1)} ms, max ${lags[9]!.toFixed(1)} ms`);
      expect(lags[9]!).toBeLessThan(5_000);
    } finally {
      await stopProcess(second.pid);
      await registerLocalApiService(adminKubeConfig(stack.cluster), { group: 'custom.example.com', version: 'v1', service: BACKEND_SERVICE, port: stack.backend.port, caBundle: readFileSync(stack.backend.caFile, 'utf8') });
    }
  }, 240_000);
});

describe('watches at a resourceVersion the cache has not reached', () => {
  /** A watch through the given replica (directly, as the front proxy would send it); resolves once it answered. */
  function watchOn(port: number, path: string): { status: Promise<number>; events: { type: string; object: { metadata: { name?: string; resourceVersion: string } } }[]; close(): void } {
    const proxyCert = { cert: readFileSync(stack.cluster.frontProxyClient.cert), key: readFileSync(stack.cluster.frontProxyClient.key) };
    const events: { type: string; object: { metadata: { name?: string; resourceVersion: string } } }[] = [];
    let statusResolve!: (n: number) => void;
    const status = new Promise<number>((r) => (statusResolve = r));
    const req = httpsRequest({ host: '127.0.0.1', port, path, ca: readFileSync(stack.backend.caFile), servername: 'localhost', ...proxyCert, headers: asUser('root', ['system:masters']) }, (res) => {
      statusResolve(res.statusCode ?? 0);
      const lines = lineSplitter();
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        for (const l of lines(d)) events.push(JSON.parse(l) as (typeof events)[number]);
      });
      res.on('error', () => {});
    });
    req.on('error', () => statusResolve(0));
    req.end();
    return { status, events, close: () => req.destroy() };
  }

  it('two replicas: list through one, watch through the other after an unrelated write, 50 times: every watch starts within 5 s and sees every later change, none gets a 504', async () => {
    const second = await startBackend({ cluster: stack.cluster, dir: join(dir, 'replica-fresh'), register: false, extraArgs: ['--v=debug'], tls: { caFile: stack.backend.caFile, certFile: stack.backend.certFile, keyFile: stack.backend.keyFile } });
    const proxyCert = { cert: readFileSync(stack.cluster.frontProxyClient.cert, 'utf8'), key: readFileSync(stack.cluster.frontProxyClient.key, 'utf8') };
    const admin = { cert: proxyCert, headers: { ...asUser('root', ['system:masters']), 'Content-Type': 'application/json' } };
    try {
      await create('fresh', ['a', 'b']);
      const starts: number[] = [];
      for (let i = 0; i < 50; i++) {
        const [lister, watcher] = i % 2 === 0 ? [stack.backend, second] : [second, stack.backend];
        const list = JSON.parse((await direct({ path: `${CUSTOM}/namespaces/${NS}/customresources`, ...admin }, lister.port, lister.caFile)).body) as { metadata: { resourceVersion: string } };
        // An unrelated write moves etcd's revision; half the time the list comes from the CRD itself, after it.
        expect((await api('POST', `/api/v1/namespaces/${NS}/configmaps`, { metadata: { generateName: 'unrelated-' } })).status).toBe(201);
        const rv = i % 4 < 2 ? list.metadata.resourceVersion : (await api<{ metadata: { resourceVersion: string } }>('GET', `${STORAGE}/namespaces/${NS}/customresources`)).body.metadata.resourceVersion;
        const t0 = performance.now();
        const w = watchOn(watcher.port, `${CUSTOM}/namespaces/${NS}/customresources?watch=1&resourceVersion=${rv}&timeoutSeconds=30`);
        expect(await w.status, `watch ${i} at ${rv} through ${watcher === second ? 'the second' : 'the first'} replica`).toBe(200);
        starts.push(performance.now() - t0);
        const cur = (await api<{ state: string }>('GET', `${CUSTOM}/namespaces/${NS}/customresources/fresh/state`)).body.state;
        const to = cur === 'a' ? 'b' : 'a';
        expect((await api('PUT', `${CUSTOM}/namespaces/${NS}/customresources/fresh/state`, { state: to, from: cur })).status).toBe(200);
        await eventually(`watch ${i} sees the change`, async () => w.events.some((e) => e.type === 'MODIFIED' && e.object.metadata.name === 'fresh'), 10_000);
        w.close();
      }
      starts.sort((a, b) => a - b);
      console.log(`watch start at a fresh resourceVersion: p50 ${starts[25]!.toFixed(0)} ms, max ${starts[49]!.toFixed(0)} ms`);
      expect(starts[49]!).toBeLessThan(5_000);
    } finally {
      await stopProcess(second.pid);
    }
  }, 300_000);

  it('timeoutSeconds holds while the watch waits for its resourceVersion', async () => {
    const list = (await api<{ metadata: { resourceVersion: string } }>('GET', `${CUSTOM}/namespaces/${NS}/customresources`)).body;
    // A resourceVersion kube-apiserver has not reached: the wait ends with the request's own timeout.
    const t0 = performance.now();
    const w = watchOn(stack.backend.port, `${CUSTOM}/namespaces/${NS}/customresources?watch=1&resourceVersion=${Number(list.metadata.resourceVersion) + 1_000_000}&timeoutSeconds=1`);
    expect(await w.status).toBe(504);
    expect(performance.now() - t0).toBeLessThan(2_900);
    w.close();
  });

  it('a watch whose client leaves while it waits for its resourceVersion is cleaned up', async () => {
    const metric = async (name: string) => {
      const proxyCert = { cert: readFileSync(stack.cluster.frontProxyClient.cert, 'utf8'), key: readFileSync(stack.cluster.frontProxyClient.key, 'utf8') };
      const text = (await direct({ path: '/metrics', cert: proxyCert, headers: asUser('root', ['system:masters']) }, stack.backend.port, stack.backend.caFile)).body;
      return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    };
    await create('leaver', ['a', 'b']);
    const before = { subscribers: await metric('custom_cache_subscribers'), watchers: await metric('apiserver_registered_watchers') };
    const rv = Number((await api<{ metadata: { resourceVersion: string } }>('GET', `${STORAGE}/namespaces/${NS}/customresources`)).body.metadata.resourceVersion);
    // One revision ahead: reached by the next write, after the client has gone.
    const ws = Array.from({ length: 5 }, () => watchOn(stack.backend.port, `${CUSTOM}/namespaces/${NS}/customresources?watch=1&resourceVersion=${rv + 1}`));
    await new Promise((r) => setTimeout(r, 300));
    for (const w of ws) w.close();
    await new Promise((r) => setTimeout(r, 300));
    expect((await api('POST', `${CUSTOM}/namespaces/${NS}/customresources/leaver/promote`, { from: 'a' })).status).toBe(201);
    await eventually('every watcher is gone again', async () => (await metric('custom_cache_subscribers')) === before.subscribers && (await metric('apiserver_registered_watchers')) === before.watchers, 10_000);
  });
});
