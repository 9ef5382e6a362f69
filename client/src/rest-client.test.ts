// The client's own behaviour against a local HTTPS peer that answers as
// scripted: retries that kube-apiserver asks for, the errors it reads, and
// the bytes of the identity headers it sends.
import { createServer, type Server } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate, newCertificateAuthority } from './certificates.ts';
import { ApiError } from './errors.ts';
import { newRestClient } from './rest-client.ts';

let server: Server;
let port: number;
let ca: string;
let script: { code: number; headers?: Record<string, string>; body?: string }[] = [];
let seen: { method: string; body: string; rawHeaders: string[] }[] = [];

beforeAll(async () => {
  const authority = await newCertificateAuthority('test-ca');
  const serving = await issueCertificate(authority, { commonName: 'localhost', usage: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  ca = authority.cert;
  server = createServer({ cert: serving.cert, key: serving.key }, (req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', body, rawHeaders: req.rawHeaders });
      const next = script.shift() ?? { code: 200, body: '{"ok":true}' };
      res.writeHead(next.code, { 'Content-Type': 'application/json', ...next.headers });
      res.end(next.body ?? JSON.stringify({ kind: 'Status', code: next.code, reason: next.code === 429 ? 'TooManyRequests' : 'ServiceUnavailable', message: 'storage is (re)initializing' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

function client(maxRetries?: number) {
  const sleeps: number[] = [];
  const c = newRestClient(
    { server: `https://127.0.0.1:${port}`, namespace: 'default', namespaceExplicit: false, tls: { ca: Buffer.from(ca), insecure: false }, auth: { token: 't' }, timeoutMs: 0 },
    { userAgent: 'test', exec: { stdinIsTTY: false, env: {} }, ...(maxRetries !== undefined ? { maxRetries } : {}), sleep: async (ms) => void sleeps.push(ms) },
  );
  return { c, sleeps };
}

describe('retries kube-apiserver asks for', () => {
  it.each([
    { name: '429 with Retry-After: sent again after it', first: { code: 429, headers: { 'Retry-After': '2' } }, retried: true, sleep: 2000 },
    { name: '429 without Retry-After: again after a second', first: { code: 429 }, retried: true, sleep: 1000 },
    { name: '503 with Retry-After: sent again', first: { code: 503, headers: { 'Retry-After': '1' } }, retried: true, sleep: 1000 },
    { name: 'a long Retry-After is capped at 10 s', first: { code: 429, headers: { 'Retry-After': '3600' } }, retried: true, sleep: 10_000 },
    { name: '503 without Retry-After: not sent again', first: { code: 503 }, retried: false },
    { name: '409: not sent again', first: { code: 409 }, retried: false },
  ])('$name', async ({ first, retried, sleep }) => {
    script = [first, { code: 200, body: '{"ok":true}' }];
    seen = [];
    const { c, sleeps } = client();
    const run = c.json('POST', '/apis/x', { body: { a: 1 } });
    if (retried) {
      expect(await run).toEqual({ ok: true });
      expect(seen.map((s) => s.body)).toEqual(['{"a":1}', '{"a":1}']);
      expect(sleeps).toEqual([sleep]);
    } else {
      await expect(run).rejects.toBeInstanceOf(ApiError);
      expect(seen).toHaveLength(1);
    }
    c.close();
  });

  it('gives up after maxRetries and reports the last answer', async () => {
    script = Array.from({ length: 5 }, () => ({ code: 429, headers: { 'Retry-After': '1' } }));
    seen = [];
    const { c } = client(3);
    const err = await c.json('GET', '/apis/x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(429);
    expect((err as ApiError).message).toBe('storage is (re)initializing');
    expect(seen).toHaveLength(4);
    c.close();
  });
});

describe('the CA as the process default (the plugin)', () => {
  const connect = (caPem: string) =>
    newRestClient(
      { server: `https://127.0.0.1:${port}`, namespace: 'default', namespaceExplicit: false, tls: { ca: Buffer.from(caPem), insecure: false }, auth: { token: 't' }, timeoutMs: 0 },
      { userAgent: 'test', exec: { stdinIsTTY: false, env: {} }, caIsProcessDefault: true, maxRetries: 0 },
    );

  it('trusts the kubeconfig CA', async () => {
    script = [];
    const c = connect(ca);
    expect(await c.json('GET', '/apis/x')).toEqual({ ok: true });
    c.close();
  });

  it('trusts nothing else: a server whose CA is not the kubeconfig one is refused', async () => {
    const other = await newCertificateAuthority('other-ca');
    const c = connect(other.cert);
    await expect(c.json('GET', '/apis/x')).rejects.toThrow(/cannot trust the cluster at https:\/\/127\.0\.0\.1:\d+/);
    c.close();
  });

  it('a CA without a PEM certificate still fails at the connection, as without the option', async () => {
    const c = connect('not a certificate');
    await expect(c.json('GET', '/apis/x')).rejects.toThrow(/cluster at https:\/\/127\.0\.0\.1:\d+/);
    c.close();
  });
});

describe('identity flags are sent as kubectl sends them: UTF-8 bytes', () => {
  // Node reads (and writes) a header value's characters as Latin-1 bytes:
  // the bytes on the wire are the value read back as Latin-1.
  const wireBytes = (rawHeaders: string[], name: string) =>
    rawHeaders.flatMap((v, i) => (i % 2 === 1 && rawHeaders[i - 1]!.toLowerCase() === name ? [Buffer.from(v, 'latin1').toString('hex')] : []));
  const utf8 = (s: string) => Buffer.from(s, 'utf8').toString('hex');
  const impersonating = (user: string | undefined, groups: string[]) =>
    newRestClient(
      { server: `https://127.0.0.1:${port}`, namespace: 'default', namespaceExplicit: false, tls: { ca: Buffer.from(ca), insecure: false }, auth: { token: 't' }, timeoutMs: 0, impersonate: { ...(user !== undefined ? { user } : {}), groups } },
      { userAgent: 'test', exec: { stdinIsTTY: false, env: {} }, maxRetries: 0 },
    );

  it.each([
    { name: 'ASCII: unchanged', user: 'alice', groups: ['devs', 'system:masters'] },
    { name: 'Latin-1 letters: their UTF-8 bytes, not one byte each (josé, not jos\\xe9)', user: 'jos\u00e9', groups: ['\u00e9quipe'] },
    { name: 'beyond Latin-1 (which Node would refuse outright)', user: '\u5f20\u4f1f', groups: ['\u{1f680}-team', 'caf\u00e9, bar'] },
  ])('$name', async ({ user, groups }) => {
    script = [];
    seen = [];
    const c = impersonating(user, groups);
    expect(await c.json('GET', '/apis/x')).toEqual({ ok: true });
    c.close();
    expect(wireBytes(seen[0]!.rawHeaders, 'impersonate-user')).toEqual([utf8(user)]);
    // One header line per group, as kubectl sends them.
    expect(wireBytes(seen[0]!.rawHeaders, 'impersonate-group')).toEqual(groups.map(utf8));
  });

  it('groups alone: no Impersonate-User', async () => {
    script = [];
    seen = [];
    const c = impersonating(undefined, ['\u00e9quipe']);
    await c.json('GET', '/apis/x');
    c.close();
    expect(wireBytes(seen[0]!.rawHeaders, 'impersonate-user')).toEqual([]);
    expect(wireBytes(seen[0]!.rawHeaders, 'impersonate-group')).toEqual([utf8('\u00e9quipe')]);
  });
});
