// The backend in a real cluster: a control plane of this file's own with a
// real node (cluster/node.ts: containerd, kubelet, kube-proxy, scheduler,
// controller-manager), the image `npm run build:image` makes imported into
// the node's containerd, manifests/overlays/test-node (manifests/base with
// only the image and its pull policy swapped) applied with kubectl apply -k,
// and the plugin working through the in-cluster backend. One node per
// machine: a second run waits for the first one's node to stop. The rest of
// the suite keeps the global control plane with the backend as a local
// process.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ctr, importImage } from '../../cluster/images.ts';
import { overlayImage, TEST_NODE_OVERLAY as OVERLAY } from '../../cluster/in-cluster.ts';
import { containerPid } from '../../cluster/node.ts';
import { nodeFootprint, type NodeFootprint } from '../../cluster/node-host.ts';
import { isAlive } from '../../cluster/processes.ts';
import { startNodeStack, type NodeStack } from '../../cluster/stack.ts';
import type { UserName } from '../../cluster/pki.ts';
import { buildImage } from '../../scripts/build-image.ts';
import { eventually } from './harness.ts';
import { kubectlCustom } from './plugin-cli.ts';
import { type Run, runCommand } from './run-command.ts';

const PREFIX = 'kubectl-custom-in-cluster-';
const NAMESPACE = 'custom-system';
const DEPLOYMENT = 'kubectl-custom-backend';
const log = (l: string) => process.stderr.write(`[in-cluster] ${l}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

let stack: NodeStack | undefined;
let dir: string;
let before: NodeFootprint;
const started = Date.now();

function kubectl(args: string[], user: UserName = 'admin'): Promise<Run> {
  const c = stack!.cluster;
  return runCommand(c.binaries.kubectl, ['--kubeconfig', c.kubeconfigs[user], ...args]);
}

async function kubectlJson<T>(args: string[]): Promise<T> {
  const r = await kubectl([...args, '-o', 'json']);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** `kubectl custom …` as `user` against this file's cluster. */
const plugin = (user: UserName, args: string[]) => kubectlCustom(undefined, args, { KUBECONFIG: stack!.cluster.kubeconfigs[user] });

/** Run folders of runs that died (their node is undone by the next node itself). */
function removeStaleRunDirs(): void {
  for (const name of readdirSync(tmpdir()).filter((n) => n.startsWith(PREFIX))) {
    const pidFile = join(tmpdir(), name, 'owner.pid');
    const owner = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : NaN;
    if (!Number.isInteger(owner) || !isAlive(owner)) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

beforeAll(async () => {
  removeStaleRunDirs();
  dir = mkdtempSync(join(tmpdir(), PREFIX));
  writeFileSync(join(dir, 'owner.pid'), String(process.pid));
  const image = await buildImage({ log });
  log(`image ${image.name} (${image.fromCache ? 'from the cache' : 'built'}) at ${seconds(Date.now() - started)}`);
  const t = Date.now();
  // Another run's node (one per machine, say another test file's): wait for it rather than fail, and look at
  // the machine once it is gone and this node holds the lock (its record, the lock, is all there is of it yet).
  stack = await startNodeStack({ dir, log, waitMs: 40 * 60_000, onLocked: () => (before = { ...nodeFootprint(dir), record: false }) });
  log(`control plane and node ready in ${seconds(Date.now() - t)}`);
  const names = importImage(stack.node.containerdSocket, image.archive, overlayImage());
  log(`imported ${image.archive} as ${names.join(', ')}`);
}, 60 * 60_000);

afterAll(async () => {
  if (stack) await stack.stop();
  if (dir && !process.env['KEEP_CLUSTER_DIR']) rmSync(dir, { recursive: true, force: true });
  log(`the whole file took ${seconds(Date.now() - started)}`);
}, 120_000);

interface Pod {
  metadata: { name: string; deletionTimestamp?: string };
  spec: { securityContext: Record<string, unknown>; containers: { image: string; imagePullPolicy: string; securityContext: Record<string, unknown> }[] };
  status: { phase: string; podIP: string; containerStatuses?: { ready: boolean; containerID: string; imageID: string }[] };
}

/** The backend's running pods, without those on their way out (install-certs restarts the first ones). */
async function backendPods(): Promise<Pod[]> {
  const pods = await kubectlJson<{ items: Pod[] }>(['get', 'pods', '-n', NAMESPACE, '-l', 'app.kubernetes.io/component=backend', '--field-selector=status.phase=Running']);
  return pods.items.filter((p) => !p.metadata.deletionTimestamp);
}

describe('the backend in a real cluster', () => {
  it('kubectl apply -k the test overlay, then install-certs: both replicas Ready on the node and the APIService Available', async () => {
    const t = Date.now();
    const applied = await kubectl(['apply', '--server-side', '-k', OVERLAY]);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    const certs = await plugin('admin', ['install-certs']);
    expect(certs.code, certs.stderr).toBe(0);
    const rolled = await kubectl(['rollout', 'status', `deployment/${DEPLOYMENT}`, '-n', NAMESPACE, '--timeout=240s']);
    expect(rolled.code, rolled.stderr + rolled.stdout).toBe(0);
    const dep = await kubectlJson<{ status: { readyReplicas?: number; replicas?: number } }>(['get', 'deployment', DEPLOYMENT, '-n', NAMESPACE]);
    expect(dep.status.readyReplicas).toBe(2);
    const pods = await backendPods();
    expect(pods).toHaveLength(2);
    for (const p of pods) {
      expect(p.spec.containers[0]!.image).toBe(overlayImage());
      expect(p.spec.containers[0]!.imagePullPolicy).toBe('Never');
      expect(p.status.podIP).toMatch(/^10\.244\.0\.\d+$/);
      expect(p.status.containerStatuses?.[0]?.ready).toBe(true);
    }
    await eventually('the APIService is Available', async () => {
      const a = await kubectlJson<{ status: { conditions?: { type: string; status: string }[] } }>(['get', 'apiservice', 'v1.custom.example.com']);
      return a.status.conditions?.some((c) => c.type === 'Available' && c.status === 'True') ?? false;
    }, 60_000);
    log(`backend installed, both replicas Ready and the APIService Available in ${seconds(Date.now() - t)}`);
  }, 400_000);

  it('kubectl custom list, promote, approve and history work through the in-cluster backend', async () => {
    const ns = `in-cluster-${randomBytes(3).toString('hex')}`;
    expect((await kubectl(['create', 'namespace', ns])).code).toBe(0);
    // The aggregated edit role (kube-controller-manager's aggregation controller fills it) and bob's approval of prod.
    for (const user of ['alice', 'bob']) expect((await kubectl(['create', 'rolebinding', `${user}-edit`, '--clusterrole=edit', `--user=${user}`, '-n', ns])).code).toBe(0);
    const role = join(dir, 'prod-approver.json');
    writeFileSync(role, JSON.stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'prod-approver', namespace: ns }, rules: [{ apiGroups: ['custom.example.com'], resources: ['states'], resourceNames: ['prod'], verbs: ['approve'] }] }));
    expect((await kubectl(['create', '-f', role])).code).toBe(0);
    expect((await kubectl(['create', 'rolebinding', 'prod-approver', '--role=prod-approver', '--user=bob', '-n', ns])).code).toBe(0);
    const obj = { apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name: 'checkout', namespace: ns }, spec: { name: 'Checkout', states: ['dev', 'staging', 'prod'], requiredApprovals: { prod: 1 } } };
    const file = join(dir, 'checkout.json');
    writeFileSync(file, JSON.stringify(obj));
    // The webhook (in the pods) decides creates; its finalizer comes from the admission policy.
    await eventually('the object is created', async () => (await kubectl(['create', '-f', file], 'alice')).code === 0, 30_000);
    await eventually('alice may list it', async () => (await plugin('alice', ['list', '-n', ns])).stdout.includes('checkout'), 30_000);
    const list = await plugin('alice', ['list', '-n', ns]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^checkout\s+Checkout\s+dev\s+staging\s/m);
    const promoted = await plugin('alice', ['promote', 'checkout', '-n', ns, '--reason', 'tests green']);
    expect(promoted.stdout + promoted.stderr).toContain('checkout promoted: dev → staging');
    const refused = await plugin('alice', ['promote', 'checkout', '-n', ns, '--reason', 'ship it']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('none given yet, 1 more needed');
    const approved = await plugin('bob', ['approve', 'checkout', '-n', ns, '--reason', 'reviewed']);
    expect(approved.code, approved.stderr).toBe(0);
    const shipped = await plugin('alice', ['promote', 'checkout', '-n', ns, '--reason', 'ship it']);
    expect(shipped.code, shipped.stderr).toBe(0);
    expect(shipped.stdout).toContain('staging → prod');
    const history = await plugin('alice', ['history', 'checkout', '-n', ns]);
    expect(history.code, history.stderr).toBe(0);
    expect(history.stdout).toMatch(/promote\s+dev\s+staging\s+alice\s/);
    expect(history.stdout).toMatch(/approve\s+staging\s+prod\s+bob\s/);
    expect(history.stdout).toMatch(/promote\s+staging\s+prod\s+alice\s+approved by bob/);
    const verified = await plugin('alice', ['history', 'checkout', '-n', ns, '--verify']);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toContain('verified: seq 1–3, 3 entries');
    // The changes were made by the pods: their logs, read through the kubelet, name them.
    const logs = await kubectl(['logs', '-n', NAMESPACE, '-l', 'app.kubernetes.io/component=backend', '--tail=-1', '--prefix']);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toContain(`"object":"${ns}/checkout","action":"promote","from":"staging","to":"prod","user":"alice"`);
  }, 120_000);

  it('the pods run as 65532, not root, with a read-only root filesystem and no capabilities', async () => {
    const pods = await backendPods();
    expect(pods).toHaveLength(2);
    for (const pod of pods) {
      expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532 });
      expect(pod.spec.containers[0]!.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
      const id = pod.status.containerStatuses![0]!.containerID.replace(/^containerd:\/\//, '');
      // What containerd gave runc (the image has no shell for kubectl exec):
      const spec = (JSON.parse(ctr(stack!.node.containerdSocket, ['containers', 'info', id])) as { Spec: { process: { user: { uid: number; gid: number }; noNewPrivileges?: boolean; capabilities?: Record<string, string[] | undefined> }; root: { readonly?: boolean } } }).Spec;
      expect(spec.process.user).toMatchObject({ uid: 65532, gid: 65532 });
      expect(spec.root.readonly).toBe(true);
      expect(spec.process.noNewPrivileges).toBe(true);
      expect(Object.values(spec.process.capabilities ?? {}).flatMap((c) => c ?? [])).toEqual([]);
      // … and what the running process is, seen from the host.
      const pid = containerPid(stack!.node, id);
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      expect(status).toMatch(/^Uid:\t65532\t65532\t65532\t65532$/m);
      expect(status).toMatch(/^Gid:\t65532\t65532\t65532\t65532$/m);
      expect(status).toMatch(/^CapEff:\t0000000000000000$/m);
      const root = readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').find((l) => l.split(' ')[4] === '/');
      expect(root?.split(' ')[5]?.split(',')).toContain('ro');
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]).toBe('/nodejs/bin/node');
    }
  });

  it('kubectl custom doctor reports the Deployment from the node: replicas, endpoints, the serving Secret; a container killed on the node shows as a restart with the command for its previous log', async () => {
    type Report = { checks: { id: string; status: string; message: string; hint?: string }[]; summary: { fail: number } };
    const doctor = async () => JSON.parse((await plugin('admin', ['doctor', '-n', 'default', '-o', 'json'])).stdout) as Report;
    const check = (r: Report, id: string) => r.checks.find((c) => c.id === id)!;
    const healthy = await doctor();
    expect(healthy.summary.fail, JSON.stringify(healthy.checks.filter((c) => c.status === 'fail'))).toBe(0);
    expect(check(healthy, 'installed.deployment')).toMatchObject({ status: 'ok', message: '2/2 replicas ready, 0 restarts' });
    expect(check(healthy, 'installed.service')).toMatchObject({ status: 'ok', message: '2 ready endpoints' });
    expect(check(healthy, 'certificates.serving')).toMatchObject({ status: 'ok', message: expect.stringMatching(/^for kubectl-custom-backend\.custom-system\.svc, valid for \d+ more days$/) });
    // Killed from the host, as the OOM killer would: the kubelet starts the container again.
    const [pod] = await backendPods();
    const id = pod!.status.containerStatuses![0]!.containerID.replace(/^containerd:\/\//, '');
    process.kill(containerPid(stack!.node, id), 'SIGKILL');
    let after: Report | undefined;
    await eventually('doctor sees the restart, both replicas ready again', async () => {
      after = await doctor();
      return check(after, 'installed.deployment').message === '2/2 replicas ready, 1 restart';
    }, 90_000);
    expect(check(after!, 'installed.deployment')).toMatchObject({ status: 'warn', hint: `kubectl -n custom-system logs <pod> --previous   (pods: ${pod!.metadata.name})` });
  }, 120_000);

  it('the APIService not Available: doctor names its reason and shows the last lines of a backend pod\'s log, read through the kubelet', async () => {
    const port = (p: number) => kubectl(['patch', 'apiservice', 'v1.custom.example.com', '--type=merge', '-p', JSON.stringify({ spec: { service: { port: p } } })]);
    expect((await port(4443)).code).toBe(0);
    let apiService: { status: string; message: string; hint?: string } | undefined;
    try {
      await eventually('doctor sees the APIService unavailable', async () => {
        const r = JSON.parse((await plugin('admin', ['doctor', '-n', 'default', '-o', 'json'])).stdout) as { checks: { id: string; status: string; message: string; hint?: string }[] };
        apiService = r.checks.find((c) => c.id === 'installed.apiservice');
        return apiService?.status === 'fail';
      }, 60_000);
      expect(apiService!.message).toMatch(/^Available=False \(/);
      expect(apiService!.hint).toMatch(/\nthe last lines of kubectl-custom-backend-[a-z0-9-]+'s log:\n\{"/);
    } finally {
      expect((await port(443)).code).toBe(0);
    }
    await eventually('the APIService is Available again', async () => (await kubectlJson<{ status: { conditions?: { type: string; status: string }[] } }>(['get', 'apiservice', 'v1.custom.example.com'])).status.conditions?.some((c) => c.type === 'Available' && c.status === 'True') === true, 60_000);
  }, 150_000);

  it('a rollout whose new pod the kernel kills for memory: doctor names the OOM kill (the old replicas keep serving)', async () => {
    // A limit the backend cannot start in: its new pod is OOM-killed; maxUnavailable 0 keeps both old ones.
    const patch = await kubectl(['patch', 'deployment', DEPLOYMENT, '-n', NAMESPACE, '--type=json', '-p', JSON.stringify([{ op: 'replace', path: '/spec/template/spec/containers/0/resources', value: { requests: { memory: '24Mi', cpu: '100m' }, limits: { memory: '24Mi', cpu: '1' } } }])]);
    expect(patch.code, patch.stderr).toBe(0);
    let deployment: { status: string; message: string; hint?: string } | undefined;
    await eventually('doctor names the OOM kill', async () => {
      const r = JSON.parse((await plugin('admin', ['doctor', '-n', 'default', '-o', 'json'])).stdout) as { checks: { id: string; status: string; message: string; hint?: string }[] };
      deployment = r.checks.find((c) => c.id === 'installed.deployment');
      return /OOM-killed: /.test(deployment?.message ?? '');
    }, 120_000);
    expect(deployment).toMatchObject({ status: 'warn', message: expect.stringMatching(/^2\/2 replicas ready, \d+ restarts?, OOM-killed: kubectl-custom-backend-/), hint: expect.stringMatching(/^the backend ran out of memory: raise resources\.limits\.memory/) });
    expect((await kubectl(['rollout', 'undo', 'deployment', DEPLOYMENT, '-n', NAMESPACE])).code).toBe(0);
  }, 180_000);

  it('stopping the node leaves the host as it was: no chains, tables, bridge, routes, mounts, cgroups, folders or processes of its own, sysctls restored', async () => {
    const t = Date.now();
    const s = stack!;
    stack = undefined;
    // Looked at before this node lets go of the machine: a node waiting for it (another file's) may start at once.
    let after: NodeFootprint | undefined;
    await s.stop({ beforeRelease: () => (after = { ...nodeFootprint(dir), record: false }) });
    log(`control plane and node stopped in ${seconds(Date.now() - t)}`);
    expect(after).toEqual(before);
    expect(after).toMatchObject({ chains: [], bridge: false, routes: [], mounts: [], cgroups: [], shims: [], record: false });
    expect(existsSync(join(dir, 'node'))).toBe(false);
  }, 120_000);
});
