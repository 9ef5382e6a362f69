// kubectl custom doctor against a stack of this file's own (each test breaks
// one thing, sees doctor name it with its fix and exit 1, then mends it and
// sees it pass): the backend stopped, a wrong caBundle, an expired or
// wrong-SAN serving certificate, the auth-delegator binding removed, an
// admission policy's binding removed, a user without permissions, a stale
// cache (the backend's watch cut with iptables while objects change).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend } from '../../cluster/backend.ts';
import { stopProcess } from '../../cluster/processes.ts';
import { startStack, type Stack } from '../../cluster/stack.ts';
import { issueCertificate, newCertificateAuthority } from '../../client/src/certificates.ts';
import { eventually, kubectlWith } from './harness.ts';
import { kubectlCustom } from './plugin-cli.ts';
import { findWatchConnection, prepareWatchCut, WatchCut } from './watch-cut.ts';

const BASE = fileURLToPath(new URL('../../manifests/base/', import.meta.url));
let stack: Stack;
let dir: string;
let backendPid: number;
const watchCut = new WatchCut();

beforeAll(async () => {
  await prepareWatchCut();
  dir = mkdtempSync(join(tmpdir(), 'kubectl-custom-doctor-'));
  stack = await startStack({ dir });
  backendPid = stack.backend.pid;
}, 180_000);

