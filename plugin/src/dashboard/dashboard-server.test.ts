// The dashboard's whole request chain in-process (session checks, routing,
// forwarding, the live feed), over real HTTP on loopback, with a fake of our
// RestClient in place of the cluster: what the cluster itself refuses is
// tested against a real one in test/integration/dashboard.test.ts.
import { request, type IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { apiError, customResource as obj, fakeClient } from '../testing/harness.ts';
import { startDashboard, type Dashboard } from './dashboard-server.ts';
import type { PageAssets } from './page-assets.ts';
import { CONTENT_SECURITY_POLICY } from './security-headers.ts';
import { cookieName } from './session.ts';
import { sseParser } from './sse.ts';

const TOKEN = 'test-token-0123456789';
const CR = '/apis/custom.example.com/v1/namespaces/shop/customresources';
const ASSETS: PageAssets = {
  'index.html': { contentType: 'text/html; charset=utf-8', body: '<!doctype html><title>t</title>' },
  'app.js': { contentType: 'text/javascript; charset=utf-8', body: 'void 0;' },
};
const quiet = { info: () => {}, warn: () => {} };

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

let dashboard: Dashboard | undefined;
afterEach(async () => {
  await dashboard?.close();
  dashboard = undefined;
});

async function start(routes: Record<string, unknown>, namespace: string | undefined = 'shop') {
  const client = fakeClient(routes);
  dashboard = await startDashboard({ client, assets: ASSETS, token: TOKEN, address: '127.0.0.1', port: 0, namespace, user: 'alice', log: quiet, heartbeatMs: 50 });
  const port = dashboard.bound.port;
  const cookie = `${cookieName(port)}=${TOKEN}`;
  const call = (method: string, path: string, o: { headers?: Record<string, string | undefined>; body?: string } = {}): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path, headers: Object.fromEntries(Object.entries({ Host: `127.0.0.1:${port}`, ...o.headers }).filter(([, v]) => v !== undefined)) as Record<string, string> }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      });
      req.on('error', reject);
      req.end(o.body);
    });
  return { client, port, cookie, call };
}


/** The first server-sent event of the dashboard's feed at `path`; the connection is closed after it. */
function firstEvent(port: number, cookie: string, path: string): Promise<{ event: string; data: string }> {
  const parse = sseParser();
  return new Promise((resolve) =>
    request({ host: '127.0.0.1', port, path, headers: { Host: `127.0.0.1:${port}`, Cookie: cookie } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        const e = parse(d)[0];
        if (e) {
          resolve(e);
          res.destroy();
        }
      });
    }).end(),
  );
}

