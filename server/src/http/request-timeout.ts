// WithTimeoutForNonLongRunningRequests: a request that is not long-running
// (here, anything but a watch) is answered 504 Timeout once it has run for
// the request timeout (kube-apiserver's --request-timeout, 60 s), and its
// signal is aborted, as the apiserver cancels the handler's context: the
// calls the handler makes to kube-apiserver are cancelled with it
// (http/request-scope.ts). The signal is aborted too when the client leaves
// before the answer is complete. A late answer goes nowhere: writeStatus
// skips an ended response, and Node drops writes after the end.
import type { ServerResponse } from 'node:http';
import type { Logger } from '../log/logger.ts';
import { newTimeout } from '../status/status-error.ts';
import { writeStatus } from './write-status.ts';

export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

export interface RequestTimeout {
  /** The request turned out long-running (a watch): no timeout. */
  clear(): void;
  /** Aborted when the request times out, or its client leaves before the answer is complete. */
  readonly signal: AbortSignal;
}

export function startRequestTimeout(res: ServerResponse, ms: number, log: Logger): RequestTimeout {
  const cancel = new AbortController();
  const timer = setTimeout(() => {
    log.info('request timed out', { timeoutMs: ms, headersSent: res.headersSent });
    // Part of the answer is out: cut it, as the apiserver aborts the handler.
    if (res.headersSent) res.destroy();
    else writeStatus(res, newTimeout('request did not complete within the allotted timeout'));
    cancel.abort(new Error(`the request timed out after ${ms / 1000} s`));
  }, ms);
  const clear = () => clearTimeout(timer);
  res.once('close', () => {
    clear();
    if (!res.writableFinished) cancel.abort(new Error('the client went away before the answer was complete'));
  });
  return { clear, signal: cancel.signal };
}
