// Four eyes against an insider, through kubectl and the plugin as she would
// do it (issue 18, attacks 5 and 6):
// - alice, admin of her namespace and a release manager there, makes a
//   ServiceAccount, binds `approve` on prod to it, approves as it and
//   promotes herself: one person, two pairs of eyes. ServiceAccounts'
//   approvals count only where a GatePolicy rule says
//   `serviceAccountApprovals: true`, when they approve and when the move is
//   made (the policy may have changed in between).
// - an approval is of the object as labelled: labels decide which GatePolicy
//   rules and Freezes hold it, and editors own labels, so changing them drops
//   the approvals given, as changing the spec does.
//
// The GatePolicies here live in this file's namespace: one in custom-system
// would gate every other test file's objects.
import { beforeAll, describe, expect, it } from 'vitest';
import type { CustomResource, CustomResourceHistory, CustomResourceState } from '../../api/src/types.ts';
import { api, bindClusterRole, createObject, CUSTOM, eventually, grantRole, kubectl, STORAGE, useNamespace, waitServed } from './harness.ts';
import { kubectlCustom } from './plugin-cli.ts';

const ns = useNamespace(import.meta.filename);
const obj = (name: string, sub?: string) => `${CUSTOM}/namespaces/${ns()}/customresources/${name}${sub ? `/${sub}` : ''}`;
const states = (verbs: string[], names: string[]) => ({ apiGroups: ['custom.example.com'], resources: ['states'], resourceNames: names, verbs });
/** What an approver needs besides `approve` on the state: to read the object's state and to call approve. */
const approver = { apiGroups: ['custom.example.com'], resources: ['customresources/state'], verbs: ['get'] };
const approveCall = { apiGroups: ['custom.example.com'], resources: ['customresources/approve'], verbs: ['create'] };
const SA_REFUSAL = 'approvals by ServiceAccounts do not count for a move into "prod" unless a GatePolicy rule that selects the object allows them with serviceAccountApprovals: true';

