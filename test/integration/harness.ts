// Helpers for integration specs: the running cluster, clients per user, and
// one namespace per test file.
import { readFileSync } from 'node:fs';
import { request as httpsRequest, type Agent } from 'node:https';
import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import { ApiException, CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { beforeAll, inject } from 'vitest';
import { FINALIZER } from '../../api/src/names.ts';
import { lineSplitter } from '../../client/src/watch-stream.ts';
import type { ClusterInfo } from '../../cluster/control-plane.ts';
import type { UserName } from '../../cluster/pki.ts';
import { runCommand } from './run-command.ts';

export function cluster(): ClusterInfo {
  return inject('cluster');
}

export function kubeConfig(user: UserName): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster().kubeconfigs[user]);
  return kc;
}

/**
 * A namespace of this test file's own, created before its tests. Namespaces
 * are not deleted: without kube-controller-manager they would only hang in
 * Terminating, and the whole control plane goes away after the run.
 */
export function useNamespace(testFile: string): () => string {
  const name = `${basename(testFile).replace(/\.test\.ts$/, '').replace(/[^a-z0-9-]/g, '-').slice(0, 40)}-${randomBytes(3).toString('hex')}`;
  beforeAll(async () => {
    await kubeConfig('admin').makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
  });
  return () => name;
}

/** Runs the kubectl built with the control plane; never throws, so tests can assert on failures. */
export function kubectl(user: UserName, args: string[], opts: { input?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return kubectlWith(cluster().kubeconfigs[user], args, opts);
}

/** `kubectl` with a kubeconfig of the test's own (a ServiceAccount's token, say). */
export function kubectlWith(kubeconfig: string, args: string[], opts: { input?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCommand(cluster().binaries.kubectl, ['--kubeconfig', kubeconfig, ...args], opts);
}

/** The status code of a failed client-node call, or undefined if it succeeded. */
export async function statusCodeOf(p: Promise<unknown>): Promise<number | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    if (err instanceof ApiException) return err.code;
    throw err;
  }
}

/** The metav1.Status a failed client-node call carried. */
export async function statusOf(p: Promise<unknown>): Promise<{ code: number; reason?: string; message?: string; details?: { causes?: { field?: string; message?: string; reason?: string }[] } }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApiException) {
      const body: unknown = typeof err.body === 'string' ? JSON.parse(err.body) : err.body;
      return { code: err.code, ...(body as object) };
    }
    throw err;
  }
  throw new Error('expected the request to fail, but it succeeded');
}

/** Grants `user` a namespaced Role with `rules`, bound by a RoleBinding of the same name. */
export async function grantRole(namespace: string, name: string, user: string, rules: { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[]): Promise<void> {
  const rbac = kubeConfig('admin').makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({ namespace, body: { metadata: { name }, rules } });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
    },
  });
}

/** Binds `user` to a ClusterRole in `namespace` by a RoleBinding named `name`. */
export async function bindClusterRole(namespace: string, user: string, clusterRole: string, name = `${user}-${clusterRole}`): Promise<void> {
  await kubeConfig('admin').makeApiClient(RbacAuthorizationV1Api).createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
    },
  });
}

/** Polls `fn` until it returns true (RBAC and caches settle asynchronously); fails with `what` after `timeoutMs`. */
export async function eventually(what: string, fn: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
}

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  body: T;
  text: string;
}

/**
 * A raw request to kube-apiserver as `user` (client certificate): the way to
 * reach custom subresources such as …/promote, which client-node's
 * CustomObjectsApi cannot address.
 */
export function api<T = Record<string, unknown>>(user: UserName, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
  return apiOn<T>(cluster(), user, method, path, body, headers);
}

