// The trail on a stack of its own, for what would disturb other tests: the
// backend killed between archiving a deletion and releasing the object, two
// replicas archiving the same deletions, and an archived entry edited (with
// the admission policy out of the way) or deleted by retention.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../../api/src/history-chain.ts';
import { FINALIZER } from '../../api/src/names.ts';
import type { CustomResourceHistory, HistoryEntry, StateHistorySegment } from '../../api/src/types.ts';
import { restartBackend, startBackend } from '../../cluster/backend.ts';
import { isAlive, stopProcess } from '../../cluster/processes.ts';
import { startStack, type Stack } from '../../cluster/stack.ts';
import { apiOn, CUSTOM, eventually, STORAGE } from './harness.ts';
import { PLUGIN } from './plugin-cli.ts';

let stack: Stack;
let dir: string;
const NS = 'trail-crash';
const SEGMENTS = `${STORAGE}/namespaces/custom-system/statehistories`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kubectl-custom-trail-'));
  stack = await startStack({ dir, backendArgs: ['--policy-check-interval=1'] });
  expect((await apiOn(stack.cluster, 'admin', 'POST', '/api/v1/namespaces', { metadata: { name: NS } })).status).toBe(201);
});

afterAll(async () => {
  await stack?.stop();
  if (dir && !process.env['KEEP_CLUSTER_DIR']) rmSync(dir, { recursive: true, force: true });
});

const api = <T = Record<string, unknown>>(method: string, path: string, body?: unknown) => apiOn<T>(stack.cluster, 'admin', method, path, body);
const stored = (name: string) => `${STORAGE}/namespaces/${NS}/customresources/${name}`;
const backendLog = () => readFileSync(stack.backend.logFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: string; msg: string });

async function create(name: string, changes: number): Promise<string> {
  const r = await api<{ metadata: { uid: string } }>('POST', `${STORAGE}/namespaces/${NS}/customresources`, { apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name }, spec: { name, states: ['a', 'b'] } });
  expect(r.status, r.text).toBe(201);
  await eventually(`${name} has the finalizer`, async () => ((await api<{ metadata: { finalizers?: string[] } }>('GET', stored(name))).body.metadata.finalizers ?? []).length > 0, 30_000);
  for (let i = 0; i < changes; i++) {
    const to = i % 2 === 0 ? 'b' : 'a';
    const c = await api('PUT', `${CUSTOM}/namespaces/${NS}/customresources/${name}/state`, { state: to, from: to === 'b' ? 'a' : 'b', reason: `${name} ${i + 1}` });
    expect(c.status, c.text).toBe(200);
  }
  return r.body.metadata.uid;
}

async function segmentsOf(uid: string): Promise<StateHistorySegment[]> {
  return (await api<{ items: StateHistorySegment[] }>('GET', `${SEGMENTS}?labelSelector=custom.example.com/object-uid%3D${uid}`)).body.items;
}

/** The archived trail of a deleted object: every seq once, ending in one `deleted`, chained. */
async function expectArchivedOnce(name: string, uid: string, changes: number): Promise<void> {
  const segs = await segmentsOf(uid);
  const seqs = segs.flatMap((s) => s.spec.entries.map((e) => e.seq));
  expect(new Set(seqs).size, `${name}: no entry archived twice`).toBe(seqs.length);
  const doc = await api<CustomResourceHistory>('GET', `${CUSTOM}/namespaces/${NS}/customresources/${name}/history`);
  expect(doc.status, doc.text).toBe(200);
  const life = doc.body.lives.find((l) => l.uid === uid)!;
  expect(life.entries.map((e) => e.seq)).toEqual(Array.from({ length: changes + 1 }, (_, i) => i + 1));
  expect(life.entries.filter((e) => e.action === 'deleted')).toHaveLength(1);
  expect(verifyChain(life.entries)).toMatchObject({ ok: true, entries: changes + 1 });
}

/** Runs `fn` while the backend may not patch objects (so it can neither add nor remove its finalizer). */
async function withoutBackendPatch(fn: () => Promise<void>): Promise<void> {
  const path = '/apis/rbac.authorization.k8s.io/v1/clusterroles/kubectl-custom-backend';
  const role = await api<{ rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[]; metadata: Record<string, unknown> }>('GET', path);
  const without = role.body.rules.map((r) => (r.resources.includes('customresources') ? { ...r, verbs: r.verbs.filter((v) => v !== 'patch') } : r));
  expect((await api('PUT', path, { ...role.body, rules: without })).status).toBe(200);
  try {
    await fn();
  } finally {
    expect((await api('PUT', path, { ...role.body, metadata: { ...role.body.metadata, resourceVersion: undefined } })).status).toBe(200);
  }
}

