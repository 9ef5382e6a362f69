// Every door into a state, tried by the insider of issue 18 (attacks 1–5):
// bob, an editor of the namespace (kubectl-custom-editor, which is what the
// cluster's `edit` role aggregates), who holds neither `enter` nor
// `override` on prod, works through kubectl and the plugin against the real
// control plane. alice is the release manager (`enter` and `approve` on
// prod), carol an approver (`approve` on prod).
//
// Each door is refused with a message that names the permission it needs:
// the rollback into a protected state by the aggregated API (403, `enter`),
// the edits by admission — the backend's validating webhook
// gates.custom.example.com, which sees the effective gates (spec, GatePolicies,
// Freezes), or, where the spec alone says so, the ValidatingAdmissionPolicy
// kubectl-custom-gates. Which of the two refuses is not asserted, only the
// permission, the state and the namespace they name.
//
// The GatePolicy and the Freeze live in this file's namespace (a GatePolicy
// in namespace X gates X's objects); ones in custom-system would gate every
// other test file's objects. Attack 4 needs a namespace no policy gates.
import { beforeAll, describe, expect, it } from 'vitest';
import type { CustomResourceHistory, StoredObject } from '../../api/src/types.ts';
import { api, bindClusterRole, cluster, CUSTOM, eventually, grantRole, kubectl, STORAGE, useNamespace } from './harness.ts';
import { kubectlCustom, type CliResult } from './plugin-cli.ts';

/** Gated by the GatePolicy prod-gates and the Freeze payments below. */
const ns = useNamespace(import.meta.filename);
/** No GatePolicy: gates only in objects' specs. */
const bare = useNamespace(`${import.meta.filename}-bare`);

const CR = 'customresources.example.com';
const states = (verbs: string[], names: string[]) => ({ apiGroups: ['custom.example.com'], resources: ['states'], resourceNames: names, verbs });

type Spec = StoredObject['spec'];
const manifest = (namespace: string, name: string, spec: Spec, labels?: Record<string, string>) =>
  JSON.stringify({ apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name, namespace, ...(labels ? { labels } : {}) }, spec });

/** `kubectl custom …` as carol (plugin-cli's helper names only admin, alice and bob). */
const asCarol = (args: string[]) => kubectlCustom(undefined, args, { KUBECONFIG: cluster().kubeconfigs.carol });

async function stored(namespace: string, name: string): Promise<StoredObject | undefined> {
  const r = await api<StoredObject>('admin', 'GET', `${STORAGE}/namespaces/${namespace}/customresources/${name}`);
  if (r.status === 404) return undefined;
  if (r.status !== 200) throw new Error(`get ${namespace}/${name}: ${r.status} ${r.text}`);
  return r.body;
}

/** The current state, as the storage object says (status.state, or the first state of an object never moved). */
async function stateOf(namespace: string, name: string): Promise<string | undefined> {
  const o = await stored(namespace, name);
  return o ? o.status?.state || o.spec.states[0] : undefined;
}

async function trail(namespace: string, name: string): Promise<CustomResourceHistory> {
  const r = await api<CustomResourceHistory>('admin', 'GET', `${CUSTOM}/namespaces/${namespace}/customresources/${name}/history`);
  if (r.status !== 200) throw new Error(`history ${namespace}/${name}: ${r.status} ${r.text}`);
  return r.body;
}

function expectOk(r: CliResult): void {
  expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
}

/** Refused, naming `verb` on states.custom.example.com `state` in `namespace`, as the webhook and the admission policy both word it. */
function expectAdmissionRefused(r: CliResult, verb: 'enter' | 'override', state: string, namespace: string): void {
  expect(r.code, r.stdout).not.toBe(0);
  expect(r.stderr).toContain('(Forbidden)');
  expect(r.stderr).toMatch(/admission webhook "gates\.custom\.example\.com" denied the request|ValidatingAdmissionPolicy 'kubectl-custom-gates' with binding 'kubectl-custom-gates' denied request/);
  expect(r.stderr).toContain(`needs the "${verb}" verb on states.custom.example.com ${JSON.stringify(state)} in namespace ${JSON.stringify(namespace)}`);
}

