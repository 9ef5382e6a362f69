// The plugin's identity flags (--as, --as-group) with names that are not
// ASCII, through kubectl and the built executable against the real control
// plane: kube-apiserver must see the names as kubectl would send them (UTF-8
// bytes), so that RBAC bound to them applies and the trail records them.
// admin (system:masters) is the impersonator. Node writes a header value as
// Latin-1, so before issue 18 `--as josé` arrived as `jos\xe9`: refused.
import { beforeAll, describe, expect, it } from 'vitest';
import type { CustomResourceHistory } from '../../api/src/types.ts';
import { api, createObject, CUSTOM, eventually, grantRole, kubectl, useNamespace, waitServed } from './harness.ts';
import { kubectlCustom } from './plugin-cli.ts';

const ns = useNamespace(import.meta.filename);
const READ = { apiGroups: ['custom.example.com'], resources: ['customresources', 'customresources/state', 'customresources/history'], verbs: ['get', 'list', 'watch'] };
const PROMOTE = { apiGroups: ['custom.example.com'], resources: ['customresources/promote'], verbs: ['create'] };

const JOSE = 'jos\u00e9';
/** Beyond Latin-1: Node refuses to write such a header value at all unless it is turned into bytes first. */
const ZHANG = '\u5f20\u4f1f';
const TEAM = '\u00e9quipe';

/** Whether RBAC lets `user` (in `groups`) list the objects of the namespace, asked as a SubjectAccessReview (a JSON body: no header involved). */
async function mayList(user: string, groups: string[] = []): Promise<boolean> {
  const r = await api<{ status: { allowed: boolean } }>('admin', 'POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: { user, groups, resourceAttributes: { namespace: ns(), verb: 'list', group: 'custom.example.com', resource: 'customresources' } },
  });
  return r.status === 201 && r.body.status.allowed;
}

beforeAll(async () => {
  await createObject(ns(), 'checkout', { name: 'Checkout', states: ['dev', 'staging', 'prod'] });
  await waitServed(ns(), 'checkout');
  await grantRole(ns(), 'jose-release', JOSE, [READ, PROMOTE]);
  await grantRole(ns(), 'zhang-read', ZHANG, [READ]);
  const team = await api('admin', 'POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns()}/rolebindings`, {
    metadata: { name: 'equipe-read' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'zhang-read' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: TEAM }],
  });
  expect(team.status, team.text).toBe(201);
  await eventually('RBAC in force for each name', async () => (await mayList(JOSE)) && (await mayList(ZHANG)) && (await mayList('nobody-else', [TEAM])));
});

describe('--as and --as-group reach kube-apiserver as UTF-8, as kubectl sends them', () => {
  it('kubectl itself (the reference): --as josé lists', async () => {
    const r = await kubectl('admin', ['get', '--raw', `${CUSTOM}/namespaces/${ns()}/customresources`, `--as=${JOSE}`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it.each([
    { name: 'a Latin-1 name: --as josé', flags: ['--as', JOSE] },
    { name: 'a name beyond Latin-1: --as 张伟', flags: ['--as', ZHANG] },
    { name: 'a group: --as-group équipe (bound by group only)', flags: ['--as', 'nobody-else', '--as-group', TEAM] },
  ])('$name: kubectl custom list is allowed', async ({ flags }) => {
    const r = await kubectlCustom('admin', ['list', '-n', ns(), ...flags]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^NAME\s+DISPLAY NAME\s+STATE/);
    expect(r.stdout).toContain('checkout');
  });

  it('a name nobody bound is refused by that name, so the server saw it whole', async () => {
    const r = await kubectlCustom('admin', ['list', '-n', ns(), '--as', 'jos\u00e8']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('User "jos\u00e8" cannot list resource "customresources"');
  });

  it('kubectl custom promote --as josé: the trail records josé', async () => {
    const r = await kubectlCustom('admin', ['promote', 'checkout', '-n', ns(), '--as', JOSE, '--reason', 'as jos\u00e9']);
    expect(r.stderr).toBe('');
    expect(r).toMatchObject({ code: 0, stdout: 'checkout promoted: dev → staging\n' });
    const h = await api<CustomResourceHistory>('admin', 'GET', `${CUSTOM}/namespaces/${ns()}/customresources/checkout/history`);
    expect(h.status, h.text).toBe(200);
    expect(h.body.lives[0]!.entries.at(-1)).toMatchObject({ action: 'promote', from: 'dev', to: 'staging', user: JOSE, reason: 'as jos\u00e9' });
    const shown = await kubectlCustom('admin', ['history', 'checkout', '-n', ns(), '--as', JOSE]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/\n1\s+\S+\s+\S+\s+promote\s+dev\s+staging\s+jos\u00e9\s+as jos\u00e9\n/);
  });
});
