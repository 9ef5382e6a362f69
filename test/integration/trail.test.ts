// Gates that hold and a trail that lasts, through kube-apiserver as each
// user would do it: set-state applies the gates of the move, --override
// breaks glass on the record, watches by name see only that object, the
// trail is numbered, chained and archived past the window, deletions are
// archived, and reasons are text.
import { describe, expect, it } from 'vitest';
import { entryHash, verifyChain } from '../../api/src/history-chain.ts';
import { FINALIZER } from '../../api/src/names.ts';
import type { CustomResourceHistory, CustomResourceState, HistoryEntry } from '../../api/src/types.ts';
import { HISTORY_WINDOW } from '../../server/src/state/history.ts';
import { api, createObject, CUSTOM, eventually, grantRole, STORAGE, useNamespace, waitServed, watch } from './harness.ts';

const ns = useNamespace(import.meta.filename);
const obj = (name: string, sub?: string) => `${CUSTOM}/namespaces/${ns()}/customresources/${name}${sub ? `/${sub}` : ''}`;
const stored = (name: string) => `${STORAGE}/namespaces/${ns()}/customresources/${name}`;
type Stat = { reason: string; code: number; message: string; details?: { causes?: { field: string; message: string }[] } };
const stateRules = (verbs: string[], states: string[]) => [{ apiGroups: ['custom.example.com'], resources: ['states'], resourceNames: states, verbs }];

async function bindEditor(user: 'alice' | 'bob', name: string): Promise<void> {
  const r = await api('admin', 'POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns()}/rolebindings`, {
    metadata: { name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'kubectl-custom-editor' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
  });
  expect(r.status, r.text).toBe(201);
}

async function trailOf(name: string): Promise<CustomResourceHistory> {
  const r = await api<CustomResourceHistory>('admin', 'GET', obj(name, 'history'));
  expect(r.status, r.text).toBe(200);
  return r.body;
}

async function events(name: string): Promise<{ type: string; reason: string; message: string }[]> {
  const r = await api<{ items: { type: string; reason: string; message: string; involvedObject: { name: string } }[] }>('admin', 'GET', `/api/v1/namespaces/${ns()}/events`);
  return r.body.items.filter((e) => e.involvedObject.name === name);
}

describe('set-state applies the gates of the move (bob as editor, without enter or override)', () => {
  it('forward out of a soaking state is 422, over a protected state 403, back is a rollback', async () => {
    await createObject(ns(), 'gate', { name: 'Gate', states: ['dev', 'staging', 'prod'], protectedStates: ['staging'], minSoakSeconds: { dev: 3600 } });
    await bindEditor('bob', 'bob-editor');
    await waitServed(ns(), 'gate');
    await eventually('bob may read', async () => (await api('bob', 'GET', obj('gate', 'state'))).status === 200);

    const soak = await api<Stat>('bob', 'PUT', obj('gate', 'state'), { state: 'staging', from: 'dev', reason: 'x' });
    expect(soak.status, soak.text).toBe(403);
    expect(soak.body.message).toContain('cannot enter state "staging": it is protected');

    await createObject(ns(), 'soaker', { name: 'Soaker', states: ['dev', 'staging', 'prod'], minSoakSeconds: { dev: 3600 } });
    await waitServed(ns(), 'soaker');
    const soaking = await api<Stat>('bob', 'PUT', obj('soaker', 'state'), { state: 'staging', from: 'dev' });
    expect(soaking.status, soaking.text).toBe(422);
    expect(soaking.body.details?.causes?.map((c) => c.field)).toEqual(['status.stateSince']);

    await createObject(ns(), 'jumper', { name: 'Jumper', states: ['dev', 'staging', 'prod'], protectedStates: ['staging'] });
    await waitServed(ns(), 'jumper');
    const jump = await api<Stat>('bob', 'PUT', obj('jumper', 'state'), { state: 'prod', from: 'dev', reason: 'skip it' });
    expect(jump.status, jump.text).toBe(403);
    expect(jump.body.message).toMatch(/over "staging": skipping states with gates of their own is an override; that needs the "override" verb on resource "states" in API group "custom.example.com" with resourceNames \["prod"\]/);

    // Nothing changed; a rollback needs no gate.
    expect((await api<CustomResourceState>('bob', 'GET', obj('jumper', 'state'))).body.state).toBe('dev');
    expect((await api('admin', 'PUT', obj('jumper', 'state'), { state: 'prod', from: 'dev', reason: 'setup', override: true })).status).toBe(200);
    const back = await api<CustomResourceState>('bob', 'PUT', obj('jumper', 'state'), { state: 'dev', from: 'prod' });
    expect(back.status, back.text).toBe(200);
    expect(back.body.state).toBe('dev');
  });
});

