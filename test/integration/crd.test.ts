// The storage CRD, applied from manifests/base/crd.yaml, against a real
// kube-apiserver: it becomes Established, keeps valid objects, refuses each
// kind of bad object with a message that says what is wrong, and keeps
// `status` out of reach of ordinary writes.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ApiextensionsV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { eventually, grantRole, kubeConfig, kubectl, statusCodeOf, statusOf, useNamespace } from './harness.ts';

const CRD_FILE = fileURLToPath(new URL('../../manifests/base/crd.yaml', import.meta.url));
const ns = useNamespace(import.meta.filename);
const crdRef = { group: 'example.com', version: 'v1', plural: 'customresources' };

function object(name: string, spec: unknown, extra: Record<string, unknown> = {}) {
  return { apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name }, spec, ...extra };
}

describe('customresources.example.com', () => {
  it('applies from manifests/base/crd.yaml and becomes Established, with nothing of the schema lost', async () => {
    // Applied with kubectl as a user would. (client-node's typed serializer
    // would silently drop the `x-kubernetes-*` keys of a CRD read from YAML.)
    const applied = await kubectl('admin', ['apply', '--server-side', '--force-conflicts', '-f', CRD_FILE]);
    expect(applied.stderr).toBe('');
    expect(applied.stdout).toContain('customresourcedefinition.apiextensions.k8s.io/customresources.example.com serverside-applied');
    const api = kubeConfig('admin').makeApiClient(ApiextensionsV1Api);
    await eventually('the CRD is Established', async () => {
      const got = await api.readCustomResourceDefinition({ name: 'customresources.example.com' });
      return got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;
    });
    const fromFile = parse(readFileSync(CRD_FILE, 'utf8')) as { spec: { versions: { schema: unknown }[] } };
    const inCluster = JSON.parse((await kubectl('admin', ['get', 'crd', 'customresources.example.com', '-o', 'json'])).stdout) as {
      spec: { versions: { schema: unknown; subresources: unknown }[] };
      status: { acceptedNames: { kind: string } };
    };
    expect(inCluster.spec.versions[0]?.schema).toEqual(fromFile.spec.versions[0]?.schema);
    expect(inCluster.spec.versions[0]?.subresources).toEqual({ status: {} });
    expect(inCluster.status.acceptedNames.kind).toBe('CustomResource');
  });

  it('keeps valid objects and reads them back', async () => {
    const api = kubeConfig('admin').makeApiClient(CustomObjectsApi);
    const spec = { name: 'Checkout service', states: ['dev', 'staging', 'prod'], protectedStates: ['prod'], minSoakSeconds: { staging: 3600, dev: 0 } };
    await api.createNamespacedCustomObject({ ...crdRef, namespace: ns(), body: object('checkout', spec) });
    await api.createNamespacedCustomObject({ ...crdRef, namespace: ns(), body: object('minimal', { name: 'x', states: ['only'] }) });
    const got = (await api.getNamespacedCustomObject({ ...crdRef, namespace: ns(), name: 'checkout' })) as { spec: unknown; status?: unknown };
    expect(got.spec).toEqual(spec);
    const list = (await api.listNamespacedCustomObject({ ...crdRef, namespace: ns() })) as { items: { metadata: { name: string } }[] };
    expect(list.items.map((i) => i.metadata.name).sort()).toEqual(['checkout', 'minimal']);
  });

  it('accepts 32 states and not 33', async () => {
    const api = kubeConfig('admin').makeApiClient(CustomObjectsApi);
    const states = (n: number) => Array.from({ length: n }, (_, i) => `s${i}`);
    await api.createNamespacedCustomObject({ ...crdRef, namespace: ns(), body: object('thirty-two', { name: 'x', states: states(32) }) });
    const st = await statusOf(api.createNamespacedCustomObject({ ...crdRef, namespace: ns(), body: object('thirty-three', { name: 'x', states: states(33) }) }));
    expect(st.code).toBe(422);
    expect(st.message).toContain('spec.states: Too many: 33: must have at most 32 items');
  });

  // One row per rule in the schema; each message is what `kubectl apply` shows the user.
  it.each([
    { name: 'no spec', body: { apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name: 'bad' } }, message: 'spec: Required value' },
    { name: 'spec.name missing', spec: { states: ['dev'] }, message: 'spec.name: Required value' },
    { name: 'spec.name empty', spec: { name: '', states: ['dev'] }, message: 'spec.name in body should be at least 1 chars long' },
    { name: 'states missing', spec: { name: 'x' }, message: 'spec.states: Required value' },
    { name: 'states empty', spec: { name: 'x', states: [] }, message: 'spec.states in body should have at least 1 items' },
    { name: 'duplicate state', spec: { name: 'x', states: ['dev', 'prod', 'dev'] }, message: 'spec.states[2]: Duplicate value: "dev"' },
    { name: 'state with capitals', spec: { name: 'x', states: ['Dev'] }, message: "spec.states[0] in body should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'" },
    { name: 'state with underscore', spec: { name: 'x', states: ['pre_prod'] }, message: "spec.states[0] in body should match" },
    { name: 'state ending in a dash', spec: { name: 'x', states: ['dev-'] }, message: "spec.states[0] in body should match" },
    { name: 'state longer than 63', spec: { name: 'x', states: ['a'.repeat(64)] }, message: 'spec.states[0]: Too long: may not be more than 63 bytes' },
    { name: 'protected state not listed', spec: { name: 'x', states: ['dev', 'prod'], protectedStates: ['prod', 'qa'] }, message: 'spec.protectedStates: Invalid value: every protected state must be listed in spec.states; "qa" is not' },
    { name: 'duplicate protected state', spec: { name: 'x', states: ['dev', 'prod'], protectedStates: ['prod', 'prod'] }, message: 'spec.protectedStates[1]: Duplicate value: "prod"' },
    { name: 'soak key not listed', spec: { name: 'x', states: ['dev', 'prod'], minSoakSeconds: { dev: 60, qa: 60 } }, message: 'spec.minSoakSeconds: Invalid value: every key of minSoakSeconds must be a state listed in spec.states; "qa" is not' },
    { name: 'negative soak', spec: { name: 'x', states: ['dev', 'prod'], minSoakSeconds: { dev: -1 } }, message: 'spec.minSoakSeconds.dev in body should be greater than or equal to 0' },
    { name: 'soak not a number', spec: { name: 'x', states: ['dev', 'prod'], minSoakSeconds: { dev: '1h' } }, message: 'spec.minSoakSeconds.dev in body must be of type integer: "string"' },
    { name: 'states not a list', spec: { name: 'x', states: 'dev,prod' }, message: 'spec.states in body must be of type array: "string"' },
  ])('refuses an object with $name', async ({ spec, body, message }) => {
    const api = kubeConfig('admin').makeApiClient(CustomObjectsApi);
    const st = await statusOf(api.createNamespacedCustomObject({ ...crdRef, namespace: ns(), body: body ?? object('bad', spec) }));
    expect(st.code).toBe(422);
    expect(st.reason).toBe('Invalid');
    expect(st.message).toContain(message);
    // Nothing was stored.
    expect(await statusCodeOf(api.getNamespacedCustomObject({ ...crdRef, namespace: ns(), name: 'bad' }))).toBe(404);
  });

  it('refuses an edit that breaks a rule, and keeps the object as it was', async () => {
    const api = kubeConfig('admin').makeApiClient(CustomObjectsApi);
    await api.createNamespacedCustomObject({ ...crdRef, namespace: ns(), body: object('edited', { name: 'x', states: ['dev', 'prod'], protectedStates: ['prod'] }) });
    const st = await statusOf(api.patchNamespacedCustomObject({ ...crdRef, namespace: ns(), name: 'edited', body: [{ op: 'replace', path: '/spec/states', value: ['dev', 'staging'] }] }));
    expect(st.code).toBe(422);
    expect(st.message).toContain('"prod" is not');
    const got = (await api.getNamespacedCustomObject({ ...crdRef, namespace: ns(), name: 'edited' })) as { spec: { states: string[] } };
    expect(got.spec.states).toEqual(['dev', 'prod']);
  });

  it('ignores status on create: status is a subresource', async () => {
    const api = kubeConfig('admin').makeApiClient(CustomObjectsApi);
    await api.createNamespacedCustomObject({ ...crdRef, namespace: ns(), body: object('forged', { name: 'x', states: ['dev', 'prod'] }, { status: { state: 'prod' } }) });
    const got = (await api.getNamespacedCustomObject({ ...crdRef, namespace: ns(), name: 'forged' })) as { status?: unknown };
    expect(got.status).toBeUndefined();
  });

  it('shows the printer columns in kubectl get', async () => {
    const out = await kubectl('admin', ['get', 'customresources.example.com', '-n', ns(), 'checkout', '-o', 'wide']);
    expect(out.stderr).toBe('');
    const [header, row] = out.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^NAME\s+DISPLAY NAME\s+STATE\s+SINCE\s+STATES\s+AGE$/);
    // No status yet: STATE and SINCE are blank (the object is in states[0]).
    expect(row).toMatch(/^checkout\s+Checkout service\s+\["dev","staging","prod"\]\s+\d+s$/);
  });

  it('forbids alice to list until a Role grants it', async () => {
    const alice = kubeConfig('alice').makeApiClient(CustomObjectsApi);
    const denied = await statusOf(alice.listNamespacedCustomObject({ ...crdRef, namespace: ns() }));
    expect(denied.code).toBe(403);
    expect(denied.reason).toBe('Forbidden');
    expect(denied.message).toContain('User "alice" cannot list resource "customresources" in API group "example.com"');
    await grantRole(ns(), 'customresource-reader', 'alice', [{ apiGroups: ['example.com'], resources: ['customresources'], verbs: ['get', 'list'] }]);
    await eventually('alice may list', async () => (await statusCodeOf(alice.listNamespacedCustomObject({ ...crdRef, namespace: ns() }))) === undefined);
    const list = (await alice.listNamespacedCustomObject({ ...crdRef, namespace: ns() })) as { items: unknown[] };
    expect(list.items.length).toBeGreaterThan(0);
    // The Role is namespaced: other namespaces and other verbs stay closed.
    expect(await statusCodeOf(alice.listClusterCustomObject({ ...crdRef }))).toBe(403);
    expect(await statusCodeOf(alice.deleteNamespacedCustomObject({ ...crdRef, namespace: ns(), name: 'checkout' }))).toBe(403);
  });
});
