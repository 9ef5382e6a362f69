// The dashboard's local HTTP server, inside the plugin's process: the page's
// files, its live feed, and its API, which sends each call on to the
// cluster with the user's own credentials (the RestClient every verb uses)
// and answers with what the cluster answered, Status and all. It holds no
// credentials of its own: what the user may not do, the API server refuses.
// Every request first passes the session checks (session.ts: Host, token
// cookie, token header for changes); every answer carries the security
// headers (security-headers.ts).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Status } from '../../../api/src/status.ts';
import { ConnectionError } from '../../../client/src/errors.ts';
import type { ClientLogger } from '../../../client/src/logger.ts';
import { readBody, type RestClient } from '../../../client/src/rest-client.ts';
import { originOf, type BoundAddress } from './host-check.ts';
import { startFeed, type Feed, type FeedSink } from './live-feed.ts';
import type { PageAssets } from './page-assets.ts';
import { route } from './routes.ts';
import { SECURITY_HEADERS } from './security-headers.ts';
import { admit, requestFacts, TOKEN_PARAM } from './session.ts';
import { sseComment, sseEvent, sseRetry } from './sse.ts';

/** What the page is told about its session (GET /api/session). */
interface SessionInfo {
  /** The user the cluster authenticated (SelfSubjectReview), when it said. */
  user?: string;
  context?: string;
  server: string;
  /** The namespace shown; absent with -A. */
  namespace?: string;
  /** The token the page sends in the X-Dashboard-Token header with each change. */
  token: string;
}

export interface DashboardConfig {
  client: RestClient;
  assets: PageAssets;
  token: string;
  address: string;
  /** 0: any free port. */
  port: number;
  /** The namespace shown; undefined: every namespace. */
  namespace: string | undefined;
  user?: string;
  log: ClientLogger;
  /** How often an idle feed sends a comment, so nothing between times it out. */
  heartbeatMs?: number;
  /** Largest request body accepted (a reason is at most 1024 characters). */
  maxBodyBytes?: number;
  /** Milliseconds a forwarded call may take when --request-timeout does not say. */
  forwardTimeoutMs?: number;
}

export interface Dashboard {
  bound: BoundAddress;
  /** The address with the token, to print and open. */
  url: string;
  close(): Promise<void>;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** The dashboard's own refusals are Status documents too, so the page shows every failure one way; their messages start with "dashboard:". */
function localStatus(code: number, message: string): Status {
  const reasons: Record<number, Status['reason']> = { 400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 405: 'MethodNotAllowed', 413: 'RequestEntityTooLarge', 415: 'UnsupportedMediaType', 502: 'ServiceUnavailable' };
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `dashboard: ${message}`, reason: reasons[code] ?? 'InternalError', code };
}

class BodyError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

