// What the plugin says when the backend is not installed, or installed but
// not available: on a control plane of this file's own, so the shared
// backend is never disturbed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminKubeConfig, BACKEND_SERVICE, installBase } from '../../cluster/backend.ts';
import { apiServiceAvailability, registerLocalApiService } from '../../cluster/aggregation.ts';
import { ensureBinaries } from '../../cluster/binaries.ts';
import { startCluster, stopCluster, type ClusterInfo } from '../../cluster/control-plane.ts';
import { freePort } from '../../cluster/processes.ts';
import { newCertificateAuthority } from '../../client/src/certificates.ts';
import { eventually } from './harness.ts';
import { kubectlCustom } from './plugin-cli.ts';

let cluster: ClusterInfo;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kubectl-custom-down-'));
  cluster = await startCluster({ dir, binaries: await ensureBinaries() });
  await installBase(cluster);
});

afterAll(async () => {
  if (cluster) await stopCluster(cluster);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the backend missing or down', () => {
  it('no APIService: says the API is not installed and how to install it', async () => {
    const r = await kubectlCustom(undefined, ['list', '-n', 'default'], { KUBECONFIG: cluster.kubeconfigs.admin });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: the custom.example.com API is not installed in this cluster (there is no APIService v1.custom.example.com); install the kubectl-custom backend (kubectl apply -k manifests/base) or pick another --context\n');
  });

  it('an APIService whose backend does not answer: gives the APIService condition', async () => {
    const ca = await newCertificateAuthority('nobody');
    const kc = adminKubeConfig(cluster);
    await registerLocalApiService(kc, { group: 'custom.example.com', version: 'v1', service: BACKEND_SERVICE, port: await freePort(), caBundle: ca.cert });
    await eventually('the APIService is not Available', async () => (await apiServiceAvailability(kc, 'v1.custom.example.com'))?.reason === 'FailedDiscoveryCheck', 30_000);
    const r = await kubectlCustom(undefined, ['promote', 'checkout', '-n', 'default'], { KUBECONFIG: cluster.kubeconfigs.admin });
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: the kubectl-custom backend is not available: APIService v1\.custom\.example\.com is Available=False \(FailedDiscoveryCheck\): failing or missing response from https:\/\/localhost:\d+\/apis\/custom\.example\.com\/v1: .*connection refused/);
  });
});
