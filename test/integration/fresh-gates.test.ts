// Decisions on fresh gates (issue 23), with two backend replicas on the
// shared control plane: a Freeze or GatePolicy that kube-apiserver has
// acknowledged holds the very next state change, whichever replica decides
// it. The race is made certain, not hoped for: the second replica's watch of
// freezes (or of gatepolicies) is cut from outside its process (iptables drops
// what kube-apiserver sends on that one connection, watch-cut.ts), so its
// cache cannot hear of the new Freeze; the decision must still see it.
// Without cuts, ten rounds of freeze/unfreeze (`kubectl custom freeze` and
// `unfreeze`), each followed at once by a promote through one replica and then
// the other, must be refused while frozen and let through after.
// describe-state and check through the cut replica answer on the Freeze it
// never heard of and on the object as it is now.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import { startBackend, type BackendInfo } from '../../cluster/backend.ts';
import { stopProcess } from '../../cluster/processes.ts';
import { asUser, backend, direct, frontProxyCert, type DirectResponse } from './backend-client.ts';
import { api, cluster, createObject, CUSTOM, eventually, grantRole, STORAGE, useNamespace, waitServed } from './harness.ts';
import { kubectlCustom } from './plugin-cli.ts';
import { findWatchConnection, prepareWatchCut, WatchCut } from './watch-cut.ts';

const ns = useNamespace(import.meta.filename);
let dir: string;
let second: BackendInfo & { proc: unknown };
const cut = new WatchCut();

/** Each replica, asked directly as kube-aggregator's proxy asks it (admin: every RBAC permission, so only gates refuse). */
const replicas = (): { name: string; b: Pick<BackendInfo, 'port' | 'caFile'> }[] => [
  { name: 'the first replica', b: backend() },
  { name: 'the second replica', b: second },
];

