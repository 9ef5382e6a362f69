// Graceful shutdown as k8s.io/apiserver does it on SIGTERM: readyz fails
// first (so the Service stops sending new requests) for the shutdown delay,
// then the listener closes, watches are ended (clients re-watch elsewhere)
// and in-flight requests get the shutdown timeout.
import type { ServerResponse } from 'node:http';
import type { Logger } from '../log/logger.ts';
import type { HttpsServer } from './https-listener.ts';

export class GracefulShutdown {
  private stopping = false;
  private readonly watches = new Set<ServerResponse>();
  private readonly delayMs: number;
  private readonly timeoutMs: number;

  constructor(opts: { delayMs: number; timeoutMs: number }) {
    this.delayMs = opts.delayMs;
    this.timeoutMs = opts.timeoutMs;
  }

  /** False from the moment shutdown starts (readyz's "shutdown" check). */
  get accepting(): boolean {
    return !this.stopping;
  }

  /** A watch never ends by itself: shutdown ends it. */
  trackWatch(res: ServerResponse): void {
    this.watches.add(res);
    res.on('close', () => this.watches.delete(res));
  }

  async run(server: HttpsServer, log: Logger): Promise<void> {
    this.stopping = true;
    log.info('shutting down: readyz now fails', { delayMs: this.delayMs });
    await new Promise((r) => setTimeout(r, this.delayMs));
    const closed = new Promise<void>((r) => server.close(() => r()));
    // Keep-alive connections become idle as their last request finishes:
    // close them as they do, not only the ones idle now.
    server.closeIdleConnections();
    const idleSweep = setInterval(() => server.closeIdleConnections(), 100);
    for (const w of this.watches) w.end();
    const deadline = new Promise<void>((r) => setTimeout(r, this.timeoutMs).unref());
    await Promise.race([closed, deadline]);
    clearInterval(idleSweep);
    server.closeAllConnections();
    log.info('stopped');
  }
}
