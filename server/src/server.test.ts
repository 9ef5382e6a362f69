// The whole filter chain in-process (testing/in-process-server.ts): what a
// request goes through from TLS to the handler, with fakes only where
// kube-apiserver would answer.
import { connect as http2Connect, type ClientHttp2Session } from 'node:http2';
import { X509Certificate } from 'node:crypto';
import { connect, TLSSocket } from 'node:tls';
import { describe, expect, it, vi } from 'vitest';
import { VERSION_HEADER } from '../../api/src/version.ts';
import { readJsonBody } from './http/body.ts';
import { newServiceUnavailable } from './status/status-error.ts';
import { fc, headerValue, requestText } from './testing/fuzz.ts';
import { storedObject, useInProcess, watchOutcome } from './testing/in-process-server.ts';

const G = '/apis/custom.example.com/v1';
const ONE = `${G}/namespaces/shop/customresources/one`;
/** A header value as it goes on the wire: UTF-8 bytes, which Node's client sends one per Latin-1 character. */
const wire = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
const status = (body: string) => JSON.parse(body) as { kind: string; code: number; reason: string; message: string };

describe('the chain in-process', () => {
  const s = useInProcess();

  it('serves an object to the front proxy', async () => {
    const r = await s().request({ path: ONE });
    expect(r.status, r.body).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ kind: 'CustomResource', metadata: { name: 'one' } });
  });

  describe('request data that names Object.prototype members', () => {
    it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])('subresource %s is 404 NotFound', async (sub) => {
      const r = await s().request({ path: `${ONE}/${sub}` });
      expect(r.status, r.body).toBe(404);
      expect(status(r.body)).toMatchObject({ kind: 'Status', reason: 'NotFound' });
    });

    it.each(['constructor', '__proto__', 'toString'])('X-Remote-Extra-%s is an extra like any other', async (key) => {
      const r = await s().request({ path: ONE, headers: { 'X-Remote-Group': [], [`X-Remote-Extra-${key}`]: 'v' } });
      expect(r.status, r.body).toBe(200);
      expect(s().authorizer.asked.at(-1)?.user.extra).toEqual({ [key.toLowerCase()]: ['v'] });
    });
  });

  it('reads identity headers as UTF-8, as kube-apiserver sends them', async () => {
    const r = await s().request({ path: ONE, headers: { 'X-Remote-User': wire('jos\u00e9'), 'X-Remote-Group': wire('\u00e9quipe') } });
    expect(r.status, r.body).toBe(200);
    expect(s().authorizer.asked.at(-1)?.user).toMatchObject({ name: 'jos\u00e9', groups: ['\u00e9quipe', 'system:authenticated'] });
  });

  it('accepts a user with more groups than fit in Node\'s default 16 KiB of headers (Go allows 1 MiB)', async () => {
    const groups = Array.from({ length: 2_000 }, (_, i) => `group-${i}-${'g'.repeat(40)}`);
    const r = await s().request({ path: ONE, headers: { 'X-Remote-Group': groups } });
    expect(r.status, r.body).toBe(200);
    expect(s().authorizer.asked.at(-1)?.user.groups).toHaveLength(2_001);
  });
});

