// What the dashboard serves, by method and path. The page's API mirrors the
// paths of custom.example.com under /api/, and only the calls the page
// makes: reading describe-state and the whole trail, and the three changes.
// Each is sent on to the cluster with the user's own credentials; nothing
// else is reachable through the dashboard.
import { objectPath } from '../../../api/src/names.ts';

export type Route =
  | { kind: 'page' }
  | { kind: 'asset'; name: string }
  /** Who the page acts as, over what, and the token for its changes. */
  | { kind: 'session' }
  /** The live feed: every object in scope, then each change (server-sent events). */
  | { kind: 'events'; labelSelector: string | undefined }
  | { kind: 'forward'; method: 'GET' | 'POST' | 'PUT'; apiPath: string; withBody: boolean }
  | { kind: 'error'; code: 404 | 405; message: string; allow?: string };

/** The subresources the page uses, and with which methods. */
const FORWARDED: Readonly<Record<string, Readonly<Record<string, boolean>>>> = {
  // method → whether it carries a body
  state: { GET: false, PUT: true },
  history: { GET: false },
  promote: { POST: true },
  approve: { POST: true },
};

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

const notFound = (path: string): Route => ({ kind: 'error', code: 404, message: `the dashboard serves nothing at ${path}` });
const onlyGet = (path: string): Route => ({ kind: 'error', code: 405, message: `${path} is read with GET only`, allow: 'GET, HEAD' });

export function route(method: string, target: string, assetNames: ReadonlySet<string>): Route {
  const url = new URL(target, 'http://dashboard.invalid');
  const path = url.pathname;
  const read = method === 'GET' || method === 'HEAD';
  if (path === '/' || path === '/index.html') return read ? { kind: 'page' } : onlyGet(path);
  if (path.startsWith('/assets/')) {
    const name = path.slice('/assets/'.length);
    if (!assetNames.has(name)) return notFound(path);
    return read ? { kind: 'asset', name } : onlyGet(path);
  }
  if (path === '/api/session') return read ? { kind: 'session' } : onlyGet(path);
  if (path === '/api/events') return read ? { kind: 'events', labelSelector: url.searchParams.get('labelSelector') || undefined } : onlyGet(path);
  const m = /^\/api\/namespaces\/([^/]+)\/customresources\/([^/]+)\/([^/]+)$/.exec(path);
  if (!m) return notFound(path);
  const [ns, name, sub] = [decode(m[1]!), decode(m[2]!), m[3]!];
  const methods = FORWARDED[sub];
  if (!methods || ns === undefined || name === undefined || !DNS_LABEL.test(ns) || !DNS_SUBDOMAIN.test(name)) return notFound(path);
  const verb = method === 'HEAD' ? 'GET' : method;
  if (!Object.hasOwn(methods, verb)) return { kind: 'error', code: 405, message: `${sub} takes ${Object.keys(methods).join(' or ')}`, allow: Object.keys(methods).join(', ') };
  return { kind: 'forward', method: verb as 'GET' | 'POST' | 'PUT', apiPath: objectPath(ns, name, sub), withBody: methods[verb]! };
}
