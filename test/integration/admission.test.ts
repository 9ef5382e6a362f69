// The ValidatingAdmissionPolicies of manifests/base/admission-policy.yaml,
// evaluated by a real kube-apiserver: weakening the gates in an object's spec
// needs `override` on the states concerned, starting in a protected state
// needs `enter`, the finalizer custom.example.com/history is the backend's
// alone (and the backend may change nothing else), and StateHistory segments
// are never updated. Refusals are checked to leave the stored spec as it was.
// Specs and labels are compared rather than resourceVersions: the backend may
// add its finalizer to any object in the background.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND_SERVICE_ACCOUNT, FINALIZER, SYSTEM_NAMESPACE } from '../../api/src/names.ts';
import { serviceAccountToken } from '../../cluster/backend.ts';
import { writeKubeconfig } from '../../cluster/kubeconfig.ts';
import { api, cluster, eventually, grantRole, kubeConfig, kubectl, kubectlWith, STORAGE, useNamespace } from './harness.ts';

const POLICY_FILE = fileURLToPath(new URL('../../manifests/base/admission-policy.yaml', import.meta.url));
const ns = useNamespace(import.meta.filename);
const CR = 'customresources.example.com';

type Spec = { name: string; states: string[]; protectedStates?: string[]; minSoakSeconds?: Record<string, number>; requiredApprovals?: Record<string, number> };
type Stored = { metadata: { resourceVersion: string; labels?: Record<string, string>; finalizers?: string[]; deletionTimestamp?: string }; spec: Spec };
type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };
type Result = { code: number; stdout: string; stderr: string };

const GATED: Spec = { name: 'Checkout', states: ['dev', 'staging', 'prod'], protectedStates: ['prod'], minSoakSeconds: { staging: 3600 }, requiredApprovals: { prod: 2 } };
const SOAK_ONLY: Spec = { name: 'Soak', states: ['dev', 'staging', 'prod'], minSoakSeconds: { staging: 3600 } };
const without = (spec: Spec, ...keys: (keyof Spec)[]): Spec => Object.fromEntries(Object.entries(spec).filter(([k]) => !keys.includes(k as keyof Spec))) as Spec;
/** An object name made of a test's words: at most `max` characters, ending in a letter or digit. */
const slug = (s: string, max = 40) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, max).replace(/^-+|-+$/g, '');

const manifest = (name: string, spec: Spec, metadata: Record<string, unknown> = {}) =>
  JSON.stringify({ apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name, namespace: ns(), ...metadata }, spec });
const patch = (name: string, type: 'merge' | 'json', body: unknown) => ['patch', CR, name, '-n', ns(), `--type=${type}`, '-p', JSON.stringify(body)];
const states = (verbs: string[], resourceNames?: string[]): Rule => ({ apiGroups: ['custom.example.com'], resources: ['states'], verbs, ...(resourceNames ? { resourceNames } : {}) });

async function stored(name: string): Promise<Stored> {
  const r = await api<Stored>('admin', 'GET', `${STORAGE}/namespaces/${ns()}/customresources/${name}`);
  if (r.status !== 200) throw new Error(`get ${name}: ${r.status} ${r.text}`);
  return r.body;
}

/** Created with `kubectl apply` as admin, so that later applies have a last-applied configuration to diff against. */
async function applyAsAdmin(name: string, spec: Spec): Promise<void> {
  const r = await kubectl('admin', ['apply', '-f', '-'], { input: manifest(name, spec) });
  expect(r.code, r.stderr).toBe(0);
}

function expectRefused(r: Result, policy: 'kubectl-custom-gates' | 'kubectl-custom-history', message: string): void {
  expect(r.code, r.stdout).not.toBe(0);
  expect(r.stderr).toContain('(Forbidden)');
  expect(r.stderr).toContain(`ValidatingAdmissionPolicy '${policy}' with binding '${policy}' denied request: ${message}`);
}

