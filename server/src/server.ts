// The HTTPS server and its filter chain, in k8s.io/apiserver's order:
// audit ID → (health probes) → authentication → request info →
// authorization → routing → handler, with every error written as a Status.
import { randomUUID, X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { GROUP, VERSION } from './api/types.ts';
import type { AuthenticationConfigWatcher } from './auth/authn-config.ts';
import type { Authenticator } from './auth/authenticator.ts';
import { forbiddenReason, type Attributes, type Authorizer } from './auth/delegated-authz.ts';
import type { UserInfo } from './auth/user.ts';
import { aggregatedDiscovery, apiGroup, apiGroupList, apiResourceList } from './discovery/discovery-handler.ts';
import type { OpenApiDocs } from './discovery/openapi-handler.ts';
import { negotiate } from './http/negotiate.ts';
import { writeJson } from './http/respond.ts';
import { toStatusError, writeStatus } from './http/write-status.ts';
import type { Logger } from './log/logger.ts';
import type { Metrics } from './metrics/metrics.ts';
import { handleResource, type ResourceHandlerDeps } from './registry/customresources/handlers.ts';
import { parseRequestInfo, type RequestInfo } from './request/request-info.ts';
import type { CrdWatchCache } from './store/crd-watch-cache.ts';
import { newForbidden, newUnauthorized, StatusError } from './status/status-error.ts';

export interface ServerConfig {
  tls: { cert: string; key: string };
  port: number;
  bindAddress: string;
  log: Logger;
  metrics: Metrics;
  authenticator: Authenticator;
  authorizer: Authorizer;
  authnSettings: AuthenticationConfigWatcher;
  cache: CrdWatchCache;
  resources: ResourceHandlerDeps;
  openapi: OpenApiDocs;
  version: { gitVersion: string };
  shutdownDelayMs: number;
  shutdownTimeoutMs: number;
}

const HEALTH = new Set(['/healthz', '/livez', '/readyz']);
const notFound = () => new StatusError(404, 'NotFound', 'the server could not find the requested resource', {});

/** The client's certificate chain, leaf first; computed once per TLS connection. */
const chains = new WeakMap<Socket, X509Certificate[]>();
function peerChain(socket: Socket): X509Certificate[] {
  const cached = chains.get(socket);
  if (cached) return cached;
  const tls = socket as TLSSocket;
  const chain: X509Certificate[] = [];
  const leaf = typeof tls.getPeerX509Certificate === 'function' ? tls.getPeerX509Certificate() : undefined;
  if (leaf) {
    chain.push(leaf);
    let c = tls.getPeerCertificate(true);
    const seen = new Set<string>([leaf.fingerprint256]);
    while (c?.issuerCertificate && c.issuerCertificate !== c) {
      c = c.issuerCertificate;
      if (!c.raw) break;
      const x = new X509Certificate(c.raw);
      if (seen.has(x.fingerprint256)) break;
      seen.add(x.fingerprint256);
      chain.push(x);
    }
  }
  chains.set(socket, chain);
  return chain;
}

function attributesOf(info: RequestInfo): Attributes {
  if (!info.isResourceRequest) return { nonResource: { path: info.path, verb: info.verb } };
  return {
    resource: {
      verb: info.verb,
      group: info.apiGroup,
      version: info.apiVersion,
      resource: info.resource,
      ...(info.subresource ? { subresource: info.subresource } : {}),
      ...(info.namespace ? { namespace: info.namespace } : {}),
      ...(info.name ? { name: info.name } : {}),
    },
  };
}

export interface RunningServer {
  server: Server;
  port: number;
  /** Graceful shutdown: readyz fails, then the listener closes, then in-flight requests get shutdownTimeout. */
  shutdown(): Promise<void>;
}

export function newServer(cfg: ServerConfig) {
  const { log, metrics } = cfg;
  let shuttingDown = false;
  const watches = new Set<ServerResponse>();

  function readiness(): { name: string; ok: boolean }[] {
    return [
      { name: 'ping', ok: true },
      { name: 'authentication-settings', ok: cfg.authnSettings.hasSynced },
      { name: 'informer-sync', ok: cfg.cache.ready },
      { name: 'shutdown', ok: !shuttingDown },
    ];
  }

  function health(path: string, url: URL, res: ServerResponse): void {
    const checks = path === '/readyz' ? readiness() : [{ name: 'ping', ok: true }];
    const ok = checks.every((c) => c.ok);
    let body: string;
    if (url.searchParams.has('verbose') || !ok) {
      body = checks.map((c) => (c.ok ? `[+]${c.name} ok` : `[-]${c.name} failed: reason withheld`)).join('\n') + '\n' + (ok ? `${path.slice(1)} check passed\n` : `${path.slice(1)} check failed\n`);
    } else {
      body = 'ok';
    }
    res.writeHead(ok ? 200 : 500, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-cache, private' });
    res.end(body);
  }

  async function nonResource(req: IncomingMessage, res: ServerResponse, info: RequestInfo, url: URL): Promise<void> {
    const p = info.path.replace(/\/+$/, '') || '/';
    const get = info.verb === 'get' || info.verb === 'head';
    const known = ['/apis', `/apis/${GROUP}`, `/apis/${GROUP}/${VERSION}`, '/openapi/v2', '/openapi/v3', cfg.openapi.v3Path, '/metrics', '/version'];
    if (!known.includes(p)) throw notFound();
    if (!get) throw new StatusError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
    switch (p) {
      case '/apis': {
        const target = negotiate(req.headers.accept, new Set(['json', 'discovery']));
        if (target.kind === 'discovery') {
          const d = aggregatedDiscovery('v2');
          const headers = { ETag: d.etag, Vary: 'Accept', 'Cache-Control': 'public' };
          if (req.headers['if-none-match'] === d.etag) {
            res.writeHead(304, headers);
            res.end();
            return;
          }
          res.writeHead(200, { ...headers, 'Content-Type': d.contentType, 'Content-Length': String(Buffer.byteLength(d.body)) });
          res.end(d.body);
          return;
        }
        return writeJson(res, 200, apiGroupList());
      }
      case `/apis/${GROUP}`:
        negotiate(req.headers.accept, new Set(['json']));
        return writeJson(res, 200, apiGroup());
      case `/apis/${GROUP}/${VERSION}`:
        negotiate(req.headers.accept, new Set(['json']));
        return writeJson(res, 200, apiResourceList());
      case '/openapi/v2':
        return serveDoc(req, res, cfg.openapi.v2.body, cfg.openapi.v2.etag);
      case '/openapi/v3':
        return serveDoc(req, res, cfg.openapi.v3Root.body, cfg.openapi.v3Root.etag);
      case cfg.openapi.v3Path: {
        const { body, hash } = cfg.openapi.v3;
        const asked = url.searchParams.get('hash');
        if (asked !== null && asked !== hash) {
          res.writeHead(301, { Location: `${cfg.openapi.v3Path}?hash=${hash}` });
          res.end();
          return;
        }
        const extra: Record<string, string> = asked === hash ? { 'Cache-Control': 'public, immutable', Expires: new Date(Date.now() + 365 * 86400_000).toUTCString() } : {};
        return serveDoc(req, res, body, `"${hash}"`, extra);
      }
      case '/metrics': {
        metrics.cacheObjects.set(cfg.cache.size);
        metrics.cacheResourceVersion.set(cfg.cache.resourceVersion);
        const text = await metrics.registry.metrics();
        res.writeHead(200, { 'Content-Type': metrics.registry.contentType });
        res.end(text);
        return;
      }
      case '/version':
        return writeJson(res, 200, cfg.version);
    }
  }

  function serveDoc(req: IncomingMessage, res: ServerResponse, body: string, etag: string, extra: Record<string, string> = {}): void {
    const accept = req.headers.accept;
    if (accept && !/(^|,)\s*(application\/json|\*\/\*|application\/\*)/.test(accept)) {
      throw new StatusError(406, 'NotAcceptable', 'only the following media types are accepted: application/json');
    }
    const headers = { ETag: etag, Vary: 'Accept', ...extra };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) });
    res.end(body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const supplied = req.headers['audit-id'];
    const auditId = typeof supplied === 'string' && /^[\w-]{1,64}$/.test(supplied) ? supplied : randomUUID();
    res.setHeader('Audit-Id', auditId);
    // Lets `kubectl custom version` name the backend's version through kube-apiserver.
    res.setHeader('X-Kubectl-Custom-Version', cfg.version.gitVersion);
    let info: RequestInfo | undefined;
    let user: UserInfo | undefined;
    let isWatch = false;
    try {
      const url = new URL(req.url ?? '/', 'https://backend.invalid');
      if (HEALTH.has(url.pathname)) return health(url.pathname, url, res);
      const headers = req.headersDistinct as Record<string, string[] | undefined>;
      const authn = await cfg.authenticator.authenticate({ peerCertificates: peerChain(req.socket), headers });
      // The authenticator stripped identity headers from its copy; keep the request itself in step.
      for (const h of Object.keys(req.headers)) if (!(h in headers)) delete req.headers[h];
      if (!authn) throw newUnauthorized();
      user = authn.user;
      info = parseRequestInfo(req.method ?? 'GET', url);
      const attrs = attributesOf(info);
      const decision = await cfg.authorizer.authorize(user, attrs);
      if (!decision.allowed) {
        const gr = info.isResourceRequest ? { group: info.apiGroup, resource: info.resource } : { group: '', resource: '' };
        if (!info.isResourceRequest) throw new StatusError(403, 'Forbidden', `forbidden: ${forbiddenReason(user, attrs, decision.reason)}`, {});
        throw newForbidden(gr, info.name, forbiddenReason(user, attrs, decision.reason));
      }
      if (!info.isResourceRequest) return await nonResource(req, res, info, url);
      if (info.apiGroup !== GROUP || info.apiVersion !== VERSION || info.resource !== 'customresources') throw notFound();
      if (info.verb === 'watch') {
        isWatch = true;
        watches.add(res);
        metrics.watchers.inc();
        res.on('close', () => {
          watches.delete(res);
          metrics.watchers.dec();
        });
      }
      await handleResource(req, res, info, user, url, cfg.resources);
    } catch (err) {
      writeStatus(res, toStatusError(err, log.with({ auditID: auditId })));
    } finally {
      const labels = { verb: info?.verb ?? (req.method ?? '').toLowerCase(), resource: info?.resource ?? '', subresource: info?.subresource ?? '' };
      const done = () => {
        metrics.requests.inc({ ...labels, code: String(res.statusCode) });
        if (!isWatch) metrics.latency.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
        log.debug('request', { auditID: auditId, method: req.method, path: info?.path, user: user?.name, code: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 });
      };
      if (res.writableFinished || !isWatch) done();
      else res.on('close', done);
    }
  }

  const server = createServer(
    {
      cert: cfg.tls.cert,
      key: cfg.tls.key,
      // Ask for a client certificate, never require one: the front proxy and
      // x509 users send one, token users do not. Verification happens in the
      // authenticator against CAs that can change at run time.
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
    },
    (req, res) => void handle(req, res),
  );
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  return {
    server,
    listen(): Promise<RunningServer> {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(cfg.port, cfg.bindAddress, () => {
          const addr = server.address();
          const port = typeof addr === 'object' && addr ? addr.port : cfg.port;
          log.info('serving', { address: cfg.bindAddress, port });
          resolve({
            server,
            port,
            async shutdown() {
              shuttingDown = true;
              log.info('shutting down: readyz now fails', { delayMs: cfg.shutdownDelayMs });
              await new Promise((r) => setTimeout(r, cfg.shutdownDelayMs));
              const closed = new Promise<void>((r) => server.close(() => r()));
              // Keep-alive connections become idle as their last request
              // finishes: close them as they do, not only the ones idle now.
              server.closeIdleConnections();
              const idleSweep = setInterval(() => server.closeIdleConnections(), 100);
              // Watches never finish by themselves: end them so clients re-watch elsewhere.
              for (const w of watches) w.end();
              const deadline = new Promise<void>((r) => setTimeout(r, cfg.shutdownTimeoutMs).unref());
              await Promise.race([closed, deadline]);
              clearInterval(idleSweep);
              server.closeAllConnections();
              log.info('stopped');
            },
          });
        });
      });
    },
  };
}
