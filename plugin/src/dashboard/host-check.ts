// Which Host headers the dashboard answers: DNS rebinding is a page on
// evil.example whose name is made to resolve to 127.0.0.1; the browser then
// sends `Host: evil.example:PORT` to our port. Only host names that cannot
// be rebound are accepted: `localhost` (browsers resolve it to loopback
// themselves) and IP literals, and only with the port we listen on.
import { isIP } from 'node:net';

export interface BoundAddress {
  /** The address the server listens on, as given to --address (an IP literal or localhost). */
  address: string;
  port: number;
}

/** 127.0.0.0/8, ::1, localhost: reachable from this machine only. */
export function isLoopback(address: string): boolean {
  const a = address.toLowerCase().replace(/^\[|\]$/g, '');
  if (a === 'localhost' || a === '::1' || a === '0:0:0:0:0:0:0:1') return true;
  if (a.startsWith('::ffff:')) return isLoopback(a.slice('::ffff:'.length));
  return isIP(a) === 4 && a.split('.')[0] === '127';
}

/** 0.0.0.0 and ::: every interface. */
export function isUnspecified(address: string): boolean {
  const a = address.replace(/^\[|\]$/g, '');
  return a === '0.0.0.0' || a === '::' || a === '0:0:0:0:0:0:0:0';
}

/** The host name and port of a Host header (`[::1]:8080`, `localhost:8080`); undefined when it is not one. */
export function parseHostHeader(host: string | undefined): { hostname: string; port: number | undefined } | undefined {
  if (!host) return undefined;
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(host.trim());
  if (!m) return undefined;
  const hostname = m[1]!.toLowerCase().replace(/^\[|\]$/g, '');
  return { hostname, port: m[2] === undefined ? undefined : Number(m[2]) };
}

/**
 * Whether a request with this Host header is for us. The port must be ours
 * (browsers always send it for a port other than 80). The name must be
 * `localhost` or an IP literal: the address we are bound to, any loopback
 * address when we are on loopback, any address when we are bound to every
 * interface. A DNS name is refused even if it resolves to us, which is
 * exactly what a rebinding attack looks like.
 */
export function hostAllowed(host: string | undefined, bound: BoundAddress): boolean {
  const h = parseHostHeader(host);
  if (!h || (h.port ?? 80) !== bound.port) return false;
  if (h.hostname === 'localhost') return isLoopback(bound.address) || isUnspecified(bound.address);
  if (isIP(h.hostname) === 0) return false;
  const address = bound.address.toLowerCase().replace(/^\[|\]$/g, '');
  if (h.hostname === address) return true;
  if (isUnspecified(address)) return true;
  return isLoopback(address) && isLoopback(h.hostname);
}

/** The origin a browser shows for the server, as printed in its URL (IPv6 in brackets). */
export function originOf(bound: BoundAddress): string {
  const name = isUnspecified(bound.address) ? '127.0.0.1' : bound.address;
  return `http://${isIP(name) === 6 ? `[${name}]` : name}:${bound.port}`;
}
