// State changes through kube-apiserver and the aggregation layer: the path
// dev → staging → prod with RBAC, every gate refusing without changing
// anything, dry runs, and no lost updates under concurrency.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { direct } from './backend-client.ts';
import { api, cluster, createObject, CUSTOM, eventually, grantRole, kubectl, STORAGE, useNamespace, waitServed } from './harness.ts';

const ns = useNamespace(import.meta.filename);
const obj = (name: string) => `${CUSTOM}/namespaces/${ns()}/customresources/${name}`;
type View = { state: string; nextState?: string; valid: boolean; history: { action: string; from?: string; to: string; user: string; reason?: string; time: string }[]; gates: { soakRemainingSeconds: number; promoteBlockedBy: string[] }; allowed: Record<string, boolean>; metadata: { resourceVersion: string } };
type Stat = { kind: string; reason: string; code: number; message: string; details?: { causes?: { field: string; message: string; reason: string }[] } };

const promoteRules = [{ apiGroups: ['custom.example.com'], resources: ['customresources/promote'], verbs: ['create'] }];
const readRules = [{ apiGroups: ['custom.example.com'], resources: ['customresources', 'customresources/state'], verbs: ['get', 'list', 'watch'] }];

async function storedStatus(name: string): Promise<{ resourceVersion: string; status: unknown }> {
  const r = await api<{ metadata: { resourceVersion: string }; status?: unknown }>('admin', 'GET', `${STORAGE}/namespaces/${ns()}/customresources/${name}`);
  return { resourceVersion: r.body.metadata.resourceVersion, status: r.body.status };
}

/** Runs `refused` and checks it left the stored object exactly as it was. */
async function unchanged<T>(name: string, refused: () => Promise<T>): Promise<T> {
  const before = await storedStatus(name);
  const out = await refused();
  expect(await storedStatus(name)).toEqual(before);
  return out;
}

