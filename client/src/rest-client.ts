// The one HTTPS client for kube-apiserver, built from a ResolvedConfig as
// client-go builds a rest.Config's transport: TLS and client certificates,
// bearer tokens (a token file is re-read, as projected tokens rotate), basic
// auth, exec credential plugins (with their expiry, and once more after a
// 401), impersonation and a default timeout. Responses are handed over raw
// (watches stream) or read as JSON, failures as ApiError with the server's
// Status. @kubernetes/client-node is not loaded: evaluating it costs the
// plugin tens of milliseconds at start and the backend tens of MB of heap.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { Agent, request } from 'node:https';
import { setDefaultCACertificates } from 'node:tls';
import { apiErrorOf, ConnectionError, type ApiError } from './errors.ts';
import { runExecCredential, type ExecIO, type ExecResult } from './exec-credential.ts';
import type { ResolvedConfig } from './kubeconfig.ts';

export interface RequestOpts {
  body?: unknown;
  accept?: string;
  contentType?: string;
  query?: Record<string, string | undefined>;
  /** Milliseconds; overrides the default (watches pass 0: none). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** How json() reads a 2xx body (JSON.parse unless given): a caller that needs a few fields of a large answer may scan them out of the text. */
  parse?: (text: string) => unknown;
}

export interface ClientOptions {
  userAgent: string;
  /** How exec credential plugins reach the user: the plugin passes the terminal, the backend none. */
  exec: ExecIO;
  /** Sockets per host in the keep-alive pool. */
  maxSockets?: number;
  /** Timeout of a request when neither the request nor the kubeconfig (--request-timeout) sets one; 0: none. */
  defaultTimeoutMs?: number;
  /** How often a request answered 429, or 5xx with Retry-After, is sent again (client-go: 10). */
  maxRetries?: number;
  /** Waits; tests pass a fake. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * This process talks to this one cluster only (the plugin): its CA becomes
   * the process's default trust instead of each connection's `ca`. Node
   * builds a context's own trust store from its ~150 bundled root
   * certificates before adding a `ca` to it, about 15 ms of a command's
   * start; the default store holds only what it is given. Either way only
   * the kubeconfig's CA is trusted.
   */
  caIsProcessDefault?: boolean;
  /**
   * The signal of the work each call is made for, as client-go's calls take
   * a context: the backend passes the signal of the request it serves, so a
   * request that times out cancels its calls to kube-apiserver.
   */
  contextSignal?: () => AbortSignal | undefined;
}

/**
 * Whether kube-apiserver asked to be asked again: 429 (e.g. "storage is
 * (re)initializing" while a new CRD's watch cache starts, or priority and
 * fairness), or a 5xx with Retry-After. The request was not processed, so
 * client-go sends it again after Retry-After, whatever its verb.
 */
function retryAfterMs(res: IncomingMessage): number | undefined {
  const code = res.statusCode ?? 0;
  const header = res.headers['retry-after'];
  if (code !== 429 && !(code >= 500 && header !== undefined)) return undefined;
  const seconds = Number(header);
  // client-go: an absent or unparsable Retry-After waits one second; a long one is capped.
  return Number.isInteger(seconds) && seconds >= 0 ? Math.min(seconds, 10) * 1000 : 1000;
}

export interface RestClient {
  readonly config: ResolvedConfig;
  /** Sends a request; resolves the response whatever its status (the caller reads or streams the body). */
  send(method: string, path: string, opts?: RequestOpts): Promise<IncomingMessage>;
  /** A JSON request; a non-2xx answer throws ApiError. */
  json<T>(method: string, path: string, opts?: RequestOpts): Promise<T>;
  /** A GET whose body the caller streams (a watch); a non-2xx answer throws ApiError. */
  stream(path: string, opts?: RequestOpts): Promise<IncomingMessage>;
  close(): void;
}

/** One line that says what failed and what to check, as kubectl words connection errors. */
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
    case 'ERR_BORINGSSL':
      // Bun's TLS library refusing what the kubeconfig gave it ("Invalid CA", "Invalid private key").
      return `cannot connect to ${where}: ${err.message} (check certificate-authority, client-certificate and client-key in the kubeconfig)`;
    default:
      return `cannot reach ${where}: ${err.message}`;
  }
}