describe('--override: break glass, on the record', () => {
  it('passes soak for a holder, recorded as override with the gates it passed and a Warning Event; Forbidden without the verb', async () => {
    await createObject(ns(), 'glass', { name: 'Glass', states: ['dev', 'staging'], minSoakSeconds: { dev: 3600 } });
    await bindEditor('alice', 'alice-editor');
    await waitServed(ns(), 'glass');
    await eventually('alice may read', async () => (await api('alice', 'GET', obj('glass', 'state'))).status === 200);

    const denied = await api<Stat>('alice', 'POST', obj('glass', 'promote'), { from: 'dev', reason: 'incident 7', override: true });
    expect(denied.status, denied.text).toBe(403);
    expect(denied.body.message).toContain('User "alice" cannot override the gates of state "staging"; that needs the "override" verb on resource "states" in API group "custom.example.com" with resourceNames ["staging"]');

    await grantRole(ns(), 'alice-override-staging', 'alice', stateRules(['override'], ['staging']));
    await eventually('alice holds override', async () => (await api('alice', 'POST', obj('glass', 'promote'), { from: 'dev', reason: 'incident 7', override: true }, {}).then((r) => r.status)) !== 403);
    const v = await api<CustomResourceState>('alice', 'GET', obj('glass', 'state'));
    expect(v.body.state).toBe('staging');
    const last = v.body.history.at(-1)!;
    expect(last).toMatchObject({ action: 'override', from: 'dev', to: 'staging', user: 'alice', reason: 'incident 7', overrode: ['soak'] });
    await eventually('a Warning Event for the override', async () => (await events('glass')).some((e) => e.type === 'Warning' && e.reason === 'Override' && e.message.includes('alice overrode soak')));
  });

  it('an override needs a reason', async () => {
    await createObject(ns(), 'noreason', { name: 'N', states: ['dev', 'staging'], minSoakSeconds: { dev: 3600 } });
    await waitServed(ns(), 'noreason');
    const r = await api<Stat>('admin', 'POST', obj('noreason', 'promote'), { from: 'dev', override: true });
    expect(r.status).toBe(422);
    expect(r.body.details?.causes).toEqual([{ field: 'reason', reason: 'FieldValueRequired', message: 'Required value: an override needs a reason (--reason)' }]);
  });
});

describe('watch and list by name', () => {
  it('a watch of one object (namespaced and cluster-wide paths) sends only that object; a conflicting fieldSelector is 400', async () => {
    await createObject(ns(), 'watched', { name: 'W', states: ['a', 'b', 'c'] });
    await createObject(ns(), 'other', { name: 'O', states: ['a', 'b', 'c'] });
    await Promise.all([waitServed(ns(), 'watched'), waitServed(ns(), 'other')]);
    const byPath = watch('admin', `${CUSTOM}/watch/namespaces/${ns()}/customresources/watched`);
    const clusterWide = watch('admin', `${CUSTOM}/watch/customresources/watched`);
    await byPath.until((e) => e.type === 'ADDED');
    await clusterWide.until((e) => e.type === 'ADDED');
    for (const n of ['other', 'watched']) expect((await api('admin', 'POST', obj(n, 'promote'), { reason: 'go' })).status).toBe(201);
    await byPath.until((e) => e.type === 'MODIFIED');
    await clusterWide.until((e) => e.type === 'MODIFIED');
    // Another change of the other object, then one of the watched one: the streams hold the watched one only.
    expect((await api('admin', 'POST', obj('other', 'promote'), { reason: 'go' })).status).toBe(201);
    expect((await api('admin', 'POST', obj('watched', 'promote'), { reason: 'go' })).status).toBe(201);
    await byPath.until((e) => e.type === 'MODIFIED' && (e.object['status'] as { state: string }).state === 'c');
    await clusterWide.until((e) => e.type === 'MODIFIED' && (e.object['status'] as { state: string }).state === 'c');
    for (const w of [byPath, clusterWide]) {
      expect(new Set(w.events.map((e) => (e.object['metadata'] as { name: string }).name))).toEqual(new Set(['watched']));
      w.close();
    }
    const conflicting = await api<Stat>('admin', 'GET', `${CUSTOM}/watch/namespaces/${ns()}/customresources/watched?fieldSelector=metadata.name%3Dother`);
    expect(conflicting.status).toBe(400);
    expect(conflicting.body.message).toBe("fieldSelector metadata.name doesn't match requested name");
  });
});