beforeAll(async () => {
  for (const n of [ns(), bare()]) {
    for (const u of ['alice', 'bob', 'carol']) await bindClusterRole(n, u, 'kubectl-custom-editor');
    await grantRole(n, 'alice-release-manager', 'alice', [states(['enter', 'approve'], ['prod'])]);
    await grantRole(n, 'carol-prod-approver', 'carol', [states(['approve'], ['prod'])]);
  }
  // As in manifests/samples/gate-policy.yaml, but for this namespace only:
  // every prod protected with one approval; team=payments soaks an hour
  // before prod.
  const policy = {
    apiVersion: 'example.com/v1', kind: 'GatePolicy', metadata: { name: 'prod-gates', namespace: ns() },
    spec: { rules: [{ states: ['prod'], protected: true, requiredApprovals: 1 }, { states: ['prod'], selector: { matchLabels: { team: 'payments' } }, minSoakSeconds: 3600 }] },
  };
  expectOk(await kubectl('admin', ['create', '-f', '-'], { input: JSON.stringify(policy) }));
  expectOk(await kubectlCustom('admin', ['freeze', '-n', ns(), '--states', 'prod', '-l', 'team=payments', '--for', '2h', '--reason', 'payments incident', '--name', 'payments']));
  // RBAC settles asynchronously; the backend lists the policy and the freeze in the background.
  await eventually('RBAC in force', async () => {
    for (const u of ['alice', 'bob'] as const) if ((await kubectlCustom(u, ['list', '-n', ns()])).code !== 0 || (await kubectlCustom(u, ['list', '-n', bare()])).code !== 0) return false;
    return (await asCarol(['list', '-n', ns()])).code === 0;
  });
  const probe = { name: 'Probe', states: ['dev', 'prod'] };
  expectOk(await kubectl('admin', ['create', '-f', '-'], { input: manifest(ns(), 'probe', probe, { team: 'payments' }) }));
  await eventually('the backend gates with the policy and the freeze', async () => {
    const v = await api<{ checks?: { gate: string; sources?: { kind: string; name?: string }[] }[]; gates?: { promoteBlockedBy?: string[] } }>('admin', 'GET', `${CUSTOM}/namespaces/${ns()}/customresources/probe/state`);
    return v.status === 200 && (v.body.checks ?? []).some((c) => c.gate === 'protection' && (c.sources ?? []).some((s) => s.name === 'prod-gates')) && (v.body.gates?.promoteBlockedBy ?? []).includes('freeze');
  }, 30_000);
});

describe('attack 1: a rollback into a protected state', () => {
  it('rb [dev, prod, retired] retired by the release manager: the editor\'s set-state rb prod is 403, naming enter on prod', async () => {
    expectOk(await kubectl('admin', ['create', '-f', '-'], { input: manifest(ns(), 'rb', { name: 'Rollback', states: ['dev', 'prod', 'retired'] }) }));
    await eventually('the backend serves rb', async () => (await kubectlCustom('bob', ['describe-state', 'rb', '-n', ns()])).code === 0);
    // Legitimately into prod (carol's approval, alice's enter) and on to retired.
    expectOk(await asCarol(['approve', 'rb', '-n', ns(), '--reason', 'looks good']));
    expectOk(await kubectlCustom('alice', ['promote', 'rb', '-n', ns(), '--reason', 'release 1.0']));
    expectOk(await kubectlCustom('alice', ['promote', 'rb', '-n', ns(), '--reason', 'end of life']));
    expect(await stateOf(ns(), 'rb')).toBe('retired');

    const r = await kubectlCustom('bob', ['set-state', 'rb', 'prod', '-n', ns(), '--reason', 'back']);
    expect(r.code, r.stdout).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('Error from server (Forbidden)');
    expect(r.stderr).toContain('cannot enter state "prod": it is protected (a rollback into a protected state needs it too); that needs the "enter" verb on resource "states" in API group "custom.example.com" with resourceNames ["prod"]');
    expect(await stateOf(ns(), 'rb')).toBe('retired');
    const entries = (await trail(ns(), 'rb')).lives[0]!.entries;
    expect(entries.filter((e) => e.user === 'bob')).toEqual([]);
  });
});

