// Runs the backend as a local process the way it runs in a cluster: with its
// own ServiceAccount's token (only the RBAC of manifests/base), a serving
// certificate for <service>.<namespace>.svc, and an APIService that reaches it
// through an ExternalName Service.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { FINALIZER, FINALIZER_POLICY, SYSTEM_NAMESPACE } from '../api/src/names.ts';
import { issueCertificate, newCertificateAuthority } from '../client/src/certificates.ts';
import { apiServiceAvailability, registerLocalApiService, registerLocalWebhook } from './aggregation.ts';
import type { ClusterInfo } from './control-plane.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { freePort, isAlive, startProcess, stopProcess, waitFor, type Started } from './processes.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const BACKEND_SERVICE = { namespace: 'custom-system', name: 'kubectl-custom-backend' };
const BACKEND_SERVICE_ACCOUNT = { namespace: 'custom-system', name: 'kubectl-custom-backend' };

export interface BackendInfo {
  dir: string;
  port: number;
  pid: number;
  logFile: string;
  /** CA of the serving certificate (the APIService's caBundle). */
  caFile: string;
  /** That CA's key, when the backend made it (tests sign rotated serving certificates with it). */
  caKeyFile?: string;
  certFile: string;
  keyFile: string;
  /** The backend's own credentials: its ServiceAccount's token. */
  kubeconfig: string;
  args: string[];
}

/**
 * Applies manifests/overlays/local as admin: manifests/base (CRD, namespace,
 * ServiceAccount, RBAC, Service) without the Deployment, for a backend that
 * runs as a local process.
 */
export async function installBase(cluster: ClusterInfo): Promise<void> {
  execFileSync(cluster.binaries.kubectl, ['--kubeconfig', cluster.kubeconfigs.admin, 'apply', '--server-side', '--force-conflicts', '-k', join(ROOT, 'manifests/overlays/local')], { stdio: 'pipe' });
  execFileSync(cluster.binaries.kubectl, ['--kubeconfig', cluster.kubeconfigs.admin, 'wait', '--for=condition=Established', '--timeout=60s', 'crd/customresources.example.com', 'crd/statehistories.example.com', 'crd/gatepolicies.example.com', 'crd/freezes.example.com', 'crd/notificationpolicies.example.com'], { stdio: 'pipe' });
  await waitFinalizerPolicy(cluster);
}

/**
 * Waits until kube-apiserver applies the MutatingAdmissionPolicy that gives
 * new objects the backend's finalizer: a server-side dry-run create shows it.
 * Policies take effect a moment after they are created, and a kube-apiserver
 * that has just started answers creates of CustomResources with 503 ("Resource
 * kind … not found") until its admission has read the CRD's OpenAPI schema
 * (it polls every 5 s), so tests that restart kube-apiserver wait here too.
 */