describe('sessions', () => {
  it('prints a URL with the token, exchanged for an HttpOnly SameSite=Strict cookie and a redirect without it', async () => {
    const { call, port } = await start({});
    expect(dashboard!.url).toBe(`http://127.0.0.1:${port}/?token=${TOKEN}`);
    const r = await call('GET', `/?token=${TOKEN}`);
    expect(r.status).toBe(303);
    expect(r.headers['location']).toBe('/');
    expect(r.headers['set-cookie']).toEqual([`${cookieName(port)}=${TOKEN}; HttpOnly; SameSite=Strict; Path=/`]);
  });

  it('serves the page and its assets with the cookie, with the security headers and no CORS', async () => {
    const { call, cookie } = await start({});
    const page = await call('GET', '/', { headers: { Cookie: cookie, Origin: 'http://attacker.example' } });
    expect(page.status).toBe(200);
    expect(page.text).toBe(ASSETS['index.html']!.body);
    expect(page.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(Object.keys(page.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    const js = await call('GET', '/assets/app.js', { headers: { Cookie: cookie } });
    expect([js.status, js.headers['content-type'], js.text]).toEqual([200, 'text/javascript; charset=utf-8', 'void 0;']);
  });

  it.each([
    { name: 'no cookie: 401', path: '/', headers: {}, status: 401 },
    { name: 'no cookie on the API: a Status', path: '/api/session', headers: {}, status: 401 },
    { name: 'a wrong token in the URL: 403', path: '/?token=guess', headers: {}, status: 403 },
    { name: 'a wrong Host: 403', path: '/', headers: { Host: 'rebound.example:1' }, status: 403, withCookie: true },
  ])('$name', async ({ path, headers, status, withCookie }) => {
    const { call, cookie, port } = await start({});
    const host = 'Host' in headers ? { Host: String(headers.Host).replace(':1', `:${port}`) } : {};
    const r = await call('GET', path, { headers: { ...(withCookie ? { Cookie: cookie } : {}), ...host } });
    expect(r.status).toBe(status);
    if (path.startsWith('/api/')) expect(JSON.parse(r.text)).toMatchObject({ kind: 'Status', code: status, reason: 'Unauthorized' });
  });

  it('tells the page who it is and the token for its changes', async () => {
    const { call, cookie } = await start({});
    const r = await call('GET', '/api/session', { headers: { Cookie: cookie } });
    expect(JSON.parse(r.text)).toEqual({ user: 'alice', server: 'https://k.example', namespace: 'shop', token: TOKEN });
  });
});

describe('changes are forwarded with the user\'s credentials and answered as the cluster answered', () => {
  const promoted = { kind: 'CustomResourceState', state: 'prod' };

  it('forwards a promote with its body and answers the describe-state document', async () => {
    const { call, cookie, client } = await start({ [`POST ${CR}/checkout/promote`]: promoted });
    const r = await call('POST', '/api/namespaces/shop/customresources/checkout/promote', { headers: { Cookie: cookie, 'X-Dashboard-Token': TOKEN, 'Content-Type': 'application/json' }, body: '{"from":"dev","reason":"ok"}' });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual(promoted);
    expect(client.calls.at(-1)).toMatchObject({ method: 'POST', path: `${CR}/checkout/promote`, opts: { body: { from: 'dev', reason: 'ok' } } });
  });

  it("passes the cluster's refusal through, Status and code", async () => {
    const status = apiError(403, 'Forbidden', 'customresources.custom.example.com "checkout" is forbidden: User "bob" cannot create resource "customresources/promote"');
    const { call, cookie } = await start({
      [`POST ${CR}/checkout/promote`]: () => {
        throw status;
      },
    });
    const r = await call('POST', '/api/namespaces/shop/customresources/checkout/promote', { headers: { Cookie: cookie, 'X-Dashboard-Token': TOKEN, 'Content-Type': 'application/json' }, body: '{}' });
    expect(r.status).toBe(403);
    expect(JSON.parse(r.text)).toMatchObject({ kind: 'Status', reason: 'Forbidden', message: status.message });
  });

  it.each([
    { name: 'without the token header', headers: { 'Content-Type': 'application/json' }, body: '{}', status: 403 },
    { name: 'from another origin', headers: { 'X-Dashboard-Token': TOKEN, 'Content-Type': 'application/json', Origin: 'http://attacker.example' }, body: '{}', status: 403 },
    { name: 'as a form post', headers: { 'X-Dashboard-Token': TOKEN, 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'a=b', status: 415 },
    { name: 'not JSON', headers: { 'X-Dashboard-Token': TOKEN, 'Content-Type': 'application/json' }, body: '{', status: 400 },
    { name: 'not an object', headers: { 'X-Dashboard-Token': TOKEN, 'Content-Type': 'application/json' }, body: '[]', status: 400 },
    { name: 'too large', headers: { 'X-Dashboard-Token': TOKEN, 'Content-Type': 'application/json' }, body: JSON.stringify({ reason: 'x'.repeat(20_000) }), status: 413 },
  ])('refuses a change $name, and sends nothing', async ({ headers, body, status }) => {
    const { call, cookie, client } = await start({ [`POST ${CR}/checkout/promote`]: promoted });
    const r = await call('POST', '/api/namespaces/shop/customresources/checkout/promote', { headers: { Cookie: cookie, ...headers }, body });
    expect(r.status).toBe(status);
    expect(JSON.parse(r.text).message).toMatch(/^dashboard: /);
    expect(client.calls).toEqual([]);
  });

  it('reads describe-state and refuses what the page does not use', async () => {
    const { call, cookie } = await start({ [`GET ${CR}/checkout/state`]: { state: 'dev' } });
    expect(JSON.parse((await call('GET', '/api/namespaces/shop/customresources/checkout/state', { headers: { Cookie: cookie } })).text)).toEqual({ state: 'dev' });
    expect((await call('DELETE', '/api/namespaces/shop/customresources/checkout/state', { headers: { Cookie: cookie, 'X-Dashboard-Token': TOKEN } })).status).toBe(405);
    expect((await call('GET', '/api/v1/namespaces/kube-system/secrets', { headers: { Cookie: cookie } })).status).toBe(404);
  });
});

describe('the live feed', () => {
  it('sends a snapshot, then each watch event, and a new snapshot after 410 Gone', async () => {
    const watches: PassThrough[] = [];
    let lists = 0;
    const { port, cookie, client } = await start({
      [`GET ${CR}`]: () => (++lists === 1 ? { metadata: { resourceVersion: '10' }, items: [obj('a', '9')] } : { metadata: { resourceVersion: '30' }, items: [obj('a', '29', 'prod')] }),
      [`WATCH ${CR}`]: () => {
        const w = new PassThrough();
        watches.push(w);
        return Object.assign(w, { statusCode: 200, headers: {} });
      },
    });
    const events: { event: string; data: string; id?: string }[] = [];
    const parse = sseParser();
    const res = await new Promise<IncomingMessage>((resolve) => request({ host: '127.0.0.1', port, path: '/api/events?labelSelector=team%3Dpay', headers: { Host: `127.0.0.1:${port}`, Cookie: cookie } }, resolve).end());
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    let raw = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => {
      raw += d;
      events.push(...parse(d));
    });
    const until = async (n: number) => {
      for (let i = 0; i < 200 && events.length < n; i++) await new Promise((r) => setTimeout(r, 10));
      expect(events.length).toBeGreaterThanOrEqual(n);
    };
    await until(2);
    expect(events[0]).toEqual({ event: 'snapshot', id: '10', data: JSON.stringify({ resourceVersion: '10', items: [obj('a', '9')] }) });
    expect(events[1]).toEqual({ event: 'live', data: '{"live":true}' });
    // The list and the watch carry the page's label selector, the watch from the list's resourceVersion.
    expect(client.calls.map((c) => [c.method, c.opts?.query?.['labelSelector'], c.opts?.query?.['resourceVersion']])).toEqual([
      ['GET', 'team=pay', undefined],
      ['WATCH', 'team=pay', '10'],
    ]);
    watches[0]!.write(JSON.stringify({ type: 'MODIFIED', object: obj('a', '20', 'prod') }) + '\n');
    await until(3);
    expect(events[2]).toMatchObject({ event: 'change', id: '20' });
    expect(JSON.parse(events[2]!.data)).toEqual({ type: 'MODIFIED', object: obj('a', '20', 'prod') });
    watches[0]!.write(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' } }) + '\n');
    await until(5);
    expect(events.slice(3).map((e) => e.event)).toEqual(['snapshot', 'live']);
    expect(JSON.parse(events[3]!.data)).toMatchObject({ resourceVersion: '30' });
    expect(raw).toMatch(/^retry: 1000\n\n/);
    // Idle, it keeps the connection alive with comments.
    await new Promise((r) => setTimeout(r, 120));
    expect(raw).toContain(': keep-alive\n\n');
    res.destroy();
  });

  it('says when a label selector cannot be parsed, without asking the cluster', async () => {
    const { port, cookie, client } = await start({});
    const first = await firstEvent(port, cookie, '/api/events?labelSelector=a%20in%20(');
    expect(first.event).toBe('problem');
    expect(JSON.parse(first.data).message).toMatch(/^label selector: /);
    expect(client.calls).toEqual([]);
  });

  it('says why the list fails (the Status message), and keeps trying', async () => {
    const { port, cookie } = await start({
      [`GET ${CR}`]: () => {
        throw apiError(403, 'Forbidden', 'customresources is forbidden: User "bob" cannot list');
      },
    });
    const first = await firstEvent(port, cookie, '/api/events');
    expect(first).toEqual({ event: 'live', data: JSON.stringify({ live: false, message: 'customresources is forbidden: User "bob" cannot list' }) });
  });
});