async function bobMay(verb: string, resource: string, group: string, name?: string): Promise<boolean> {
  const r = await api<{ status: { allowed: boolean } }>('bob', 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
    apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview',
    spec: { resourceAttributes: { namespace: ns(), group, resource, verb, ...(name ? { name } : {}) } },
  });
  return r.body.status.allowed;
}

/** Grants bob `rules` on states for the length of `fn`; RBAC is checked in force before and gone after. */
async function asBobWith(role: string, rule: Rule, fn: () => Promise<void>): Promise<void> {
  await grantRole(ns(), role, 'bob', [rule]);
  const probe = () => bobMay(rule.verbs[0]!, 'states', 'custom.example.com', rule.resourceNames?.[0]);
  try {
    await eventually(`bob holds ${role}`, probe);
    await fn();
  } finally {
    const rbac = kubeConfig('admin').makeApiClient(RbacAuthorizationV1Api);
    await rbac.deleteNamespacedRoleBinding({ namespace: ns(), name: role });
    await rbac.deleteNamespacedRole({ namespace: ns(), name: role });
    await eventually(`bob no longer holds ${role}`, async () => !(await probe()));
  }
}

/** A RoleBinding in this namespace to the ClusterRole people edit objects with. */
async function bindEditor(name: string, subject: { apiGroup?: string; kind: string; name: string; namespace?: string }): Promise<void> {
  await kubeConfig('admin').makeApiClient(RbacAuthorizationV1Api).createNamespacedRoleBinding({
    namespace: ns(),
    body: { metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'kubectl-custom-editor' }, subjects: [subject] },
  });
}

let dir: string;
let backendKubeconfig: string;
const asBackend = (args: string[], input?: string) => kubectlWith(backendKubeconfig, args, input === undefined ? {} : { input });

beforeAll(async () => {
  // bob edits customresources in this namespace as the aggregated edit role would let him, nothing more.
  await bindEditor('bob-editor', { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'bob' });
  await eventually('bob may patch customresources', () => bobMay('patch', 'customresources', 'example.com'));
  // The backend's own credentials: a token of its ServiceAccount, as its pods have.
  dir = mkdtempSync(join(tmpdir(), 'kubectl-custom-admission-'));
  backendKubeconfig = writeKubeconfig(join(dir, 'backend.kubeconfig'), { server: cluster().server, caFile: cluster().caFile, user: 'kubectl-custom-backend', credentials: { token: await serviceAccountToken(cluster()) } });
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the policies in manifests/base', () => {
  const docs = parseAllDocuments(readFileSync(POLICY_FILE, 'utf8')).map((d) => d.toJSON() as { kind: string; metadata: { name: string }; spec: Record<string, unknown> });

  it('are installed as written: failurePolicy Fail, each bound by a binding of its name that denies', async () => {
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual([
      'ValidatingAdmissionPolicy/kubectl-custom-gates', 'ValidatingAdmissionPolicyBinding/kubectl-custom-gates',
      'ValidatingAdmissionPolicy/kubectl-custom-history', 'ValidatingAdmissionPolicyBinding/kubectl-custom-history',
    ]);
    for (const d of docs) {
      const got = await kubectl('admin', ['get', d.kind.toLowerCase(), d.metadata.name, '-o', 'json']);
      expect(got.code, got.stderr).toBe(0);
      // toMatchObject: the server adds defaults (matchPolicy, selectors, scope).
      expect((JSON.parse(got.stdout) as { spec: unknown }).spec).toMatchObject(d.spec);
      if (d.kind === 'ValidatingAdmissionPolicy') expect(d.spec['failurePolicy']).toBe('Fail');
      else expect(d.spec).toEqual({ policyName: d.metadata.name, validationActions: ['Deny'] });
    }
  });

  it('call the authorizer at most twice per expression, and never where kube-apiserver provides none', () => {
    // Each check costs 350,000 of the 1,000,000 allowed per expression: a third
    // fails at run time ("actual cost limit exceeded"), which failurePolicy Fail
    // turns into a refusal of every such request. messageExpressions are
    // evaluated without `authorizer`, and with them the variables they use.
    for (const d of docs.filter((x) => x.kind === 'ValidatingAdmissionPolicy')) {
      const spec = d.spec as { variables?: { expression: string }[]; validations: { expression: string; messageExpression?: string }[] };
      for (const v of spec.validations) {
        expect(v.expression.split('.check(').length - 1, v.expression).toBeLessThanOrEqual(2);
        expect(v.messageExpression ?? '').not.toContain('authorizer');
      }
      for (const v of spec.variables ?? []) expect(v.expression).not.toContain('authorizer');
    }
  });
});

