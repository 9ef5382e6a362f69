import { readFileSync } from 'node:fs';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { deletedLine, kindName } from '../../output/object-lines.ts';
import { INSTALLED, objectUrl, type InstalledObject } from './installed-objects.ts';

const BASE = new URL('../../../../manifests/base/', import.meta.url);

/** Every object the files of manifests/base/kustomization.yaml hold, as `apiVersion kind namespace/name`. */
function manifestObjects(): string[] {
  const kustomization = parse(readFileSync(new URL('kustomization.yaml', BASE), 'utf8')) as { resources?: string[] };
  expect(kustomization.resources?.length).toBeGreaterThan(0);
  const found: string[] = [];
  for (const file of kustomization.resources ?? []) {
    for (const doc of parseAllDocuments(readFileSync(new URL(file, BASE), 'utf8'))) {
      const o = doc.toJS() as { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string } } | null;
      if (!o) continue;
      expect(o.kind, `${file}: an object without a kind`).toBeTruthy();
      found.push(key({ apiVersion: o.apiVersion!, kind: o.kind!, name: o.metadata?.name ?? '', namespace: o.metadata?.namespace }));
    }
  }
  return found.sort();
}

const key = (o: { apiVersion: string; kind: string; name: string; namespace?: string | undefined }) => `${o.apiVersion} ${o.kind} ${o.namespace ?? ''}/${o.name}`;
const indexOf = (pred: (o: InstalledObject) => boolean) => INSTALLED.findIndex(pred);

describe('INSTALLED', () => {
  it('names exactly the objects manifests/base installs (add a manifest there, and here)', () => {
    expect(INSTALLED.map(key).sort()).toEqual(manifestObjects());
  });

  it('lists each object once', () => {
    expect(new Set(INSTALLED.map(key)).size).toBe(INSTALLED.length);
  });

  it('deletes the APIService first and the namespace last', () => {
    expect(INSTALLED[0]).toMatchObject({ kind: 'APIService', name: 'v1.custom.example.com' });
    expect(INSTALLED.at(-1)).toMatchObject({ kind: 'Namespace', name: 'custom-system' });
  });

  it('deletes the objects\' CRD while the backend still runs, and the backend before its RBAC', () => {
    const crd = indexOf((o) => o.name === 'customresources.example.com');
    const deployment = indexOf((o) => o.kind === 'Deployment');
    const firstRbac = indexOf((o) => o.apiVersion.startsWith('rbac.') || o.kind === 'ServiceAccount');
    expect(crd).toBeGreaterThan(0);
    expect(crd).toBeLessThan(deployment);
    expect(deployment).toBeLessThan(firstRbac);
  });

  it('deletes the GatePolicies\' CRD only once the backend that reads them is gone', () => {
    const policies = indexOf((o) => o.name === 'gatepolicies.example.com');
    const deployment = indexOf((o) => o.kind === 'Deployment');
    expect(policies).toBeGreaterThan(deployment);
  });

  it('--keep-history keeps the archive\'s CRD, the policy that keeps it immutable and its namespace, nothing else', () => {
    expect(INSTALLED.filter((o) => o.keptWithHistory).map(key)).toEqual([
      'apiextensions.k8s.io/v1 CustomResourceDefinition /statehistories.example.com',
      'admissionregistration.k8s.io/v1 ValidatingAdmissionPolicyBinding /kubectl-custom-history',
      'admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy /kubectl-custom-history',
      'v1 Namespace /custom-system',
    ]);
  });
});

describe('paths and names, as kubectl has them', () => {
  it.each([
    { name: 'cluster-scoped, with a group', o: { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition' as const, name: 'customresources.example.com' }, url: '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/customresources.example.com', line: 'customresourcedefinition.apiextensions.k8s.io "customresources.example.com" deleted' },
    { name: 'namespaced, core group', o: { apiVersion: 'v1', kind: 'ServiceAccount' as const, name: 'kubectl-custom-backend', namespace: 'custom-system' }, url: '/api/v1/namespaces/custom-system/serviceaccounts/kubectl-custom-backend', line: 'serviceaccount "kubectl-custom-backend" deleted from custom-system namespace' },
    { name: 'a name with colons', o: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding' as const, name: 'kubectl-custom-backend:system:auth-delegator' }, url: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/kubectl-custom-backend%3Asystem%3Aauth-delegator', line: 'clusterrolebinding.rbac.authorization.k8s.io "kubectl-custom-backend:system:auth-delegator" deleted' },
    { name: 'the namespace', o: { apiVersion: 'v1', kind: 'Namespace' as const, name: 'custom-system' }, url: '/api/v1/namespaces/custom-system', line: 'namespace "custom-system" deleted' },
  ])('$name', ({ o, url, line }) => {
    expect(objectUrl(o)).toBe(url);
    expect(deletedLine(o)).toBe(line);
  });

  it('every installed object has a path', () => {
    for (const o of INSTALLED) expect(objectUrl(o)).toMatch(/^\/apis?\/.+\/[a-z]+\/[^/]+$/);
  });

  it('kindName of a custom resource', () => {
    expect(kindName('example.com/v1', 'CustomResource')).toBe('customresource.example.com');
  });
});
