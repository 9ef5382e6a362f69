// Who may talk to the dashboard: whoever holds the random token printed in
// its URL. The first load exchanges the token in the URL for an HttpOnly,
// SameSite=Strict cookie and redirects to the same address without it (so
// it stays out of the history, bookmarks and Referer). Every request needs
// the cookie; a state-changing one also needs the token in a header, which
// another site's page cannot set (CSRF), and an Origin, when the browser
// sends one, that is ours. The Host header is checked first (host-check.ts).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { hostAllowed, type BoundAddress } from './host-check.ts';

/** The header the page sends its token in with every state-changing request. */
const TOKEN_HEADER = 'x-dashboard-token';
/** The query parameter of the printed URL. */
export const TOKEN_PARAM = 'token';

/** 256 random bits, URL-safe. */
export function newToken(random: (n: number) => Buffer = randomBytes): string {
  return random(32).toString('base64url');
}

/** Compares in constant time (of the digests), whatever the lengths. */
export function tokensEqual(given: string | undefined, token: string): boolean {
  if (given === undefined || given === '') return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(token));
}

/** Cookies are per host, not per port: two dashboards on one machine must not overwrite each other's. */
export function cookieName(port: number): string {
  return `kubectl-custom-dashboard-${port}`;
}

function sessionCookie(name: string, token: string): string {
  return `${name}=${token}; HttpOnly; SameSite=Strict; Path=/`;
}

/** The cookies of a Cookie header; the first of a repeated name wins, as browsers send the most specific first. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (!out.has(name)) out.set(name, part.slice(eq + 1).trim());
  }
  return out;
}

export interface RequestFacts {
  method: string;
  /** The request target: path and query. */
  url: string;
  host: string | undefined;
  cookie: string | undefined;
  origin: string | undefined;
  tokenHeader: string | undefined;
}

export interface SessionConfig {
  token: string;
  bound: BoundAddress;
}

export type Admission =
  | { kind: 'allow' }
  /** The URL's token is right: set the cookie and send the browser to `location`. */
  | { kind: 'exchange'; location: string; cookie: string }
  | { kind: 'refuse'; code: 401 | 403; message: string };

const SAFE_METHODS = new Set(['GET', 'HEAD']);

function singleHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** The facts `admit` needs, from a Node request. */
export function requestFacts(req: { method?: string; url?: string; headers: Record<string, string | string[] | undefined> }): RequestFacts {
  return {
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    host: singleHeader(req.headers['host']),
    cookie: singleHeader(req.headers['cookie']),
    origin: singleHeader(req.headers['origin']),
    tokenHeader: singleHeader(req.headers[TOKEN_HEADER]),
  };
}

/** Whether an Origin header names this server (scheme http, an allowed host and our port). */
function originAllowed(origin: string, bound: BoundAddress): boolean {
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return false;
  }
  return u.protocol === 'http:' && u.pathname === '/' && u.username === '' && hostAllowed(u.host, bound);
}

/** Decides what to do with a request before anything else looks at it. */
export function admit(r: RequestFacts, s: SessionConfig): Admission {
  if (!hostAllowed(r.host, s.bound)) {
    return { kind: 'refuse', code: 403, message: `Host header ${JSON.stringify(r.host ?? '')} is not this dashboard's address; open the URL that kubectl custom dashboard printed` };
  }
  const name = cookieName(s.bound.port);
  const url = new URL(r.url, 'http://dashboard.invalid');
  const given = url.searchParams.get(TOKEN_PARAM);
  if (given !== null) {
    if (!SAFE_METHODS.has(r.method) || !tokensEqual(given, s.token)) {
      return { kind: 'refuse', code: 403, message: 'the token in the URL is not this dashboard\'s; open the URL that kubectl custom dashboard printed' };
    }
    url.searchParams.delete(TOKEN_PARAM);
    return { kind: 'exchange', location: url.pathname + url.search, cookie: sessionCookie(name, s.token) };
  }
  if (!tokensEqual(parseCookies(r.cookie).get(name), s.token)) {
    return { kind: 'refuse', code: 401, message: 'no valid session: open the URL (with its token) that kubectl custom dashboard printed' };
  }
  if (!SAFE_METHODS.has(r.method)) {
    if (!tokensEqual(r.tokenHeader, s.token)) return { kind: 'refuse', code: 403, message: `a change needs the dashboard's token in the ${TOKEN_HEADER} header` };
    if (r.origin !== undefined && !originAllowed(r.origin, s.bound)) return { kind: 'refuse', code: 403, message: `requests from ${JSON.stringify(r.origin)} are not accepted` };
  }
  return { kind: 'allow' };
}
