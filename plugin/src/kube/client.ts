// A small HTTPS client for kube-apiserver built from a ResolvedConfig:
// TLS, client certificates, tokens, exec credentials, impersonation and
// --request-timeout, as kubectl applies them. No @kubernetes/client-node on
// this path: the plugin starts faster without evaluating it.
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { Agent, request, type RequestOptions } from 'node:https';
import { ApiError, ConnectionError, type ApiStatus } from '../errors/errors.ts';
import { runExecCredential, type ExecIO, type ExecResult } from './exec-credential.ts';
import type { ResolvedConfig } from './kubeconfig.ts';

export const USER_AGENT = 'kubectl-custom/0.1.0';

export interface RequestOpts {
  body?: unknown;
  accept?: string;
  query?: Record<string, string | undefined>;
  /** Overrides --request-timeout (watches use none). */
  timeoutMs?: number;
  contentType?: string;
}

export interface KubeClient {
  readonly config: ResolvedConfig;
  json<T>(method: string, path: string, opts?: RequestOpts): Promise<{ body: T; headers: IncomingMessage['headers'] }>;
  stream(path: string, opts?: RequestOpts): Promise<IncomingMessage>;
  close(): void;
}

function describeNetworkError(server: string, err: NodeJS.ErrnoException): string {
  const where = `the cluster at ${server}`;
  switch (err.code) {
    case 'ECONNREFUSED':
      return `cannot reach ${where}: connection refused; is the cluster running and is this the right context?`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot reach ${where}: the host name does not resolve`;
    case 'ETIMEDOUT':
    case 'ECONNRESET':
      return `cannot reach ${where}: ${err.code}`;
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'CERT_HAS_EXPIRED':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `cannot trust ${where}: ${err.message} (check certificate-authority in the kubeconfig)`;
    default:
      return `cannot reach ${where}: ${err.message}`;
  }
}

export function newKubeClient(config: ResolvedConfig, io: ExecIO): KubeClient {
  let agent: Agent | undefined;
  let exec: ExecResult | undefined;

  async function credentials(forceExec = false): Promise<{ headers: Record<string, string>; cert?: Buffer; key?: Buffer }> {
    const a = config.auth;
    const headers: Record<string, string> = {};
    let cert = a.clientCert;
    let key = a.clientKey;
    if (a.exec && !a.token && !(cert && key)) {
      if (!exec || forceExec || (exec.expiresAt && exec.expiresAt.getTime() < Date.now() + 10_000)) {
        exec = await runExecCredential(a.exec, io, config.clusterForExec);
        agent?.destroy();
        agent = undefined;
      }
      if (exec.token) headers['Authorization'] = `Bearer ${exec.token}`;
      if (exec.clientCert && exec.clientKey) {
        cert = exec.clientCert;
        key = exec.clientKey;
      }
    } else if (a.token) headers['Authorization'] = `Bearer ${a.token}`;
    else if (a.tokenFile) headers['Authorization'] = `Bearer ${readFileSync(a.tokenFile, 'utf8').trim()}`;
    else if (a.basic) headers['Authorization'] = `Basic ${Buffer.from(`${a.basic.username}:${a.basic.password}`).toString('base64')}`;
    if (config.impersonate?.user) headers['Impersonate-User'] = config.impersonate.user;
    return { headers, ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
  }

  async function send(method: string, path: string, opts: RequestOpts, retried = false): Promise<IncomingMessage> {
    const creds = await credentials();
    agent ??= new Agent({
      keepAlive: true,
      ...(config.tls.ca ? { ca: config.tls.ca } : {}),
      ...(creds.cert ? { cert: creds.cert } : {}),
      ...(creds.key ? { key: creds.key } : {}),
      rejectUnauthorized: !config.tls.insecure,
      ...(config.tls.serverName ? { servername: config.tls.serverName } : {}),
    });
    const url = new URL(path, config.server.endsWith('/') ? config.server : config.server + '/');
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    const headers: RequestOptions['headers'] = { Accept: opts.accept ?? 'application/json', 'User-Agent': USER_AGENT, ...creds.headers };
    if (config.impersonate?.groups.length) headers['Impersonate-Group'] = config.impersonate.groups;
    if (payload) {
      headers['Content-Type'] = opts.contentType ?? 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    const timeout = opts.timeoutMs ?? config.timeoutMs;
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(url, { method, agent, headers }, resolve);
      if (timeout > 0) req.setTimeout(timeout, () => req.destroy(Object.assign(new Error(`request timed out after ${timeout / 1000}s (--request-timeout)`), { code: 'ETIMEDOUT' })));
      req.on('error', (err: NodeJS.ErrnoException) => reject(new ConnectionError(config.server, describeNetworkError(config.server, err))));
      req.end(payload);
    });
    // An exec credential may have been revoked or expired early: get a fresh one once, as client-go does.
    if (res.statusCode === 401 && config.auth.exec && !retried) {
      res.resume();
      await credentials(true);
      return send(method, path, opts, true);
    }
    return res;
  }

  async function readAll(res: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of res as AsyncIterable<Buffer>) chunks.push(c);
    return Buffer.concat(chunks).toString('utf8');
  }

  async function failure(res: IncomingMessage, path: string): Promise<ApiError> {
    const text = await readAll(res);
    let status: ApiStatus | undefined;
    try {
      const parsed = JSON.parse(text) as ApiStatus;
      if (parsed && parsed.kind === 'Status') status = parsed;
    } catch {
      status = undefined;
    }
    return new ApiError(res.statusCode ?? 0, status, text, path);
  }

  return {
    config,
    async json<T>(method: string, path: string, opts: RequestOpts = {}) {
      const res = await send(method, path, opts);
      const code = res.statusCode ?? 0;
      if (code < 200 || code >= 300) throw await failure(res, path);
      const text = await readAll(res);
      return { body: JSON.parse(text) as T, headers: res.headers };
    },
    async stream(path: string, opts: RequestOpts = {}) {
      const res = await send('GET', path, { timeoutMs: 0, ...opts });
      const code = res.statusCode ?? 0;
      if (code < 200 || code >= 300) throw await failure(res, path);
      return res;
    },
    close() {
      agent?.destroy();
    },
  };
}