describe('weakening the gates in spec', () => {
  // One state weakened per row; `how` is what the refusal says about it.
  const single: { name: string; from?: Spec; to: Spec; merge: unknown; json: unknown[]; state: string; how: string }[] = [
    {
      name: 'unprotecting a state', to: without(GATED, 'protectedStates'),
      merge: { spec: { protectedStates: null } }, json: [{ op: 'remove', path: '/spec/protectedStates' }],
      state: 'prod', how: '"prod" (no longer protected)',
    },
    {
      name: 'lowering a soak', to: { ...GATED, minSoakSeconds: { staging: 60 } },
      merge: { spec: { minSoakSeconds: { staging: 60 } } }, json: [{ op: 'replace', path: '/spec/minSoakSeconds/staging', value: 60 }],
      state: 'staging', how: '"staging" (minSoakSeconds lowered from 3600 to 60)',
    },
    {
      name: 'removing a soak', to: without(GATED, 'minSoakSeconds'),
      merge: { spec: { minSoakSeconds: null } }, json: [{ op: 'remove', path: '/spec/minSoakSeconds' }],
      state: 'staging', how: '"staging" (minSoakSeconds 3600 removed)',
    },
    {
      name: 'lowering required approvals', to: { ...GATED, requiredApprovals: { prod: 1 } },
      merge: { spec: { requiredApprovals: { prod: 1 } } }, json: [{ op: 'replace', path: '/spec/requiredApprovals/prod', value: 1 }],
      state: 'prod', how: '"prod" (requiredApprovals lowered from 2 to 1)',
    },
    {
      name: 'removing required approvals', to: without(GATED, 'requiredApprovals'),
      merge: { spec: { requiredApprovals: null } }, json: [{ op: 'remove', path: '/spec/requiredApprovals' }],
      state: 'prod', how: '"prod" (requiredApprovals 2 removed)',
    },
    {
      name: 'reordering the states before a protected state', to: { ...GATED, states: ['staging', 'dev', 'prod'] },
      merge: { spec: { states: ['staging', 'dev', 'prod'] } }, json: [{ op: 'move', from: '/spec/states/1', path: '/spec/states/0' }],
      state: 'prod', how: '"prod" (states before it removed or reordered)',
    },
    {
      name: 'removing a state before a protected state', to: { ...GATED, states: ['staging', 'prod'] },
      merge: { spec: { states: ['staging', 'prod'] } }, json: [{ op: 'remove', path: '/spec/states/0' }],
      state: 'prod', how: '"prod" (states before it removed or reordered)',
    },
    {
      name: 'moving a state before the soak that gates it', from: SOAK_ONLY, to: { ...SOAK_ONLY, states: ['dev', 'prod', 'staging'] },
      merge: { spec: { states: ['dev', 'prod', 'staging'] } }, json: [{ op: 'move', from: '/spec/states/2', path: '/spec/states/1' }],
      state: 'prod', how: '"prod" (states before it removed or reordered)',
    },
    {
      // Also puts a protected state first; override counts as enter, so override on prod alone lets it through.
      name: 'making a protected state the first', to: { ...GATED, states: ['prod', 'dev', 'staging'] },
      merge: { spec: { states: ['prod', 'dev', 'staging'] } }, json: [{ op: 'move', from: '/spec/states/2', path: '/spec/states/0' }],
      state: 'prod', how: '"prod" (states before it removed or reordered)',
    },
    {
      name: 'removing a protected state', to: { name: GATED.name, states: ['dev', 'staging'], minSoakSeconds: { staging: 3600 } },
      merge: { spec: { states: ['dev', 'staging'], protectedStates: null, requiredApprovals: null } },
      json: [{ op: 'remove', path: '/spec/states/2' }, { op: 'remove', path: '/spec/protectedStates' }, { op: 'remove', path: '/spec/requiredApprovals' }],
      state: 'prod', how: '"prod" (no longer protected, requiredApprovals 2 removed, removed from spec.states)',
    },
  ];
  const methods = {
    'kubectl apply': (name: string, row: (typeof single)[number]) => ({ args: ['apply', '-f', '-'], input: manifest(name, row.to) }),
    'kubectl patch --type=merge': (name: string, row: (typeof single)[number]) => ({ args: patch(name, 'merge', row.merge) }),
    'kubectl patch --type=json': (name: string, row: (typeof single)[number]) => ({ args: patch(name, 'json', row.json) }),
  };
  const refusals = single.flatMap((row) => Object.entries(methods).map(([method, edit]) => ({ name: row.name, method, row, edit })));

  it.each(refusals)('refuses $name by $method without override, and leaves spec as it was', async ({ row, method, edit }) => {
    const name = `${slug(row.name)}-${slug(method).replace('kubectl-', '')}`;
    const from = row.from ?? GATED;
    await applyAsAdmin(name, from);
    const { args, input } = { input: undefined, ...edit(name, row) };
    const r = await kubectl('bob', args, input === undefined ? {} : { input });
    expectRefused(r, 'kubectl-custom-gates', `weakening the gates of ${row.how} needs the "override" verb on states.custom.example.com "${row.state}" in namespace "${ns()}"`);
    expect((await stored(name)).spec).toEqual(from);
  });

  it.each(single)('accepts $name once bob holds override on "$state" (a Role with resourceNames)', async (row) => {
    const name = `${slug(row.name)}-ok`;
    await applyAsAdmin(name, row.from ?? GATED);
    await asBobWith(`override-${row.state}`, states(['override'], [row.state]), async () => {
      const r = await kubectl('bob', ['apply', '-f', '-'], { input: manifest(name, row.to) });
      expect(r.code, r.stderr).toBe(0);
      expect((await stored(name)).spec).toEqual(row.to);
    });
  });

  it('refuses weakening two states at once with override on each by name, and accepts it with override on all states', async () => {
    await applyAsAdmin('two-states', GATED);
    const edit = patch('two-states', 'json', [{ op: 'remove', path: '/spec/protectedStates' }, { op: 'remove', path: '/spec/minSoakSeconds' }]);
    const message = `weakening the gates of several states at once, "staging" (minSoakSeconds 3600 removed), "prod" (no longer protected), needs the "override" verb on all states.custom.example.com (a rule without resourceNames) in namespace "${ns()}"`;
    expectRefused(await kubectl('bob', edit), 'kubectl-custom-gates', message);
    await asBobWith('override-prod', states(['override'], ['prod']), async () => {
      expectRefused(await kubectl('bob', edit), 'kubectl-custom-gates', message);
    });
    // Even both by name: one check per state would exceed CEL's authorizer budget, so "several" means all.
    await asBobWith('override-both', states(['override'], ['staging', 'prod']), async () => {
      expectRefused(await kubectl('bob', edit), 'kubectl-custom-gates', message);
    });
    expect((await stored('two-states')).spec).toEqual(GATED);
    await asBobWith('override-all', states(['override']), async () => {
      const r = await kubectl('bob', edit);
      expect(r.code, r.stderr).toBe(0);
      expect((await stored('two-states')).spec).toEqual(without(GATED, 'protectedStates', 'minSoakSeconds'));
    });
  });

  it.each([
    { name: 'protecting another state', to: { ...GATED, protectedStates: ['staging', 'prod'] } },
    { name: 'raising a soak', to: { ...GATED, minSoakSeconds: { staging: 7200 } } },
    { name: 'adding a soak', to: { ...GATED, minSoakSeconds: { dev: 60, staging: 3600 } } },
    { name: 'raising required approvals', to: { ...GATED, requiredApprovals: { prod: 3 } } },
    { name: 'requiring approvals of another state', to: { ...GATED, requiredApprovals: { staging: 1, prod: 2 } } },
    { name: 'appending a state at the end', to: { ...GATED, states: ['dev', 'staging', 'prod', 'retired'] } },
    { name: 'inserting a new state before a gated one', to: { ...GATED, states: ['dev', 'qa', 'staging', 'prod'] } },
    { name: 'dropping a soak of 0', from: { ...GATED, minSoakSeconds: { dev: 0, staging: 3600 } }, to: GATED },
    { name: 'renaming the object', to: { ...GATED, name: 'Checkout service' } },
  ])('accepts $name without override', async ({ name: what, from, to }) => {
    const name = `${slug(what)}-ok`;
    await applyAsAdmin(name, from ?? GATED);
    const r = await kubectl('bob', ['apply', '-f', '-'], { input: manifest(name, to) });
    expect(r.code, r.stderr).toBe(0);
    expect((await stored(name)).spec).toEqual(to);
  });
});

