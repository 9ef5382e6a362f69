// The only place errors become responses: a StatusError is written as its
// metav1.Status; anything else is logged and answered 500 InternalError.
import type { ServerResponse } from 'node:http';
import type { Logger } from '../log/logger.ts';
import { StatusError, newInternalError } from '../status/status-error.ts';

export function toStatusError(err: unknown, log: Logger): StatusError {
  if (err instanceof StatusError) return err;
  log.error('internal error', { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  return newInternalError(err);
}

export function writeStatus(res: ServerResponse, err: StatusError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(err.status);
  const headers: Record<string, string> = { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)), 'Cache-Control': 'no-cache, private' };
  if (err.status.details?.retryAfterSeconds) headers['Retry-After'] = String(err.status.details.retryAfterSeconds);
  res.writeHead(err.code, headers);
  res.end(body);
}
