// The TLS listener: a serving certificate that can change while it serves
// (serving-certificate.ts), and a client certificate asked for but never
// required (the front proxy and x509 users send one, token users do not);
// the authenticator verifies it against CAs that can change at run time.
// HTTP/2 and HTTP/1.1 by ALPN, as k8s.io/apiserver serves: kube-apiserver's
// proxy then carries every request, watches included, as streams of one
// connection instead of a connection each.
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { createSecureServer, type Http2SecureServer, type ServerHttp2Session } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { newBadRequest } from '../status/status-error.ts';
import { asHttp1 } from './http2-compat.ts';
import type { KeyPair, ServingCertificate } from './serving-certificate.ts';

/**
 * Go's http.Server reads up to 1 MiB of headers (DefaultMaxHeaderBytes) and
 * counts no lines; Node stops at 16 KiB, and at 1,000 lines, answering 431.
 * That refused users with many groups, which kube-apiserver sends as one
 * X-Remote-Group line each.
 */
const MAX_HEADER_BYTES = 1 << 20;

/** What a secure context is made of; a new serving pair replaces it for the handshakes that follow. */
function secureContext(pair: KeyPair) {
  return { cert: pair.cert, key: pair.key, minVersion: 'TLSv1.2' as const };
}

/** How long a connection may wait for a request's headers. */
const HEADERS_TIMEOUT_MS = 66_000;

/** As k8s.io/apiserver's --http2-max-streams-per-connection, as kube-apiserver sets it. */
const HTTP2_MAX_STREAMS = 1000;

/** The listener, with node:http's ways to close connections, for both protocols. */
export type HttpsServer = Http2SecureServer & {
  /** Closes the connections with no request in flight (HTTP/2: asks each session to go away once its streams are done). */
  closeIdleConnections(): void;
  closeAllConnections(): void;
};

export function newHttpsServer(certificate: ServingCertificate, handler: (req: IncomingMessage, res: ServerResponse) => void): HttpsServer {
  const server = createSecureServer(
    {
      ...secureContext(certificate.current()),
      requestCert: true,
      rejectUnauthorized: false,
      allowHTTP1: true,
      // Users with many groups: as many header lines and bytes as HTTP/1.1 allows below.
      maxHeaderListPairs: 1 << 16,
      settings: { maxConcurrentStreams: HTTP2_MAX_STREAMS, maxHeaderListSize: MAX_HEADER_BYTES },
    },
    (req, res) => (req.httpVersionMajor === 2 ? handler(...asHttp1(req, res)) : handler(req as unknown as IncomingMessage, res as unknown as ServerResponse)),
  ) as HttpsServer;
  certificate.onChange((pair) => server.setSecureContext(secureContext(pair)));
  // HTTP/1.1 connections are served by node:http's own code, which reads these from the server.
  const h1 = server as unknown as { maxHeaderSize: number; maxHeadersCount: number; keepAliveTimeout: number; headersTimeout: number };
  h1.maxHeaderSize = MAX_HEADER_BYTES;
  // No limit on the number of lines: the bytes are bounded above.
  h1.maxHeadersCount = 0;
  // Longer than kube-apiserver's proxy keeps idle connections, so it closes them first.
  h1.keepAliveTimeout = 65_000;
  h1.headersTimeout = HEADERS_TIMEOUT_MS;
  server.on('clientError', answerMalformed);
  // A peer that breaks HTTP/2's rules loses its session (nghttp2 has sent GOAWAY); nothing else is affected.
  server.on('sessionError', () => {});
  trackConnections(server);
  return server;
}

/** HTTP/1.1 connections with the number of their requests in flight, and HTTP/2 sessions. */
function trackConnections(server: HttpsServer): void {
  const h1 = new Map<TLSSocket, number>();
  const sessions = new Set<ServerHttp2Session>();
  server.on('secureConnection', (socket: TLSSocket) => {
    if (socket.alpnProtocol === 'h2') return;
    h1.set(socket, 0);
    // node:http's server bounds the wait for a request's headers (headersTimeout) by a timer of its
    // own that does not run for the HTTP/1.1 connections of an HTTP/2 server: an idle timeout until
    // the first request does it. Between requests node:http arms keepAliveTimeout on the socket itself.
    socket.on('timeout', () => socket.destroy());
    socket.setTimeout(HEADERS_TIMEOUT_MS);
    socket.once('close', () => h1.delete(socket));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket as TLSSocket;
    if (!h1.has(socket)) return;
    h1.set(socket, h1.get(socket)! + 1);
    socket.setTimeout(0);
    res.once('close', () => h1.has(socket) && h1.set(socket, h1.get(socket)! - 1));
  });
  server.on('session', (session: ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  server.closeIdleConnections = () => {
    for (const [socket, inFlight] of h1) if (inFlight === 0) socket.destroy();
    for (const s of sessions) if (!s.closed) s.close();
  };
  server.closeAllConnections = () => {
    for (const socket of h1.keys()) socket.destroy();
    for (const s of sessions) s.destroy();
  };
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
export function listen(server: HttpsServer, port: number, address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => {
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}
