// The TLS listener: a serving certificate, and a client certificate asked
// for but never required (the front proxy and x509 users send one, token
// users do not); the authenticator verifies it against CAs that can change
// at run time.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';

/**
 * Go's http.Server reads up to 1 MiB of headers (DefaultMaxHeaderBytes) and
 * counts no lines; Node stops at 16 KiB, and at 1,000 lines, answering 431.
 * That refused users with many groups, which kube-apiserver sends as one
 * X-Remote-Group line each.
 */
export const MAX_HEADER_BYTES = 1 << 20;

export function newHttpsServer(tls: { cert: string; key: string }, handler: (req: IncomingMessage, res: ServerResponse) => void): Server {
  const server = createServer({ cert: tls.cert, key: tls.key, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2', maxHeaderSize: MAX_HEADER_BYTES }, handler);
  // No limit on the number of lines: the bytes are bounded above.
  server.maxHeadersCount = 0;
  // Longer than kube-apiserver's proxy keeps idle connections, so it closes them first.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return server;
}

/** Listens; resolves the port (the one the system chose when asked for 0). */
export function listen(server: Server, port: number, address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => {
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}
