// A small JSON client for kube-apiserver with a keep-alive connection pool.
// Credentials come from @kubernetes/client-node's KubeConfig (kubeconfig file
// or in-cluster service account); requests go through node:https directly so
// the hot paths (status writes, SubjectAccessReviews, the CRD watch) reuse
// connections and stream without buffering.
import { Agent, request, type RequestOptions } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
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

const AUTH_CACHE_MS = 10_000;

export class RestClient {
  readonly server: URL;
  private readonly agent: Agent;
  private readonly authHeader: () => Promise<string | undefined>;

  private constructor(server: URL, agent: Agent, authHeader: () => Promise<string | undefined>) {
    this.server = server;
    this.agent = agent;
    this.authHeader = authHeader;
  }

  static async fromKubeConfig(kc: KubeConfig): Promise<RestClient> {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    const tls: RequestOptions = {};
    await kc.applyToHTTPSOptions(tls);
    const agent = new Agent({
      keepAlive: true,
      maxSockets: 256,
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      ...(tls.rejectUnauthorized !== undefined ? { rejectUnauthorized: tls.rejectUnauthorized } : {}),
      ...(cluster.tlsServerName ? { servername: cluster.tlsServerName } : {}),
    });
    // Token sources (a rotated service-account token file, exec plugins)
    // refresh on their own schedule; asking every 10 s is enough and keeps
    // file reads off the request path.
    let cached: { value: string | undefined; at: number } | undefined;
    const authHeader = async () => {
      if (cached && Date.now() - cached.at < AUTH_CACHE_MS) return cached.value;
      const o: RequestOptions = {};
      await kc.applyToHTTPSOptions(o);
      const h = (o.headers ?? {}) as Record<string, string | undefined>;
      cached = { value: h['Authorization'] ?? h['authorization'], at: Date.now() };
      return cached.value;
    };
    return new RestClient(new URL(cluster.server), agent, authHeader);
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
    const text = await readBody(res);
    const code = res.statusCode ?? 0;
    if (code < 200 || code >= 300) {
      let status: Partial<Status> | undefined;
      try {
        status = JSON.parse(text) as Partial<Status>;
      } catch {
        status = undefined;
      }
      throw new KubeApiError(code, status?.kind === 'Status' ? status : undefined, `${method} ${path}: HTTP ${code}: ${text.slice(0, 200)}`);
    }
    return JSON.parse(text) as T;
  }
}

export function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

/**
 * Reads a watch stream (one JSON WatchEvent per line) and calls `onEvent` for
 * each. Resolves when the server ends the stream; rejects on a broken one.
 */
export async function readWatchStream(res: IncomingMessage, onEvent: (ev: { type: string; object: unknown }) => void): Promise<void> {
  let buf = '';
  res.setEncoding('utf8');
  for await (const chunk of res as AsyncIterable<string>) {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) onEvent(JSON.parse(line) as { type: string; object: unknown });
    }
  }
  if (buf.trim()) onEvent(JSON.parse(buf) as { type: string; object: unknown });
}