export async function readBody(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

/** The ApiError for a non-2xx response (reads the body). */
async function apiErrorFrom(res: IncomingMessage, path: string): Promise<ApiError> {
  return apiErrorOf(res.statusCode ?? 0, await readBody(res), path);
}

/**
 * A header value whose bytes on the wire are the UTF-8 of `v`, as kubectl
 * (Go) sends it: Node writes each character of a header value as one Latin-1
 * byte, so `josé` would arrive as `jos\xe9` (and a character beyond Latin-1
 * would be refused) unless it is first turned into its UTF-8 bytes.
 */
export function utf8HeaderValue(v: string): string {
  return Buffer.from(v, 'utf8').toString('latin1');
}

/** A token file is re-read after this long: kubelet rotates projected service-account tokens on disk. */
const TOKEN_FILE_TTL_MS = 60_000;
/** An exec credential is renewed this long before it expires. */
const EXEC_RENEW_BEFORE_MS = 10_000;

/**
 * A connection's credentials as client-go's transport keeps them: a static
 * token or client certificate, a token file re-read as kubelet rotates it, or
 * an exec credential renewed before it expires; and the keep-alive agent
 * that carries the client certificate (made anew when the certificate is).
 */
class Credentials {
  agent: Agent | undefined;
  /** Exec plugins are used when nothing static authenticates, as client-go does. */
  readonly usesExec: boolean;
  private exec: ExecResult | undefined;
  private fileToken: { value: string; at: number } | undefined;
  private readonly config: ResolvedConfig;
  private readonly opts: ClientOptions;
  private readonly ca: Buffer | undefined;

  constructor(config: ResolvedConfig, opts: ClientOptions) {
    this.config = config;
    this.opts = opts;
    const a = config.auth;
    this.usesExec = !!a.exec && !a.token && !(a.clientCert && a.clientKey);
    let ca = config.tls.ca;
    if (ca && opts.caIsProcessDefault) {
      try {
        setDefaultCACertificates([ca.toString('latin1')]);
        ca = undefined;
      } catch {
        // No PEM certificate in it: leave it to the connection, which fails as it always did.
      }
    }
    this.ca = ca;
  }

  async current(forceExec: boolean): Promise<{ authorization?: string; cert?: Buffer; key?: Buffer }> {
    const a = this.config.auth;
    if (this.usesExec) {
      const stale = !this.exec || (this.exec.expiresAt !== undefined && this.exec.expiresAt.getTime() < Date.now() + EXEC_RENEW_BEFORE_MS);
      if (forceExec || stale) {
        this.exec = await runExecCredential(a.exec!, this.opts.exec, this.config.clusterForExec);
        // A new client certificate needs new connections.
        this.agent?.destroy();
        this.agent = undefined;
      }
      const e = this.exec!;
      return { ...(e.token ? { authorization: `Bearer ${e.token}` } : {}), ...(e.clientCert && e.clientKey ? { cert: e.clientCert, key: e.clientKey } : {}) };
    }
    const certs = { ...(a.clientCert ? { cert: a.clientCert } : {}), ...(a.clientKey ? { key: a.clientKey } : {}) };
    if (a.token) return { authorization: `Bearer ${a.token}`, ...certs };
    if (a.tokenFile) {
      if (!this.fileToken || Date.now() - this.fileToken.at > TOKEN_FILE_TTL_MS) this.fileToken = { value: readFileSync(a.tokenFile, 'utf8').trim(), at: Date.now() };
      return { authorization: `Bearer ${this.fileToken.value}`, ...certs };
    }
    if (a.basic) return { authorization: `Basic ${Buffer.from(`${a.basic.username}:${a.basic.password}`).toString('base64')}`, ...certs };
    return certs;
  }

  agentFor(cert?: Buffer, key?: Buffer): Agent {
    this.agent ??= new Agent({
      keepAlive: true,
      ...(this.opts.maxSockets ? { maxSockets: this.opts.maxSockets } : {}),
      ...(this.ca ? { ca: this.ca } : {}),
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
      rejectUnauthorized: !this.config.tls.insecure,
      ...(this.config.tls.serverName ? { servername: this.config.tls.serverName } : {}),
    });
    return this.agent;
  }
}

/** The headers of a request: what it accepts, who sends it, as whom (impersonation, as UTF-8), and its body's type and length. */
function requestHeaders(config: ResolvedConfig, opts: ClientOptions, ro: RequestOpts, authorization: string | undefined, payload: Buffer | undefined): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { Accept: ro.accept ?? 'application/json', 'User-Agent': opts.userAgent };
  if (authorization) headers['Authorization'] = authorization;
  if (config.impersonate?.user) headers['Impersonate-User'] = utf8HeaderValue(config.impersonate.user);
  if (config.impersonate?.groups.length) headers['Impersonate-Group'] = config.impersonate.groups.map(utf8HeaderValue);
  if (payload) {
    headers['Content-Type'] = ro.contentType ?? 'application/json';
    headers['Content-Length'] = String(payload.length);
  }
  return headers;
}