describe('attack 2: reorder, then "roll back"', () => {
  it('gates only in a GatePolicy: the editor\'s reorder [dev, staging, prod] → [prod, dev, staging] is refused, naming override on prod; set-state into prod is 403', async () => {
    expectOk(await kubectl('admin', ['create', '-f', '-'], { input: manifest(ns(), 'order', { name: 'Order', states: ['dev', 'staging', 'prod'] }) }));
    await eventually('the backend serves order', async () => (await kubectlCustom('bob', ['describe-state', 'order', '-n', ns()])).code === 0);
    // staging has no gate: the editor may move there.
    expectOk(await kubectlCustom('bob', ['promote', 'order', '-n', ns()]));
    expect(await stateOf(ns(), 'order')).toBe('staging');

    const r = await kubectl('bob', ['patch', CR, 'order', '-n', ns(), '--type=merge', '-p', JSON.stringify({ spec: { states: ['prod', 'dev', 'staging'] } })]);
    expectAdmissionRefused(r, 'override', 'prod', ns());
    expect((await stored(ns(), 'order'))!.spec.states).toEqual(['dev', 'staging', 'prod']);

    // Nor is there a way in from staging without enter, forward or "back".
    const s = await kubectlCustom('bob', ['set-state', 'order', 'prod', '-n', ns(), '--reason', 'back']);
    expect(s.code).not.toBe(0);
    expect(s.stderr).toContain('that needs the "enter" verb on resource "states" in API group "custom.example.com" with resourceNames ["prod"]');
    expect(await stateOf(ns(), 'order')).toBe('staging');
  });
});

describe('attack 3: create an object whose first state a GatePolicy protects', () => {
  it('[prod, retired] by the editor is refused, naming enter on prod; nothing is stored', async () => {
    const r = await kubectl('bob', ['create', '-f', '-'], { input: manifest(ns(), 'born-in-prod', { name: 'Born in prod', states: ['prod', 'retired'] }) });
    expectAdmissionRefused(r, 'enter', 'prod', ns());
    expect(await stored(ns(), 'born-in-prod')).toBeUndefined();
    // kubectl apply is the same door.
    const a = await kubectl('bob', ['apply', '-f', '-'], { input: manifest(ns(), 'born-in-prod', { name: 'Born in prod', states: ['prod', 'retired'] }) });
    expectAdmissionRefused(a, 'enter', 'prod', ns());
    expect(await stored(ns(), 'born-in-prod')).toBeUndefined();
  });
});

