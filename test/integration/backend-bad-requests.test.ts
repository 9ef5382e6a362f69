// Bad requests, sent straight to the backend as an authorized user: each gets
// a metav1.Status with the documented code and reason, and the backend stays
// healthy throughout. The rows and tests marked "was" are issue 12's faults.
import { readFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { backend, direct, frontProxyCert, proxied } from './backend-client.ts';
import { eventually, kubeConfig, useNamespace, watch } from './harness.ts';

const ns = useNamespace(import.meta.filename);
const G = '/apis/custom.example.com/v1';
const admin = { user: 'root', groups: ['system:masters'] };
const nsPath = () => `${G}/namespaces/${ns()}/customresources`;
const big = Buffer.alloc(3 * 1024 * 1024 + 10, 'a');

beforeAll(async () => {
  await kubeConfig('admin').makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
    group: 'example.com', version: 'v1', plural: 'customresources', namespace: ns(),
    body: { apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name: 'one' }, spec: { name: 'One', states: ['a', 'b'] } },
  });
  await eventually('the backend has it', async () => (await proxied({ ...admin, path: `${nsPath()}/one` })).status === 200);
});

type Case = { name: string; method?: string; path: () => string; headers?: Record<string, string | string[]>; body?: string | Buffer; code: number; reason: string; message?: string | RegExp };