/** One request on the wire; a network failure is a ConnectionError that names the server. */
function sendOnce(server: string, url: URL, method: string, agent: Agent, headers: OutgoingHttpHeaders, payload: Buffer | undefined, timeout: number, signal: AbortSignal | undefined): Promise<IncomingMessage> {
  return new Promise<IncomingMessage>((resolve, reject) => {
    let req: ReturnType<typeof request>;
    try {
      req = request(url, { method, agent, headers, ...(signal ? { signal } : {}) }, resolve);
    } catch (err) {
      // Bun's runtime (the plugin's) refuses a CA or key it cannot read when the request is made, not on the socket.
      reject(new ConnectionError(server, describeNetworkError(server, err as NodeJS.ErrnoException), (err as NodeJS.ErrnoException).code));
      return;
    }
    if (timeout > 0) req.setTimeout(timeout, () => req.destroy(Object.assign(new Error(`request timed out after ${timeout / 1000}s`), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.name === 'AbortError') reject(err);
      else reject(new ConnectionError(server, describeNetworkError(server, err), err.code));
    });
    req.end(payload);
  });
}

export function newRestClient(config: ResolvedConfig, opts: ClientOptions): RestClient {
  const base = new URL(config.server.endsWith('/') ? config.server : config.server + '/');
  const auth = new Credentials(config, opts);
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));

  async function send(method: string, path: string, ro: RequestOpts = {}, retried = false, attempt = 0): Promise<IncomingMessage> {
    const creds = await auth.current(false);
    const agent = auth.agentFor(creds.cert, creds.key);
    const url = new URL(path.replace(/^\//, ''), base);
    for (const [k, v] of Object.entries(ro.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const payload = ro.body === undefined ? undefined : Buffer.from(JSON.stringify(ro.body));
    const timeout = ro.timeoutMs ?? (config.timeoutMs || opts.defaultTimeoutMs || 0);
    const context = opts.contextSignal?.();
    const signal = context && ro.signal ? AbortSignal.any([context, ro.signal]) : (context ?? ro.signal);
    const res = await sendOnce(config.server, url, method, agent, requestHeaders(config, opts, ro, creds.authorization, payload), payload, timeout, signal);
    // An exec credential may have been revoked or expired early: get a fresh one once, as client-go does.
    if (res.statusCode === 401 && auth.usesExec && !retried) {
      res.resume();
      await auth.current(true);
      return send(method, path, ro, true, attempt);
    }
    const wait = retryAfterMs(res);
    if (wait !== undefined && attempt < (opts.maxRetries ?? 10) && !signal?.aborted) {
      res.resume();
      await sleep(wait);
      return send(method, path, ro, retried, attempt + 1);
    }
    return res;
  }

  return {
    config,
    send,
    async json<T>(method: string, path: string, ro: RequestOpts = {}): Promise<T> {
      const res = await send(method, path, ro);
      const code = res.statusCode ?? 0;
      if (code < 200 || code >= 300) throw await apiErrorFrom(res, path);
      return (ro.parse ?? JSON.parse)(await readBody(res)) as T;
    },
    async stream(path: string, ro: RequestOpts = {}): Promise<IncomingMessage> {
      const res = await send('GET', path, { timeoutMs: 0, ...ro });
      const code = res.statusCode ?? 0;
      if (code < 200 || code >= 300) throw await apiErrorFrom(res, path);
      return res;
    },
    close() {
      auth.agent?.destroy();
    },
  };
}
