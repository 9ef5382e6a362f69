// The Helm chart on a real node (cluster/node.ts, one per machine: this file
// waits for another run's node to stop): the image `npm run build:image`
// makes, imported into the node's containerd under the chart's default
// reference and under a second tag; `helm install --wait` (both replicas
// Ready, the APIService Available), `helm test` (the hook's Pod checks the
// APIService and promotes an object through the in-cluster backend), `helm
// upgrade` to the second tag (the Deployment rolls, the certificate is kept,
// `helm test` passes again) and `helm uninstall` (the CRDs and the archive
// kept). test/integration/helm-chart.test.ts checks the chart without a node.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureHelm } from '../../cluster/helm.ts';
import { importImage } from '../../cluster/images.ts';
import { startNodeStack, type NodeStack } from '../../cluster/stack.ts';
import { buildImage } from '../../scripts/build-image.ts';
import { type Run, runCommand } from './run-command.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHART = join(ROOT, 'charts/kubectl-custom');
const NS = 'custom-system';
const APP_VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const SECOND_TAG = `${APP_VERSION}-second`;
const log = (l: string) => process.stderr.write(`[helm-in-cluster] ${l}\n`);

let stack: NodeStack | undefined;
let dir: string;
let helmBin: string;

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return runCommand(cmd, args, { env: { ...process.env, ...env } });
}

const helm = (args: string[]) => run(helmBin, [...args, '--kubeconfig', stack!.cluster.kubeconfigs.admin], {
  HELM_CONFIG_HOME: join(dir, 'helm/config'), HELM_CACHE_HOME: join(dir, 'helm/cache'), HELM_DATA_HOME: join(dir, 'helm/data'), KUBECONFIG: '/dev/null',
});
const kubectl = (args: string[]) => run(stack!.cluster.binaries.kubectl, ['--kubeconfig', stack!.cluster.kubeconfigs.admin, ...args]);

async function kubectlJson<T>(args: string[]): Promise<T> {
  const r = await kubectl([...args, '-o', 'json']);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

interface Pod {
  metadata: { deletionTimestamp?: string };
  spec: { containers: { image: string }[] };
  status: { containerStatuses?: { ready: boolean }[] };
}

const readyBackendImages = async () => (await kubectlJson<{ items: Pod[] }>(['get', 'pods', '-n', NS, '-l', 'app.kubernetes.io/component=backend', '--field-selector=status.phase=Running'])).items
  .filter((p) => !p.metadata.deletionTimestamp && p.status.containerStatuses?.[0]?.ready)
  .map((p) => p.spec.containers[0]!.image);

async function helmTest(): Promise<void> {
  const t = await helm(['test', 'kubectl-custom', '-n', NS, '--logs', '--timeout', '5m']);
  expect(t.code, t.stdout + t.stderr).toBe(0);
  expect(t.stdout).toContain('ok: APIService v1.custom.example.com is Available');
  expect(t.stdout).toContain('ok: promote dev -> prod');
  expect(t.stdout).toContain('PASS: the APIService is Available and a promote works');
  // A passing test removes what it made (hook-succeeded): its Pod, ServiceAccount, RBAC and namespace.
  expect((await kubectl(['get', 'pod/kubectl-custom-test', '-n', NS])).stderr).toContain('NotFound');
  expect((await kubectl(['get', 'namespace/kubectl-custom-test', 'clusterrole/kubectl-custom-test'])).stderr).toContain('NotFound');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kubectl-custom-helm-node-'));
  const [h, image] = [await ensureHelm(log), await buildImage({ log })];
  helmBin = h;
  // Another run's node (one per machine): wait for it rather than fail.
  stack = await startNodeStack({ dir, log, waitMs: 30 * 60_000 });
  // The chart's default reference, and a second tag of the same image to upgrade to.
  importImage(stack.node.containerdSocket, image.archive, `docker.io/library/kubectl-custom-backend:${APP_VERSION}`);
  importImage(stack.node.containerdSocket, image.archive, `docker.io/library/kubectl-custom-backend:${SECOND_TAG}`);
}, 60 * 60_000);

afterAll(async () => {
  if (stack) await stack.stop();
  if (dir && !process.env['KEEP_CLUSTER_DIR']) rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe('the chart on a real node', () => {
  it('helm install --wait: both replicas Ready and the APIService Available', async () => {
    const i = await helm(['install', 'kubectl-custom', CHART, '-n', NS, '--create-namespace', '--set', 'image.pullPolicy=Never', '--wait', '--timeout', '5m']);
    expect(i.code, i.stderr).toBe(0);
    expect(await readyBackendImages()).toEqual([`kubectl-custom-backend:${APP_VERSION}`, `kubectl-custom-backend:${APP_VERSION}`]);
    const w = await kubectl(['wait', '--for=condition=Available', '--timeout=120s', 'apiservice/v1.custom.example.com']);
    expect(w.code, w.stderr).toBe(0);
  }, 400_000);

  it('helm test: the hook\'s Pod finds the APIService Available and promotes an object through the in-cluster backend', helmTest, 400_000);

  it('helm upgrade to a second image tag rolls the Deployment and keeps the certificate; helm test passes again', async () => {
    const before = await kubectlJson<{ data: Record<string, string> }>(['get', 'secret/kubectl-custom-backend-serving-cert', '-n', NS]);
    const u = await helm(['upgrade', 'kubectl-custom', CHART, '-n', NS, '--reuse-values', '--set', `image.tag=${SECOND_TAG}`, '--wait', '--timeout', '5m']);
    expect(u.code, u.stderr).toBe(0);
    const rolled = await kubectl(['rollout', 'status', 'deployment/kubectl-custom-backend', '-n', NS, '--timeout=240s']);
    expect(rolled.code, rolled.stderr).toBe(0);
    expect(await readyBackendImages()).toEqual([`kubectl-custom-backend:${SECOND_TAG}`, `kubectl-custom-backend:${SECOND_TAG}`]);
    expect((await kubectlJson<{ data: Record<string, string> }>(['get', 'secret/kubectl-custom-backend-serving-cert', '-n', NS])).data).toEqual(before.data);
    await helmTest();
  }, 600_000);

  it('helm uninstall keeps the CRDs and the archive (the test objects\' trails)', async () => {
    const segments = (await kubectlJson<{ items: unknown[] }>(['get', 'statehistories.example.com', '-n', NS])).items.length;
    expect(segments, 'each helm test archived its object').toBeGreaterThanOrEqual(2);
    const un = await helm(['uninstall', 'kubectl-custom', '-n', NS, '--wait', '--timeout', '3m']);
    expect(un.code, un.stderr).toBe(0);
    expect(un.stdout).toContain('kept due to the resource policy');
    const crds = await kubectl(['get', 'crd', 'customresources.example.com', 'statehistories.example.com', 'gatepolicies.example.com', 'freezes.example.com', '-o', 'name']);
    expect(crds.code, crds.stderr).toBe(0);
    expect((await kubectlJson<{ items: unknown[] }>(['get', 'statehistories.example.com', '-n', NS])).items.length).toBe(segments);
    expect((await kubectl(['get', 'deployment/kubectl-custom-backend', '-n', NS])).stderr).toContain('NotFound');
    expect((await kubectl(['get', 'apiservice/v1.custom.example.com'])).stderr).toContain('NotFound');
  }, 300_000);
});
