// The gate webhook on a stack of its own, for what would disturb other
// tests: the backend down (kube-apiserver refuses writes of the storage CRD,
// fail closed, with a message that says so) and restarted while people
// write (no weakening slips through while it is away, and writes go on once
// it is back).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEBHOOK_NAME } from '../../api/src/names.ts';
import type { StoredObject } from '../../api/src/types.ts';
import { restartBackend } from '../../cluster/backend.ts';
import { isAlive, stopProcess } from '../../cluster/processes.ts';
import { startStack, type Stack } from '../../cluster/stack.ts';
import { apiOn, eventually, STORAGE } from './harness.ts';

let stack: Stack;
let dir: string;
const NS = 'webhook';
const OBJECTS = `${STORAGE}/namespaces/${NS}/customresources`;

const as = (user: 'admin' | 'bob') => <T = Record<string, unknown>>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => apiOn<T>(stack.cluster, user, method, path, body, headers);
const admin = as('admin');
const bob = as('bob');
const merge = { 'Content-Type': 'application/merge-patch+json' };
const object = (name: string, spec: Record<string, unknown> = {}) => ({ apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name }, spec: { name, states: ['dev', 'staging', 'prod'], protectedStates: ['prod'], ...spec } });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kubectl-custom-webhook-'));
  stack = await startStack({ dir });
  expect((await admin('POST', '/api/v1/namespaces', { metadata: { name: NS } })).status).toBe(201);
  // bob edits the namespace's objects (as `edit` would give him), with no verb on states.
  const binding = { metadata: { name: 'bob-editor' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'kubectl-custom-editor' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'bob' }] };
  expect((await admin('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings`, binding)).status).toBe(201);
  // prod is gated by a GatePolicy too, so that only the webhook (not the spec-only policy) sees it.
  const policy = { apiVersion: 'example.com/v1', kind: 'GatePolicy', metadata: { name: 'prod' }, spec: { rules: [{ states: ['prod'], requiredApprovals: 1 }] } };
  expect((await admin('POST', `${STORAGE}/namespaces/${NS}/gatepolicies`, policy)).status).toBe(201);
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  if (dir && !process.env['KEEP_CLUSTER_DIR']) rmSync(dir, { recursive: true, force: true });
});

describe('the gate webhook', () => {
  it('while no backend answers: writes of the storage CRD are refused with a message naming the webhook, reads go on; once it is back they pass', async () => {
    expect((await admin('POST', OBJECTS, object('before'))).status).toBe(201);
    await stopProcess(stack.backend.pid);
    try {
      for (const [what, r] of [
        ['create', await admin('POST', OBJECTS, object('while-down'))],
        ['update', await admin('PATCH', `${OBJECTS}/before`, { metadata: { labels: { x: 'y' } } }, merge)],
        ['delete', await admin('DELETE', `${OBJECTS}/before`)],
      ] as const) {
        expect(r.status, `${what}: ${r.text}`).toBe(500);
        expect((r.body as { message?: string }).message, what).toMatch(new RegExp(`failed calling webhook "${WEBHOOK_NAME}"`));
      }
      const read = await admin<{ items: StoredObject[] }>('GET', OBJECTS);
      expect(read.status).toBe(200);
      expect(read.body.items.map((o) => o.metadata.name)).toEqual(['before']);
    } finally {
      stack.backend.pid = (await restartBackend(stack.backend)).pid;
    }
    await eventually('creates pass again', async () => (await admin('POST', OBJECTS, object('after'))).status === 201, 30_000);
  }, 90_000);

  it('restarted while people write: every write either passes or is refused whole, no weakening ever passes, and writes go on afterwards', async () => {
    expect((await bob('POST', OBJECTS, object('busy'))).status).toBe(201);
    const outcomes = { written: 0, refusedWhileDown: 0, weakeningRefused: 0, weakeningPassed: 0, other: [] as string[] };
    let stop = false;
    const writer = (async () => {
      for (let i = 0; !stop && i < 2000; i++) {
        // A harmless edit (a label) and a weakening (prod before staging: a GatePolicy gate reordered), by turns.
        const harmless = i % 2 === 0;
        const body = harmless ? { metadata: { labels: { round: String(i) } } } : { spec: { states: ['dev', 'prod', 'staging'] } };
        const r = await bob('PATCH', `${OBJECTS}/busy`, body, merge);
        const message = String((r.body as { message?: string }).message ?? r.text);
        if (r.status === 200 && harmless) outcomes.written++;
        else if (r.status === 200) outcomes.weakeningPassed++;
        else if (message.includes(`failed calling webhook "${WEBHOOK_NAME}"`) || message.includes('has not listed the GatePolicies and Freezes yet')) outcomes.refusedWhileDown++;
        else if (r.status === 403 && message.includes('needs the "override" verb on states.custom.example.com "prod"')) outcomes.weakeningRefused++;
        else outcomes.other.push(`${r.status} ${message}`);
        await new Promise((res) => setTimeout(res, 20));
      }
    })();
    await new Promise((res) => setTimeout(res, 1500));
    const before = { ...outcomes };
    await stopProcess(stack.backend.pid);
    await new Promise((res) => setTimeout(res, 1500));
    stack.backend.pid = (await restartBackend(stack.backend)).pid;
    const back = outcomes.written;
    await eventually('harmless writes pass again after the restart', async () => outcomes.written > back + 3, 30_000);
    stop = true;
    await writer;
    expect(isAlive(stack.backend.pid)).toBe(true);
    expect(outcomes.other, 'no write failed in another way').toEqual([]);
    expect(outcomes.weakeningPassed, 'no weakening passed').toBe(0);
    expect(before.weakeningRefused, 'weakenings were refused by the webhook before the restart').toBeGreaterThan(0);
    expect(outcomes.refusedWhileDown, 'writes were refused while the backend was away').toBeGreaterThan(0);
    const busy = await admin<StoredObject>('GET', `${OBJECTS}/busy`);
    expect(busy.body.spec.states).toEqual(['dev', 'staging', 'prod']);
  }, 120_000);
});