afterAll(async () => {
  // Whatever happened in the tests, the host's firewall is left as it was.
  watchCut.mend();
  await stopProcess(backendPid).catch(() => {});
  if (stack) await stack.stop().catch(() => {});
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Report {
  checks: { id: string; status: string; message: string; hint?: string }[];
  summary: { ok: number; warn: number; fail: number; skip: number };
}

async function doctor(user: 'admin' | 'alice' = 'admin', args: string[] = []): Promise<{ code: number; report: Report; text: string }> {
  const r = await kubectlCustom(undefined, ['doctor', '-n', 'default', '-o', 'json', ...args], { KUBECONFIG: stack.cluster.kubeconfigs[user] });
  return { code: r.code, report: JSON.parse(r.stdout) as Report, text: r.stderr };
}

const check = (rep: Report, id: string) => rep.checks.find((c) => c.id === id)!;
const admin = (args: string[]) => kubectlWith(stack.cluster.kubeconfigs.admin, args);

/** Waits until doctor fails `id` (or passes every check), then returns its report. */
async function until(what: string, pred: (r: Report) => boolean, timeoutMs = 60_000): Promise<Report> {
  let last: Report | undefined;
  await eventually(what, async () => pred((last = (await doctor()).report)), timeoutMs);
  return last!;
}
const healthy = (r: Report) => r.summary.fail === 0;

describe('kubectl custom doctor', () => {
  it('a healthy stack: every check passes (the Deployment skipped: the backend runs outside the cluster), exit 0; the text report says so', async () => {
    const { code, report } = await doctor();
    expect(code).toBe(0);
    expect(report.summary.fail).toBe(0);
    expect(report.checks.filter((c) => c.status === 'skip').map((c) => c.id)).toEqual(['installed.deployment']);
    expect(report.checks.map((c) => c.id)).toEqual([
      'installed.crds', 'installed.apiservice', 'installed.service', 'installed.deployment', 'installed.version',
      'certificates.serving', 'certificates.apiservice-cabundle', 'certificates.webhook-cabundle', 'certificates.front-proxy',
      'backend-permissions.rbac', 'admission.validating-policies', 'admission.mutating-policy', 'admission.webhook',
      'you.identity', 'you.credentials', 'you.permissions',
      'performance.backend', 'performance.caches-synced', 'performance.cache-lag', 'performance.watches', 'performance.latency', 'performance.memory', 'performance.in-flight',
    ]);
    expect(check(report, 'performance.caches-synced').message).toMatch(/^5 synced and watching: customresources\.example\.com \(\d+\), gatepolicies\.example\.com \(\d+\), freezes\.example\.com \(\d+\), notificationpolicies\.example\.com \(\d+\), configmaps kube-system\/extension-apiserver-authentication \(1\)$/);
    expect(check(report, 'performance.cache-lag').message).toMatch(/^5 caches have every change kube-apiserver has \(it is at \d+\): customresources\.example\.com at \d+, gatepolicies\.example\.com at \d+, freezes\.example\.com at \d+, notificationpolicies\.example\.com at \d+, configmaps kube-system\/extension-apiserver-authentication at \d+$/);
    expect(check(report, 'performance.memory').message).toMatch(/^RSS \d+Mi on \S+, no memory limit/);
    // How long it takes is measured, not asserted (shared machines are noisy): about 0.6 s on a quiet one.
    const text = await kubectlCustom(undefined, ['doctor', '-n', 'default'], { KUBECONFIG: stack.cluster.kubeconfigs.admin });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^Installed and Available\n-+\n✔ CRDs established/);
    expect(text.stdout.trimEnd().split('\n').pop()).toBe('✔ every check passed');
  });

  it('--pre: the cluster can take the backend', async () => {
    const { code, report } = await doctor('admin', ['--pre']);
    expect(code).toBe(0);
    expect(report.checks.map((c) => [c.id, c.status])).toEqual([['pre.kubernetes-version', 'ok'], ['pre.admission-apis', 'ok'], ['pre.aggregation-layer', 'ok'], ['pre.install-permissions', 'ok']]);
    // alice may install nothing.
    const alice = await doctor('alice', ['--pre']);
    expect(alice.code).toBe(1);
    expect(check(alice.report, 'pre.install-permissions').message).toMatch(/^you may not create namespaces; create customresourcedefinitions\.apiextensions\.k8s\.io/);
  });

  it('a wrong caBundle on the APIService: named, with install-certs as the fix; mended: passes', async () => {
    const old = (await admin(['get', 'apiservice', 'v1.custom.example.com', '-o', 'jsonpath={.spec.caBundle}'])).stdout;
    const other = await newCertificateAuthority('not-the-backends-ca');
    await admin(['patch', 'apiservice', 'v1.custom.example.com', '--type=merge', '-p', JSON.stringify({ spec: { caBundle: Buffer.from(other.cert).toString('base64') } })]);
    const broken = await until('doctor sees the wrong caBundle', (r) => check(r, 'installed.apiservice').status === 'fail');
    expect(check(broken, 'certificates.apiservice-cabundle')).toMatchObject({ status: 'fail', message: expect.stringMatching(/^caBundle does not verify the serving certificate/), hint: expect.stringMatching(/^kubectl custom install-certs/) });
    expect(check(broken, 'installed.apiservice').message).toMatch(/FailedDiscoveryCheck.*x509/);
    expect((await doctor()).code).toBe(1);
    await admin(['patch', 'apiservice', 'v1.custom.example.com', '--type=merge', '-p', JSON.stringify({ spec: { caBundle: old } })]);
    await until('doctor passes again', healthy);
  });

  it('an expired, soon expiring, or wrong-name serving certificate in the Secret the pods mount: named; removed: passes', async () => {
    const ca = await newCertificateAuthority('serving-ca');
    const secret = async (cert: string) => {
      const file = join(dir, 'secret.yaml');
      writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'kubectl-custom-backend-serving-cert', namespace: 'custom-system' }, type: 'kubernetes.io/tls', data: { 'tls.crt': Buffer.from(cert).toString('base64'), 'tls.key': Buffer.from('x').toString('base64'), 'ca.crt': Buffer.from(ca.cert).toString('base64') } }));
      expect((await admin(['apply', '-f', file])).code).toBe(0);
    };
    const name = 'kubectl-custom-backend.custom-system.svc';
    await secret((await issueCertificate(ca, { commonName: name, usage: 'server', dnsNames: [name], days: 0.02 })).cert);
    expect(check((await doctor()).report, 'certificates.serving')).toMatchObject({ status: 'fail', message: expect.stringMatching(/^expired on /), hint: expect.stringMatching(/install-certs --renew/) });
    await secret((await issueCertificate(ca, { commonName: name, usage: 'server', dnsNames: [name], days: 10 })).cert);
    expect(check((await doctor()).report, 'certificates.serving')).toMatchObject({ status: 'warn', message: expect.stringMatching(/^expires in 9 days/) });
    await secret((await issueCertificate(ca, { commonName: 'elsewhere', usage: 'server', dnsNames: ['elsewhere.example'], days: 365 })).cert);
    const wrong = await doctor();
    expect(wrong.code).toBe(1);
    expect(check(wrong.report, 'certificates.serving').message).toBe(`it is not for ${name} (DNS:elsewhere.example)`);
    // The APIService's caBundle does not verify the certificate in the Secret either.
    expect(check(wrong.report, 'certificates.apiservice-cabundle').status).toBe('fail');
    await admin(['delete', 'secret', '-n', 'custom-system', 'kubectl-custom-backend-serving-cert']);
    expect((await doctor()).code).toBe(0);
  });

  it("the backend's auth-delegator binding removed: the missing permissions named, with the manifest that grants them; re-applied: passes", async () => {
    await admin(['delete', 'clusterrolebinding', 'kubectl-custom-backend:system:auth-delegator']);
    const broken = await until('doctor sees the missing binding', (r) => check(r, 'backend-permissions.rbac').status === 'fail');
    expect(check(broken, 'backend-permissions.rbac').message).toBe('may not: create tokenreviews.authentication.k8s.io (delegated authentication); create subjectaccessreviews.authorization.k8s.io (delegated authorization)');
    expect(check(broken, 'backend-permissions.rbac').hint).toContain('rbac-auth-delegator.yaml');
    await admin(['apply', '-f', join(BASE, 'rbac-auth-delegator.yaml')]);
    await until('doctor passes again', (r) => check(r, 'backend-permissions.rbac').status === 'ok');
  });

  it("an admission policy's binding removed: named; re-applied: passes", async () => {
    await admin(['delete', 'validatingadmissionpolicybinding', 'kubectl-custom-gates']);
    const { code, report } = await doctor();
    expect(code).toBe(1);
    expect(check(report, 'admission.validating-policies')).toMatchObject({ status: 'fail', message: 'its binding kubectl-custom-gates is missing, so the policy applies to nothing', hint: 'kubectl apply -k manifests/base' });
    await admin(['apply', '-f', join(BASE, 'admission-policy.yaml')]);
    expect((await doctor()).code).toBe(0);
  });

  it('a user without permissions: told so by name, with the RoleBinding that would give them; what they may not read is skipped, not failed', async () => {
    const { code, report } = await doctor('alice');
    expect(code).toBe(1);
    expect(check(report, 'you.identity').message).toBe('alice in system:authenticated');
    expect(check(report, 'you.permissions')).toMatchObject({ status: 'fail', message: 'in default you may not even list the objects', hint: expect.stringContaining('--clusterrole=kubectl-custom-viewer --user=alice') });
    expect(report.checks.filter((c) => c.status === 'fail').map((c) => c.id)).toEqual(['you.permissions']);
    expect(check(report, 'backend-permissions.rbac').status).toBe('skip');
    // backendstatuses is kubectl-custom-admin's (bound cluster-wide): the whole group is skipped, saying how to get it.
    expect(check(report, 'performance.backend')).toMatchObject({ status: 'skip', message: expect.stringMatching(/^you may not list backendstatuses\.custom\.example\.com \(kubectl-custom-admin may/) });
    expect(report.checks.filter((c) => c.id.startsWith('performance.')).every((c) => c.status === 'skip')).toBe(true);
  });

  it("a stale cache: the backend's watch of the storage CRD cut while objects change is named with its fix (exit 1); mended, the reflector catches up and it passes", async () => {
    const ns = 'default';
    // Each change carries 8 KB, so its watch event outweighs what else the backend reads meanwhile (the
    // admission webhook's consistent reads of GatePolicies and Freezes for each apply) and the watch stands out.
    const pad = 'x'.repeat(8192);
    const obj = (name: string, labels: Record<string, string> = {}) => JSON.stringify({ apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name, namespace: ns, labels, annotations: { 'example.com/pad': pad } }, spec: { name, states: ['dev', 'prod'] } });
    const apply = async (json: string) => {
      const file = join(dir, 'object.json');
      writeFileSync(file, json);
      const r = await admin(['apply', '-f', file]);
      expect(r.code, r.stderr).toBe(0);
    };
    let n = 0;
    const change = async () => {
      for (let i = 0; i < 3; i++) await apply(obj('stale-probe', { poke: String(++n) }));
    };
    await apply(obj('stale-probe'));
    // The backend's connection to kube-apiserver that the three changes' events arrive on.
    const apiserverPort = Number(new URL(stack.cluster.server).port);
    const localPort = await findWatchConnection(backendPid, apiserverPort, change);
    try {
      watchCut.cut(apiserverPort, localPort);
      // Objects change behind the cut: an edit, and one more object kube-apiserver has and the cache not.
      await change();
      await apply(obj('stale-new'));
      // Lacking changes while it heard something lately is "behind" (‼); with nothing heard for over 10 s, stale (×).
      const broken = await until('doctor names the stale cache', (r) => check(r, 'performance.cache-lag').status === 'fail', 90_000);
      expect(watchCut.dropped()).toBeGreaterThan(0);
      const lag = check(broken, 'performance.cache-lag');
      expect(lag.message).toMatch(/^stale on \S+: customresources\.example\.com at \d+ lacks \d+ changes? kube-apiserver had by \d+ \(the first at \d+\), holds \d+ objects? where kube-apiserver has \d+, and last heard from kube-apiserver \d+s ago\. Its watch is stuck: those changes are not served/);
      // The object made behind the cut is one the cache lacks.
      const [, cached, there] = /holds (\d+) objects? where kube-apiserver has (\d+)/.exec(lag.message)!;
      expect(Number(there)).toBe(Number(cached) + 1);
      expect(lag.hint).toBe("its watch of customresources.example.com is stuck: look at the backend's log, then restart the backend process (it lists everything afresh)");
      // The connection is up (its keepalives are answered): nothing else looks wrong.
      expect(broken.checks.filter((c) => c.status === 'fail').map((c) => c.id)).toEqual(['performance.cache-lag']);
      expect(check(broken, 'performance.caches-synced').status).toBe('ok');
      const text = await kubectlCustom(undefined, ['doctor', '-n', ns], { KUBECONFIG: stack.cluster.kubeconfigs.admin });
      expect(text.code).toBe(1);
      expect(text.stdout).toMatch(/\n× Caches up to date: stale on /);
      expect(text.stdout).toContain("    fix: its watch of customresources.example.com is stuck: look at the backend's log, then restart the backend process");
    } finally {
      watchCut.mend();
    }
    // kube-apiserver's next retransmission gets through; the reflector goes on from where it was.
    await until('doctor passes again', healthy, 180_000);
    const served = await admin(['get', 'customresources.custom.example.com', '-n', ns, 'stale-probe', 'stale-new', '-o', 'jsonpath={.items[*].metadata.labels.poke}']);
    expect(served.stdout, served.stderr).toBe(String(n));
    await admin(['delete', 'customresources.example.com', '-n', ns, 'stale-probe', 'stale-new', '--wait=false']);
  }, 360_000);

  it('the backend stopped: the APIService named with its reason, and the serving certificate unreachable; started again: passes (--wait waits for it)', async () => {
    await stopProcess(backendPid);
    const broken = await until('doctor sees the backend down', (r) => check(r, 'installed.apiservice').status === 'fail');
    expect(check(broken, 'installed.apiservice').message).toMatch(/^Available=False \(FailedDiscoveryCheck\): .*connection refused/);
    expect(check(broken, 'certificates.serving').message).toMatch(/^cannot reach the backend at localhost:\d+/);
    const started = await startBackend({ cluster: stack.cluster, dir: join(dir, 'backend-2'), extraArgs: [] });
    backendPid = started.pid;
    const waited = await kubectlCustom(undefined, ['doctor', '-n', 'default', '--wait', '60s'], { KUBECONFIG: stack.cluster.kubeconfigs.admin });
    expect(waited.code, waited.stdout).toBe(0);
  }, 120_000);
});
