// One GET for a check's provider: http or https, a CA of the check's own
// (never the backend's trust of the cluster), a bearer token that goes only
// into the Authorization header (never into a message), a timeout, and at
// most 1 MiB of body. Every failure is an Error with a sentence that says
// what happened; the caller records it as the measurement's message.
import { lookup as dnsLookup, promises as dnsPromises, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';

export interface GetOptions {
  ca?: string;
  token?: string;
  timeoutMs: number;
  /** What is being asked, for messages: "Prometheus at https://…", "https://…". */
  what: string;
}

export interface GetResult {
  status: number;
  contentType: string;
  body: string;
}

const MAX_BODY = 1 << 20;

function describe(err: NodeJS.ErrnoException, what: string): string {
  if (err.code === 'ELINKLOCAL') return `cannot ask ${what}: ${err.message}`;
  if (err.code === 'ECONNREFUSED') return `cannot reach ${what}: connection refused`;
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return `cannot reach ${what}: the host name does not resolve`;
  if (err.code === 'ETIMEDOUT') return `${what} did not answer in time`;
  if (/CERT|SSL|TLS|self.signed|issuer/i.test(`${err.code ?? ''} ${err.message}`)) return `cannot trust ${what}: ${err.message} (check the check's caSecretRef)`;
  return `cannot reach ${what}: ${err.message}`;
}

/**
 * Link-local addresses (169.254.0.0/16, fe80::/10, and IPv4 ones mapped into
 * IPv6) are where clouds serve instance metadata and credentials. Checks are
 * written by whoever may edit an object, their answers are recorded where
 * that person reads them, and the backend asks from its own network
 * position: a check may not ask such an address, by name or by number.
 */
export function linkLocal(ip: string): boolean {
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  if (isIP(v4) === 4) return v4.startsWith('169.254.');
  return isIP(ip) === 6 && /^fe[89ab]/i.test(ip);
}

/** A URL's hostname without the brackets of an IPv6 literal. */
const hostLiteral = (hostname: string) => hostname.replace(/^\[|\]$/g, '');

/** The refusal of an address given by number, when it is link-local. */
const literalRefused = (host: string): Error | undefined => (isIP(host) && linkLocal(host) ? refusedAddress(host) : undefined);

const refusedAddress = (ip: string) => new Error(`${ip} is a link-local address (where clouds serve instance metadata and credentials): checks may not ask it`);

/** dns.lookup, refusing link-local answers. */
function guardedLookup(hostname: string, options: object, callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '');
    const bad = addresses.find((a) => linkLocal(a.address));
    if (bad) return callback(Object.assign(refusedAddress(bad.address), { code: 'ELINKLOCAL' }), '');
    if ((options as { all?: boolean }).all) return callback(null, addresses);
    callback(null, addresses[0]!.address, addresses[0]!.family);
  });
}

/** Throws when `hostname` is, or resolves to, a link-local address (for senders that cannot pass a lookup of their own, such as fetch). */
export async function refuseLinkLocal(hostname: string): Promise<void> {
  const literal = hostLiteral(hostname);
  if (isIP(literal)) {
    const refused = literalRefused(literal);
    if (refused) throw refused;
    return;
  }
  const addresses = await dnsPromises.lookup(literal, { all: true });
  const bad = addresses.find((a) => linkLocal(a.address));
  if (bad) throw refusedAddress(bad.address);
}

export function get(url: URL, opts: GetOptions): Promise<GetResult> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return Promise.reject(new Error(`${opts.what}: only http and https URLs are checked, not ${url.protocol}`));
  const refused = literalRefused(hostLiteral(url.hostname));
  if (refused) return Promise.reject(refused);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<GetResult>((resolve, reject) => {
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'kubectl-custom-backend (checks)' };
    if (opts.token) headers['Authorization'] = `Bearer ${opts.token}`;
    const req = request(url, { method: 'GET', headers, ...(opts.ca ? { ca: opts.ca } : {}), timeout: opts.timeoutMs, lookup: guardedLookup as never }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) {
          req.destroy(new Error(`${opts.what} answered more than 1 MiB`));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (e: NodeJS.ErrnoException) => reject(new Error(describe(e, opts.what))));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => reject(new Error(e.message.includes('more than 1 MiB') ? e.message : describe(e, opts.what))));
    req.end();
  });
}
