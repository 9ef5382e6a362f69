// The TLS listener: a serving certificate that can change while it serves
// (serving-certificate.ts), and a client certificate asked for but never
// required (the front proxy and x509 users send one, token users do not);
// the authenticator verifies it against CAs that can change at run time.
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Duplex } from 'node:stream';
import { newBadRequest } from '../status/status-error.ts';
import type { KeyPair, ServingCertificate } from './serving-certificate.ts';

/**
 * Go's http.Server reads up to 1 MiB of headers (DefaultMaxHeaderBytes) and
 * counts no lines; Node stops at 16 KiB, and at 1,000 lines, answering 431.
 * That refused users with many groups, which kube-apiserver sends as one
 * X-Remote-Group line each.
 */
export const MAX_HEADER_BYTES = 1 << 20;

/** What a secure context is made of; a new serving pair replaces it for the handshakes that follow. */
function secureContext(pair: KeyPair) {
  return { cert: pair.cert, key: pair.key, minVersion: 'TLSv1.2' as const };
}

export function newHttpsServer(certificate: ServingCertificate, handler: (req: IncomingMessage, res: ServerResponse) => void): Server {
  const server = createServer({ ...secureContext(certificate.current()), requestCert: true, rejectUnauthorized: false, maxHeaderSize: MAX_HEADER_BYTES }, handler);
  certificate.onChange((pair) => server.setSecureContext(secureContext(pair)));
  server.on('clientError', answerMalformed);
  // No limit on the number of lines: the bytes are bounded above.
  server.maxHeadersCount = 0;
  // Longer than kube-apiserver's proxy keeps idle connections, so it closes them first.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return server;
}

/** What Node's parser answers by itself, by error code; anything else it could not parse is 400. */
const PARSER_ANSWERS: Readonly<Record<string, number>> = { HPE_HEADER_OVERFLOW: 431, HPE_CHUNK_EXTENSIONS_OVERFLOW: 413, ERR_HTTP_REQUEST_TIMEOUT: 408 };

/**
 * A request Node's HTTP parser refused never reaches the chain. Node would
 * answer a bare 400; a client reading Kubernetes answers gets a Status (the
 * limits keep Node's own codes, for which metav1 has no reason).
 */
function answerMalformed(err: Error & { code?: string }, socket: Duplex): void {
  // As Node's own handler: nothing to say on a closed socket, or in the middle of another answer.
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage;
  if (!socket.writable || err.code === 'ECONNRESET' || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const code = (err.code && Object.hasOwn(PARSER_ANSWERS, err.code) ? PARSER_ANSWERS[err.code] : undefined) ?? 400;
  const body = code === 400 ? JSON.stringify(newBadRequest(`malformed HTTP request (${err.code ?? 'parse error'})`).status) : '';
  const head = [`HTTP/1.1 ${code} ${STATUS_CODES[code]}`, 'Connection: close', `Content-Length: ${Buffer.byteLength(body)}`, ...(body ? ['Content-Type: application/json'] : [])];
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
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