async function readJsonObject(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new BodyError(415, 'a change is sent as application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > limit) throw new BodyError(413, `the body is larger than ${limit} bytes`);
    chunks.push(c);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new BodyError(400, 'the body is not JSON');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new BodyError(400, 'the body is not a JSON object');
  return parsed as Record<string, unknown>;
}

/** Module-level writers: the dashboard's answers carry its security headers, and its refusals are Status documents on the API, plain text elsewhere. */
function send(res: ServerResponse, code: number, type: string, body: string | Buffer, extra: Record<string, string> = {}, head = false): void {
  res.writeHead(code, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': String(Buffer.byteLength(body)), ...extra });
  res.end(head ? undefined : body);
}

function sendJson(res: ServerResponse, code: number, doc: unknown, extra: Record<string, string> = {}): void {
  send(res, code, JSON_TYPE, JSON.stringify(doc), extra);
}

function refuse(req: IncomingMessage, res: ServerResponse, code: number, message: string, extra: Record<string, string> = {}): void {
  // The API answers Status documents; anything else (the page, a bad Host) plain text.
  if ((req.url ?? '').startsWith('/api/')) sendJson(res, code, localStatus(code, message), extra);
  else send(res, code, 'text/plain; charset=utf-8', `kubectl custom dashboard: ${message}\n`, extra);
}

/** One dashboard's requests: admission, routing, the page, the forwarded API calls and the live feeds. */
class DashboardHandler {
  readonly feeds = new Set<{ feed: Feed; res: ServerResponse }>();
  bound: BoundAddress;
  private readonly cfg: DashboardConfig;
  private readonly assetNames: ReadonlySet<string>;
  private readonly heartbeatMs: number;
  private readonly maxBody: number;
  private readonly forwardTimeoutMs: number;

  constructor(cfg: DashboardConfig) {
    this.cfg = cfg;
    this.assetNames = new Set(Object.keys(cfg.assets).filter((n) => n !== 'index.html'));
    this.heartbeatMs = cfg.heartbeatMs ?? 15_000;
    this.maxBody = cfg.maxBodyBytes ?? 16 * 1024;
    this.forwardTimeoutMs = cfg.client.config.timeoutMs || (cfg.forwardTimeoutMs ?? 60_000);
    this.bound = { address: cfg.address, port: cfg.port };
  }

  /** Serves one request; a failure is answered (or the connection dropped once headers went out). */
  serve(req: IncomingMessage, res: ServerResponse): void {
    this.handle(req, res).catch((err: unknown) => {
      const code = err instanceof BodyError ? err.code : 500;
      if (code === 500) this.cfg.log.warn('dashboard request failed', { error: err instanceof Error ? err.message : String(err), path: req.url?.split('?')[0] });
      if (!res.headersSent) refuse(req, res, code, err instanceof Error ? err.message : String(err));
      else res.destroy();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const cfg = this.cfg;
    const method = req.method ?? 'GET';
    const decision = admit(requestFacts(req), { token: cfg.token, bound: this.bound });
    if (decision.kind === 'refuse') return refuse(req, res, decision.code, decision.message);
    if (decision.kind === 'exchange') {
      res.writeHead(303, { ...SECURITY_HEADERS, 'Set-Cookie': decision.cookie, Location: decision.location, 'Content-Length': '0' });
      res.end();
      return;
    }
    const r = route(method, req.url ?? '/', this.assetNames);
    const head = method === 'HEAD';
    switch (r.kind) {
      case 'error':
        return refuse(req, res, r.code, r.message, r.allow ? { Allow: r.allow } : {});
      case 'page': {
        const page = cfg.assets['index.html']!;
        return send(res, 200, page.contentType, page.body, {}, head);
      }
      case 'asset': {
        const a = cfg.assets[r.name]!;
        return send(res, 200, a.contentType, a.body, {}, head);
      }
      case 'session':
        return sendJson(res, 200, this.session());
      case 'events':
        return this.serveEvents(req, res, r.labelSelector);
      case 'forward':
        return this.forward(req, res, r.method, r.apiPath, r.withBody);
    }
  }

  private session(): SessionInfo {
    const cfg = this.cfg;
    return {
      ...(cfg.user ? { user: cfg.user } : {}),
      ...(cfg.client.config.contextName ? { context: cfg.client.config.contextName } : {}),
      server: cfg.client.config.server,
      ...(cfg.namespace !== undefined ? { namespace: cfg.namespace } : {}),
      token: cfg.token,
    };
  }

  private async forward(req: IncomingMessage, res: ServerResponse, method: string, apiPath: string, withBody: boolean): Promise<void> {
    const body = withBody ? await readJsonObject(req, this.maxBody) : undefined;
    let answer;
    try {
      answer = await this.cfg.client.send(method, apiPath, { ...(body !== undefined ? { body } : {}), accept: 'application/json', timeoutMs: this.forwardTimeoutMs });
    } catch (err) {
      const message = err instanceof ConnectionError ? err.message : err instanceof Error ? err.message : String(err);
      sendJson(res, 502, localStatus(502, message));
      return;
    }
    const code = answer.statusCode ?? 502;
    const text = await readBody(answer);
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      // kube-aggregator answers 503 in plain text while the backend is unavailable.
      doc = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: text.trim() || `HTTP ${code}`, reason: code === 503 ? 'ServiceUnavailable' : 'InternalError', code };
    }
    sendJson(res, code, doc);
  }

  private serveEvents(req: IncomingMessage, res: ServerResponse, labelSelector: string | undefined): void {
    const cfg = this.cfg;
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', 'X-Accel-Buffering': 'no' });
    res.write(sseRetry(1000));
    const sink: FeedSink = (event, data, id) => {
      if (!res.writableEnded) res.write(sseEvent(event, data, id));
    };
    const entry = { feed: startFeed({ client: cfg.client, namespace: cfg.namespace, labelSelector, send: sink, log: cfg.log }), res };
    this.feeds.add(entry);
    const beat = setInterval(() => res.write(sseComment('keep-alive')), this.heartbeatMs);
    const end = () => {
      clearInterval(beat);
      if (!this.feeds.delete(entry)) return;
      void entry.feed.stop();
    };
    req.on('close', end);
    res.on('close', end);
  }
}

export async function startDashboard(cfg: DashboardConfig): Promise<Dashboard> {
  const handler = new DashboardHandler(cfg);
  const server = createServer({ headersTimeout: 10_000, requestTimeout: 0 }, (req, res) => handler.serve(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.port, cfg.address, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (handler.bound = { address: cfg.address, port: (server.address() as AddressInfo).port });
  return {
    bound,
    url: `${originOf(bound)}/?${TOKEN_PARAM}=${cfg.token}`,
    async close() {
      const { feeds } = handler;
      const stopping = [...feeds].map((f) => f.feed.stop());
      for (const f of feeds) f.res.end();
      feeds.clear();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await Promise.all(stopping);
    },
  };
}
