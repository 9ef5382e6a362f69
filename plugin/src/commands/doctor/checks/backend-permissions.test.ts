// The doctor's list of what the backend needs is checked against what
// manifests/base grants its ServiceAccount, so the two cannot drift: each
// line must be allowed by a rule of a role bound to the ServiceAccount
// there (system:auth-delegator and the authentication reader are
// kube-apiserver's own roles, their rules as upstream's bootstrap policy
// writes them).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { BACKEND_NEEDS } from './backend-permissions.ts';
import type { Access } from '../probe.ts';

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
}
interface Doc {
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: Rule[];
  roleRef?: { kind: string; name: string };
  subjects?: { kind: string; name: string; namespace?: string }[];
}

const BASE = fileURLToPath(new URL('../../../../../manifests/base/', import.meta.url));
const docs = ['rbac-backend.yaml', 'rbac-auth-delegator.yaml', 'rbac-auth-reader.yaml'].flatMap((f) => parseAllDocuments(readFileSync(BASE + f, 'utf8')).map((d) => d.toJS() as Doc));
const BUILT_IN: Record<string, Rule[]> = {
  'system:auth-delegator': [
    { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
    { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
  ],
  'extension-apiserver-authentication-reader': [{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['extension-apiserver-authentication'], verbs: ['get', 'list', 'watch'] }],
};

function granted(a: Access): boolean {
  const bindings = docs.filter((d) => (d.kind === 'ClusterRoleBinding' || d.kind === 'RoleBinding') && d.subjects?.some((s) => s.kind === 'ServiceAccount' && s.name === 'kubectl-custom-backend' && s.namespace === 'custom-system'));
  return bindings.some((b) => {
    if (b.kind === 'RoleBinding' && b.metadata.namespace !== a.namespace) return false;
    const rules = BUILT_IN[b.roleRef!.name] ?? docs.find((d) => d.kind === b.roleRef!.kind && d.metadata.name === b.roleRef!.name)?.rules ?? [];
    const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    return rules.some((r) => r.apiGroups?.includes(a.group) && r.resources?.includes(resource) && r.verbs.includes(a.verb) && (!r.resourceNames || (a.name !== undefined && r.resourceNames.includes(a.name))));
  });
}

describe("the doctor's list of the backend's needs", () => {
  it.each(BACKEND_NEEDS.map((n) => [n.what, n] as const))('%s is granted by manifests/base', (_what, n) => {
    expect(granted(n.access)).toBe(true);
  });

  it('the check of the check: something the manifests do not grant is told apart', () => {
    expect(granted({ verb: 'delete', group: 'example.com', resource: 'customresources' })).toBe(false);
    expect(granted({ verb: 'create', group: 'example.com', resource: 'statehistories', namespace: 'default' })).toBe(false);
  });
});
