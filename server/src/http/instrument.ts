// Per-request metrics and the debug log line, recorded when the request
// ends (for a watch: when it closes), labelled as k8s.io/apiserver labels
// apiserver_request_total and apiserver_request_duration_seconds.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GROUP, VERSION } from '../../../api/src/names.ts';
import type { UserInfo } from '../auth/user.ts';
import type { Logger } from '../log/logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { API_GROUP } from '../registry/api-group.ts';
import type { RequestInfo } from '../request/request-info.ts';

export interface RequestRecord {
  auditId: string;
  info?: RequestInfo;
  user?: UserInfo;
  watch?: boolean;
}

/** The verbs a label may name: the API's and the HTTP methods of non-resource requests. */
const VERBS: ReadonlySet<string> = new Set(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection', 'proxy', 'head', 'post', 'put', 'options']);
/** The resources served, each with its subresources. */
const RESOURCES: ReadonlyMap<string, ReadonlySet<string>> = new Map(API_GROUP.resources.map((r) => [r.name, new Set(r.subresources.map((s) => s.name))]));
/** What a label says of anything the server does not serve: URLs are the client's, series are not. */
const OTHER = 'other';

/**
 * Labels from what the server serves, never from the URL as sent: every
 * distinct path of a 404 or 403 would otherwise be a series of its own.
 */
function metricLabels(method: string, info: RequestInfo | undefined): { verb: string; resource: string; subresource: string } {
  const verb = info?.verb ?? method.toLowerCase();
  const labels = { verb: VERBS.has(verb) ? verb : OTHER, resource: '', subresource: '' };
  if (!info?.isResourceRequest) return labels;
  const subresources = info.apiGroup === GROUP && info.apiVersion === VERSION ? RESOURCES.get(info.resource) : undefined;
  if (!subresources) return { ...labels, resource: OTHER };
  return { ...labels, resource: info.resource, subresource: !info.subresource || subresources.has(info.subresource) ? info.subresource : OTHER };
}

/** Starts timing a request; call the result once the handler returned. */
export function instrument(req: IncomingMessage, res: ServerResponse, metrics: Metrics, log: Logger): (r: RequestRecord) => void {
  const started = process.hrtime.bigint();
  return ({ auditId, info, user, watch }) => {
    const labels = metricLabels(req.method ?? '', info);
    const done = () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.requests.inc({ ...labels, code: String(res.statusCode) });
      // Watches are long-running: their duration says nothing of latency.
      if (!watch) metrics.latency.observe(labels, seconds);
      log.debug('request', { auditID: auditId, method: req.method, path: info?.path, user: user?.name, code: res.statusCode, ms: seconds * 1e3 });
    };
    if (res.writableFinished || !watch) done();
    else res.on('close', done);
  };
}
