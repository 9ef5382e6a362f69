// The paths that are not resources: discovery (legacy and aggregated v2),
// the OpenAPI documents, /metrics and /version. Authorized like any other
// request (as non-resource URLs) before they get here.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GROUP, VERSION } from '../../../api/src/names.ts';
import { aggregatedDiscovery, apiGroup, apiGroupList, apiResourceList } from '../discovery/discovery-handler.ts';
import type { OpenApiDocs } from '../discovery/openapi-handler.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { RequestInfo } from '../request/request-info.ts';
import { newMethodNotAllowed, newPathNotFound } from '../status/status-error.ts';
import { negotiate } from './negotiate.ts';
import { writeJson } from './respond.ts';

export interface NonResourceDeps {
  openapi: OpenApiDocs;
  metrics: Metrics;
  /** Brings the metrics that are read rather than counted up to date. */
  refreshMetrics(): void;
  version: { gitVersion: string };
  /** Problems with the installation, sent as Warning headers on the group's discovery (kubectl prints them). */
  warnings(): readonly string[];
}

/** RFC 7234 warn-text, as kube-apiserver sends its warnings: `299 - "text"`. */
function warningHeader(text: string): string {
  return `299 - "${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

const JSON_ONLY = new Set(['json'] as const);

/** A cacheable document with an ETag: 304 when the client has it. */
function serveDocument(req: IncomingMessage, res: ServerResponse, doc: { body: string; etag: string; contentType?: string }, extra: Record<string, string> = {}): void {
  const headers = { ETag: doc.etag, Vary: 'Accept', ...extra };
  if (req.headers['if-none-match'] === doc.etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, { ...headers, 'Content-Type': doc.contentType ?? 'application/json', 'Content-Length': String(Buffer.byteLength(doc.body)) });
  res.end(doc.body);
}

type Route = (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>;

export function newNonResourceRoutes(deps: NonResourceDeps) {
  const { openapi } = deps;
  const routes: Record<string, Route> = {
    '/apis': (req, res) => {
      if (negotiate(req.headers.accept, new Set(['json', 'discovery'])).kind === 'discovery') {
        const d = aggregatedDiscovery('v2');
        return serveDocument(req, res, { body: d.body, etag: d.etag, contentType: d.contentType }, { 'Cache-Control': 'public' });
      }
      writeJson(res, 200, apiGroupList());
    },
    [`/apis/${GROUP}`]: (req, res) => {
      negotiate(req.headers.accept, JSON_ONLY);
      writeJson(res, 200, apiGroup());
    },
    [`/apis/${GROUP}/${VERSION}`]: (req, res) => {
      negotiate(req.headers.accept, JSON_ONLY);
      const warnings = deps.warnings();
      if (warnings.length) res.setHeader('Warning', warnings.map(warningHeader));
      writeJson(res, 200, apiResourceList());
    },
    '/openapi/v2': (req, res) => {
      negotiate(req.headers.accept, JSON_ONLY);
      serveDocument(req, res, openapi.v2);
    },
    '/openapi/v3': (req, res) => {
      negotiate(req.headers.accept, JSON_ONLY);
      serveDocument(req, res, openapi.v3Root);
    },
    [openapi.v3Path]: (req, res, url) => {
      negotiate(req.headers.accept, JSON_ONLY);
      const { body, hash } = openapi.v3;
      const asked = url.searchParams.get('hash');
      // As kube-apiserver: a stale hash redirects to the current one; the current one is cacheable forever.
      if (asked !== null && asked !== hash) {
        res.writeHead(301, { Location: `${openapi.v3Path}?hash=${hash}` });
        res.end();
        return;
      }
      const immutable: Record<string, string> = asked === hash ? { 'Cache-Control': 'public, immutable', Expires: new Date(Date.now() + 365 * 86400_000).toUTCString() } : {};
      serveDocument(req, res, { body, etag: `"${hash}"` }, immutable);
    },
    '/metrics': async (_req, res) => {
      deps.refreshMetrics();
      const text = await deps.metrics.registry.metrics();
      res.writeHead(200, { 'Content-Type': deps.metrics.registry.contentType });
      res.end(text);
    },
    '/version': (_req, res) => writeJson(res, 200, deps.version),
  };

  // Looked up by the exact path that was authorized: "/metrics/" is not "/metrics".
  const byPath = new Map(Object.entries(routes));
  return async function serveNonResource(req: IncomingMessage, res: ServerResponse, info: RequestInfo, url: URL): Promise<void> {
    const route = byPath.get(info.path);
    if (!route) throw newPathNotFound();
    if (info.verb !== 'get' && info.verb !== 'head') throw newMethodNotAllowed();
    await route(req, res, url);
  };
}
