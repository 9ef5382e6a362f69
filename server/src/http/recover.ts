// Panic recovery, as k8s.io/apiserver's WithPanicRecovery gives each request:
// nothing a handler does takes the process down. A rejection (whatever value
// was thrown) becomes a Status; a failure to write even that cuts the
// connection; errors of the request and response streams (a client gone
// mid-body) are logged, never left to crash the process as unhandled events.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log/logger.ts';
import { describeError } from '../status/status-error.ts';
import { toStatusError, writeStatus } from './write-status.ts';

export async function withRecovery(req: IncomingMessage, res: ServerResponse, log: Logger, handler: () => Promise<void>): Promise<void> {
  req.on('error', (err) => log.debug('request stream failed', { error: describeError(err) }));
  res.on('error', (err) => log.debug('response stream failed', { error: describeError(err) }));
  try {
    await handler();
  } catch (err) {
    try {
      writeStatus(res, toStatusError(err, log));
    } catch (writeErr) {
      log.error('could not answer a failed request', { error: describeError(writeErr) });
      res.destroy();
    }
  }
}