describe('authentication and authorization failures', () => {
  const s = useInProcess({ tokens: { review: () => Promise.reject(new Error('dial tcp 10.0.0.1:443: connection refused')) } });

  it('a TokenReview that fails is 401 Unauthorized, with no detail and no version header', async () => {
    const r = await s().request({ path: ONE, as: 'none', headers: { Authorization: 'Bearer some-token' } });
    expect(r.status, r.body).toBe(401);
    expect(status(r.body)).toMatchObject({ kind: 'Status', code: 401, reason: 'Unauthorized', message: 'Unauthorized' });
    expect(r.body).not.toContain('10.0.0.1');
    expect(r.headers[VERSION_HEADER]).toBeUndefined();
    expect(s().log.lines.some((l) => l.level === 'error' && JSON.stringify(l).includes('connection refused'))).toBe(true);
  });

  it('no credentials at all: 401 without the version header', async () => {
    const r = await s().request({ path: ONE, as: 'none' });
    expect(r.status).toBe(401);
    expect(r.headers[VERSION_HEADER]).toBeUndefined();
  });

  it('an authenticated request gets the version header', async () => {
    const r = await s().request({ path: ONE });
    expect(r.headers[VERSION_HEADER]).toBe('v0.0.0-test');
  });

  it('a SubjectAccessReview that fails is 500 InternalError without the error\'s detail', async () => {
    s().authorizer.decide = () => Promise.reject(new Error('POST https://10.0.0.1/apis/authorization.k8s.io/v1/subjectaccessreviews: connection reset'));
    try {
      const r = await s().request({ path: ONE, headers: { 'X-Remote-Group': [] } });
      expect(r.status, r.body).toBe(500);
      expect(status(r.body)).toMatchObject({ kind: 'Status', code: 500, reason: 'InternalError' });
      expect(r.body).not.toContain('10.0.0.1');
      expect(s().log.lines.some((l) => l.level === 'error' && JSON.stringify(l).includes('connection reset'))).toBe(true);
    } finally {
      s().authorizer.decide = async () => ({ allowed: true });
    }
  });

  it('/metrics/ is not /metrics: a path is served exactly as it was authorized', async () => {
    const r = await s().request({ path: '/metrics/', headers: { 'X-Remote-Group': [] } });
    expect(r.status, r.body.slice(0, 100)).toBe(404);
    expect(s().authorizer.asked.at(-1)?.attrs).toEqual({ nonResource: { path: '/metrics/', verb: 'get' } });
    expect((await s().request({ path: '/metrics' })).status).toBe(200);
  });

  it('a request target that is no URL is 400 BadRequest, even before authentication', async () => {
    const r = await s().request({ path: 'http://[', as: 'none' });
    expect(r.status, r.body).toBe(400);
    expect(status(r.body)).toMatchObject({ kind: 'Status', reason: 'BadRequest' });
  });
});

describe('metrics cardinality', () => {
  const s = useInProcess({ subresources: { state: { verbs: ['get'], handle: async (_req, res) => void res.end('{}') } } });

  /** A deterministic stream of path segments (no escapes: every one is a valid path). */
  function* segments(seed: number): Generator<string> {
    let x = seed;
    for (;;) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      yield x.toString(36);
    }
  }
  const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'];
  const shapes = [
    (a: string) => `/${a}`,
    (a: string, b: string) => `/${a}/${b}`,
    (a: string) => `/apis/${a}/v1/namespaces/shop/customresources`,
    (a: string) => `/apis/custom.example.com/v1/namespaces/shop/${a}/one`,
    (a: string) => `${ONE}/${a}`,
    (a: string, b: string) => `${ONE}/${a}/${b}`,
    (a: string) => `${G}/namespaces/${a}/customresources/${a}/state`,
  ];
  const series = async () => (await s().cfg.metrics.registry.getSingleMetric('apiserver_request_total')!.get()).values.map((v) => JSON.stringify(v.labels)).sort();

  it('1,000 requests to random paths add no series', async () => {
    const seg = segments(42);
    const next = () => seg.next().value as string;
    // Every method on every shape once: the series such requests may have.
    for (const m of METHODS) for (const shape of shapes) await s().request({ method: m, path: shape(next(), next()) });
    const before = await series();
    for (let i = 0; i < 1_000; i++) {
      await s().request({ method: METHODS[i % METHODS.length], path: shapes[i % shapes.length]!(next(), next()) });
    }
    expect(await series()).toEqual(before);
    expect(before.length).toBeLessThan(60);
    for (const labels of before.map((l) => JSON.parse(l) as Record<string, string>)) {
      expect(['', 'customresources', 'other']).toContain(labels['resource']);
      expect(['', 'state', 'promote', 'approve', 'history', 'other']).toContain(labels['subresource']);
    }
  }, 120_000);
});