describe('starting in a protected state', () => {
  const PROD_FIRST: Spec = { name: 'Hotfix', states: ['prod', 'dev'], protectedStates: ['prod'] };

  it.each([
    { name: 'no permission on states', grant: undefined, ok: false },
    { name: 'enter on another state', grant: states(['enter'], ['dev']), ok: false },
    { name: 'enter on that state', grant: states(['enter'], ['prod']), ok: true },
    { name: 'override on that state (counts as enter)', grant: states(['override'], ['prod']), ok: true },
  ])('creating an object whose first state is protected, with $name: accepted is $ok', async ({ name: what, grant, ok }) => {
    const name = `first-${slug(what)}`;
    const create = async () => {
      const r = await kubectl('bob', ['create', '-f', '-'], { input: manifest(name, PROD_FIRST) });
      if (ok) {
        expect(r.code, r.stderr).toBe(0);
        expect((await stored(name)).spec).toEqual(PROD_FIRST);
      } else {
        expectRefused(r, 'kubectl-custom-gates', `creating an object whose first state "prod" is protected (the object starts in it) needs the "enter" verb on states.custom.example.com "prod" in namespace "${ns()}"`);
        expect((await api('admin', 'GET', `${STORAGE}/namespaces/${ns()}/customresources/${name}`)).status).toBe(404);
      }
    };
    if (grant) await asBobWith(`grant-${slug(what)}`, grant, create);
    else await create();
  });

  it('creating an object whose protected state comes later needs no permission on states', async () => {
    const r = await kubectl('bob', ['create', '-f', '-'], { input: manifest('prod-later', GATED) });
    expect(r.code, r.stderr).toBe(0);
  });

  it('putting a new protected state first on an object that has not moved needs enter on it', async () => {
    await applyAsAdmin('prepend', GATED);
    const to: Spec = { ...GATED, states: ['hotfix', ...GATED.states], protectedStates: ['hotfix', 'prod'] };
    const r = await kubectl('bob', ['apply', '-f', '-'], { input: manifest('prepend', to) });
    expectRefused(r, 'kubectl-custom-gates', `making the protected state "hotfix" the first state of an object that has not moved yet (it would be in "hotfix" without entering it) needs the "enter" verb on states.custom.example.com "hotfix" in namespace "${ns()}"`);
    expect((await stored('prepend')).spec).toEqual(GATED);
    await asBobWith('enter-hotfix', states(['enter'], ['hotfix']), async () => {
      const ok = await kubectl('bob', ['apply', '-f', '-'], { input: manifest('prepend', to) });
      expect(ok.code, ok.stderr).toBe(0);
      expect((await stored('prepend')).spec).toEqual(to);
    });
  });
});

