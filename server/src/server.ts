// The HTTPS server and its filter chain, in k8s.io/apiserver's order:
// panic recovery → audit ID → request timeout → (health probes) →
// (the admission webhook) → authentication → request info → max in flight → authorization → routing → handler, with
// every error written as a Status. Each step lives in the room named for it;
// this file only chains them.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BACKEND_STATUS_RESOURCE, GROUP, NOTIFICATION_POLICY_RESOURCE, RESOURCE, VERSION } from '../../api/src/names.ts';
import { VERSION_HEADER } from '../../api/src/version.ts';
import { serveAdmission } from './admission/webhook-handler.ts';
import { WEBHOOK_PATH } from './admission/gate-admission.ts';
import { authenticateRequest, authorizeRequest } from './auth/filters.ts';
import type { ServerConfig } from './config.ts';
import { GracefulShutdown } from './http/graceful-shutdown.ts';
import { HEALTH_PATHS, serveHealth } from './http/health.ts';
import { listen, newHttpsServer, type HttpsServer } from './http/https-listener.ts';
import { instrument, type RequestRecord } from './http/instrument.ts';
import { MaxInFlight } from './http/max-in-flight.ts';
import { newNonResourceRoutes } from './http/non-resource-routes.ts';
import { withRecovery } from './http/recover.ts';
import { startRequestTimeout, type RequestTimeout } from './http/request-timeout.ts';
import { inRequestScope } from './http/request-scope.ts';
import type { Logger } from './log/logger.ts';
import { bucketsOf, RecentActivity } from './metrics/recent-activity.ts';
import { handleBackendStatus, type BackendStatusDeps } from './registry/backendstatuses/handlers.ts';
import { backendStatus } from './registry/backendstatuses/status.ts';
import { handleResource } from './registry/customresources/handlers.ts';
import { parseRequestInfo, requestUrl } from './request/request-info.ts';
import { describeError, newPathNotFound } from './status/status-error.ts';

export interface RunningServer {
  server: HttpsServer;
  port: number;
  /** Graceful shutdown: readyz fails, then the listener closes, then in-flight requests get shutdownTimeout. */
  shutdown(): Promise<void>;
}

/** A client's audit ID is kept when it looks like one, as kube-apiserver keeps it. */
function auditIdOf(req: IncomingMessage): string {
  const supplied = req.headers['audit-id'];
  return typeof supplied === 'string' && /^[\w-]{1,64}$/.test(supplied) ? supplied : randomUUID();
}

/** This replica's BackendStatus: what the server counts (in flight, latency, watches) and what the config knows of it. */
function replicaStatus(cfg: ServerConfig, inFlight: MaxInFlight, watches: () => number): { replica: BackendStatusDeps; recent: RecentActivity } {
  const recent = new RecentActivity({ buckets: async () => bucketsOf(await cfg.metrics.latency.get()), inFlight });
  const replica: BackendStatusDeps = {
    name: cfg.replica.name,
    read: (now) => backendStatus({ ...cfg.replica, version: cfg.version.gitVersion, watches, recent }, now),
  };
  return { replica, recent };
}

export function newServer(cfg: ServerConfig) {
  const { log, metrics } = cfg;
  const shutdown = new GracefulShutdown({ delayMs: cfg.shutdownDelayMs, timeoutMs: cfg.shutdownTimeoutMs });
  const inFlight = new MaxInFlight(cfg.inFlight ?? { nonMutating: 400, mutating: 200 });
  /** Open watches of customresources, for BackendStatus (apiserver_registered_watchers counts the same). */
  let watches = 0;
  const { replica, recent } = replicaStatus(cfg, inFlight, () => watches);
  const readiness = [
    { name: 'authentication-settings', ok: () => cfg.authnSettings.hasSynced },
    { name: 'informer-sync', ok: () => cfg.cache.ready },
    { name: 'gate-policies', ok: () => cfg.policies.synced },
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

  async function handle(req: IncomingMessage, res: ServerResponse, record: RequestRecord, timeout: RequestTimeout, rlog: Logger): Promise<void> {
    const url = requestUrl(req.url);
    if (HEALTH_PATHS.has(url.pathname)) return serveHealth(res, url.pathname, url, readiness);
    if (url.pathname === WEBHOOK_PATH) return serveAdmission(req, res, cfg.admission, metrics);
    const user = (record.user = await authenticateRequest(cfg.authenticator, req, rlog));
    // Lets `kubectl custom version` name the backend's version through kube-apiserver; not for strangers.
    res.setHeader(VERSION_HEADER, cfg.version.gitVersion);
    const info = (record.info = parseRequestInfo(req.method ?? 'GET', url));
    if (info.verb === 'watch') timeout.clear();
    inFlight.admit(info, user, res);
    await authorizeRequest(cfg.authorizer, user, info, rlog);
    if (!info.isResourceRequest) return await serveNonResource(req, res, info, url);
    if (info.apiGroup === GROUP && info.apiVersion === VERSION && info.resource === BACKEND_STATUS_RESOURCE) return await handleBackendStatus(req, res, info, url, replica, cfg.resources.storage.clock.now());
    if (info.apiGroup === GROUP && info.apiVersion === VERSION && info.resource === NOTIFICATION_POLICY_RESOURCE && cfg.notifications) return await cfg.notifications.serveTest(res, info, user);
    if (info.apiGroup !== GROUP || info.apiVersion !== VERSION || info.resource !== RESOURCE) throw newPathNotFound();
    if (info.verb === 'watch') {
      record.watch = true;
      shutdown.trackWatch(res);
      metrics.watchers.inc();
      watches++;
      res.on('close', () => {
        metrics.watchers.dec();
        watches--;
      });
    }
    await handleResource(req, res, info, user, url, cfg.resources);
  }

  function serve(req: IncomingMessage, res: ServerResponse): void {
    const record: RequestRecord = { auditId: auditIdOf(req) };
    const recorded = instrument(req, res, metrics, log);
    res.setHeader('Audit-Id', record.auditId);
    const rlog = log.with({ auditID: record.auditId });
    const timeout = startRequestTimeout(res, cfg.requestTimeoutMs, rlog);
    withRecovery(req, res, rlog, () => inRequestScope(timeout.signal, () => handle(req, res, record, timeout, rlog)))
      .then(() => recorded(record))
      .catch((err: unknown) => rlog.error('could not record the request', { error: describeError(err) }));
  }

  const server = newHttpsServer(cfg.servingCertificate, serve);

  return {
    server,
    async listen(): Promise<RunningServer> {
      const port = await listen(server, cfg.port, cfg.bindAddress);
      log.info('serving', { address: cfg.bindAddress, port });
      recent.start();
      return {
        server,
        port,
        shutdown: async () => {
          recent.stop();
          await shutdown.run(server, log);
        },
      };
    },
  };
}
