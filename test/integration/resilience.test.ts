// Faults on a stack of this file's own (so other files keep theirs): the
// backend SIGKILLed in the middle of a stream of transitions, and
// kube-apiserver killed and brought back.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restartBackend } from '../cluster/backend.ts';
import { restartApiserver } from '../cluster/control-plane.ts';
import { isAlive } from '../cluster/processes.ts';
import { startStack, type Stack } from '../cluster/stack.ts';
import { direct } from './backend-client.ts';
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
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const api = <T = Record<string, unknown>>(method: string, path: string, body?: unknown, timeoutMs = 10_000) => apiOn<T>(stack.cluster, 'admin', method, path, body, {}, timeoutMs).catch((err: Error) => ({ status: 0, body: undefined as T, text: err.message }));
const ready = async () => (await direct({ path: '/readyz' }, stack.backend.port, stack.backend.caFile).catch(() => ({ status: 0 }))).status === 200;
type View = { state: string; history: { from: string; to: string; reason?: string }[] };

async function create(name: string, states: string[]) {
  const r = await api('POST', `${STORAGE}/namespaces/${NS}/customresources`, { apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name }, spec: { name, states } });
  expect(r.status, r.text).toBe(201);
  await eventually(`backend serves ${name}`, async () => (await api('GET', `${CUSTOM}/namespaces/${NS}/customresources/${name}`)).status === 200, 30_000);
}

describe('resilience', () => {
  it('a backend SIGKILLed mid-stream: every acknowledged transition is in the history once, none twice', async () => {
    const states = ['s0', 's1', 's2'];
    const names = ['crash-0', 'crash-1', 'crash-2', 'crash-3'];
    for (const n of names) await create(n, states);
    const acked: { name: string; reason: string }[] = [];
    const unanswered: { name: string; reason: string }[] = [];
    const errors: number[] = [];
    let stop = false;
    const client = async (c: number) => {
      for (let i = 0; !stop && i < 200; i++) {
        const name = names[c]!;
        const seen = await api<View>('GET', `${CUSTOM}/namespaces/${NS}/customresources/${name}/state`);
        if (seen.status !== 200) {
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        const from = seen.body.state;
        const to = states[(states.indexOf(from) + 1) % states.length]!;
        const reason = `c${c}-t${i}`;
        // A client that gets no answer retries the same change with the same `from`.
        for (let attempt = 0; attempt < 5; attempt++) {
          const r = await api('PUT', `${CUSTOM}/namespaces/${NS}/customresources/${name}/state`, { state: to, from, reason }, 5_000);
          if (r.status === 200) {
            acked.push({ name, reason });
            break;
          }
          if (r.status === 409) {
            // Either someone else moved it, or an earlier attempt of ours went through unanswered.
            unanswered.push({ name, reason });
            break;
          }
          errors.push(r.status);
          if (attempt === 4) unanswered.push({ name, reason });
          await new Promise((res) => setTimeout(res, 200));
        }
      }
    };
    const clients = names.map((_, c) => client(c));
    for (let round = 0; round < 2; round++) {
      await eventually('some transitions acknowledged', async () => acked.length >= (round + 1) * 10, 30_000);
      process.kill(stack.backend.pid, 'SIGKILL');
      await eventually('the backend is gone', async () => !isAlive(stack.backend.pid));
      const b = await restartBackend(stack.backend);
      stack.backend.pid = b.pid;
      await eventually('the backend is ready again', ready, 30_000);
    }
    await eventually('more transitions after the last restart', async () => acked.length >= 30, 30_000);
    stop = true;
    await Promise.all(clients);
    // Errors during the outage were "unavailable" (5xx from the aggregator) or no answer, never a wrong answer.
    expect(errors.every((s) => s === 0 || s >= 500)).toBe(true);
    for (const name of names) {
      const v = (await api<View>('GET', `${CUSTOM}/namespaces/${NS}/customresources/${name}/state`)).body;
      const reasons = v.history.map((h) => h.reason);
      expect(new Set(reasons).size, 'no change recorded twice').toBe(reasons.length);
      for (const a of acked.filter((x) => x.name === name)) expect(reasons, `acknowledged ${a.reason}`).toContain(a.reason);
      const known = new Set([...acked, ...unanswered].filter((x) => x.name === name).map((x) => x.reason));
      for (const r of reasons) expect(known.has(r!), `history entry ${r} was sent by a client`).toBe(true);
      let at = 's0';
      for (const h of v.history) {
        expect(h.from).toBe(at);
        at = h.to;
      }
    }
  });

  it('kube-apiserver killed for a few seconds: readyz goes false, then true, and the cache is correct', async () => {
    await create('before-outage', ['a', 'b']);
    expect(await ready()).toBe(true);
    process.kill(stack.cluster.pids.kubeApiserver, 'SIGKILL');
    await eventually('readyz fails', async () => !(await ready()), 20_000);
    await new Promise((r) => setTimeout(r, 3000));
    expect(await ready()).toBe(false);
    await restartApiserver(stack.cluster);
    await eventually('readyz passes again', ready, 60_000);
    // Changes after the outage reach the cache, and nothing from before is lost.
    await create('after-outage', ['a', 'b']);
    const promoted = await api<View>('POST', `${CUSTOM}/namespaces/${NS}/customresources/before-outage/promote`, { from: 'a' });
    expect(promoted.status, promoted.text).toBe(201);
    const viaBackend = (await api<{ items: { metadata: { name: string; resourceVersion: string } }[] }>('GET', `${CUSTOM}/namespaces/${NS}/customresources`)).body.items;
    const direct = (await api<{ items: { metadata: { name: string; resourceVersion: string } }[] }>('GET', `${STORAGE}/namespaces/${NS}/customresources`)).body.items;
    expect(viaBackend.map((i) => [i.metadata.name, i.metadata.resourceVersion])).toEqual(direct.map((i) => [i.metadata.name, i.metadata.resourceVersion]));
  });
});