describe('state changes', () => {
  it('alice moves checkout dev → staging → prod; bob may promote but not enter prod; carol may not promote at all', async () => {
    await createObject(ns(), 'checkout', { name: 'Checkout service', states: ['dev', 'staging', 'prod'], protectedStates: ['prod'] });
    await grantRole(ns(), 'promoters', 'alice', [...readRules, ...promoteRules, { apiGroups: ['custom.example.com'], resources: ['states'], resourceNames: ['prod'], verbs: ['enter'] }]);
    await grantRole(ns(), 'promoters-bob', 'bob', [...readRules, ...promoteRules]);
    await waitServed(ns(), 'checkout');
    await eventually('RBAC for alice is in force', async () => (await api('alice', 'GET', `${obj('checkout')}/state`)).status === 200);

    const s1 = await api<View>('alice', 'POST', `${obj('checkout')}/promote`, { from: 'dev', reason: 'tests green' });
    expect(s1.status, s1.text).toBe(201);
    expect(s1.body.state).toBe('staging');
    expect(s1.body.history.at(-1)).toMatchObject({ action: 'promote', from: 'dev', to: 'staging', user: 'alice', reason: 'tests green' });

    // bob: the RBAC check passes, the enter check does not.
    const bob = await unchanged('checkout', () => api<Stat>('bob', 'POST', `${obj('checkout')}/promote`, { from: 'staging', reason: 'ship it' }));
    expect(bob.status).toBe(403);
    expect(bob.body.reason).toBe('Forbidden');
    expect(bob.body.message).toContain('User "bob" cannot enter state "prod"');
    expect(bob.body.message).toContain('resourceNames ["prod"]');

    // The user without promote is stopped by kube-apiserver's own RBAC check.
    const carol = await unchanged('checkout', () => api<Stat>('admin', 'POST', `${obj('checkout')}/promote`, { from: 'staging', reason: 'x' }, { 'Impersonate-User': 'carol' }));
    expect(carol.status).toBe(403);
    expect(carol.body.message).toContain('User "carol" cannot create resource "customresources/promote" in API group "custom.example.com"');

    const s2 = await api<View>('alice', 'POST', `${obj('checkout')}/promote`, { from: 'staging', reason: 'release 1.2' });
    expect(s2.status, s2.text).toBe(201);
    expect(s2.body.state).toBe('prod');
    expect(s2.body.history.map((h) => `${h.from}→${h.to}:${h.user}`)).toEqual(['dev→staging:alice', 'staging→prod:alice']);
    // The read side sees it at once.
    const got = await api<{ status: { state: string } }>('alice', 'GET', obj('checkout'));
    expect(got.body.status.state).toBe('prod');
  });

  it('describe-state tells the caller what they may do', async () => {
    await createObject(ns(), 'describe', { name: 'D', states: ['dev', 'prod'], protectedStates: ['prod'], minSoakSeconds: { dev: 600 } });
    await waitServed(ns(), 'describe');
    const forBob = await api<View>('bob', 'GET', `${obj('describe')}/state`);
    expect(forBob.status, forBob.text).toBe(200);
    expect(forBob.body).toMatchObject({ kind: 'CustomResourceState', state: 'dev', nextState: 'prod', valid: true, allowed: { promote: false, promoteVerb: true, setState: false, enterNextState: false } });
    expect(forBob.body.gates.promoteBlockedBy).toEqual(['soak', 'enter-permission']);
    expect(forBob.body.gates.soakRemainingSeconds).toBeGreaterThan(590);
    const forAlice = await api<View>('alice', 'GET', `${obj('describe')}/state`);
    expect(forAlice.body.allowed).toMatchObject({ promoteVerb: true, enterNextState: true });
  });

  it('refuses a promotion before the soak time is served, saying how long is left', async () => {
    await createObject(ns(), 'soak', { name: 'S', states: ['dev', 'staging'], minSoakSeconds: { dev: 3600 } });
    await waitServed(ns(), 'soak');
    const r = await unchanged('soak', () => api<Stat>('admin', 'POST', `${obj('soak')}/promote`, { from: 'dev' }));
    expect(r.status).toBe(422);
    expect(r.body.reason).toBe('Invalid');
    expect(r.body.details?.causes?.[0]).toMatchObject({ field: 'status.stateSince', reason: 'FieldValueForbidden' });
    expect(r.body.message).toMatch(/"dev" needs 1h of soak time \(spec\.minSoakSeconds\) before promotion; (59m\d*s|1h) left/);
  });

  it('refuses entering a protected state without a reason', async () => {
    await createObject(ns(), 'reason', { name: 'R', states: ['dev', 'prod'], protectedStates: ['prod'] });
    await waitServed(ns(), 'reason');
    for (const body of [{ from: 'dev' }, { from: 'dev', reason: '   ' }]) {
      const r = await unchanged('reason', () => api<Stat>('alice', 'POST', `${obj('reason')}/promote`, body));
      expect(r.status).toBe(422);
      expect(r.body.details?.causes).toEqual([{ field: 'reason', reason: 'FieldValueRequired', message: 'Required value: entering the protected state "prod" needs a reason (--reason)' }]);
    }
  });

  it('refuses set-state to an unknown state and promote at the last state', async () => {
    await createObject(ns(), 'edges', { name: 'E', states: ['dev', 'prod'] });
    await waitServed(ns(), 'edges');
    const unknown = await unchanged('edges', () => api<Stat>('admin', 'PUT', `${obj('edges')}/state`, { state: 'qa', from: 'dev' }));
    expect(unknown.status).toBe(422);
    expect(unknown.body.details?.causes?.[0]).toEqual({ field: 'state', reason: 'FieldValueNotSupported', message: 'Unsupported value: "qa": supported values: "dev", "prod"' });
    expect((await api('admin', 'PUT', `${obj('edges')}/state`, { state: 'prod', from: 'dev' })).status).toBe(200);
    const last = await unchanged('edges', () => api<Stat>('admin', 'POST', `${obj('edges')}/promote`, { from: 'prod' }));
    expect(last.status).toBe(422);
    expect(last.body.message).toContain('the last state in spec.states; there is nothing to promote to');
    // Back down is a set-state (a rollback), recorded as such.
    const back = await api<View>('admin', 'PUT', `${obj('edges')}/state`, { state: 'dev', from: 'prod', reason: 'rollback' });
    expect(back.status).toBe(200);
    expect(back.body.history.at(-1)).toMatchObject({ action: 'set-state', from: 'prod', to: 'dev', reason: 'rollback' });
  });

  it('reports an object whose spec dropped its state as invalid, and lets set-state recover it', async () => {
    await createObject(ns(), 'drift', { name: 'Drift', states: ['dev', 'qa', 'prod'] });
    await waitServed(ns(), 'drift');
    expect((await api('admin', 'PUT', `${obj('drift')}/state`, { state: 'qa', from: 'dev' })).status).toBe(200);
    const patched = await api('admin', 'PATCH', `${STORAGE}/namespaces/${ns()}/customresources/drift`, { spec: { states: ['dev', 'staging', 'prod'] } }, { 'Content-Type': 'application/merge-patch+json' });
    expect(patched.status, patched.text).toBe(200);
    await eventually('the backend sees the edit', async () => (await api<{ status: { valid: boolean } }>('admin', 'GET', obj('drift'))).body.status.valid === false);
    const got = await api<{ status: { state: string; valid: boolean; message: string; nextState?: string } }>('admin', 'GET', obj('drift'));
    expect(got.body.status).toMatchObject({ state: 'qa', valid: false });
    expect(got.body.status.nextState).toBeUndefined();
    expect(got.body.status.message).toContain('use set-state');
    const promote = await unchanged('drift', () => api<Stat>('admin', 'POST', `${obj('drift')}/promote`, { from: 'qa' }));
    expect(promote.status).toBe(422);
    expect(promote.body.message).toContain('no longer listed in spec.states');
    const fixed = await api<View>('admin', 'PUT', `${obj('drift')}/state`, { state: 'staging', from: 'qa', reason: 'qa was renamed' });
    expect(fixed.status, fixed.text).toBe(200);
    expect(fixed.body).toMatchObject({ state: 'staging', valid: true, nextState: 'prod' });
  });

  it('checks and authorizes a dry run without writing', async () => {
    await createObject(ns(), 'dry', { name: 'Dry', states: ['dev', 'prod'], protectedStates: ['prod'] });
    await waitServed(ns(), 'dry');
    const ok = await unchanged('dry', () => api<View>('alice', 'POST', `${obj('dry')}/promote?dryRun=All`, { from: 'dev', reason: 'try' }));
    expect(ok.status, ok.text).toBe(201);
    expect(ok.body.state).toBe('prod');
    const denied = await unchanged('dry', () => api<Stat>('bob', 'POST', `${obj('dry')}/promote?dryRun=All`, { from: 'dev', reason: 'try' }));
    expect(denied.status).toBe(403);
    const bad = await api<Stat>('admin', 'POST', `${obj('dry')}/promote?dryRun=Some`, { from: 'dev', reason: 'x' });
    expect(bad.status).toBe(400);
  });

  it('refuses a stale from with 409, naming the current state and who moved it', async () => {
    await createObject(ns(), 'stale', { name: 'Stale', states: ['a', 'b', 'c'] });
    await waitServed(ns(), 'stale');
    expect((await api('alice', 'POST', `${obj('stale')}/promote`, { from: 'a' })).status).toBe(201);
    const r = await unchanged('stale', () => api<Stat>('alice', 'POST', `${obj('stale')}/promote`, { from: 'a' }));
    expect(r.status).toBe(409);
    expect(r.body.reason).toBe('Conflict');
    expect(r.body.message).toMatch(/^Operation cannot be fulfilled on customresources\.custom\.example\.com "stale": the object is in state "b" \(moved there by alice at [^)]+\), not "a"/);
  });

  it('records the authenticated user; nothing in the body can set it', async () => {
    await createObject(ns(), 'who', { name: 'Who', states: ['a', 'b'] });
    await waitServed(ns(), 'who');
    const r = await api<View>('alice', 'POST', `${obj('who')}/promote`, { from: 'a', user: 'mallory' });
    expect(r.status).toBe(422);
    expect(JSON.stringify(r.body)).toContain('unknown field');
    const ok = await api<View>('alice', 'POST', `${obj('who')}/promote`, { from: 'a' }, { 'X-Remote-User': 'mallory' });
    expect(ok.status).toBe(201);
    expect(ok.body.history.at(-1)?.user).toBe('alice');
  });

  it('records an Event for each accepted change', async () => {
    await createObject(ns(), 'evented', { name: 'Ev', states: ['a', 'b', 'c'] });
    await waitServed(ns(), 'evented');
    expect((await api('alice', 'POST', `${obj('evented')}/promote`, { from: 'a', reason: 'first' })).status).toBe(201);
    expect((await api('admin', 'PUT', `${obj('evented')}/state`, { state: 'a', from: 'b', reason: 'undo' })).status).toBe(200);
    type Ev = { reason: string; message: string; involvedObject: { kind: string; apiVersion: string } };
    let events: Ev[] = [];
    await eventually('both Events are recorded', async () => {
      const out = await kubectl('admin', ['get', 'events', '-n', ns(), '--field-selector', 'involvedObject.name=evented', '-o', 'json']);
      events = (JSON.parse(out.stdout) as { items: Ev[] }).items;
      return events.length === 2;
    });
    expect(events.map((e) => [e.reason, e.message]).sort()).toEqual([
      ['Promoted', 'alice promoted evented from a to b: first'],
      ['StateSet', 'admin moved evented from b to a: undo'],
    ]);
    expect(events[0]?.involvedObject).toMatchObject({ kind: 'CustomResource', apiVersion: 'example.com/v1' });
  });
});