let noFin = '';

describe('the backend finalizer', () => {
  it('every object is created with it, whoever creates it (the MutatingAdmissionPolicy)', async () => {
    const r = await api<{ metadata: { finalizers?: string[] } }>('POST', `${STORAGE}/namespaces/${NS}/customresources`, { apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name: 'born', finalizers: ['example.com/other'] }, spec: { name: 'n', states: ['a'] } });
    expect(r.status, r.text).toBe(201);
    expect(r.body.metadata.finalizers).toEqual(['example.com/other', FINALIZER]);
    // Nobody here releases example.com/other: drop it, keeping the backend's (which a cluster admin may keep).
    const kept = await apiOn<{ metadata: { finalizers?: string[] } }>(stack.cluster, 'admin', 'PATCH', stored('born'), { metadata: { finalizers: [FINALIZER] } }, { 'Content-Type': 'application/merge-patch+json' });
    expect(kept.body.metadata.finalizers, JSON.stringify(kept.body)).toEqual([FINALIZER]);
  });

  // An object from before the MutatingAdmissionPolicy was installed (an upgrade), or from a cluster without it.
  it('an object created without it: nobody else may add it, cluster admins included, and the backend adds it in the background; the backend warns of the missing policy', async () => {
    const binding = '/apis/admissionregistration.k8s.io/v1/mutatingadmissionpolicybindings/kubectl-custom-history-finalizer';
    const saved = await api<{ metadata: Record<string, unknown> }>('GET', binding);
    expect(saved.status).toBe(200);
    expect((await api('DELETE', binding)).status).toBe(200);
    try {
      await withoutBackendPatch(async () => {
        // Policy bindings take effect a moment after they change.
        await eventually('objects are created without the finalizer', async () => {
          const name = `no-fin-${Date.now()}`;
          const r = await api<{ metadata: { finalizers?: string[] } }>('POST', `${STORAGE}/namespaces/${NS}/customresources`, { apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name }, spec: { name: 'n', states: ['a'] } });
          expect(r.status, r.text).toBe(201);
          if ((r.body.metadata.finalizers ?? []).length > 0) return false;
          noFin = name;
          return true;
        });
        const add = await apiOn<{ message: string }>(stack.cluster, 'admin', 'PATCH', stored(noFin), { metadata: { finalizers: [FINALIZER] } }, { 'Content-Type': 'application/merge-patch+json' });
        expect(add.status, add.text).toBe(403);
        expect(add.body.message).toContain("ValidatingAdmissionPolicy 'kubectl-custom-gates'");
        expect(add.body.message).toContain('only the backend may add it to an existing object');
        await eventually('the backend warns of the missing binding', async () => backendLog().some((l) => l.level === 'warn' && l.msg.startsWith('the MutatingAdmissionPolicyBinding kubectl-custom-history-finalizer is missing')), 15_000);
      });
      await eventually('the backend adds it once it may', async () => ((await api<{ metadata: { finalizers?: string[] } }>('GET', stored(noFin))).body.metadata.finalizers ?? []).includes(FINALIZER), 60_000);
    } finally {
      expect((await api('POST', '/apis/admissionregistration.k8s.io/v1/mutatingadmissionpolicybindings', { ...saved.body, metadata: { ...saved.body.metadata, resourceVersion: undefined, uid: undefined, creationTimestamp: undefined, managedFields: undefined, generation: undefined } })).status).toBe(201);
    }
  }, 120_000);
});

