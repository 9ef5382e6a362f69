// The only place errors become responses: a StatusError is written as its
// metav1.Status; anything else is logged and answered 500 InternalError.
import type { ServerResponse } from 'node:http';
import type { Logger } from '../log/logger.ts';
import { StatusError, describeError, newInternalError, newTimeout } from '../status/status-error.ts';

export function toStatusError(err: unknown, log: Logger): StatusError {
  if (err instanceof StatusError) return err;
  // A handler cancelled with its request (its timeout, or its client gone, http/request-scope.ts): its calls to kube-apiserver were aborted; nothing went wrong.
  if (err instanceof Error && err.name === 'AbortError') {
    log.debug('handler cancelled with its request', { error: err.message });
    return newTimeout('the request was cancelled before it completed');
  }
  log.error('internal error', { error: err instanceof Error ? (err.stack ?? err.message) : describeError(err) });
  return newInternalError(err);
}

/** Codes a client should retry after a while: they always say how long. */
const RETRYABLE = new Set([429, 503]);

export function writeStatus(res: ServerResponse, err: StatusError): void {
  // Answered already (a request timeout wrote its 504): the late error has no one to go to.
  if (res.writableEnded) return;
  if (res.headersSent) {
    // Part of another answer is out: cut the connection rather than append to it.
    res.destroy();
    return;
  }
  const body = JSON.stringify(err.status);
  const headers: Record<string, string> = { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)), 'Cache-Control': 'no-cache, private' };
  const retryAfter = err.status.details?.retryAfterSeconds ?? (RETRYABLE.has(err.code) ? 1 : undefined);
  if (retryAfter) headers['Retry-After'] = String(retryAfter);
  res.writeHead(err.code, headers);
  res.end(body);
}