describe('attack 4: delete and re-create', () => {
  const GATED: Spec = { name: 'Shopping cart', states: ['dev', 'staging', 'prod'], protectedStates: ['prod'] };

  it('cart re-created as [prod, staging] without gates, promoted and rolled back into prod: applying the gated spec again is refused, naming enter on prod; the first life\'s deleted entry names the editor', async () => {
    expectOk(await kubectl('admin', ['apply', '-f', '-'], { input: manifest(bare(), 'cart', GATED) }));
    await eventually('the backend serves cart', async () => (await kubectlCustom('bob', ['describe-state', 'cart', '-n', bare()])).code === 0);
    const firstUid = (await stored(bare(), 'cart'))!.metadata.uid;

    const del = await kubectl('bob', ['delete', CR, 'cart', '-n', bare(), '--wait=false']);
    expectOk(del);
    await eventually('the first life is archived and released', async () => (await stored(bare(), 'cart')) === undefined, 30_000);

    // No policy protects prod here: starting in it is allowed.
    expectOk(await kubectl('bob', ['apply', '-f', '-'], { input: manifest(bare(), 'cart', { name: 'Shopping cart', states: ['prod', 'staging'] }) }));
    await eventually('the backend serves the new cart', async () => {
      const r = await api<{ metadata: { uid: string } }>('admin', 'GET', `${CUSTOM}/namespaces/${bare()}/customresources/cart`);
      return r.status === 200 && r.body.metadata.uid !== firstUid;
    });
    expectOk(await kubectlCustom('bob', ['promote', 'cart', '-n', bare()]));
    // Back into prod: not protected now, so a plain rollback.
    expectOk(await kubectlCustom('bob', ['set-state', 'cart', 'prod', '-n', bare(), '--reason', 'back']));
    expect(await stateOf(bare(), 'cart')).toBe('prod');

    // The original gated spec would make the state cart is in protected, entered by nobody who may.
    const r = await kubectl('bob', ['apply', '-f', '-'], { input: manifest(bare(), 'cart', GATED) });
    expectAdmissionRefused(r, 'enter', 'prod', bare());
    const now = (await stored(bare(), 'cart'))!;
    expect(now.spec).toEqual({ name: 'Shopping cart', states: ['prod', 'staging'] });
    expect(now.status?.state).toBe('prod');

    // Who deleted the first life: the editor, in its `deleted` entry (kubectl custom history shows earlier lives).
    const h = await kubectlCustom('bob', ['history', 'cart', '-n', bare(), '-o', 'json']);
    expectOk(h);
    const doc = JSON.parse(h.stdout) as CustomResourceHistory;
    expect(doc.lives.map((l) => l.live)).toEqual([true, false]);
    expect(doc.lives[1]!.uid).toBe(firstUid);
    expect(doc.lives[1]!.entries.at(-1)).toMatchObject({ action: 'deleted', user: 'bob' });
  }, 120_000);
});

describe('attack 5: labels decide policies and freezes', () => {
  it('removing team=payments (the GatePolicy rule\'s soak before prod, the Freeze of prod) is refused, naming override on the states concerned', async () => {
    expectOk(await kubectl('admin', ['create', '-f', '-'], { input: manifest(ns(), 'pay', { name: 'Payments', states: ['dev', 'staging', 'prod'] }, { team: 'payments' }) }));
    await eventually('the backend serves pay', async () => (await kubectlCustom('bob', ['describe-state', 'pay', '-n', ns()])).code === 0);
    expectOk(await kubectlCustom('bob', ['promote', 'pay', '-n', ns()]));
    expect(await stateOf(ns(), 'pay')).toBe('staging');

    const r = await kubectl('bob', ['label', CR, 'pay', '-n', ns(), 'team-']);
    expect(r.code, r.stdout).not.toBe(0);
    expect(r.stderr).toContain('(Forbidden)');
    expect(r.stderr).toContain('admission webhook "gates.custom.example.com" denied the request');
    // The Freeze covers prod; the rule's soak is the soak of staging, the state before prod.
    expect(r.stderr).toContain(`needs the "override" verb on states.custom.example.com "prod" in namespace "${ns()}"`);
    expect(r.stderr).toContain(`needs the "override" verb on states.custom.example.com "staging" in namespace "${ns()}"`);
    expect((await stored(ns(), 'pay'))!.metadata.labels).toEqual({ team: 'payments' });

    // Relabelling (the same key, another value) is the same door.
    const relabel = await kubectl('bob', ['label', CR, 'pay', '-n', ns(), 'team=storefront', '--overwrite']);
    expect(relabel.code).not.toBe(0);
    expect(relabel.stderr).toContain(`needs the "override" verb on states.custom.example.com "prod" in namespace "${ns()}"`);
    expect((await stored(ns(), 'pay'))!.metadata.labels).toEqual({ team: 'payments' });
  });
});
