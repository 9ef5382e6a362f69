// GatePolicies (gatepolicies.example.com) against the real control plane:
// the CRD from manifests/base refuses bad policies with messages that say
// what is wrong, RBAC lets viewers read them and only the policy-admin role
// write them, and the backend, running with its own ServiceAccount's token,
// lists and watches them (readiness waits for that).
//
// Policies here live in this file's namespace only: one in custom-system
// would gate every other test file's objects. Whether the gate engine
// enforces them (a move refused for want of `enter` or approvals) is tested
// with the engine, not here.
import { readFileSync } from 'node:fs';
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { backend, direct } from './backend-client.ts';
import { bindClusterRole, eventually, kubeConfig, kubectl, useNamespace } from './harness.ts';

const ns = useNamespace(import.meta.filename);

function policyYaml(name: string, spec: unknown): string {
  return JSON.stringify({ apiVersion: 'example.com/v1', kind: 'GatePolicy', metadata: { name, namespace: ns() }, spec });
}

/** `kubectl create` of a policy, as admin or as someone admin impersonates. */
function create(name: string, spec: unknown, as?: string) {
  return kubectl('admin', ['create', '-f', '-', ...(as ? ['--as', as] : [])], { input: policyYaml(name, spec) });
}

const PROD = { states: ['prod'], protected: true };