/** `api` against a given control plane (tests that run a stack of their own). */
export function apiOn<T = Record<string, unknown>>(c: ClusterInfo, user: UserName, method: string, path: string, body?: unknown, headers: Record<string, string> = {}, timeoutMs = 30_000, agent?: Agent): Promise<ApiResponse<T>> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(new URL(path, c.server), {
      method,
      // A keep-alive Agent of the caller's (a long-lived client's one connection); Node's global one otherwise.
      ...(agent ? { agent } : {}),
      ca: readFileSync(c.caFile),
      cert: readFileSync(c.users[user].cert),
      key: readFileSync(c.users[user].key),
      // Content-Length always: Node does not chunk a DELETE's body, so without it the body would be read as the next request.
      headers: { Accept: 'application/json', ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(payload)) } : {}), ...headers },
      timeout: timeoutMs,
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body: parsed as T, text });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(payload);
  });
}

export const CUSTOM = '/apis/custom.example.com/v1';
export const STORAGE = '/apis/example.com/v1';

/** Creates a storage object as admin. */
export async function createObject(namespace: string, name: string, spec: Record<string, unknown>, labels?: Record<string, string>): Promise<void> {
  const r = await api('admin', 'POST', `${STORAGE}/namespaces/${namespace}/customresources`, { apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name, ...(labels ? { labels } : {}) }, spec });
  if (r.status !== 201) throw new Error(`create ${namespace}/${name}: ${r.status} ${r.text}`);
}

/**
 * Waits until the backend serves the object (its cache has seen it) and has
 * added its finalizer (in the background), so that the object's
 * resourceVersion stays put until someone changes it.
 */
export async function waitServed(namespace: string, name: string): Promise<void> {
  await eventually(`the backend serves ${namespace}/${name} with its finalizer`, async () => {
    const r = await api<{ metadata?: { finalizers?: string[] } }>('admin', 'GET', `${CUSTOM}/namespaces/${namespace}/customresources/${name}`);
    return r.status === 200 && (r.body.metadata?.finalizers ?? []).includes(FINALIZER);
  });
}

export interface WatchStream {
  events: { type: string; object: Record<string, unknown> }[];
  /** Resolves with the first event (from the start) that satisfies `pred`. */
  until(pred: (ev: { type: string; object: Record<string, unknown> }) => boolean, timeoutMs?: number): Promise<{ type: string; object: Record<string, unknown> }>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  status: Promise<number>;
  close(): void;
}

/** Opens a watch through kube-apiserver as `user` and collects its events. */
export function watch(user: UserName, path: string, headers: Record<string, string> = {}): WatchStream {
  const c = cluster();
  const events: WatchStream['events'] = [];
  const waiters: { pred: (e: WatchStream['events'][number]) => boolean; resolve: (e: WatchStream['events'][number]) => void }[] = [];
  let endResolve!: () => void;
  const ended = new Promise<void>((r) => (endResolve = r));
  let statusResolve!: (n: number) => void;
  const status = new Promise<number>((r) => (statusResolve = r));
  const req = httpsRequest(new URL(path, c.server), {
    ca: readFileSync(c.caFile),
    cert: readFileSync(c.users[user].cert),
    key: readFileSync(c.users[user].key),
    headers: { Accept: 'application/json', ...headers },
  }, (res) => {
    statusResolve(res.statusCode ?? 0);
    const lines = lineSplitter();
    res.setEncoding('utf8');
    res.on('data', (d: string) => {
      for (const line of lines(d)) {
        const ev = JSON.parse(line) as WatchStream['events'][number];
        events.push(ev);
        for (const w of [...waiters]) if (w.pred(ev)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(ev);
        }
      }
    });
    res.on('end', endResolve);
    res.on('close', endResolve);
  });
  req.on('error', () => endResolve());
  req.end();
  return {
    events,
    ended,
    status,
    until(pred, timeoutMs = 15_000) {
      const found = events.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`watch ${path}: no matching event in ${timeoutMs} ms; got ${JSON.stringify(events.map((e) => e.type))}`)), timeoutMs);
        waiters.push({ pred, resolve: (e) => {
          clearTimeout(t);
          resolve(e);
        } });
      });
    },
    close() {
      req.destroy();
    },
  };
}