beforeAll(async () => {
  // alice: her namespace's admin (kubectl-custom-admin, and what the built-in
  // admin role gives over ServiceAccounts and RBAC, spelled out: no
  // kube-controller-manager runs here to aggregate the built-in roles), and
  // `enter` and `approve` on prod, as the namespace's release manager.
  await bindClusterRole(ns(), 'alice', 'kubectl-custom-admin');
  await grantRole(ns(), 'alice-namespace-admin', 'alice', [
    { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get', 'list', 'create', 'impersonate'] },
    { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'], verbs: ['get', 'list', 'create'] },
    states(['enter', 'approve'], ['prod']),
  ]);
  // bob: a second person who may approve prod.
  await bindClusterRole(ns(), 'bob', 'kubectl-custom-editor');
  await grantRole(ns(), 'bob-approver', 'bob', [states(['approve'], ['prod'])]);
  let last = '';
  const lists = async (user: 'alice' | 'bob') => {
    const r = await kubectlCustom(user, ['list', '-n', ns()]);
    last = `${user}: ${r.stderr}`;
    return r.code === 0;
  };
  await eventually('RBAC in force', async () => (await lists('alice')) && (await lists('bob'))).catch((err: unknown) => {
    throw new Error(`${String(err)}; last: ${last}`);
  });
});

/** A GatePolicy in this file's namespace, as the platform team (admin) writes it. */
async function putPolicy(name: string, rules: unknown[]): Promise<void> {
  const body = { apiVersion: 'example.com/v1', kind: 'GatePolicy', metadata: { name, namespace: ns() }, spec: { rules } };
  const path = `${STORAGE}/namespaces/${ns()}/gatepolicies`;
  const existing = await api<{ metadata: { resourceVersion: string } }>('admin', 'GET', `${path}/${name}`);
  const r = existing.status === 200
    ? await api('admin', 'PUT', `${path}/${name}`, { ...body, metadata: { ...body.metadata, resourceVersion: existing.body.metadata.resourceVersion } })
    : await api('admin', 'POST', path, body);
  expect([200, 201], r.text).toContain(r.status);
}

/** Who the backend counts now for the next move, as describe-state's approvals gate says (admin asks: admin's own approval is not among them). */
async function countedBy(name: string): Promise<string[] | undefined> {
  const v = (await api<CustomResourceState>('admin', 'GET', obj(name, 'state'))).body;
  return v.checks?.find((c) => c.gate === 'approvals')?.approvals?.by;
}

describe('a ServiceAccount is not a second pair of eyes', () => {
  it('alice approves as her own ServiceAccount and promotes: refused, unless a GatePolicy rule says serviceAccountApprovals: true (asked again when she moves)', async () => {
    const bot = `system:serviceaccount:${ns()}:release-bot`;
    await createObject(ns(), 'cart', { name: 'Cart', states: ['staging', 'prod'], requiredApprovals: { prod: 1 } });
    await waitServed(ns(), 'cart');

    // alice makes the ServiceAccount and gives it `approve` on prod, all within her rights.
    const sa = await kubectl('alice', ['create', 'serviceaccount', 'release-bot', '-n', ns()]);
    expect(sa.code, sa.stderr).toBe(0);
    const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'release-bot', namespace: ns() }, rules: [approver, approveCall, states(['approve'], ['prod'])] };
    const r = await kubectl('alice', ['create', '-f', '-'], { input: JSON.stringify(role) });
    expect(r.code, r.stderr).toBe(0);
    const rb = await kubectl('alice', ['create', 'rolebinding', 'release-bot', '--role', 'release-bot', '--serviceaccount', `${ns()}:release-bot`, '-n', ns()]);
    expect(rb.code, rb.stderr).toBe(0);
    const sar = { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: bot, groups: ['system:serviceaccounts', `system:serviceaccounts:${ns()}`, 'system:authenticated'], resourceAttributes: { namespace: ns(), verb: 'approve', group: 'custom.example.com', resource: 'states', name: 'prod' } } };
    await eventually('the ServiceAccount may approve prod', async () => (await api<{ status?: { allowed?: boolean } }>('admin', 'POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', sar)).body.status?.allowed === true);

    // She approves as it (as the issue tells it: --as, which a namespace admin may)…
    const approveAsBot = () => kubectlCustom('alice', ['approve', 'cart', '-n', ns(), '--as', bot, '--reason', 'looks fine to me']);
    const refused = await approveAsBot();
    expect(refused.code, refused.stdout).not.toBe(0);
    expect(refused.stderr).toContain(`${bot} is a ServiceAccount: ${SA_REFUSAL}`);
    // …and her own promote has no second pair of eyes.
    let p = await kubectlCustom('alice', ['promote', 'cart', '-n', ns(), '--reason', 'ship it']);
    expect(p.code, p.stdout).not.toBe(0);
    expect(p.stderr).toContain('needs 1 approval by holders of "approve" on it other than alice: none given yet');

    // The platform team lets ServiceAccounts' approvals count for prod in this namespace.
    await putPolicy('bots-may-approve', [{ states: ['prod'], requiredApprovals: 1, serviceAccountApprovals: true }]);
    await eventually('the policy reaches the backend: the bot may approve', async () => (await approveAsBot()).code === 0);
    expect(await countedBy('cart')).toEqual([bot]);

    // The policy changes before she moves: the bot's approval, given while allowed, no longer counts.
    await putPolicy('bots-may-approve', [{ states: ['prod'], requiredApprovals: 1, serviceAccountApprovals: false }]);
    await eventually('the backend stops counting the bot', async () => (await countedBy('cart'))?.length === 0);
    p = await kubectlCustom('alice', ['promote', 'cart', '-n', ns(), '--reason', 'ship it']);
    expect(p.code, p.stdout).not.toBe(0);
    expect(p.stderr).toContain('needs 1 approval by holders of "approve" on it other than alice: none given yet');

    // Allowed again: it counts, and the trail names the ServiceAccount as the approver.
    await putPolicy('bots-may-approve', [{ states: ['prod'], requiredApprovals: 1, serviceAccountApprovals: true }]);
    await eventually('the backend counts the bot again', async () => (await countedBy('cart'))?.length === 1);
    p = await kubectlCustom('alice', ['promote', 'cart', '-n', ns(), '--reason', 'ship it']);
    expect(p.code, p.stderr).toBe(0);
    const trail = (await api<CustomResourceHistory>('admin', 'GET', obj('cart', 'history'))).body.lives[0]!.entries;
    expect(trail.at(-1)).toMatchObject({ action: 'promote', from: 'staging', to: 'prod', user: 'alice', approvers: [bot] });
  }, 120_000);
});