describe('nothing forged', () => {
  it('an editor may edit the spec but never write the status', async () => {
    await createObject(ns(), 'forge', { name: 'Forge', states: ['dev', 'prod'], protectedStates: ['prod'] });
    await waitServed(ns(), 'forge');
    const bind = await api('admin', 'POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns()}/rolebindings`, {
      metadata: { name: 'alice-editor' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'kubectl-custom-editor' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' }],
    });
    expect(bind.status).toBe(201);
    const stored = `${STORAGE}/namespaces/${ns()}/customresources/forge`;
    await eventually('alice may edit the spec', async () => (await api('alice', 'PATCH', stored, { spec: { name: 'Forge v2' } }, { 'Content-Type': 'application/merge-patch+json' })).status === 200);
    const forged = { status: { state: 'prod', history: [{ action: 'promote', from: 'dev', to: 'prod', user: 'release-manager', time: new Date().toISOString(), reason: 'trust me' }] } };
    const patch = await unchanged('forge', () => api<Stat>('alice', 'PATCH', `${stored}/status`, forged, { 'Content-Type': 'application/merge-patch+json' }));
    expect(patch.status).toBe(403);
    expect(patch.body.message).toContain('cannot patch resource "customresources/status" in API group "example.com"');
    const current = await api<Record<string, unknown>>('alice', 'GET', stored);
    const put = await unchanged('forge', () => api<Stat>('alice', 'PUT', `${stored}/status`, { ...current.body, ...forged }));
    expect(put.status).toBe(403);
    // Writing the whole object ignores status: it is a subresource.
    const whole = await api<{ status?: unknown }>('alice', 'PUT', stored, { ...current.body, ...forged });
    expect(whole.status, whole.text).toBe(200);
    expect(whole.body.status).toBeUndefined();
  });

  it('X-Remote-User sent straight to the backend by a user does not change the recorded user', async () => {
    await createObject(ns(), 'spoof', { name: 'Spoof', states: ['a', 'b'] });
    await waitServed(ns(), 'spoof');
    const alice = { cert: readFileSync(cluster().users.alice.cert, 'utf8'), key: readFileSync(cluster().users.alice.key, 'utf8') };
    const r = await direct({
      method: 'POST',
      path: `${obj('spoof')}/promote`,
      cert: alice,
      headers: { 'Content-Type': 'application/json', 'X-Remote-User': 'release-manager', 'X-Remote-Group': 'system:masters' },
      body: JSON.stringify({ from: 'a' }),
    });
    expect(r.status, r.body).toBe(201);
    expect(r.json<View>().history.at(-1)?.user).toBe('alice');
  });
});