function on(b: Pick<BackendInfo, 'port' | 'caFile'>, method: string, path: string, body?: unknown): Promise<DirectResponse> {
  return direct({ method, path, cert: frontProxyCert(), headers: { ...asUser('admin', ['system:masters']), 'Content-Type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) }, b.port, b.caFile);
}

const objPath = (name: string, sub?: string) => `${CUSTOM}/namespaces/${ns()}/customresources/${name}${sub ? `/${sub}` : ''}`;
const stateOn = async (b: Pick<BackendInfo, 'port' | 'caFile'>, name: string) => (await on(b, 'GET', objPath(name, 'state'))).json<{ state: string }>().state;
const apiserverPort = () => Number(new URL(cluster().server).port);

/** A large annotation on the probes that find a watch connection: its events (60 KB each) stand out from every other connection's bytes, also while the other test files change objects on the shared control plane. */
const BULK = { 'test.example.com/bulk': 'x'.repeat(60_000) };

async function createFreeze(name: string, annotations?: Record<string, string>): Promise<void> {
  const r = await api('admin', 'POST', `${STORAGE}/namespaces/${ns()}/freezes`, { apiVersion: 'example.com/v1', kind: 'Freeze', metadata: { name, ...(annotations ? { annotations } : {}) }, spec: { states: ['prod'], start: new Date(Date.now() - 60_000).toISOString(), end: new Date(Date.now() + 3_600_000).toISOString(), reason: `test ${name}` } });
  expect(r.status, r.text).toBe(201);
}

async function deleteFreeze(name: string): Promise<void> {
  const r = await api('admin', 'DELETE', `${STORAGE}/namespaces/${ns()}/freezes/${name}`);
  expect(r.status, r.text).toBe(200);
}

async function createPolicy(name: string, annotations?: Record<string, string>): Promise<void> {
  const r = await api('admin', 'POST', `${STORAGE}/namespaces/${ns()}/gatepolicies`, { apiVersion: 'example.com/v1', kind: 'GatePolicy', metadata: { name, ...(annotations ? { annotations } : {}) }, spec: { rules: [{ states: ['prod'], requiredApprovals: 1 }] } });
  expect(r.status, r.text).toBe(201);
}

async function deletePolicy(name: string): Promise<void> {
  const r = await api('admin', 'DELETE', `${STORAGE}/namespaces/${ns()}/gatepolicies/${name}`);
  expect(r.status, r.text).toBe(200);
}

/** Removes what a failed test may have left (a Freeze or GatePolicy), so the next test starts clean. */
async function leftover(resource: 'freezes' | 'gatepolicies', name: string): Promise<void> {
  const r = await api('admin', 'DELETE', `${STORAGE}/namespaces/${ns()}/${resource}/${name}`);
  expect([200, 404], r.text).toContain(r.status);
}

/** The object back in dev (a rollback: no gate holds it), as both replicas see it. */
async function backToDev(name: string): Promise<void> {
  if ((await stateOn(backend(), name)) !== 'dev') {
    const r = await on(backend(), 'PUT', objPath(name, 'state'), { state: 'dev', from: 'prod', reason: 'again' });
    expect(r.status, r.body).toBe(200);
  }
  for (const { b } of replicas()) await eventually(`${name} in dev`, async () => (await stateOn(b, name)) === 'dev');
}

/** Cuts the second replica's watch connection that carries the events `change` makes. */
async function cutSecondsWatch(change: () => Promise<void>): Promise<void> {
  const local = await findWatchConnection(second.pid, apiserverPort(), change);
  cut.cut(apiserverPort(), local);
}

beforeAll(async () => {
  await prepareWatchCut();
  dir = mkdtempSync(join(tmpdir(), 'kubectl-custom-fresh-gates-'));
  const b = backend();
  second = await startBackend({ cluster: cluster(), dir, register: false, tls: { caFile: b.caFile, certFile: b.certFile, keyFile: b.keyFile } });
  await createObject(ns(), 'rocket', { name: 'Rocket', states: ['dev', 'prod'] });
  await waitServed(ns(), 'rocket');
  for (const { b: r } of replicas()) await eventually('both replicas serve rocket', async () => (await on(r, 'GET', objPath('rocket'))).status === 200);
}, 120_000);

afterAll(async () => {
  cut.mend();
  if (second) await stopProcess(second.pid);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a state change is decided on gates at least as new as every acknowledged write', () => {
  beforeEach(() => backToDev('rocket'));

  it('a Freeze the second replica\'s watch never brought holds a promote through it, and through the first', async () => {
    let n = 0;
    await cutSecondsWatch(async () => {
      const probe = `probe-${n++}`;
      await createFreeze(probe, BULK);
      await deleteFreeze(probe);
    });
    try {
      await createFreeze('unseen');
      for (const { name, b } of replicas()) {
        const r = await on(b, 'POST', objPath('rocket', 'promote'), { from: 'dev', reason: 'right after the freeze' });
        expect(r.status, `promote through ${name}: ${r.body}`).toBe(422);
        expect(r.body).toContain(`Freeze ${ns()}/unseen`);
      }
      // Still cut: lifting the freeze lets the next promote through on the replica whose watch hears nothing.
      await deleteFreeze('unseen');
      const r = await on(second, 'POST', objPath('rocket', 'promote'), { from: 'dev', reason: 'right after the unfreeze' });
      expect(r.status, r.body).toBe(201);
      expect(cut.dropped(), 'the cut watch had events to drop').toBeGreaterThan(0);
    } finally {
      cut.mend();
      await leftover('freezes', 'unseen');
    }
  });

  it('a GatePolicy the second replica\'s watch never brought holds a promote through it', async () => {
    let n = 0;
    await cutSecondsWatch(async () => {
      const probe = `probe-${n++}`;
      await createPolicy(probe, BULK);
      await deletePolicy(probe);
    });
    try {
      await createPolicy('approvals');
      const r = await on(second, 'POST', objPath('rocket', 'promote'), { from: 'dev', reason: 'right after the policy' });
      expect(r.status, r.body).toBe(422);
      expect(r.body).toContain('approval');
      await deletePolicy('approvals');
      const p = await on(second, 'POST', objPath('rocket', 'promote'), { from: 'dev', reason: 'right after the policy went' });
      expect(p.status, p.body).toBe(201);
    } finally {
      cut.mend();
      await leftover('gatepolicies', 'approvals');
    }
  });

  it('ten rounds: after kubectl custom freeze returns, an immediate promote through either replica is refused; after unfreeze, one goes through', async () => {
    for (let i = 0; i < 10; i++) {
      onTestFailed(() => leftover('freezes', `round-${i}`));
      const f = await kubectlCustom('admin', ['freeze', '-n', ns(), '--states', 'prod', '--for', '1h', '--reason', `round ${i}`, '--name', `round-${i}`]);
      expect(f.code, f.stderr).toBe(0);
      for (const { name, b } of i % 2 === 0 ? replicas() : replicas().reverse()) {
        const r = await on(b, 'POST', objPath('rocket', 'promote'), { from: 'dev', reason: `round ${i}` });
        expect(r.status, `round ${i}, promote through ${name}: ${r.body}`).toBe(422);
      }
      const u = await kubectlCustom('admin', ['unfreeze', `round-${i}`, '-n', ns()]);
      expect(u.code, u.stderr).toBe(0);
      const { name, b } = replicas()[i % 2]!;
      const r = await on(b, 'POST', objPath('rocket', 'promote'), { from: 'dev', reason: `round ${i} unfrozen` });
      expect(r.status, `round ${i}, promote through ${name} after unfreeze: ${r.body}`).toBe(201);
      await backToDev('rocket');
    }
  }, 120_000);
});

describe('describe-state and check read as new as every acknowledged write', () => {
  it('describe-state through a replica whose watch never brought a Freeze shows it among the next move\'s gates, and no longer once it is deleted', async () => {
    await backToDev('rocket');
    let n = 0;
    await cutSecondsWatch(async () => {
      const probe = `described-probe-${n++}`;
      await createFreeze(probe, BULK);
      await deleteFreeze(probe);
    });
    type Described = { gates: { promoteBlockedBy: string[] }; checks?: { gate: string; message: string }[] };
    try {
      await createFreeze('described');
      for (const { name, b } of replicas()) {
        const d = (await on(b, 'GET', objPath('rocket', 'state'))).json<Described>();
        expect(d.gates.promoteBlockedBy, `describe-state through ${name}`).toContain('freeze');
        expect(d.checks?.find((c) => c.gate === 'freeze')?.message, `describe-state through ${name}`).toContain(`${ns()}/described`);
      }
      await deleteFreeze('described');
      const d = (await on(second, 'GET', objPath('rocket', 'state'))).json<Described>();
      expect(d.gates.promoteBlockedBy).not.toContain('freeze');
      expect(cut.dropped(), 'the cut watch had events to drop').toBeGreaterThan(0);
    } finally {
      cut.mend();
      await leftover('freezes', 'described');
    }
  });

  it('check through a replica whose watch never brought an edit of the object measures the checks the object has now', async () => {
    await createObject(ns(), 'measured', { name: 'Measured', states: ['dev', 'prod'] });
    await waitServed(ns(), 'measured');
    for (const { b } of replicas()) await eventually('both replicas serve measured', async () => (await on(b, 'GET', objPath('measured'))).status === 200);
    const patch = async (body: unknown) => {
      const r = await api('admin', 'PATCH', `${STORAGE}/namespaces/${ns()}/customresources/measured`, body, { 'Content-Type': 'application/merge-patch+json' });
      expect(r.status, r.text).toBe(200);
    };
    await cutSecondsWatch(async () => {
      await patch({ metadata: { annotations: BULK } });
      await patch({ metadata: { annotations: { 'test.example.com/bulk': null } } });
    });
    try {
      await patch({ spec: { checks: { prod: [{ name: 'added-now', http: { url: 'http://127.0.0.1:1/' }, successCondition: 'status == 200' }] } } });
      for (const { name, b } of replicas()) {
        const r = await on(b, 'POST', objPath('measured', 'check'), {});
        expect(r.status, `check through ${name}: ${r.body}`).toBe(200);
        expect(r.json<{ results: { name: string }[] }>().results.map((x) => x.name), `check through ${name}`).toEqual(['added-now']);
      }
      expect(cut.dropped(), 'the cut watch had events to drop').toBeGreaterThan(0);
    } finally {
      cut.mend();
    }
  });
});

describe('the admission webhook decides on gates at least as new as every acknowledged write', () => {
  it('five rounds: right after a GatePolicy protecting prod is created, alice (no enter) may not create an object starting in prod; right after it is deleted, she may', async () => {
    await grantRole(ns(), 'alice-creator', 'alice', [{ apiGroups: ['example.com'], resources: ['customresources'], verbs: ['create', 'get'] }]);
    const create = (name: string) => api('alice', 'POST', `${STORAGE}/namespaces/${ns()}/customresources`, { apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name }, spec: { name, states: ['prod', 'retired'] } });
    for (let i = 0; i < 5; i++) {
      onTestFailed(() => leftover('gatepolicies', `protect-${i}`));
      const p = await api('admin', 'POST', `${STORAGE}/namespaces/${ns()}/gatepolicies`, { apiVersion: 'example.com/v1', kind: 'GatePolicy', metadata: { name: `protect-${i}` }, spec: { rules: [{ states: ['prod'], protected: true }] } });
      expect(p.status, p.text).toBe(201);
      const refused = await create(`starts-protected-${i}`);
      expect(refused.status, `round ${i}: ${refused.text}`).toBe(403);
      expect(refused.text).toContain('enter');
      await deletePolicy(`protect-${i}`);
      const allowed = await create(`starts-open-${i}`);
      expect(allowed.status, `round ${i}: ${allowed.text}`).toBe(201);
    }
  });
});