describe('watch timeoutSeconds', () => {
  const s = useInProcess();

  it('0 means the default, as in kube-apiserver: the watch stays open and delivers events', async () => {
    const res = await s().open({ path: `${G}/namespaces/shop/customresources?watch=true&timeoutSeconds=0` });
    expect(res.statusCode).toBe(200);
    const outcome = watchOutcome(res, 'two');
    s().kube.emit('ADDED', storedObject('shop', 'two'));
    expect(await outcome).toBe('event');
    res.destroy();
  });

  it('2147484 or more seconds does not overflow Node\'s timer', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const res = await s().open({ path: `${G}/namespaces/shop/customresources?watch=true&timeoutSeconds=2147484` });
      expect(res.statusCode).toBe(200);
      await new Promise((r) => setImmediate(r));
      res.destroy();
      expect(warnings).not.toContain('TimeoutOverflowWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('request timeout and retries', () => {
  const s = useInProcess({
      config: { requestTimeoutMs: 300 },
      subresources: {
        state: { verbs: ['get'], handle: () => new Promise<void>(() => {}) },
        promote: { verbs: ['create'], handle: () => Promise.reject(newServiceUnavailable('kube-apiserver is not available to store the change')) },
      },
    });

  it('a short request that takes longer than the timeout is answered 504 Timeout, as WithTimeoutForNonLongRunningRequests does', async () => {
    const r = await s().request({ path: `${ONE}/state` });
    expect(r.status, r.body).toBe(504);
    expect(status(r.body)).toMatchObject({ kind: 'Status', code: 504, reason: 'Timeout', message: 'Timeout: request did not complete within the allotted timeout' });
  });

  it('a watch is long-running: the request timeout does not end it', async () => {
    const res = await s().open({ path: `${G}/namespaces/shop/customresources?watch=true` });
    expect(res.statusCode).toBe(200);
    const outcome = watchOutcome(res, 'late');
    // Past the request timeout (300 ms here): its timer has had its chance to fire.
    await new Promise((r) => setTimeout(r, 600));
    s().kube.emit('ADDED', storedObject('shop', 'late'));
    expect(await outcome).toBe('event');
    res.destroy();
  });

  it('503 answers carry Retry-After', async () => {
    const r = await s().request({ method: 'POST', path: `${ONE}/promote`, headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBe('1');
    expect(status(r.body)).toMatchObject({ reason: 'ServiceUnavailable', details: { retryAfterSeconds: 1 } });
  });
});

describe('a handler that fails badly never takes the process down', () => {
  const s = useInProcess({
      subresources: {
        // Rejects with a value that cannot even be turned into a string.
        state: { verbs: ['get'], handle: async () => Promise.reject(Object.create(null)) },
        // Starts an answer, then fails on a later tick.
        promote: {
          verbs: ['create'],
          handle: async (req, res) => {
            if (req.headers['x-test'] === 'read-body') await readJsonBody(req);
            res.writeHead(200, { 'Content-Type': 'application/json' });
            res.write('{"partial":');
            await new Promise((r) => setImmediate(r));
            throw new TypeError('failed half-way');
          },
        },
      },
    });

  it('a rejection with a value that is no Error is 500 InternalError', async () => {
    const r = await s().request({ path: `${ONE}/state` });
    expect(r.status).toBe(500);
    expect(status(r.body)).toMatchObject({ kind: 'Status', reason: 'InternalError' });
    expect((await s().request({ path: ONE })).status).toBe(200);
  });

  it('a failure after the headers went out cuts that response; the server goes on serving', async () => {
    await expect(s().request({ method: 'POST', path: `${ONE}/promote`, headers: { 'Content-Type': 'application/json' }, body: '{}' })).rejects.toThrow();
    expect((await s().request({ path: ONE })).status).toBe(200);
  });

  it('a client that goes away in the middle of its body: the server goes on serving', async () => {
    await new Promise<void>((resolve, reject) => {
      const sock = connect({ host: '127.0.0.1', port: s().port, servername: 'localhost', rejectUnauthorized: false, cert: s().proxyCert.cert, key: s().proxyCert.key }, () => {
        sock.write(`POST ${ONE}/promote HTTP/1.1\r\nHost: x\r\nX-Remote-User: admin\r\nX-Remote-Group: system:masters\r\nX-Test: read-body\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"from":`, () => sock.destroy());
      });
      sock.on('close', () => resolve());
      sock.on('error', reject);
    });
    expect((await s().request({ path: ONE })).status).toBe(200);
  });
});

describe('the chain, fuzzed', () => {
  const s = useInProcess({
      subresources: {
        promote: {
          verbs: ['create'],
          handle: async (req, res) => {
            const body = await readJsonBody(req);
            res.writeHead(201, { 'Content-Type': 'application/json' });
            res.end(JSON.stringify({ got: body }));
          },
        },
      },
    });

  const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
  const part = fc.oneof(requestText(10), fc.constantFrom('apis', 'custom.example.com', 'v1', 'namespaces', 'shop', 'customresources', 'one', 'promote', 'state', 'proxy', 'metrics', 'openapi', 'v3', 'version', 'readyz', ''));
  const target = fc
    .tuple(fc.constantFrom('/', '/apis/custom.example.com/v1/', `${G}/namespaces/shop/customresources/`), fc.array(part, { maxLength: 5 }), fc.array(fc.tuple(fc.constantFrom('watch', 'labelSelector', 'fieldSelector', 'limit', 'continue', 'resourceVersion', 'timeoutSeconds', 'includeObject', 'dryRun'), requestText(12)), { maxLength: 3 }))
    .map(([head, parts, q]) => `${head}${parts.map((p) => encodeURI(p)).join('/')}?${q.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}`);
  const headers = fc.record(
    {
      Accept: fc.oneof(headerValue(30), fc.constantFrom('application/json;as=Table;v=v1;g=meta.k8s.io', 'application/yaml', 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList')),
      'Content-Type': fc.oneof(headerValue(20), fc.constant('application/json')),
      'X-Remote-User': headerValue(20),
      'X-Remote-Group': fc.array(headerValue(20), { maxLength: 3 }),
      'X-Remote-Extra-__proto__': headerValue(10),
      'X-Remote-Extra-constructor': headerValue(10),
    },
    { requiredKeys: [] },
  );

  it('never answers 500, and every failure is a metav1.Status', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...METHODS), target, headers, fc.option(requestText(40)), async (method, path, h, body) => {
        // A watch would stay open (it is long-running): the fuzz is about answers.
        const r = await s().request({ method, path: path.replace(/watch=/g, 'w=').replace(/\/watch(\/|\?|$)/g, '/w$1'), headers: { 'X-Remote-User': 'admin', 'X-Remote-Group': 'system:masters', ...h }, ...(body !== null && method !== 'GET' && method !== 'HEAD' ? { body } : {}) });
        expect(r.status, `${method} ${path}: ${r.body.slice(0, 200)}`).not.toBe(500);
        if (r.status >= 400 && method !== 'HEAD') expect(status(r.body)).toMatchObject({ kind: 'Status', code: r.status });
      }),
      { numRuns: 400 },
    );
  }, 120_000);
});

describe('what Node\'s HTTP parser refuses', () => {
  const s = useInProcess();

  it('is answered 400 with a Status, not a bare status line', async () => {
    const raw = await new Promise<string>((resolve, reject) => {
      let got = '';
      const sock = connect({ host: '127.0.0.1', port: s().port, servername: 'localhost', rejectUnauthorized: false }, () => sock.write('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n'));
      sock.setEncoding('utf8');
      sock.on('data', (d: string) => (got += d));
      sock.on('end', () => resolve(got));
      sock.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(status(raw.slice(raw.indexOf('\r\n\r\n') + 4))).toMatchObject({ kind: 'Status', code: 400, reason: 'BadRequest' });
  });
});

describe('requests in flight, as WithMaxInFlightLimit counts them', () => {
  const held: (() => void)[] = [];
  const s = useInProcess({
    config: { inFlight: { nonMutating: 2, mutating: 1 } },
    subresources: {
      // Handlers that answer when the test lets them.
      state: { verbs: ['get'], handle: (_req, res) => new Promise<void>((r) => held.push(() => (res.end('{}'), r()))) },
      promote: { verbs: ['create'], handle: (_req, res) => new Promise<void>((r) => held.push(() => (res.end('{}'), r()))) },
    },
  });
  // Not system:masters, whom kube-apiserver never turns away.
  const alice = { 'X-Remote-User': 'alice', 'X-Remote-Group': 'dev' };
  const json = { 'Content-Type': 'application/json', ...alice };
  const release = async (n: number) => {
    while (held.length < n) await new Promise((r) => setTimeout(r, 5));
    for (const h of held.splice(0)) h();
  };

  it('over the limit is 429 with Retry-After; mutating requests are counted apart; the seats come back', async () => {
    const reads = [s().request({ path: `${ONE}/state`, headers: alice }), s().request({ path: `${ONE}/state`, headers: alice })];
    const write = s().request({ method: 'POST', path: `${ONE}/promote`, headers: json, body: '{}' });
    await new Promise((r) => setTimeout(r, 50));
    while (held.length < 3) await new Promise((r) => setTimeout(r, 5));
    const third = await s().request({ path: `${ONE}/state`, headers: alice });
    expect(third.status, third.body).toBe(429);
    expect(third.headers['retry-after']).toBe('1');
    expect(status(third.body)).toMatchObject({ kind: 'Status', reason: 'TooManyRequests', message: 'Too many requests, please try again later.' });
    const secondWrite = await s().request({ method: 'POST', path: `${ONE}/promote`, headers: json, body: '{}' });
    expect(secondWrite.status).toBe(429);
    // system:masters is served even over the limit.
    const master = s().request({ path: `${ONE}/state` });
    await release(4);
    expect((await master).status).toBe(200);
    expect((await Promise.all([...reads, write])).map((r) => r.status)).toEqual([200, 200, 200]);
    const again = s().request({ path: `${ONE}/state`, headers: alice });
    await release(1);
    expect((await again).status).toBe(200);
  });

  it('watches are long-running: not counted', async () => {
    const reads = [s().request({ path: `${ONE}/state`, headers: alice }), s().request({ path: `${ONE}/state`, headers: alice })];
    while (held.length < 2) await new Promise((r) => setTimeout(r, 5));
    const res = await s().open({ path: `${G}/namespaces/shop/customresources?watch=true`, headers: alice });
    expect(res.statusCode).toBe(200);
    res.destroy();
    await release(2);
    await Promise.all(reads);
  });
});

describe('HTTP/2, as kube-apiserver\'s proxy speaks it', () => {
  const s = useInProcess();
  const session = () => {
    const c = http2Connect(`https://localhost:${s().port}`, { host: '127.0.0.1', rejectUnauthorized: false, maxSendHeaderBlockLength: 1 << 20, cert: s().proxyCert.cert, key: s().proxyCert.key });
    c.on('error', () => {});
    return c;
  };
  const get = (c: ClientHttp2Session, path: string, headers: Record<string, string | string[]> = {}) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const st = c.request({ ':path': path, 'x-remote-user': 'admin', ...headers });
      let status = 0;
      let body = '';
      st.on('response', (h) => (status = Number(h[':status'])));
      st.setEncoding('utf8');
      st.on('data', (d: string) => (body += d));
      st.on('end', () => resolve({ status, body }));
      st.on('error', reject);
    });

  it('is offered by ALPN beside HTTP/1.1, and serves as HTTP/1.1 does', async () => {
    const c = session();
    try {
      const r = await get(c, ONE);
      expect(c.alpnProtocol).toBe('h2');
      expect(r.status, r.body).toBe(200);
      expect(JSON.parse(r.body)).toMatchObject({ kind: 'CustomResource', metadata: { name: 'one' } });
    } finally {
      c.close();
    }
  });

  it('keeps repeated X-Remote-Group fields apart (Node would join them with ", ") and reads them as UTF-8', async () => {
    const c = session();
    try {
      const r = await get(c, ONE, { 'x-remote-user': wire('jos\u00e9'), 'x-remote-group': ['a', 'b, c', wire('\u00e9quipe')] });
      expect(r.status, r.body).toBe(200);
      expect(s().authorizer.asked.at(-1)?.user).toMatchObject({ name: 'jos\u00e9', groups: ['a', 'b, c', '\u00e9quipe', 'system:authenticated'] });
    } finally {
      c.close();
    }
  });

  it('accepts a user with 2,000 groups', async () => {
    const c = session();
    try {
      const groups = Array.from({ length: 2_000 }, (_, i) => `group-${i}-${'g'.repeat(40)}`);
      const r = await get(c, ONE, { 'x-remote-group': groups });
      expect(r.status, r.body).toBe(200);
      expect(s().authorizer.asked.at(-1)?.user.groups).toHaveLength(2_001);
    } finally {
      c.close();
    }
  });

  it('reads and verifies the proxy\'s certificate chain once per connection, not once per stream', async () => {
    const c = session();
    try {
      expect((await get(c, ONE)).status).toBe(200);
      // Node gives each stream a socket of its own (a proxy of the session's): the chain is the connection's.
      const read = vi.spyOn(TLSSocket.prototype, 'getPeerX509Certificate');
      const verified = vi.spyOn(X509Certificate.prototype, 'verify');
      try {
        for (let i = 0; i < 3; i++) expect((await get(c, ONE, { 'x-remote-user': `user-${i}` })).status).toBe(200);
        expect(s().authorizer.asked.at(-1)?.user.name).toBe('user-2');
        expect(read).not.toHaveBeenCalled();
        expect(verified).not.toHaveBeenCalled();
      } finally {
        read.mockRestore();
        verified.mockRestore();
      }
    } finally {
      c.close();
    }
  });

  it('a peer that breaks HTTP/2\'s framing loses its connection; the server goes on serving', async () => {
    await new Promise<void>((resolve) => {
      const t = connect({ host: '127.0.0.1', port: s().port, rejectUnauthorized: false, ALPNProtocols: ['h2'] }, () => {
        t.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
        // A frame of an unknown type that claims a length it never sends, then garbage.
        t.write(Buffer.concat([Buffer.from([0, 0x40, 0, 0xff, 0xff, 0, 0, 0, 1]), Buffer.alloc(64, 0xab)]));
        t.end();
      });
      t.on('error', () => {});
      t.on('close', () => resolve());
      t.resume();
    });
    const c = session();
    try {
      expect((await get(c, ONE)).status).toBe(200);
    } finally {
      c.close();
    }
  });

  it('carries 50 watches on one connection, each of which gets the next event', async () => {
    const c = session();
    try {
      const seen = Array.from({ length: 50 }, () => {
        const st = c.request({ ':path': `${G}/namespaces/shop/customresources?watch=true&resourceVersion=${s().kube.rv}`, 'x-remote-user': 'admin' });
        st.setEncoding('utf8');
        return new Promise<string>((resolve) => {
          let text = '';
          st.on('data', (d: string) => {
            text += d;
            if (text.includes('\n')) resolve(text.split('\n')[0]!);
          });
        });
      });
      await new Promise((r) => setTimeout(r, 200));
      s().kube.emit('ADDED', storedObject('shop', 'h2-watched'));
      const events = (await Promise.all(seen)).map((l) => JSON.parse(l) as { type: string; object: { metadata: { name: string } } });
      expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(Array(50).fill('ADDED h2-watched'));
    } finally {
      c.destroy();
    }
  });
});
