// A small JSON client for kube-apiserver with a keep-alive connection pool.
// Credentials come from a kubeconfig resolved as kubectl resolves it, or the
// in-cluster service account; requests go through node:https directly so the
// hot paths (status writes, SubjectAccessReviews, the CRD watch) reuse
// connections and stream without buffering.
import { Agent, request } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { readFileSync } from 'node:fs';
import { runExecCredential } from '../../../plugin/src/kube/exec-credential.ts';
import type { ResolvedConfig } from '../../../plugin/src/kube/kubeconfig.ts';
import type { Status } from '../status/status-error.ts';

/** A non-2xx answer from kube-apiserver, carrying its metav1.Status when there was one. */
export class KubeApiError extends Error {
  readonly code: number;
  readonly status: Partial<Status> | undefined;

  constructor(code: number, status: Partial<Status> | undefined, fallback: string) {
    super(status?.message ?? fallback);
    this.name = 'KubeApiError';
    this.code = code;
    this.status = status;
  }

  get reason(): string | undefined {
    return this.status?.reason;
  }
}

export interface RequestOpts {
  body?: unknown;
  query?: Record<string, string | undefined>;
  timeoutMs?: number;
  signal?: AbortSignal;
  contentType?: string;
}

export class RestClient {
  readonly server: URL;
  private agent: Agent;
  private readonly authHeader: () => Promise<string | undefined>;

  private constructor(server: URL, agent: Agent, authHeader: () => Promise<string | undefined>) {
    this.server = server;
    this.agent = agent;
    this.authHeader = authHeader;
  }

  /**
   * From a kubeconfig resolved as kubectl resolves it (the same code as the
   * plugin's), or the in-cluster service account. @kubernetes/client-node is
   * not loaded: evaluating it costs the backend tens of MB of heap.
   */
  static fromConfig(config: ResolvedConfig): RestClient {
    const a = config.auth;
    let exec: { header?: string; cert?: Buffer; key?: Buffer; expires?: number } | undefined;
    const agentFor = (cert?: Buffer, key?: Buffer) =>
      new Agent({
        keepAlive: true,
        maxSockets: 256,
        ...(config.tls.ca ? { ca: config.tls.ca } : {}),
        ...(cert ? { cert } : {}),
        ...(key ? { key } : {}),
        rejectUnauthorized: !config.tls.insecure,
        ...(config.tls.serverName ? { servername: config.tls.serverName } : {}),
      });
    let agent = agentFor(a.clientCert, a.clientKey);
    // A projected service-account token is rotated on disk: read it again every minute.
    let fileToken: { value: string; at: number } | undefined;
    const authHeader = async (): Promise<string | undefined> => {
      if (a.token) return `Bearer ${a.token}`;
      if (a.tokenFile) {
        if (!fileToken || Date.now() - fileToken.at > 60_000) fileToken = { value: readFileSync(a.tokenFile, 'utf8').trim(), at: Date.now() };
        return `Bearer ${fileToken.value}`;
      }
      if (a.basic) return `Basic ${Buffer.from(`${a.basic.username}:${a.basic.password}`).toString('base64')}`;
      if (a.exec && !(a.clientCert && a.clientKey)) {
        if (!exec || (exec.expires !== undefined && exec.expires < Date.now() + 30_000)) {
          const r = await runExecCredential(a.exec, { stdinIsTTY: false, env: process.env }, config.clusterForExec);
          exec = { ...(r.token ? { header: `Bearer ${r.token}` } : {}), ...(r.clientCert ? { cert: r.clientCert } : {}), ...(r.clientKey ? { key: r.clientKey } : {}), ...(r.expiresAt ? { expires: r.expiresAt.getTime() } : {}) };
          if (exec.cert && exec.key) {
            agent.destroy();
            agent = agentFor(exec.cert, exec.key);
            client.agent = agent;
          }
        }
        return exec.header;
      }
      return undefined;
    };
    const client = new RestClient(new URL(config.server), agent, authHeader);
    return client;
  }

  /** In-cluster: the pod's service account, as client-go's rest.InClusterConfig. */
  static inCluster(): RestClient {
    const host = process.env['KUBERNETES_SERVICE_HOST'];
    const port = process.env['KUBERNETES_SERVICE_PORT'];
    if (!host || !port) throw new Error('not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set; pass --kubeconfig');
    const dir = '/var/run/secrets/kubernetes.io/serviceaccount';
    return RestClient.fromConfig({
      server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
      namespace: 'default',
      namespaceExplicit: false,
      tls: { ca: readFileSync(`${dir}/ca.crt`), insecure: false },
      auth: { tokenFile: `${dir}/token` },
      timeoutMs: 0,
    });
  }

  close(): void {
    this.agent.destroy();
  }

  private url(path: string, query?: Record<string, string | undefined>): URL {
    const u = new URL(path, this.server);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, v);
    return u;
  }

  /** Sends a request and resolves the raw response (the caller reads or streams the body). */
  async send(method: string, path: string, opts: RequestOpts = {}): Promise<IncomingMessage> {
    const auth = await this.authHeader();
    const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'kubectl-custom-backend' };
    if (auth) headers['Authorization'] = auth;
    if (payload) {
      headers['Content-Type'] = opts.contentType ?? 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    return new Promise((resolve, reject) => {
      const req = request(this.url(path, opts.query), { method, agent: this.agent, headers, ...(opts.signal ? { signal: opts.signal } : {}) }, resolve);
      if (opts.timeoutMs) req.setTimeout(opts.timeoutMs, () => req.destroy(new Error(`request to kube-apiserver timed out after ${opts.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** A JSON request; non-2xx answers throw KubeApiError with the server's Status. */
  async json<T>(method: string, path: string, opts: RequestOpts = {}): Promise<T> {
    const res = await this.send(method, path, { timeoutMs: 30_000, ...opts });
    const code = res.statusCode ?? 0;
    if (code < 200 || code >= 300) throw await apiErrorFrom(res, `${method} ${path}`);
    return JSON.parse(await readBody(res)) as T;
  }
}

/** The KubeApiError for a non-2xx response, with the server's Status when it sent one. */
export async function apiErrorFrom(res: IncomingMessage, what: string): Promise<KubeApiError> {
  const text = await readBody(res);
  let status: Partial<Status> | undefined;
  try {
    status = JSON.parse(text) as Partial<Status>;
  } catch {
    status = undefined;
  }
  return new KubeApiError(res.statusCode ?? 0, status?.kind === 'Status' ? status : undefined, `${what}: HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
}

export function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}