describe('the trail', () => {
  it('150 changes: the window stays within its size, the history serves all 150 in order, chained', async () => {
    await createObject(ns(), 'busy', { name: 'Busy', states: ['a', 'b', 'c'] });
    await waitServed(ns(), 'busy');
    const order = ['a', 'b', 'c'];
    let at = 'a';
    for (let i = 1; i <= 150; i++) {
      const to = order[(order.indexOf(at) + 1) % 3]!;
      const r = await api('admin', 'PUT', obj('busy', 'state'), { state: to, from: at, reason: `change ${i}` });
      expect(r.status, r.text).toBe(200);
      at = to;
    }
    const s = await api<{ status: { history: HistoryEntry[] } }>('admin', 'GET', stored('busy'));
    expect(s.body.status.history.length).toBeLessThanOrEqual(HISTORY_WINDOW);
    const doc = await trailOf('busy');
    expect(doc.lives).toHaveLength(1);
    const entries = doc.lives[0]!.entries;
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
    expect(entries.map((e) => e.reason)).toEqual(Array.from({ length: 150 }, (_, i) => `change ${i + 1}`));
    expect(verifyChain(entries)).toEqual({ ok: true, entries: 150, firstSeq: 1 });
    // The archive: segments in custom-system, labelled with the object's uid.
    const uid = (await api<{ metadata: { uid: string } }>('admin', 'GET', stored('busy'))).body.metadata.uid;
    const segs = await api<{ items: { spec: { entries: HistoryEntry[] } }[] }>('admin', 'GET', `${STORAGE}/namespaces/custom-system/statehistories?labelSelector=custom.example.com/object-uid%3D${uid}`);
    expect(segs.body.items.length).toBeGreaterThan(0);
    expect(segs.body.items.flatMap((x) => x.spec.entries).length + s.body.status.history.length).toBe(150);
    // describe-state shows only the window: the newest entries.
    const view = await api<CustomResourceState>('admin', 'GET', obj('busy', 'state'));
    expect(view.body.history.at(-1)?.seq).toBe(150);
    expect(view.body.history[0]!.seq).toBeGreaterThan(1);
  });

  it('every move records its direction, and the approvals the next move needs (by the gates then); a rollback is backward', async () => {
    await createObject(ns(), 'recorded', { name: 'Recorded', states: ['dev', 'staging', 'prod'], requiredApprovals: { prod: 1 } });
    await waitServed(ns(), 'recorded');
    expect((await api('admin', 'PUT', obj('recorded', 'state'), { state: 'staging', from: 'dev', reason: 'up' })).status).toBe(200);
    expect((await api('admin', 'PUT', obj('recorded', 'state'), { state: 'dev', from: 'staging', reason: 'back' })).status).toBe(200);
    const entries = (await trailOf('recorded')).lives[0]!.entries;
    expect(entries.map((e) => [e.action, e.direction, e.next])).toEqual([
      ['set-state', 'forward', { state: 'prod', approvals: 1 }],
      ['set-state', 'backward', undefined],
    ]);
    expect(verifyChain(entries).ok).toBe(true);
  });

  it('an entry with every field an entry can have is archived whole: the segment keeps what the window kept, so its hash still holds', async () => {
    const entry: HistoryEntry = {
      seq: 1, action: 'override', from: 'dev', to: 'prod', user: 'alice', time: '2026-12-08T10:00:00Z', reason: 'incident 42',
      approvers: ['bob'], overrode: ['freeze', 'checks'], freeze: 'shop/holidays',
      checks: [{ name: 'errors', source: 'spec', phase: 'Failed', value: '{"result":[0.5]}', time: '2026-12-08T09:59:00Z' }],
      direction: 'forward', next: { state: 'ga', approvals: 2 },
    };
    const hashed = { ...entry, hash: entryHash('', entry) };
    const name = `every-field-${ns()}`;
    const made = await api('admin', 'POST', `${STORAGE}/namespaces/custom-system/statehistories`, { apiVersion: 'example.com/v1', kind: 'StateHistory', metadata: { name }, spec: { object: { namespace: ns(), name: 'x', uid: '00000000-0000-0000-0000-000000000001' }, entries: [hashed] } });
    expect(made.status, made.text).toBe(201);
    try {
      const back = await api<{ spec: { entries: HistoryEntry[] } }>('admin', 'GET', `${STORAGE}/namespaces/custom-system/statehistories/${name}`);
      expect(back.body.spec.entries[0]).toEqual(hashed);
      expect(verifyChain(back.body.spec.entries).ok).toBe(true);
    } finally {
      await api('admin', 'DELETE', `${STORAGE}/namespaces/custom-system/statehistories/${name}`);
    }
  });

  it('delete and re-create: the history shows both lives, the deleted one ending in `deleted`', async () => {
    await createObject(ns(), 'phoenix', { name: 'Phoenix', states: ['a', 'b'] });
    await waitServed(ns(), 'phoenix');
    expect((await api('admin', 'POST', obj('phoenix', 'promote'), { reason: 'first life' })).status).toBe(201);
    const first = (await api<{ metadata: { uid: string } }>('admin', 'GET', stored('phoenix'))).body.metadata.uid;
    expect((await api('admin', 'DELETE', stored('phoenix'))).status).toBe(200);
    await eventually('the first life is archived and released', async () => (await api('admin', 'GET', stored('phoenix'))).status === 404, 30_000);
    await createObject(ns(), 'phoenix', { name: 'Phoenix', states: ['a', 'b'] });
    await waitServed(ns(), 'phoenix');
    expect((await api('admin', 'POST', obj('phoenix', 'promote'), { reason: 'second life' })).status).toBe(201);
    const doc = await trailOf('phoenix');
    expect(doc.lives.map((l) => l.live)).toEqual([true, false]);
    expect(doc.lives[1]!.uid).toBe(first);
    expect(doc.lives[0]!.entries.map((e) => [e.seq, e.action, e.reason])).toEqual([[1, 'promote', 'second life']]);
    expect(doc.lives[1]!.entries.map((e) => [e.seq, e.action, e.from, e.to])).toEqual([
      [1, 'promote', 'a', 'b'],
      [2, 'deleted', 'b', undefined],
    ]);
    for (const l of doc.lives) expect(verifyChain(l.entries)).toMatchObject({ ok: true });
  });

  it('deleting every object of a namespace (as the namespace controller does) archives them all', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `bulk-${i}`);
    const bulkNs = `${ns()}-bulk`;
    expect((await api('admin', 'POST', '/api/v1/namespaces', { metadata: { name: bulkNs } })).status).toBe(201);
    for (const n of names) await createObject(bulkNs, n, { name: n, states: ['a', 'b'] });
    await Promise.all(names.map((n) => waitServed(bulkNs, n)));
    expect((await api('admin', 'DELETE', `${STORAGE}/namespaces/${bulkNs}/customresources`)).status).toBe(200);
    await eventually('every object archived and released', async () => (await api<{ items: unknown[] }>('admin', 'GET', `${STORAGE}/namespaces/${bulkNs}/customresources`)).body.items.length === 0, 60_000);
    for (const n of names) {
      const doc = await api<CustomResourceHistory>('admin', 'GET', `${CUSTOM}/namespaces/${bulkNs}/customresources/${n}/history`);
      expect(doc.status, doc.text).toBe(200);
      expect(doc.body.lives.map((l) => l.entries.map((e) => e.action))).toEqual([['deleted']]);
    }
  });

  it('every object gets the backend finalizer, and only the backend removes it', async () => {
    await createObject(ns(), 'fin', { name: 'Fin', states: ['a'] });
    await waitServed(ns(), 'fin');
    const o = await api<{ metadata: { finalizers?: string[] } }>('admin', 'GET', stored('fin'));
    expect(o.body.metadata.finalizers).toContain(FINALIZER);
  });
});

