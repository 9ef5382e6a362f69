// The control plane the project builds and starts is configured as a real
// cluster: version-stamped binaries, users by client certificate, RBAC, and
// the aggregation layer's front-proxy settings published for extension servers.
import { readFileSync } from 'node:fs';
import { CoreV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { KUBERNETES_VERSION } from '../../cluster/versions.ts';
import { cluster, kubeConfig, kubectl } from './harness.ts';

describe('local control plane', () => {
  it('runs the stamped release, and kubectl of the same version', async () => {
    const out = await kubectl('admin', ['version', '-o', 'json']);
    expect(out.code).toBe(0);
    const v = JSON.parse(out.stdout) as { clientVersion: { gitVersion: string }; serverVersion: { gitVersion: string; major: string; minor: string } };
    expect(v.clientVersion.gitVersion).toBe(KUBERNETES_VERSION);
    expect(v.serverVersion.gitVersion).toBe(KUBERNETES_VERSION);
    expect(`v${v.serverVersion.major}.${v.serverVersion.minor}`).toBe(KUBERNETES_VERSION.split('.').slice(0, 2).join('.'));
  });

  it.each([
    { user: 'admin', username: 'admin', groups: ['system:masters', 'system:authenticated'] },
    { user: 'alice', username: 'alice', groups: ['system:authenticated'] },
    { user: 'bob', username: 'bob', groups: ['system:authenticated'] },
  ] as const)('authenticates $user by client certificate', async ({ user, username, groups }) => {
    const out = await kubectl(user, ['auth', 'whoami', '-o', 'json']);
    expect(out.code).toBe(0);
    const review = JSON.parse(out.stdout) as { status: { userInfo: { username: string; groups: string[] } } };
    expect(review.status.userInfo.username).toBe(username);
    expect(review.status.userInfo.groups.sort()).toEqual([...groups].sort());
  });

  it('authorizes with RBAC: alice and bob start with no permissions', async () => {
    const can = await kubectl('alice', ['auth', 'can-i', 'list', 'pods', '-n', 'default']);
    expect(can.stdout.trim()).toBe('no');
    expect(can.code).toBe(1);
    const admin = await kubectl('admin', ['auth', 'can-i', '*', '*']);
    expect(admin.stdout.trim()).toBe('yes');
  });

  it('publishes the front-proxy settings in kube-system/extension-apiserver-authentication', async () => {
    const cm = await kubeConfig('admin').makeApiClient(CoreV1Api).readNamespacedConfigMap({ namespace: 'kube-system', name: 'extension-apiserver-authentication' });
    const data = cm.data ?? {};
    expect(JSON.parse(data['requestheader-allowed-names'] ?? '')).toEqual(['front-proxy-client']);
    expect(JSON.parse(data['requestheader-username-headers'] ?? '')).toEqual(['X-Remote-User']);
    expect(JSON.parse(data['requestheader-group-headers'] ?? '')).toEqual(['X-Remote-Group']);
    expect(JSON.parse(data['requestheader-extra-headers-prefix'] ?? '')).toEqual(['X-Remote-Extra-']);
    // Contains rather than equals: another spec adds a CA to this bundle to test rotation.
    expect(data['requestheader-client-ca-file']).toContain(readFileSync(cluster().frontProxyCa.cert, 'utf8').trim());
    expect(data['client-ca-file']?.trim()).toBe(readFileSync(cluster().clusterCa.cert, 'utf8').trim());
  });

  it('issues service-account tokens (TokenRequest)', async () => {
    const core = kubeConfig('admin').makeApiClient(CoreV1Api);
    await core.createNamespacedServiceAccount({ namespace: 'kube-system', body: { metadata: { name: 'token-probe' } } }).catch(() => undefined);
    const tr = await core.createNamespacedServiceAccountToken({ namespace: 'kube-system', name: 'token-probe', body: { spec: { audiences: [], expirationSeconds: 600 } } });
    expect(tr.status?.token).toMatch(/^ey/);
  });
});
