// Four eyes and central policies, through kube-apiserver as each user would
// do it: approvals by others counted for the very move, revoked or outdated
// ones not; concurrent approvals all recorded once; a cluster-wide GatePolicy
// adding protection and approvals an object's spec does not ask for.
import { describe, expect, it } from 'vitest';
import type { CustomResourceHistory, CustomResourceState } from '../../api/src/types.ts';
import { api, createObject, CUSTOM, eventually, grantRole, STORAGE, useNamespace, waitServed } from './harness.ts';

const ns = useNamespace(import.meta.filename);
const obj = (name: string, sub?: string) => `${CUSTOM}/namespaces/${ns()}/customresources/${name}${sub ? `/${sub}` : ''}`;
type Stat = { reason: string; code: number; message: string; details?: { causes?: { field: string; message: string }[] } };
const states = (verbs: string[], names: string[]) => ({ apiGroups: ['custom.example.com'], resources: ['states'], resourceNames: names, verbs });
const use = { apiGroups: ['custom.example.com'], resources: ['customresources', 'customresources/state', 'customresources/promote', 'customresources/approve', 'customresources/history'], verbs: ['get', 'list', 'watch', 'create', 'update'] };
/** As kube-apiserver's impersonation: admin acting as `user` in `groups`. */
const as = (user: string, ...groups: string[]) => ({ 'Impersonate-User': user, ...(groups.length ? { 'Impersonate-Group': groups } : {}) }) as unknown as Record<string, string>;

