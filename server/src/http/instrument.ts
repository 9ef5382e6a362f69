// Per-request metrics and the debug log line, recorded when the request
// ends (for a watch: when it closes), labelled as k8s.io/apiserver labels
// apiserver_request_total and apiserver_request_duration_seconds.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UserInfo } from '../auth/user.ts';
import type { Logger } from '../log/logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { RequestInfo } from '../request/request-info.ts';

export interface RequestRecord {
  auditId: string;
  info?: RequestInfo;
  user?: UserInfo;
  watch?: boolean;
}

/** Starts timing a request; call the result once the handler returned. */
export function instrument(req: IncomingMessage, res: ServerResponse, metrics: Metrics, log: Logger): (r: RequestRecord) => void {
  const started = process.hrtime.bigint();
  return ({ auditId, info, user, watch }) => {
    const labels = { verb: info?.verb ?? (req.method ?? '').toLowerCase(), resource: info?.resource ?? '', subresource: info?.subresource ?? '' };
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
