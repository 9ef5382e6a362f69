// The authentication input a TLS connection carries: the client's
// certificate chain, leaf first, read once per connection. The handshake
// asked for a certificate without verifying it (the trusted CAs change at
// run time); the authenticator verifies it.
import { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

const chains = new WeakMap<Socket, X509Certificate[]>();

export function peerChain(socket: Socket): X509Certificate[] {
  const cached = chains.get(socket);
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
  chains.set(socket, chain);
  return chain;
}