const cases: Case[] = [
  // Paths
  { name: 'unknown top-level path', path: () => '/nope', code: 404, reason: 'NotFound' },
  { name: 'unknown group', path: () => '/apis/other.example.com/v1/customresources', code: 404, reason: 'NotFound' },
  { name: 'unknown version', path: () => '/apis/custom.example.com/v2/customresources', code: 404, reason: 'NotFound' },
  { name: 'unknown resource', path: () => `${G}/namespaces/x/widgets`, code: 404, reason: 'NotFound' },
  { name: 'object that does not exist', path: () => `${nsPath()}/missing`, code: 404, reason: 'NotFound', message: 'customresources.custom.example.com "missing" not found' },
  { name: 'unknown subresource', path: () => `${nsPath()}/one/status`, code: 404, reason: 'NotFound' },
  { name: 'name without a namespace', path: () => `${G}/customresources/one`, code: 404, reason: 'NotFound' },
  { name: 'bad percent escape', path: () => `${nsPath()}/%zz`, code: 400, reason: 'BadRequest' },
  // Methods
  { name: 'DELETE an object', method: 'DELETE', path: () => `${nsPath()}/one`, code: 405, reason: 'MethodNotAllowed' },
  { name: 'DELETE a collection', method: 'DELETE', path: () => nsPath(), code: 405, reason: 'MethodNotAllowed' },
  { name: 'POST a new object', method: 'POST', path: () => nsPath(), headers: { 'Content-Type': 'application/json' }, body: '{}', code: 405, reason: 'MethodNotAllowed' },
  { name: 'PUT an object', method: 'PUT', path: () => `${nsPath()}/one`, headers: { 'Content-Type': 'application/json' }, body: '{}', code: 405, reason: 'MethodNotAllowed' },
  { name: 'PATCH an object', method: 'PATCH', path: () => `${nsPath()}/one`, headers: { 'Content-Type': 'application/merge-patch+json' }, body: '{}', code: 405, reason: 'MethodNotAllowed' },
  { name: 'POST to discovery', method: 'POST', path: () => G, code: 405, reason: 'MethodNotAllowed' },
  { name: 'DELETE on state', method: 'DELETE', path: () => `${nsPath()}/one/state`, code: 405, reason: 'MethodNotAllowed' },
  { name: 'GET on promote', path: () => `${nsPath()}/one/promote`, code: 405, reason: 'MethodNotAllowed' },
  // Media types
  { name: 'Accept protobuf only', path: () => nsPath(), headers: { Accept: 'application/vnd.kubernetes.protobuf' }, code: 406, reason: 'NotAcceptable', message: /only the following media types are accepted/ },
  { name: 'Accept text/html', path: () => `${nsPath()}/one`, headers: { Accept: 'text/html' }, code: 406, reason: 'NotAcceptable' },
  { name: 'Accept an unknown conversion', path: () => nsPath(), headers: { Accept: 'application/json;as=Frobnicate;v=v1;g=meta.k8s.io' }, code: 406, reason: 'NotAcceptable' },
  { name: 'Accept discovery v2beta1 only', path: () => '/apis', headers: { Accept: 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList' }, code: 406, reason: 'NotAcceptable' },
  { name: 'promote with a text body', method: 'POST', path: () => `${nsPath()}/one/promote`, headers: { 'Content-Type': 'text/plain' }, body: 'hi', code: 415, reason: 'UnsupportedMediaType' },
  { name: 'set-state with an oversized body', method: 'PUT', path: () => `${nsPath()}/one/state`, headers: { 'Content-Type': 'application/json' }, body: big, code: 413, reason: 'RequestEntityTooLarge', message: 'Request entity too large: limit is 3145728' },
  // Selectors
  { name: 'label selector syntax', path: () => `${nsPath()}?labelSelector=${encodeURIComponent('a b')}`, code: 400, reason: 'BadRequest', message: "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt" },
  { name: 'label selector bad key', path: () => `${nsPath()}?labelSelector=${encodeURIComponent('-x=1')}`, code: 400, reason: 'BadRequest' },
  { name: 'label selector unclosed set', path: () => `${nsPath()}?labelSelector=${encodeURIComponent('a in (b')}`, code: 400, reason: 'BadRequest' },
  { name: 'field selector on an unsupported field', path: () => `${nsPath()}?fieldSelector=spec.name%3Dx`, code: 400, reason: 'BadRequest', message: 'field label not supported: spec.name' },
  { name: 'field selector syntax', path: () => `${nsPath()}?fieldSelector=metadata.name`, code: 400, reason: 'BadRequest' },
  { name: 'field selector unescaped =', path: () => `${nsPath()}?fieldSelector=${encodeURIComponent('metadata.name=a=b')}`, code: 400, reason: 'BadRequest' },
  // limit / continue
  { name: 'limit not a number', path: () => `${nsPath()}?limit=abc`, code: 400, reason: 'BadRequest' },
  { name: 'negative limit', path: () => `${nsPath()}?limit=-1`, code: 422, reason: 'Invalid' },
  { name: 'continue not base64 JSON', path: () => `${nsPath()}?limit=1&continue=garbage`, code: 400, reason: 'BadRequest', message: /invalid continue token/ },
  { name: 'continue from another server', path: () => `${nsPath()}?limit=1&continue=${Buffer.from('{"v":"x","rv":1,"start":"a"}').toString('base64url')}`, code: 400, reason: 'BadRequest' },
  { name: 'continue with a resourceVersion', path: () => `${nsPath()}?continue=${Buffer.from('{"v":"meta.k8s.io/v1","rv":5,"start":"a\\u0000"}').toString('base64url')}&resourceVersion=5`, code: 400, reason: 'BadRequest', message: 'specifying resource version is not allowed when using continue' },
  // resourceVersion
  { name: 'resourceVersion not a number', path: () => `${nsPath()}?resourceVersion=abc`, code: 422, reason: 'Invalid' },
  { name: 'resourceVersionMatch without resourceVersion', path: () => `${nsPath()}?resourceVersionMatch=Exact`, code: 422, reason: 'Invalid', message: /resourceVersionMatch is forbidden unless resourceVersion is provided/ },
  { name: 'resourceVersionMatch unknown', path: () => `${nsPath()}?resourceVersion=1&resourceVersionMatch=Sometimes`, code: 422, reason: 'Invalid' },
  { name: 'Exact with resourceVersion 0', path: () => `${nsPath()}?resourceVersion=0&resourceVersionMatch=Exact`, code: 422, reason: 'Invalid' },
  { name: 'resourceVersion far in the future', path: () => `${nsPath()}?resourceVersion=999999999`, code: 504, reason: 'Timeout', message: /Too large resource version/ },
  { name: 'sendInitialEvents on a list', path: () => `${nsPath()}?sendInitialEvents=true`, code: 422, reason: 'Invalid', message: /sendInitialEvents is forbidden for list/ },
  { name: 'sendInitialEvents without NotOlderThan', path: () => `${nsPath()}?watch=true&sendInitialEvents=true&allowWatchBookmarks=true`, code: 422, reason: 'Invalid' },
  { name: 'sendInitialEvents without bookmarks', path: () => `${nsPath()}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan`, code: 422, reason: 'Invalid' },
  { name: 'watch bool not a bool', path: () => `${nsPath()}?watch=true&allowWatchBookmarks=maybe`, code: 400, reason: 'BadRequest' },
  { name: 'includeObject unknown', path: () => `${nsPath()}?includeObject=All`, headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' }, code: 400, reason: 'BadRequest' },
  // Bodies
  { name: 'promote with invalid JSON', method: 'POST', path: () => `${nsPath()}/one/promote`, headers: { 'Content-Type': 'application/json' }, body: '{"reason":', code: 400, reason: 'BadRequest' },
  // Issue 12: each fault that ends in a Status.
  { name: 'promote without Content-Type is read as JSON (was 415)', method: 'POST', path: () => `${nsPath()}/one/promote`, body: '{"reason":', code: 400, reason: 'BadRequest', message: /not valid JSON/ },
  { name: '/metrics/ is not /metrics (was served as /metrics)', path: () => '/metrics/', code: 404, reason: 'NotFound' },
  { name: 'subresource named constructor (was 500)', path: () => `${nsPath()}/one/constructor`, code: 404, reason: 'NotFound' },
  { name: 'subresource named __proto__ (was 500)', path: () => `${nsPath()}/one/__proto__`, code: 404, reason: 'NotFound' },
  { name: 'X-Remote-Extra-constructor on a missing object (was 500)', path: () => `${nsPath()}/missing`, headers: { 'X-Remote-Extra-constructor': 'x' }, code: 404, reason: 'NotFound' },
  { name: 'X-Remote-Extra-__proto__ on a missing object (was 500)', path: () => `${nsPath()}/missing`, headers: { 'X-Remote-Extra-__proto__': 'x' }, code: 404, reason: 'NotFound' },
  { name: 'a request target that is no URL (was 500)', path: () => 'http://[', code: 400, reason: 'BadRequest' },
  { name: 'a group header over 16 KiB on a missing object (was 431, no Status)', path: () => `${nsPath()}/missing`, headers: { 'X-Remote-Group': ['system:masters', ...Array.from({ length: 1_200 }, (_, i) => `g-${i}-${'x'.repeat(30)}`)] }, code: 404, reason: 'NotFound' },
];

describe('bad requests straight to the backend', () => {
  it.each(cases)('$name → $code $reason', async (c) => {
    const r = await proxied({ ...admin, method: c.method ?? 'GET', path: c.path(), headers: c.headers ?? {}, ...(c.body !== undefined ? { body: c.body } : {}) });
    expect(r.status, r.body.slice(0, 300)).toBe(c.code);
    const st = r.json<{ kind: string; status: string; reason: string; code: number; message: string }>();
    expect(st).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: c.reason, code: c.code });
    if (typeof c.message === 'string') expect(st.message).toBe(c.message);
    else if (c.message) expect(st.message).toMatch(c.message);
  });

  it('an unauthenticated request is 401 and is not told the backend\'s version', async () => {
    const r = await direct({ path: `${nsPath()}/one` });
    expect(r.status).toBe(401);
    expect(r.json()).toMatchObject({ kind: 'Status', reason: 'Unauthorized', message: 'Unauthorized' });
    expect(r.headers['x-kubectl-custom-version']).toBeUndefined();
    expect((await proxied({ ...admin, path: `${nsPath()}/one` })).headers['x-kubectl-custom-version']).toMatch(/^v/);
  });

  it('a UTF-8 user name and 1,200 groups in the identity headers are read as sent', async () => {
    const groups = ['system:masters', ...Array.from({ length: 1_200 }, (_, i) => `g-${i}-${'x'.repeat(30)}`)];
    const r = await proxied({ user: Buffer.from('jos\u00e9').toString('latin1'), groups, path: `${nsPath()}/one` });
    expect(r.status, r.body.slice(0, 200)).toBe(200);
  });

  it.each([
    { timeoutSeconds: 0, why: '0 is the default, as upstream; it ended the watch at once' },
    { timeoutSeconds: 2_147_484, why: 'past Node\'s longest timer, which then fires after 1 ms' },
  ])('a watch with timeoutSeconds=$timeoutSeconds stays open and delivers events ($why)', async ({ timeoutSeconds }) => {
    const w = watch('admin', `${G}/namespaces/${ns()}/customresources?watch=true&timeoutSeconds=${timeoutSeconds}`);
    const name = `late-${timeoutSeconds}`;
    try {
      expect(await w.status).toBe(200);
      await kubeConfig('admin').makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
        group: 'example.com', version: 'v1', plural: 'customresources', namespace: ns(),
        body: { apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name }, spec: { name, states: ['a', 'b'] } },
      });
      const ended = w.ended.then(() => 'ended' as const);
      const got = w.until((e) => (e.object['metadata'] as { name?: string } | undefined)?.name === name).then(() => 'event' as const);
      expect(await Promise.race([got, ended])).toBe('event');
    } finally {
      w.close();
    }
  });

  it('a client gone in the middle of its body, and a request Node cannot parse, leave the backend serving', async () => {
    const { cert, key } = frontProxyCert();
    const send = (text: string) =>
      new Promise<string>((resolve, reject) => {
        let got = '';
        const sock = connect({ host: '127.0.0.1', port: backend().port, servername: 'localhost', ca: readFileSync(backend().caFile), cert, key }, () => {
          sock.write(text);
          if (text.includes('Content-Length: 1000')) setImmediate(() => sock.destroy());
        });
        sock.setEncoding('utf8');
        sock.on('data', (d: string) => (got += d));
        sock.on('close', () => resolve(got));
        sock.on('error', reject);
      });
    await send(`POST ${nsPath()}/one/promote HTTP/1.1\r\nHost: x\r\nX-Remote-User: root\r\nX-Remote-Group: system:masters\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"from":`);
    const refused = await send('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n');
    expect(refused).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(refused.slice(refused.indexOf('\r\n\r\n') + 4))).toMatchObject({ kind: 'Status', code: 400, reason: 'BadRequest' });
    expect((await direct({ path: '/readyz' })).status).toBe(200);
  });

  it('after all of the above, request metrics name only what the backend serves', async () => {
    const text = (await proxied({ ...admin, path: '/metrics' })).body;
    const series = text.split('\n').filter((l) => l.startsWith('apiserver_request_total{'));
    expect(series.length).toBeGreaterThan(5);
    for (const line of series) {
      expect(line).toMatch(/resource="(|customresources|other)"/);
      expect(line).toMatch(/subresource="(|state|promote|approve|history|check|other)"/);
      expect(line).not.toMatch(/constructor|__proto__|widgets|missing/);
    }
  });

  it('stays healthy after all of them', async () => {
    expect((await direct({ path: '/readyz' })).status).toBe(200);
    const r = await proxied({ ...admin, path: `${nsPath()}/one` });
    expect(r.status).toBe(200);
    expect(r.json<{ status: { state: string } }>().status.state).toBe('a');
  });
});