describe('deletions, archived exactly once', () => {
  it('the backend SIGKILLed between archiving and releasing: nothing lost, nothing twice', async () => {
    const uid = await create('crash', 25);
    // Take the backend's patch permission away, so it archives the deletion but cannot release the object yet.
    await withoutBackendPatch(async () => {
      expect((await api('DELETE', stored('crash'))).status).toBe(200);
      await eventually('the deletion is archived', async () => (await segmentsOf(uid)).some((s) => s.spec.entries.some((e) => e.action === 'deleted')), 30_000);
      expect((await api('GET', stored('crash'))).status, 'not released yet').toBe(200);
      process.kill(stack.backend.pid, 'SIGKILL');
      await eventually('the backend is gone', async () => !isAlive(stack.backend.pid));
    });
    const b = await restartBackend(stack.backend);
    stack.backend.pid = b.pid;
    await eventually('released once the backend is back', async () => (await api('GET', stored('crash'))).status === 404, 60_000);
    await expectArchivedOnce('crash', uid, 25);
  }, 180_000);

  it('two replicas archive each deletion once', async () => {
    const second = await startBackend({ cluster: stack.cluster, dir: join(dir, 'replica-2'), register: false, tls: { caFile: stack.backend.caFile, certFile: stack.backend.certFile, keyFile: stack.backend.keyFile } });
    try {
      const objs: [string, string][] = [];
      for (let i = 0; i < 8; i++) objs.push([`pair-${i}`, await create(`pair-${i}`, 3 + i * 4)]);
      expect((await api('DELETE', `${STORAGE}/namespaces/${NS}/customresources?labelSelector=`)).status).toBe(200);
      await eventually('all released', async () => (await api<{ items: unknown[] }>('GET', `${STORAGE}/namespaces/${NS}/customresources`)).body.items.length === 0, 60_000);
      for (const [i, [name, uid]] of objs.entries()) await expectArchivedOnce(name, uid, 3 + i * 4);
    } finally {
      await stopProcess(second.pid);
    }
  }, 180_000);
});

describe('the archive against tampering and retention', () => {
  it('an archived entry edited by a cluster admin (the admission policy removed) breaks the chain at its seq; a retention delete moves where the kept trail starts', async () => {
    const uid = await create('tampered', 30);
    // The policy that refuses updates of segments is out of the way for this test only (this stack is its own).
    await api('DELETE', '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings/kubectl-custom-history');
    const segs = (await segmentsOf(uid)).sort((x, y) => x.spec.entries[0]!.seq! - y.spec.entries[0]!.seq!);
    expect(segs.length).toBeGreaterThan(0);
    const target = segs[0]!;
    const edited: HistoryEntry[] = target.spec.entries.map((e) => (e.seq === 4 ? { ...e, reason: 'nothing happened here' } : e));
    // kube-apiserver drops the binding from its admission chain a moment after it is deleted.
    await eventually('the edit is accepted', async () => (await api('PUT', `${SEGMENTS}/${target.metadata.name}`, { ...target, spec: { ...target.spec, entries: edited } })).status === 200);
    const trail = (await api<CustomResourceHistory>('GET', `${CUSTOM}/namespaces/${NS}/customresources/tampered/history`)).body.lives[0]!.entries;
    expect(verifyChain(trail)).toMatchObject({ ok: false, brokenSeq: 4 });

    // Retention: the first segment deleted; what is kept verifies from where it starts.
    expect((await api('DELETE', `${SEGMENTS}/${target.metadata.name}`)).status).toBe(200);
    const kept = (await api<CustomResourceHistory>('GET', `${CUSTOM}/namespaces/${NS}/customresources/tampered/history`)).body.lives[0]!.entries;
    const firstKept = target.spec.entries.at(-1)!.seq! + 1;
    expect(kept[0]!.seq).toBe(firstKept);
    expect(verifyChain(kept)).toEqual({ ok: true, entries: 30 - firstKept + 1, firstSeq: firstKept });
  }, 120_000);
});

describe('a missing admission policy', () => {
  it('is a warning in the backend log and in kubectl custom version', async () => {
    const version = () =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(PLUGIN, ['version'], { env: { ...process.env, KUBECONFIG: stack.cluster.kubeconfigs.admin }, encoding: 'utf8' }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }));
      });
    await api('DELETE', '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings/kubectl-custom-gates');
    const warning = 'Warning: the ValidatingAdmissionPolicyBinding kubectl-custom-gates is missing, so the gates in spec are not guarded: apply manifests/base';
    await eventually('version warns', async () => (await version()).stderr.includes(warning), 20_000);
    const v = await version();
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^Client Version: v\S+\nServer Version: v\S+ \(custom.example.com\/v1\)\nKubernetes Version: v1\.\d+/);
    expect(backendLog().some((l) => l.level === 'warn' && l.msg.startsWith('the ValidatingAdmissionPolicyBinding kubectl-custom-gates is missing'))).toBe(true);
  });
});
