// The backend reached through the real aggregation layer: kube-apiserver
// authenticates the user and proxies to the backend, which authenticates the
// front proxy and authorizes with SubjectAccessReview.
import { CustomObjectsApi } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { apiServiceAvailability } from '../../cluster/aggregation.ts';
import { eventually, grantRole, kubeConfig, kubectl, useNamespace } from './harness.ts';

const ns = useNamespace(import.meta.filename);
const crd = { group: 'example.com', version: 'v1', plural: 'customresources' };

describe('aggregation', () => {
  it('the APIService is Available', async () => {
    const av = await apiServiceAvailability(kubeConfig('admin'), 'v1.custom.example.com');
    expect(av?.status).toBe('True');
  });

  it('kubectl api-resources lists customresources of custom.example.com', async () => {
    const out = await kubectl('admin', ['api-resources', '--api-group=custom.example.com', '-o', 'wide']);
    expect(out.stderr).toBe('');
    expect(out.stdout).toMatch(/^customresources\s+custom\.example\.com\/v1\s+true\s+CustomResource\s+get,list,watch/m);
    expect(out.stdout).toMatch(/^backendstatuses\s+custom\.example\.com\/v1\s+false\s+BackendStatus\s+get,list\s*$/m);
  });

  it('kubectl get backendstatuses: the replica that answered, as a Table; for kubectl-custom-admin bound cluster-wide, not for viewers', async () => {
    const out = await kubectl('admin', ['get', 'backendstatuses']);
    expect(out.stderr).toBe('');
    const [header, row, more] = out.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^NAME\s+VERSION\s+CACHES\s+LAST EVENT\s+WATCHES\s+IN FLIGHT\s+P99\s+MEMORY\s+AGE$/);
    expect(row).toMatch(/^\S+\s+v\d+\.\d+\.\d+\S*\s+5\/5\s+\d+s\s+\d+\s+\d+\/400\s+\d+(ms|\.?\d*s)\s+\d+(\.\d)?Mi\s+\S+$/);
    expect(more).toBeUndefined();
    const name = row!.split(/\s+/)[0]!;
    const one = await kubectl('admin', ['get', 'backendstatus', name, '-o', 'jsonpath={.status.caches[*].resource}']);
    expect(one.stdout).toBe('customresources.example.com gatepolicies.example.com freezes.example.com notificationpolicies.example.com configmaps');
    // A viewer (who reads every object) does not see the backend's state; kubectl-custom-admin bound cluster-wide does.
    const as = ['--as=status-reader', '--as-group=system:authenticated'];
    await kubectl('admin', ['create', 'clusterrolebinding', 'status-reader-viewer', '--clusterrole=kubectl-custom-viewer', '--user=status-reader']);
    try {
      await eventually('the viewer role is in force', async () => (await kubectl('admin', ['get', 'customresources.custom.example.com', '-A', ...as])).code === 0);
      const denied = await kubectl('admin', ['get', 'backendstatuses', ...as]);
      expect(denied.stderr).toContain('User "status-reader" cannot list resource "backendstatuses" in API group "custom.example.com" at the cluster scope');
      await kubectl('admin', ['create', 'clusterrolebinding', 'status-reader-admin', '--clusterrole=kubectl-custom-admin', '--user=status-reader']);
      await eventually('kubectl-custom-admin may', async () => (await kubectl('admin', ['get', 'backendstatuses', ...as])).code === 0);
    } finally {
      await kubectl('admin', ['delete', 'clusterrolebinding', 'status-reader-viewer', 'status-reader-admin', '--ignore-not-found']);
    }
  });

  it('kubectl get shows the server-side Table', async () => {
    const api = kubeConfig('admin').makeApiClient(CustomObjectsApi);
    await api.createNamespacedCustomObject({ ...crd, namespace: ns(), body: { apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name: 'checkout' }, spec: { name: 'Checkout service', states: ['dev', 'staging', 'prod'], protectedStates: ['prod'] } } });
    await eventually('the backend serves it', async () => (await kubectl('admin', ['get', 'customresources.custom.example.com', '-n', ns(), 'checkout'])).code === 0);
    const out = await kubectl('admin', ['get', 'customresources.custom.example.com', '-n', ns()]);
    expect(out.stderr).toBe('');
    const [header, row] = out.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^NAME\s+DISPLAY NAME\s+STATE\s+NEXT\s+IN STATE\s+LAST CHANGED BY\s+AGE$/);
    expect(row).toMatch(/^checkout\s+Checkout service\s+dev\s+staging\s+\d+s\s+<none>\s+\d+s$/);
    const all = await kubectl('admin', ['get', 'customresources.custom.example.com', '-A']);
    expect(all.stdout.split('\n')[0]).toMatch(/^NAMESPACE\s+NAME\s+DISPLAY NAME\s+STATE\s+NEXT/);
    expect(all.stdout).toMatch(new RegExp(`\\n${ns()}\\s+checkout\\s+Checkout service\\s+dev`));
    const wide = await kubectl('admin', ['get', 'customresources.custom.example.com', '-n', ns(), '-o', 'wide']);
    expect(wide.stdout.split('\n')[0]).toMatch(/AGE\s+PATH\s+SOAK LEFT\s+PROTECTED\s+APPROVALS\s+FROZEN BY$/);
    expect(wide.stdout.split('\n')[1]).toContain('[dev] → staging → prod');
  });

  it('alice is Forbidden until a Role grants get/list, then sees only her namespace', async () => {
    const denied = await kubectl('alice', ['get', 'customresources.custom.example.com', '-n', ns()]);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('User "alice" cannot list resource "customresources" in API group "custom.example.com"');
    await grantRole(ns(), 'custom-reader', 'alice', [{ apiGroups: ['custom.example.com'], resources: ['customresources'], verbs: ['get', 'list', 'watch'] }]);
    await eventually('alice may list', async () => (await kubectl('alice', ['get', 'customresources.custom.example.com', '-n', ns()])).code === 0);
    const all = await kubectl('alice', ['get', 'customresources.custom.example.com', '-A']);
    expect(all.code).not.toBe(0);
    expect(all.stderr).toContain('at the cluster scope');
  });
});