describe('approvals: four eyes', () => {
  it('alice, bob and carol on [dev, prod] with two approvals: alice\'s own does not count; bob and carol\'s do; revoked and outdated ones do not', async () => {
    await createObject(ns(), 'two', { name: 'Two', states: ['dev', 'prod'], requiredApprovals: { prod: 2 } });
    for (const u of ['alice', 'bob']) await grantRole(ns(), `${u}-approver`, u, [use, states(['enter', 'approve'], ['prod'])]);
    await grantRole(ns(), 'carol-approver', 'carol', [use, states(['enter', 'approve'], ['prod'])]);
    await waitServed(ns(), 'two');
    await eventually('RBAC in force', async () => (await api('alice', 'GET', obj('two', 'state'))).status === 200);
    const approve = (user: 'alice' | 'bob' | 'admin', body: Record<string, unknown> = {}, headers: Record<string, string> = {}) => api<CustomResourceState & Stat>(user, 'POST', obj('two', 'approve'), { from: 'dev', ...body }, headers);
    const promote = () => api<CustomResourceState & Stat>('alice', 'POST', obj('two', 'promote'), { from: 'dev', reason: 'ship' });

    expect((await approve('alice')).status).toBe(201);
    let p = await promote();
    expect(p.status, p.text).toBe(422);
    expect(p.body.details?.causes).toEqual([expect.objectContaining({ field: 'status.approvals', message: expect.stringContaining('needs 2 approvals by holders of "approve" on it other than alice: none given yet, 2 more needed') })]);

    expect((await approve('bob', { reason: 'looked at it' })).status).toBe(201);
    // Twice counts once.
    expect((await approve('bob')).status).toBe(200);
    p = await promote();
    expect(p.status).toBe(422);
    expect(p.body.details?.causes?.[0]?.message).toContain('1 given (by bob), 1 more needed');

    // A revoked approval no longer counts.
    expect((await approve('admin', {}, as('carol'))).status).toBe(201);
    expect((await approve('admin', { revoke: true }, as('carol'))).status).toBe(201);
    expect((await promote()).status).toBe(422);

    // An approval given before a spec edit no longer counts.
    expect((await approve('admin', {}, as('carol'))).status).toBe(201);
    expect((await api('admin', 'PATCH', `${STORAGE}/namespaces/${ns()}/customresources/two`, { spec: { name: 'Two, renamed' } }, { 'Content-Type': 'application/merge-patch+json' })).status).toBe(200);
    await eventually('the backend sees the new spec', async () => (await api<CustomResourceState>('alice', 'GET', obj('two', 'state'))).body.displayName === 'Two, renamed');
    p = await promote();
    expect(p.status).toBe(422);
    expect(p.body.details?.causes?.[0]?.message).toContain('none given yet');

    // Approved again for this spec: alice's promote goes through, naming bob and carol.
    expect((await approve('bob')).status).toBe(201);
    expect((await approve('admin', {}, as('carol'))).status).toBe(201);
    p = await promote();
    expect(p.status, p.text).toBe(201);
    expect(p.body.state).toBe('prod');
    expect(p.body.history.at(-1)).toMatchObject({ action: 'promote', from: 'dev', to: 'prod', user: 'alice', approvers: ['bob', 'carol'] });
    expect(p.body.approvals).toEqual([]);
    const trail = (await api<CustomResourceHistory>('alice', 'GET', obj('two', 'history'))).body.lives[0]!.entries;
    expect(trail.map((e) => [e.action, e.user])).toEqual([
      ['approve', 'alice'],
      ['approve', 'bob'],
      ['approve', 'carol'],
      ['revoke', 'carol'],
      ['approve', 'carol'],
      ['approve', 'bob'],
      ['approve', 'carol'],
      ['promote', 'alice'],
    ]);
  });

  it('a user without approve on the state is Forbidden, naming the verb', async () => {
    await createObject(ns(), 'noapprove', { name: 'N', states: ['dev', 'prod'], requiredApprovals: { prod: 1 } });
    await grantRole(ns(), 'dave-user', 'dave', [use]);
    await waitServed(ns(), 'noapprove');
    const r = await api<Stat>('admin', 'POST', obj('noapprove', 'approve'), { from: 'dev' }, as('dave'));
    expect(r.status, r.text).toBe(403);
    expect(r.body.message).toContain('User "dave" cannot approve a move into state "prod"; that needs the "approve" verb on resource "states" in API group "custom.example.com" with resourceNames ["prod"]');
  });

  it('16 concurrent approvals of the same move by different users: each recorded exactly once', async () => {
    await createObject(ns(), 'crowd', { name: 'Crowd', states: ['dev', 'prod'], requiredApprovals: { prod: 10 } });
    // The group "approvers" may approve prod.
    await api('admin', 'POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns()}/roles`, { metadata: { name: 'approvers' }, rules: [use, states(['approve'], ['prod'])] });
    await api('admin', 'POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns()}/rolebindings`, { metadata: { name: 'approvers' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'approvers' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'approvers' }] });
    await waitServed(ns(), 'crowd');
    await eventually('RBAC in force', async () => (await api('admin', 'GET', obj('crowd', 'state'), undefined, as('user-0', 'approvers'))).status === 200);
    const users = Array.from({ length: 16 }, (_, i) => `user-${i}`);
    const answers = await Promise.all(users.map((u) => api('admin', 'POST', obj('crowd', 'approve'), { from: 'dev', reason: `by ${u}` }, as(u, 'approvers'))));
    expect(answers.map((a) => a.status)).toEqual(users.map(() => 201));
    const v = (await api<CustomResourceState>('admin', 'GET', obj('crowd', 'state'))).body;
    expect(v.approvals?.map((a) => a.user).sort()).toEqual([...users].sort());
    const trail = (await api<CustomResourceHistory>('admin', 'GET', obj('crowd', 'history'))).body.lives[0]!.entries;
    expect(trail.filter((e) => e.action === 'approve').map((e) => e.user).sort()).toEqual([...users].sort());
    expect(trail.map((e) => e.seq)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
  }, 120_000);
});

describe('central GatePolicies', () => {
  it('a cluster-wide policy protecting a state makes an object whose spec protects nothing need enter; a policy requiring an approval adds to a spec that requires none', async () => {
    const label = `gp-${ns()}`.slice(0, 63);
    const policy = { apiVersion: 'example.com/v1', kind: 'GatePolicy', metadata: { name: `test-${ns()}`.slice(0, 63), namespace: 'custom-system' }, spec: { rules: [{ states: ['live'], selector: { matchLabels: { policy: label } }, protected: true, requiredApprovals: 1 }] } };
    expect((await api('admin', 'POST', `${STORAGE}/namespaces/custom-system/gatepolicies`, policy)).status).toBe(201);
    try {
      await createObject(ns(), 'governed', { name: 'Governed', states: ['draft', 'live'] }, { policy: label });
      await grantRole(ns(), 'erin-promoter', 'erin', [use]);
      await waitServed(ns(), 'governed');
      // describe-state says where the gates come from.
      await eventually('the policy reaches the backend', async () => ((await api<CustomResourceState>('admin', 'GET', obj('governed', 'state'))).body.checks ?? []).some((c) => c.gate === 'approvals'));
      const v = (await api<CustomResourceState>('admin', 'GET', obj('governed', 'state'))).body;
      expect(v.checks?.find((c) => c.gate === 'protection')?.sources).toEqual([{ kind: 'GatePolicy', namespace: 'custom-system', name: policy.metadata.name }]);
      expect(v.checks?.find((c) => c.gate === 'approvals')).toMatchObject({ met: false, approvals: { needed: 1, by: [] } });
      // erin may promote but not enter live: the policy's protection holds.
      const r = await api<Stat>('admin', 'POST', obj('governed', 'promote'), { from: 'draft', reason: 'go' }, as('erin'));
      expect(r.status, r.text).toBe(403);
      expect(r.body.message).toContain('cannot enter state "live": it is protected');
      // An admin may enter, but the policy's approval is missing.
      const a = await api<Stat>('admin', 'POST', obj('governed', 'promote'), { from: 'draft', reason: 'go' });
      expect(a.status, a.text).toBe(422);
      expect(a.body.details?.causes?.map((c) => c.field)).toEqual(['status.approvals']);
    } finally {
      await api('admin', 'DELETE', `${STORAGE}/namespaces/custom-system/gatepolicies/${policy.metadata.name}`);
    }
  });
});