describe('reasons are text', () => {
  it.each([
    { name: 'an escape sequence', reason: 'ok\u001b[2J\u001b[Hforged row' },
    { name: 'a newline', reason: 'one\ntwo' },
    { name: 'a right-to-left override', reason: 'abc\u202edef' },
  ])('a reason with $name is refused with 422 and a reason cause, nothing changes', async ({ reason }) => {
    const name = `text-${reason.length}-${reason.charCodeAt(3)}`;
    await createObject(ns(), name, { name: 'T', states: ['a', 'b'] });
    await waitServed(ns(), name);
    const r = await api<Stat>('admin', 'POST', obj(name, 'promote'), { reason });
    expect(r.status, r.text).toBe(422);
    expect(r.body.details?.causes?.[0]).toMatchObject({ field: 'reason', reason: 'FieldValueInvalid' });
    expect((await api<CustomResourceState>('admin', 'GET', obj(name, 'state'))).body.state).toBe('a');
  });
});

describe('upgrades', () => {
  it('an old history (no seq, no hash) and entries an old replica appends are numbered and chained by the next change', async () => {
    await createObject(ns(), 'legacy', { name: 'Legacy', states: ['a', 'b', 'c'] });
    await waitServed(ns(), 'legacy');
    const cur = (await api<{ metadata: { resourceVersion: string } }>('admin', 'GET', stored('legacy'))).body;
    const old: HistoryEntry[] = Array.from({ length: 30 }, (_, i) => ({ action: 'set-state', from: i % 2 ? 'b' : 'a', to: i % 2 ? 'a' : 'b', user: 'old-replica', time: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(), reason: `old ${i + 1}` }));
    // As an older backend wrote status (it had no seq or hash): 30 entries, ending in a.
    const put = await api('admin', 'PUT', `${stored('legacy')}/status`, { apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name: 'legacy', namespace: ns(), resourceVersion: cur.metadata.resourceVersion }, spec: { name: 'Legacy', states: ['a', 'b', 'c'] }, status: { state: 'a', stateSince: old.at(-1)!.time, history: old } });
    expect(put.status, put.text).toBe(200);
    await eventually('the backend sees the old status', async () => (await api<CustomResourceState>('admin', 'GET', obj('legacy', 'state'))).body.history.length === 30);
    expect((await api('admin', 'POST', obj('legacy', 'promote'), { from: 'a', reason: 'new replica' })).status).toBe(201);
    const entries = (await trailOf('legacy')).lives[0]!.entries;
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
    expect(entries.map((e) => e.reason)).toEqual([...old.map((e) => e.reason), 'new replica']);
    expect(verifyChain(entries)).toMatchObject({ ok: true, entries: 31 });

    // A rolling upgrade: an old replica appends an entry without seq or hash after numbered ones.
    const now = (await api<{ metadata: { resourceVersion: string }; status: { history: HistoryEntry[] } }>('admin', 'GET', stored('legacy'))).body;
    const appended = [...now.status.history, { action: 'set-state' as const, from: 'b', to: 'a', user: 'old-replica', time: new Date().toISOString(), reason: 'old replica again' }];
    expect((await api('admin', 'PUT', `${stored('legacy')}/status`, { apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name: 'legacy', namespace: ns(), resourceVersion: now.metadata.resourceVersion }, spec: { name: 'Legacy', states: ['a', 'b', 'c'] }, status: { ...now.status, state: 'a', history: appended } })).status).toBe(200);
    await eventually('the backend sees the appended entry', async () => (await api<CustomResourceState>('admin', 'GET', obj('legacy', 'state'))).body.history.at(-1)?.reason === 'old replica again');
    expect((await api('admin', 'POST', obj('legacy', 'promote'), { from: 'a', reason: 'new replica again' })).status).toBe(201);
    const all = (await trailOf('legacy')).lives[0]!.entries;
    expect(all.slice(-2).map((e) => [e.seq, e.reason])).toEqual([
      [32, 'old replica again'],
      [33, 'new replica again'],
    ]);
    expect(verifyChain(all)).toMatchObject({ ok: true, entries: 33 });
  });
});