describe('gatepolicies.example.com refuses bad policies', () => {
  // One row per rule of the schema; each message is what kubectl shows the user.
  it.each([
    { name: 'no spec', spec: undefined, message: 'spec: Required value' },
    { name: 'no rules', spec: {}, message: 'spec.rules: Required value' },
    { name: 'empty rules', spec: { rules: [] }, message: 'spec.rules in body should have at least 1 items' },
    { name: 'a rule without states', spec: { rules: [{ protected: true }] }, message: 'spec.rules[0].states: Required value' },
    { name: 'a rule with no states', spec: { rules: [{ states: [], protected: true }] }, message: 'spec.rules[0].states in body should have at least 1 items' },
    { name: 'a state that is not a DNS label', spec: { rules: [{ states: ['Prod'], protected: true }] }, message: "spec.rules[0].states[0] in body should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'" },
    { name: 'a state twice', spec: { rules: [{ states: ['prod', 'prod'], protected: true }] }, message: 'spec.rules[0].states[1]: Duplicate value: "prod"' },
    { name: 'no gate in a rule', spec: { rules: [PROD, { states: ['prod'] }] }, message: 'spec.rules[1]: Required value: a rule must set at least one gate: protected: true, requiredApprovals (1-10), minSoakSeconds (above 0) or checks' },
    { name: 'only gates that gate nothing', spec: { rules: [{ states: ['prod'], protected: false, minSoakSeconds: 0 }] }, message: 'spec.rules[0]: Required value: a rule must set at least one gate' },
    { name: 'no approvals', spec: { rules: [{ states: ['prod'], requiredApprovals: 0 }] }, message: 'spec.rules[0].requiredApprovals in body should be greater than or equal to 1' },
    { name: 'too many approvals', spec: { rules: [{ states: ['prod'], requiredApprovals: 11 }] }, message: 'spec.rules[0].requiredApprovals in body should be less than or equal to 10' },
    { name: 'a negative soak', spec: { rules: [{ states: ['prod'], protected: true, minSoakSeconds: -1 }] }, message: 'spec.rules[0].minSoakSeconds in body should be greater than or equal to 0' },
    { name: 'a soak over a year', spec: { rules: [{ states: ['prod'], minSoakSeconds: 31536001 }] }, message: 'spec.rules[0].minSoakSeconds in body should be less than or equal to 31536000' },
    {
      name: 'a bad selector operator',
      spec: { rules: [{ ...PROD, selector: { matchExpressions: [{ key: 'tier', operator: 'Equals', values: ['web'] }] } }] },
      message: 'spec.rules[0].selector.matchExpressions[0].operator: Unsupported value: "Equals": supported values: "In", "NotIn", "Exists", "DoesNotExist"',
    },
    {
      name: 'In without values',
      spec: { rules: [{ ...PROD, selector: { matchExpressions: [{ key: 'tier', operator: 'In' }] } }] },
      message: 'spec.rules[0].selector.matchExpressions[0].values: Invalid value: operator In needs at least one value',
    },
    {
      name: 'Exists with values',
      spec: { rules: [{ ...PROD, selector: { matchExpressions: [{ key: 'tier', operator: 'Exists', values: ['web'] }] } }] },
      message: 'spec.rules[0].selector.matchExpressions[0].values: Invalid value: operator Exists takes no values',
    },
    {
      name: 'a matchLabels key that is no label key',
      spec: { rules: [{ ...PROD, selector: { matchLabels: { 'team name': 'a' } } }] },
      message: 'spec.rules[0].selector.matchLabels: Invalid value: every key of matchLabels must be a label key ([prefix/]name); "team name" is not',
    },
    {
      name: 'a matchLabels value that is no label value',
      spec: { rules: [{ ...PROD, selector: { matchLabels: { team: 'a b' } } }] },
      message: 'spec.rules[0].selector.matchLabels.team in body should match',
    },
  ])('$name', async ({ spec, message }) => {
    const r = await kubectl('admin', ['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'example.com/v1', kind: 'GatePolicy', metadata: { name: 'bad', namespace: ns() }, ...(spec ? { spec } : {}) }) });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('The GatePolicy "bad" is invalid');
    expect(r.stderr).toContain(message);
    // Nothing was stored.
    expect((await kubectl('admin', ['get', 'gatepolicies.example.com', '-n', ns(), 'bad'])).stderr).toContain('NotFound');
  });

  it('keeps a valid policy as written, and shows its columns in kubectl get', async () => {
    const spec = {
      description: 'prod needs two',
      rules: [
        { states: ['prod'], protected: true, requiredApprovals: 2 },
        { states: ['staging', 'prod'], minSoakSeconds: 600, selector: { matchLabels: { 'example.com/team': 'payments' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['batch'] }] } },
      ],
    };
    const created = await create('valid', spec);
    expect(created.stderr).toBe('');
    const got = JSON.parse((await kubectl('admin', ['get', 'gatepolicies.example.com', '-n', ns(), 'valid', '-o', 'json'])).stdout) as { spec: unknown };
    expect(got.spec).toEqual(spec);
    const [header, row] = (await kubectl('admin', ['get', 'gatepolicies.example.com', '-n', ns(), 'valid'])).stdout.trimEnd().split('\n');
    expect(header).toMatch(/^NAME\s+DESCRIPTION\s+AGE$/);
    expect(row).toMatch(/^valid\s+prod needs two\s+\d+s$/);
    const wide = (await kubectl('admin', ['get', 'gatepolicies.example.com', '-n', ns(), 'valid', '-o', 'wide'])).stdout;
    expect(wide).toMatch(/^NAME\s+DESCRIPTION\s+AGE\s+RULES\n/);
    expect(wide).toContain('[{"protected":true,"requiredApprovals":2,"states":["prod"]},');
  });
});

describe('who may read and write GatePolicies', () => {
  const bind = (user: string, clusterRole: string) => bindClusterRole(ns(), user, clusterRole);


  beforeAll(async () => {
    await bind('gp-viewer', 'kubectl-custom-viewer');
    await bind('gp-editor', 'kubectl-custom-editor');
    await bind('gp-platform', 'kubectl-custom-policy-admin');
    await create('readable', { rules: [PROD] });
  });

  it('a viewer may read policies, and not write them', async () => {
    await eventually('the viewer may list', async () => (await kubectl('admin', ['get', 'gatepolicies.example.com', '-n', ns(), '--as', 'gp-viewer', '-o', 'name'])).stdout.includes('gatepolicy.example.com/readable'));
    const denied = await create('by-viewer', { rules: [PROD] }, 'gp-viewer');
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('User "gp-viewer" cannot create resource "gatepolicies" in API group "example.com"');
  });

  it('an editor of the objects may read policies, not create, change or delete them', async () => {
    await eventually('the editor may read', async () => (await kubectl('admin', ['get', 'gatepolicies.example.com', '-n', ns(), 'readable', '--as', 'gp-editor', '-o', 'name'])).code === 0);
    const denied = await create('by-editor', { rules: [PROD] }, 'gp-editor');
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('User "gp-editor" cannot create resource "gatepolicies" in API group "example.com"');
    const patch = await kubectl('admin', ['patch', 'gatepolicies.example.com', '-n', ns(), 'readable', '--as', 'gp-editor', '--type', 'merge', '-p', '{"spec":{"rules":[{"states":["dev"],"protected":true}]}}']);
    expect(patch.stderr).toContain('User "gp-editor" cannot patch resource "gatepolicies"');
    const del = await kubectl('admin', ['delete', 'gatepolicies.example.com', '-n', ns(), 'readable', '--as', 'gp-editor']);
    expect(del.stderr).toContain('User "gp-editor" cannot delete resource "gatepolicies"');
  });

  it('kubectl-custom-policy-admin may create, change and delete them', async () => {
    await eventually('the policy admin may create', async () => (await create('by-platform', { rules: [PROD] }, 'gp-platform')).code === 0);
    const patch = await kubectl('admin', ['patch', 'gatepolicies.example.com', '-n', ns(), 'by-platform', '--as', 'gp-platform', '--type', 'merge', '-p', '{"spec":{"description":"changed"}}']);
    expect(patch.stderr).toBe('');
    const del = await kubectl('admin', ['delete', 'gatepolicies.example.com', '-n', ns(), 'by-platform', '--as', 'gp-platform']);
    expect(del.stdout).toContain('gatepolicy.example.com "by-platform" deleted');
  });

  it('kubectl-custom-policy-admin is aggregated into no built-in role, and grants nothing but GatePolicies', async () => {
    // No kube-controller-manager runs here to fill the aggregated roles, so the labels are what is checked.
    const role = (await kubeConfig('admin').makeApiClient(RbacAuthorizationV1Api).readClusterRole({ name: 'kubectl-custom-policy-admin' }));
    expect(Object.keys(role.metadata?.labels ?? {}).filter((l) => l.startsWith('rbac.authorization.k8s.io/aggregate-to-'))).toEqual([]);
    expect(role.rules?.map((r) => ({ apiGroups: r.apiGroups, resources: r.resources }))).toEqual([{ apiGroups: ['example.com'], resources: ['gatepolicies'] }]);
  });
});

describe("the backend's policy cache", () => {
  const logLines = () => readFileSync(backend().logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { msg: string; policy?: string });
  const logged = (msg: string, name: string) => logLines().some((l) => l.msg === msg && l.policy === `${ns()}/${name}`);

  it('is synced before the backend is ready', async () => {
    const r = await direct({ path: '/readyz?verbose' });
    expect(r.status).toBe(200);
    expect(r.body).toContain('[+]gate-policies ok');
  });

  it('sees a policy created, changed and deleted, through its own watch (its ServiceAccount may list and watch them)', async () => {
    expect((await create('watched', { rules: [PROD] })).stderr).toBe('');
    await eventually('the backend saw the policy added', async () => logged('gate policy added', 'watched'));
    expect((await kubectl('admin', ['patch', 'gatepolicies.example.com', '-n', ns(), 'watched', '--type', 'merge', '-p', '{"spec":{"rules":[{"states":["prod"],"requiredApprovals":2}]}}'])).stderr).toBe('');
    await eventually('the backend saw the policy modified', async () => logged('gate policy modified', 'watched'));
    expect((await kubectl('admin', ['delete', 'gatepolicies.example.com', '-n', ns(), 'watched'])).stderr).toBe('');
    await eventually('the backend saw the policy deleted', async () => logged('gate policy deleted', 'watched'));
  });
});
