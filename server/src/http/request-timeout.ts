// WithTimeoutForNonLongRunningRequests: a request that is not long-running
// (here, anything but a watch) is answered 504 Timeout once it has run for
// the request timeout (kube-apiserver's --request-timeout, 60 s). Nothing can
// stop the handler, but its late answer goes nowhere: writeStatus skips an
// ended response, and Node drops writes after the end.
import type { ServerResponse } from 'node:http';
import type { Logger } from '../log/logger.ts';
import { newTimeout } from '../status/status-error.ts';
import { writeStatus } from './write-status.ts';

export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

export interface RequestTimeout {
  /** The request turned out long-running (a watch): no timeout. */
  clear(): void;
}

export function startRequestTimeout(res: ServerResponse, ms: number, log: Logger): RequestTimeout {
  const timer = setTimeout(() => {
    log.info('request timed out', { timeoutMs: ms, headersSent: res.headersSent });
    // Part of the answer is out: cut it, as the apiserver aborts the handler.
    if (res.headersSent) res.destroy();
    else writeStatus(res, newTimeout('request did not complete within the allotted timeout'));
  }, ms);
  const clear = () => clearTimeout(timer);
  res.once('close', clear);
  return { clear };
}