describe('no lost updates', () => {
  it('32 concurrent promotes with the same from: exactly one wins', async () => {
    await createObject(ns(), 'race', { name: 'Race', states: ['a', 'b', 'c'] });
    await waitServed(ns(), 'race');
    const results = await Promise.all(Array.from({ length: 32 }, (_, i) => api<Stat | View>('admin', 'POST', `${obj('race')}/promote`, { from: 'a', reason: `r${i}` })));
    const codes = results.map((r) => r.status).sort();
    expect(codes.filter((c) => c === 201)).toHaveLength(1);
    expect(codes.filter((c) => c === 409)).toHaveLength(31);
    const v = await api<View>('admin', 'GET', `${obj('race')}/state`);
    expect(v.body.state).toBe('b');
    expect(v.body.history).toHaveLength(1);
  });

  it('200 concurrent transitions over 20 objects from 8 clients: every 2xx is in the history exactly once, in order', async () => {
    const states = ['s0', 's1', 's2', 's3'];
    const names = Array.from({ length: 20 }, (_, i) => `many-${i}`);
    for (const n of names) await createObject(ns(), n, { name: n, states });
    await Promise.all(names.map((n) => waitServed(ns(), n)));
    const accepted: { name: string; reason: string; from: string; to: string }[] = [];
    let conflicts = 0;
    let seq = 0;
    const client = async (c: number) => {
      for (let i = 0; i < 25; i++) {
        const name = names[(c * 7 + i * 3 + seq++) % names.length]!;
        const seen = await api<View>('admin', 'GET', `${obj(name)}/state`);
        const from = seen.body.state;
        const to = states.filter((s) => s !== from)[(c + i) % 3]!;
        const reason = `c${c}-t${i}`;
        const r = await api<View>('admin', 'PUT', `${obj(name)}/state`, { state: to, from, reason });
        if (r.status === 200) accepted.push({ name, reason, from, to });
        else if (r.status === 409) conflicts++;
        else throw new Error(`unexpected ${r.status}: ${r.text}`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, c) => client(c)));
    expect(accepted.length + conflicts).toBe(200);
    expect(accepted.length).toBeGreaterThan(50);
    for (const name of names) {
      const v = (await api<View>('admin', 'GET', `${obj(name)}/state`)).body;
      // The whole trail: the window in status and what was archived.
      const trail = (await api<{ lives: { entries: View['history'] }[] }>('admin', 'GET', `${obj(name)}/history`)).body.lives[0]!.entries;
      const mine = accepted.filter((a) => a.name === name);
      // Exactly the accepted changes, each once…
      expect(trail.map((h) => h.reason).sort()).toEqual(mine.map((m) => m.reason).sort());
      // …and a consistent chain: each entry starts where the previous ended.
      let at = 's0';
      for (const h of trail) {
        expect(h.from).toBe(at);
        at = h.to;
      }
      expect(v.state).toBe(at);
    }
  });
});