describe("the backend's finalizer", () => {
  const OBJ: Spec = { name: 'Cart', states: ['dev', 'prod'] };
  const finalizers = async (name: string) => (await stored(name)).metadata.finalizers ?? [];

  /** The backend adds its finalizer (it may have done so already in the background). */
  async function withFinalizer(name: string): Promise<void> {
    const r = await asBackend(patch(name, 'merge', { metadata: { finalizers: [FINALIZER] } }));
    expect(r.code, r.stderr).toBe(0);
    expect(await finalizers(name)).toContain(FINALIZER);
  }

  it('every object is created with it: bob creates one, with it or without it', async () => {
    for (const [name, extra] of [['born-without', {}], ['born-with-it', { finalizers: [FINALIZER] }]] as const) {
      const r = await kubectl('bob', ['create', '-f', '-'], { input: manifest(name, OBJ, extra) });
      expect(r.code, r.stderr).toBe(0);
      expect(await finalizers(name)).toEqual([FINALIZER]);
    }
  });

  // Adding it to an object that lacks it is tested on a stack of its own (trail-crash.test.ts): here
  // the backend adds it to every object in the background, faster than any client could.

  const removals: { name: string; run: (name: string) => Promise<Result>; hint?: string }[] = [
    { name: 'kubectl patch --type=json', run: (name) => kubectl('bob', patch(name, 'json', [{ op: 'remove', path: '/metadata/finalizers' }])) },
    { name: 'kubectl patch --type=merge', run: (name) => kubectl('bob', patch(name, 'merge', { metadata: { finalizers: null } })) },
    {
      name: 'kubectl replace of a saved copy without it',
      run: async (name) => {
        // As saved before the backend added its finalizer (and without a resourceVersion, so no conflict).
        const o = JSON.parse((await kubectl('bob', ['get', CR, name, '-n', ns(), '-o', 'json'])).stdout) as { metadata: Record<string, unknown> };
        delete o.metadata['finalizers'];
        delete o.metadata['resourceVersion'];
        return kubectl('bob', ['replace', '-f', '-'], { input: JSON.stringify(o) });
      },
      hint: 'kubectl replace (and any full update from a file) drops it: use kubectl apply, or keep metadata.finalizers as the server has it',
    },
  ];

  it.each(removals)('bob may not remove it with $name', async ({ name: how, run, hint }) => {
    const name = `remove-${slug(how)}`;
    await applyAsAdmin(name, OBJ);
    await withFinalizer(name);
    const r = await run(name);
    expectRefused(r, 'kubectl-custom-gates', 'the finalizer "custom.example.com/history" belongs to the kubectl-custom backend (it archives an object\'s history before the object goes): only the backend may remove it');
    if (hint) expect(r.stderr).toContain(hint);
    expect(await finalizers(name)).toContain(FINALIZER);
  });

  it('kubectl apply keeps it: bob edits the spec, the finalizer stays', async () => {
    await applyAsAdmin('apply-keeps', OBJ);
    await withFinalizer('apply-keeps');
    const r = await kubectl('bob', ['apply', '-f', '-'], { input: manifest('apply-keeps', { ...OBJ, name: 'Cart v2' }) });
    expect(r.code, r.stderr).toBe(0);
    const o = await stored('apply-keeps');
    expect(o.spec.name).toBe('Cart v2');
    expect(o.metadata.finalizers).toContain(FINALIZER);
  });

  it('the backend adds and removes it', async () => {
    await applyAsAdmin('backend-own', OBJ);
    await withFinalizer('backend-own');
    const removed = await asBackend(patch('backend-own', 'json', [{ op: 'remove', path: '/metadata/finalizers' }]));
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toContain('patched');
    // (It may add it back in the background at once, so its absence is not asserted.)
    await withFinalizer('backend-own');
    expect((await stored('backend-own')).spec).toEqual(OBJ);
  });

  it.each([
    { name: 'a label', change: { metadata: { labels: { team: 'a' } } }, what: 'labels' },
    { name: 'an annotation', change: { metadata: { annotations: { note: 'x' } } }, what: 'annotations' },
    { name: 'the spec', change: { spec: { name: 'Cart by the backend' } }, what: 'spec' },
    { name: 'another finalizer', change: { metadata: { finalizers: [FINALIZER, 'example.com/other'] } }, what: 'other finalizers' },
    { name: 'ownerReferences', change: { metadata: { ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: '6a0ed2b8-0b0f-4f0e-9a7e-1f0e6d1d9c11' }] } }, what: 'ownerReferences' },
  ])('the backend is refused when it changes $name, with its finalizer or without', async ({ name: what, change, what: changed }) => {
    const name = `backend-${slug(what)}`;
    await applyAsAdmin(name, OBJ);
    const message = `the kubectl-custom backend may change only its finalizer "custom.example.com/history" of a customresource; this update also changes ${changed}`;
    const before = await stored(name);
    // With its finalizer in the same patch (as a sloppy backend would), and alone.
    const withIt = { ...change, metadata: { finalizers: [FINALIZER], ...change.metadata } };
    expectRefused(await asBackend(patch(name, 'merge', withIt)), 'kubectl-custom-gates', message);
    expectRefused(await asBackend(patch(name, 'merge', change)), 'kubectl-custom-gates', message);
    const after = await stored(name);
    expect(after.spec).toEqual(before.spec);
    expect(after.metadata.labels).toEqual(before.metadata.labels);
  });

  it('the backend may not create objects, even where RBAC would let it', async () => {
    // Its own ClusterRole has no create; bind it an editor role here to reach the policy.
    await bindEditor('backend-editor', { kind: 'ServiceAccount', ...BACKEND_SERVICE_ACCOUNT });
    try {
      let r: Result | undefined;
      await eventually('the policy, not RBAC, refuses the backend', async () => {
        r = await asBackend(['create', '-f', '-'], manifest('by-backend', OBJ));
        return !r.stderr.includes('cannot create resource');
      });
      expectRefused(r!, 'kubectl-custom-gates', 'the kubectl-custom backend may not create customresources: it only adds and removes its finalizer "custom.example.com/history"');
      expect((await api('admin', 'GET', `${STORAGE}/namespaces/${ns()}/customresources/by-backend`)).status).toBe(404);
    } finally {
      await kubeConfig('admin').makeApiClient(RbacAuthorizationV1Api).deleteNamespacedRoleBinding({ namespace: ns(), name: 'backend-editor' });
    }
  });
});