describe('changing labels drops the approvals given', () => {
  it('bob approves, alice relabels the object, and her promote lacks the approval until bob approves again', async () => {
    await createObject(ns(), 'tagged', { name: 'Tagged', states: ['dev', 'prod'], requiredApprovals: { prod: 1 } }, { team: 'payments' });
    await waitServed(ns(), 'tagged');
    const approve = await kubectlCustom('bob', ['approve', 'tagged', '-n', ns()]);
    expect(approve.code, approve.stderr).toBe(0);
    expect(await countedBy('tagged')).toEqual(['bob']);

    const label = await kubectl('alice', ['label', 'customresources.example.com', 'tagged', 'team=search', '--overwrite', '-n', ns()]);
    expect(label.code, label.stderr).toBe(0);
    await eventually('the backend sees the new label', async () => (await api<CustomResource>('admin', 'GET', obj('tagged'))).body.metadata.labels?.team === 'search');
    let p = await kubectlCustom('alice', ['promote', 'tagged', '-n', ns()]);
    expect(p.code, p.stdout).not.toBe(0);
    expect(p.stderr).toContain('needs 1 approval by holders of "approve" on it other than alice: none given yet');

    // Approved again as labelled now: the move goes through.
    expect((await kubectlCustom('bob', ['approve', 'tagged', '-n', ns()])).code).toBe(0);
    p = await kubectlCustom('alice', ['promote', 'tagged', '-n', ns()]);
    expect(p.code, p.stderr).toBe(0);
    const trail = (await api<CustomResourceHistory>('admin', 'GET', obj('tagged', 'history'))).body.lives[0]!.entries;
    expect(trail.map((e) => [e.action, e.user])).toEqual([['approve', 'bob'], ['approve', 'bob'], ['promote', 'alice']]);
    expect(trail.at(-1)).toMatchObject({ to: 'prod', approvers: ['bob'] });
  }, 120_000);

  it('bob approves, the label is changed and put back: the approval is gone for good, and alice\'s promote lacks it', async () => {
    await createObject(ns(), 'round-trip', { name: 'Round trip', states: ['dev', 'prod'], requiredApprovals: { prod: 1 } }, { team: 'payments' });
    await waitServed(ns(), 'round-trip');
    expect((await kubectlCustom('bob', ['approve', 'round-trip', '-n', ns()])).code).toBe(0);
    expect(await countedBy('round-trip')).toEqual(['bob']);
    for (const team of ['search', 'payments']) {
      const label = await kubectl('alice', ['label', 'customresources.example.com', 'round-trip', `team=${team}`, '--overwrite', '-n', ns()]);
      expect(label.code, label.stderr).toBe(0);
    }
    await eventually('the backend sees the label put back', async () => (await api<CustomResource>('admin', 'GET', obj('round-trip'))).body.metadata.labels?.team === 'payments');
    const stored = await api<{ status?: { approvals?: unknown[] } }>('admin', 'GET', `/apis/example.com/v1/namespaces/${ns()}/customresources/round-trip`);
    expect(stored.body.status?.approvals ?? []).toEqual([]);
    const p = await kubectlCustom('alice', ['promote', 'round-trip', '-n', ns()]);
    expect(p.code, p.stdout).not.toBe(0);
    expect(p.stderr).toContain('needs 1 approval by holders of "approve" on it other than alice: none given yet');
  }, 120_000);
});
