// The HTTPS server and its filter chain, in k8s.io/apiserver's order:
// audit ID → (health probes) → authentication → request info →
// authorization → routing → handler, with every error written as a Status.
// Each step lives in the room named for it; this file only chains them.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'node:https';
import { GROUP, RESOURCE, VERSION } from '../../api/src/names.ts';
import { VERSION_HEADER } from '../../api/src/version.ts';
import { attributesOf } from './auth/attributes.ts';
import { forbiddenReason } from './auth/delegated-authz.ts';
import type { ServerConfig } from './config.ts';
import { peerChain } from './auth/peer-chain.ts';
import { GracefulShutdown } from './http/graceful-shutdown.ts';
import { HEALTH_PATHS, serveHealth } from './http/health.ts';
import { listen, newHttpsServer } from './http/https-listener.ts';
import { instrument, type RequestRecord } from './http/instrument.ts';
import { newNonResourceRoutes } from './http/non-resource-routes.ts';
import { toStatusError, writeStatus } from './http/write-status.ts';
import { handleResource } from './registry/customresources/handlers.ts';
import { parseRequestInfo } from './request/request-info.ts';
import { newForbidden, newForbiddenPath, newPathNotFound, newUnauthorized } from './status/status-error.ts';

export interface RunningServer {
  server: Server;
  port: number;
  /** Graceful shutdown: readyz fails, then the listener closes, then in-flight requests get shutdownTimeout. */
  shutdown(): Promise<void>;
}

/** A client's audit ID is kept when it looks like one, as kube-apiserver keeps it. */
function auditIdOf(req: IncomingMessage): string {
  const supplied = req.headers['audit-id'];
  return typeof supplied === 'string' && /^[\w-]{1,64}$/.test(supplied) ? supplied : randomUUID();
}

export function newServer(cfg: ServerConfig) {
  const { log, metrics } = cfg;
  const shutdown = new GracefulShutdown({ delayMs: cfg.shutdownDelayMs, timeoutMs: cfg.shutdownTimeoutMs });
  const readiness = [
    { name: 'authentication-settings', ok: () => cfg.authnSettings.hasSynced },
    { name: 'informer-sync', ok: () => cfg.cache.ready },
    { name: 'freezes-sync', ok: () => cfg.freezes.synced },
    { name: 'shutdown', ok: () => shutdown.accepting },
  ];
  const serveNonResource = newNonResourceRoutes({
    openapi: cfg.openapi,
    metrics,
    version: cfg.version,
    warnings: () => cfg.policyCheck.warnings,
    refreshMetrics: () => {
      metrics.cacheObjects.set(cfg.cache.size);
      metrics.cacheResourceVersion.set(cfg.cache.resourceVersion);
      metrics.cacheSubscribers.set(cfg.cache.subscriberCount);
      metrics.cacheConsistentReads.set(cfg.cache.freshenReads);
    },
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const record: RequestRecord = { auditId: auditIdOf(req) };
    const recorded = instrument(req, res, metrics, log);
    res.setHeader('Audit-Id', record.auditId);
    // Lets `kubectl custom version` name the backend's version through kube-apiserver.
    res.setHeader(VERSION_HEADER, cfg.version.gitVersion);
    try {
      const url = new URL(req.url ?? '/', 'https://backend.invalid');
      if (HEALTH_PATHS.has(url.pathname)) return serveHealth(res, url.pathname, url, readiness);
      const headers = req.headersDistinct as Record<string, string[] | undefined>;
      const authn = await cfg.authenticator.authenticate({ peerCertificates: peerChain(req.socket), headers });
      // The authenticator stripped identity headers from its copy; keep the request itself in step.
      for (const h of Object.keys(req.headers)) if (!(h in headers)) delete req.headers[h];
      if (!authn) throw newUnauthorized();
      const user = (record.user = authn.user);
      const info = (record.info = parseRequestInfo(req.method ?? 'GET', url));
      const attrs = attributesOf(info);
      const decision = await cfg.authorizer.authorize(user, attrs);
      if (!decision.allowed) {
        const why = forbiddenReason(user, attrs, decision.reason);
        throw info.isResourceRequest ? newForbidden({ group: info.apiGroup, resource: info.resource }, info.name, why) : newForbiddenPath(why);
      }
      if (!info.isResourceRequest) return await serveNonResource(req, res, info, url);
      if (info.apiGroup !== GROUP || info.apiVersion !== VERSION || info.resource !== RESOURCE) throw newPathNotFound();
      if (info.verb === 'watch') {
        record.watch = true;
        shutdown.trackWatch(res);
        metrics.watchers.inc();
        res.on('close', () => metrics.watchers.dec());
      }
      await handleResource(req, res, info, user, url, cfg.resources);
    } catch (err) {
      writeStatus(res, toStatusError(err, log.with({ auditID: record.auditId })));
    } finally {
      recorded(record);
    }
  }

  const server = newHttpsServer(cfg.tls, (req, res) => void handle(req, res));

  return {
    server,
    async listen(): Promise<RunningServer> {
      const port = await listen(server, cfg.port, cfg.bindAddress);
      log.info('serving', { address: cfg.bindAddress, port });
      return { server, port, shutdown: () => shutdown.run(server, log) };
    },
  };
}