describe('StateHistory segments', () => {
  const HISTORY = 'statehistories.example.com';
  const segment = (name: string, finalizers?: string[]) => JSON.stringify({
    apiVersion: 'example.com/v1', kind: 'StateHistory',
    metadata: { name, namespace: SYSTEM_NAMESPACE, labels: { 'custom.example.com/object-uid': '00000000-0000-0000-0000-000000000001' }, ...(finalizers ? { finalizers } : {}) },
    spec: {
      object: { namespace: ns(), name: 'checkout', uid: '00000000-0000-0000-0000-000000000001' },
      entries: [{ seq: 1, action: 'promote', from: 'dev', to: 'staging', user: 'alice', time: '2026-01-01T00:00:00Z', reason: 'tests green', hash: 'a'.repeat(64) }],
    },
  });
  const IMMUTABLE = 'StateHistory segments are immutable; a cluster admin may delete them (retention)';
  const seg = `admission-test-${randomBytes(3).toString('hex')}`;
  const entriesOf = async (name: string) => JSON.parse((await kubectl('admin', ['get', HISTORY, name, '-n', SYSTEM_NAMESPACE, '-o', 'json'])).stdout) as { spec: { entries: { user: string }[] }; metadata: { labels: Record<string, string> } };

  beforeAll(async () => {
    const r = await kubectl('admin', ['create', '-f', '-'], { input: segment(seg) });
    expect(r.code, r.stderr).toBe(0);
  });

  it.each([
    { name: 'kubectl label', args: (n: string) => ['label', HISTORY, n, '-n', SYSTEM_NAMESPACE, 'forged=yes'] },
    { name: 'kubectl patch of an entry', args: (n: string) => ['patch', HISTORY, n, '-n', SYSTEM_NAMESPACE, '--type=json', '-p', JSON.stringify([{ op: 'replace', path: '/spec/entries/0/user', value: 'mallory' }])] },
    { name: 'kubectl annotate', args: (n: string) => ['annotate', HISTORY, n, '-n', SYSTEM_NAMESPACE, 'note=x'] },
  ])('refuses an update by a cluster admin: $name', async ({ args }) => {
    expectRefused(await kubectl('admin', args(seg)), 'kubectl-custom-history', IMMUTABLE);
    const got = await entriesOf(seg);
    expect(got.spec.entries[0]!.user).toBe('alice');
    expect(got.metadata.labels).toEqual({ 'custom.example.com/object-uid': '00000000-0000-0000-0000-000000000001' });
  });

  it('refuses kubectl replace by a cluster admin', async () => {
    const o = JSON.parse((await kubectl('admin', ['get', HISTORY, seg, '-n', SYSTEM_NAMESPACE, '-o', 'json'])).stdout) as { spec: { entries: { reason: string }[] } };
    o.spec.entries[0]!.reason = 'rewritten';
    expectRefused(await kubectl('admin', ['replace', '-f', '-'], { input: JSON.stringify(o) }), 'kubectl-custom-history', IMMUTABLE);
  });

  it('a cluster admin deletes a segment (retention)', async () => {
    const r = await kubectl('admin', ['delete', HISTORY, seg, '-n', SYSTEM_NAMESPACE]);
    expect(r.code, r.stderr).toBe(0);
    expect((await api('admin', 'GET', `${STORAGE}/namespaces/${SYSTEM_NAMESPACE}/statehistories/${seg}`)).status).toBe(404);
  });

  it('a segment being deleted may lose its finalizers, so that the deletion completes, and nothing else', async () => {
    // As the garbage collector's foregroundDeletion or orphan finalizer would hold it.
    const held = `${seg}-held`;
    expect((await kubectl('admin', ['create', '-f', '-'], { input: segment(held, ['example.com/hold']) })).code).toBe(0);
    expect((await kubectl('admin', ['delete', HISTORY, held, '-n', SYSTEM_NAMESPACE, '--wait=false'])).code).toBe(0);
    expect((await api<Stored>('admin', 'GET', `${STORAGE}/namespaces/${SYSTEM_NAMESPACE}/statehistories/${held}`)).body.metadata.deletionTimestamp).toBeDefined();
    expectRefused(await kubectl('admin', ['patch', HISTORY, held, '-n', SYSTEM_NAMESPACE, '--type=json', '-p', JSON.stringify([{ op: 'remove', path: '/metadata/finalizers' }, { op: 'replace', path: '/spec/entries/0/user', value: 'mallory' }])]), 'kubectl-custom-history', IMMUTABLE);
    const r = await kubectl('admin', ['patch', HISTORY, held, '-n', SYSTEM_NAMESPACE, '--type=json', '-p', JSON.stringify([{ op: 'remove', path: '/metadata/finalizers' }])]);
    expect(r.code, r.stderr).toBe(0);
    await eventually('the segment is gone', async () => (await api('admin', 'GET', `${STORAGE}/namespaces/${SYSTEM_NAMESPACE}/statehistories/${held}`)).status === 404);
  });
});
