// The authentication input a TLS connection carries: the client's
// certificate chain, leaf first, read once per connection. The handshake
// asked for a certificate without verifying it (the trusted CAs change at
// run time); the authenticator verifies it.
import { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

const chains = new WeakMap<object, X509Certificate[]>();

/**
 * The chain of the connection `req` came on. Over HTTP/2 (kube-apiserver's
 * proxy sends every request as a stream of one connection) `req.socket` is a
 * proxy Node makes for each stream: the session is the connection, so the
 * chain is read and kept once per session, and x509-chain.ts's memo of
 * verified chains, keyed by the leaf object, holds across its requests.
 */
export function peerChainOf(req: IncomingMessage): X509Certificate[] {
  const session = (req as unknown as Partial<Pick<Http2ServerRequest, 'stream'>>).stream?.session;
  return session ? chainOf(session, session.socket as unknown as Socket) : chainOf(req.socket, req.socket);
}

function chainOf(connection: object, socket: Socket): X509Certificate[] {
  const cached = chains.get(connection);
  if (cached) return cached;
  const tls = socket as TLSSocket;
  const chain: X509Certificate[] = [];
  const leaf = typeof tls.getPeerX509Certificate === 'function' ? tls.getPeerX509Certificate() : undefined;
  if (leaf) {
    chain.push(leaf);
    let c = tls.getPeerCertificate(true);
    const seen = new Set<string>([leaf.fingerprint256]);
    while (c?.issuerCertificate && c.issuerCertificate !== c) {
      c = c.issuerCertificate;
      if (!c.raw) break;
      const x = new X509Certificate(c.raw);
      if (seen.has(x.fingerprint256)) break;
      seen.add(x.fingerprint256);
      chain.push(x);
    }
  }
  chains.set(connection, chain);
  return chain;
}