export async function waitFinalizerPolicy(cluster: ClusterInfo, timeoutMs = 30_000): Promise<void> {
  const probe = JSON.stringify({ apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name: 'finalizer-probe', namespace: SYSTEM_NAMESPACE }, spec: { name: 'probe', states: ['a'] } });
  const deadline = Date.now() + timeoutMs;
  let last: string;
  for (;;) {
    try {
      const child = run(cluster.binaries.kubectl, ['--kubeconfig', cluster.kubeconfigs.admin, 'create', '--dry-run=server', '-f', '-', '-o', 'jsonpath={.metadata.finalizers}'], { encoding: 'utf8' });
      child.child.stdin?.end(probe);
      const { stdout } = await child;
      if (stdout.includes(FINALIZER)) return;
      last = `finalizers: ${stdout || '[]'}`;
    } catch (err) {
      // The CRD's REST endpoint may not be served yet right after it is Established.
      last = String((err as { stderr?: string }).stderr ?? err).trim();
    }
    if (Date.now() > deadline) throw new Error(`kube-apiserver does not apply the MutatingAdmissionPolicy ${FINALIZER_POLICY} ${timeoutMs / 1000} s after it was created or restarted (${last})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function adminKubeConfig(cluster: ClusterInfo): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigs.admin);
  return kc;
}

/** A TokenRequest token for the backend's ServiceAccount, as the kubelet would mount it. */
export async function serviceAccountToken(cluster: ClusterInfo, sa = BACKEND_SERVICE_ACCOUNT, seconds = 24 * 3600): Promise<string> {
  const core = adminKubeConfig(cluster).makeApiClient(CoreV1Api);
  const tr = await core.createNamespacedServiceAccountToken({ namespace: sa.namespace, name: sa.name, body: { spec: { audiences: [], expirationSeconds: seconds } } });
  if (!tr.status?.token) throw new Error('TokenRequest returned no token');
  return tr.status.token;
}

function get(port: number, path: string, ca: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, ca, servername: `${BACKEND_SERVICE.name}.${BACKEND_SERVICE.namespace}.svc`, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

export interface StartBackendOptions {
  cluster: ClusterInfo;
  dir: string;
  /** Reuse a port (restarting the same backend); a free one otherwise. */
  port?: number;
  detached?: boolean;
  extraArgs?: string[];
  /** Skip creating the APIService (a second replica, or a direct-only test). */
  register?: boolean;
  /** Serve with this certificate (PEM files) instead of making one. */
  tls?: { caFile: string; certFile: string; keyFile: string };
  /** The program node runs: the TypeScript entry point by default, or the bundle (dist/server/backend.cjs). */
  entry?: string;
  /** Run node as the image does (server/runtime-flags.json). */
  productionFlags?: boolean;
  /** More node flags (the memory benchmark adds --expose-gc). */
  nodeArgs?: string[];
}

/** Starts the backend and waits until it is ready and, when registered, its APIService is Available. */
export async function startBackend(opts: StartBackendOptions): Promise<BackendInfo & { proc: Started }> {
  const { cluster, dir } = opts;
  mkdirSync(dir, { recursive: true });
  const { caFile, certFile, keyFile } = opts.tls ?? { caFile: join(dir, 'backend-ca.crt'), certFile: join(dir, 'backend.crt'), keyFile: join(dir, 'backend.key') };
  if (!opts.tls) {
    const svcName = `${BACKEND_SERVICE.name}.${BACKEND_SERVICE.namespace}.svc`;
    const ca = await newCertificateAuthority('kubectl-custom-backend-ca');
    const serving = await issueCertificate(ca, { commonName: svcName, usage: 'server', dnsNames: [svcName, 'localhost'], ipAddresses: ['127.0.0.1'] });
    writeFileSync(caFile, ca.cert);
    writeFileSync(join(dir, 'backend-ca.key'), ca.key, { mode: 0o600 });
    writeFileSync(certFile, serving.cert);
    writeFileSync(keyFile, serving.key, { mode: 0o600 });
  }
  const ca = { cert: readFileSync(caFile, 'utf8') };
  const token = await serviceAccountToken(cluster);
  const kubeconfig = writeKubeconfig(join(dir, 'backend.kubeconfig'), { server: cluster.server, caFile: cluster.caFile, user: 'kubectl-custom-backend', credentials: { token } });
  const port = opts.port ?? (await freePort());
  const runtime = JSON.parse(readFileSync(join(ROOT, 'server/runtime-flags.json'), 'utf8')) as { nodeArgs: string[]; env: Record<string, string> };
  const args = [
    ...(opts.productionFlags ? runtime.nodeArgs : []),
    ...(opts.nodeArgs ?? []),
    opts.entry ?? join(ROOT, 'server/src/main.ts'),
    `--secure-port=${port}`,
    '--bind-address=127.0.0.1',
    `--tls-cert-file=${certFile}`,
    `--tls-private-key-file=${keyFile}`,
    `--kubeconfig=${kubeconfig}`,
    ...(opts.extraArgs ?? []),
  ];
  const logFile = join(dir, 'backend.log');
  const proc = startProcess({ name: 'backend', command: process.execPath, args, logFile, detached: opts.detached, ...(opts.productionFlags ? { env: { ...process.env, ...runtime.env } } : {}) });
  const info = { dir, port, pid: proc.pid, logFile, caFile, ...(opts.tls ? {} : { caKeyFile: join(dir, 'backend-ca.key') }), certFile, keyFile, kubeconfig, args, proc };
  // Probed by IP with the Service's name as SNI, as kube-aggregator connects.
  await waitFor(`https://127.0.0.1:${port}/readyz`, proc, async () => (await get(port, '/readyz', ca.cert)) === 200, 60_000);
  if (opts.register !== false) {
    const kc = adminKubeConfig(cluster);
    await registerLocalApiService(kc, { group: 'custom.example.com', version: 'v1', service: BACKEND_SERVICE, port, caBundle: ca.cert });
    await waitFor('APIService v1.custom.example.com Available', proc, async () => (await apiServiceAvailability(kc, 'v1.custom.example.com'))?.status === 'True', 60_000);
    await registerLocalWebhook(kc, { port, caBundle: ca.cert });
    await waitWebhook(cluster, info, proc);
  }
  return info;
}

/** A counter of the backend's /metrics (summed over its labels matching `labels`), read directly as the front proxy. */
function backendCounter(cluster: ClusterInfo, b: Pick<BackendInfo, 'port' | 'caFile'>, name: string, labels = ''): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1', port: b.port, path: '/metrics', ca: readFileSync(b.caFile), servername: `${BACKEND_SERVICE.name}.${BACKEND_SERVICE.namespace}.svc`,
      cert: readFileSync(cluster.frontProxyClient.cert), key: readFileSync(cluster.frontProxyClient.key),
      headers: { 'X-Remote-User': 'admin', 'X-Remote-Group': 'system:masters' }, timeout: 5000,
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve(text.split('\n').filter((l) => l.startsWith(`${name}{`) && l.includes(labels)).reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0)));
    });
    req.on('timeout', () => req.destroy(new Error('timed out reading the backend\'s metrics')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Waits until kube-apiserver calls the admission webhook: a webhook
 * configuration takes effect a moment after it is written, so a server-side
 * dry-run create is repeated until the backend has counted a review of it.
 */
async function waitWebhook(cluster: ClusterInfo, b: BackendInfo, proc: Started): Promise<void> {
  const probe = JSON.stringify({ apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name: 'webhook-probe', namespace: SYSTEM_NAMESPACE }, spec: { name: 'probe', states: ['a'] } });
  const reviews = () => backendCounter(cluster, b, 'custom_admission_reviews_total', 'operation="CREATE"');
  await waitFor('the admission webhook is called', proc, async () => {
    const before = await reviews();
    const child = run(cluster.binaries.kubectl, ['--kubeconfig', cluster.kubeconfigs.admin, 'create', '--dry-run=server', '-f', '-', '-o', 'name'], { encoding: 'utf8' });
    child.child.stdin?.end(probe);
    await child.catch(() => undefined);
    return (await reviews()) > before;
  }, 30_000);
}

/** Restarts a backend on the same port with the same files (after a kill or a stop). */
export async function restartBackend(b: BackendInfo, detached = false): Promise<BackendInfo & { proc: Started }> {
  if (isAlive(b.pid)) await stopProcess(b.pid);
  const proc = startProcess({ name: 'backend', command: process.execPath, args: b.args, logFile: b.logFile, detached });
  const ca = readFileSync(b.caFile, 'utf8');
  await waitFor(`https://127.0.0.1:${b.port}/readyz`, proc, async () => (await get(b.port, '/readyz', ca)) === 200, 60_000);
  return { ...b, pid: proc.pid, proc };
}
