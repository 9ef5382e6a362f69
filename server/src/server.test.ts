// The whole filter chain in-process (testing/in-process-server.ts): what a
// request goes through from TLS to the handler, with fakes only where
// kube-apiserver would answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInProcess, type InProcess } from './testing/in-process-server.ts';

const G = '/apis/custom.example.com/v1';
const ONE = `${G}/namespaces/shop/customresources/one`;
/** A header value as it goes on the wire: UTF-8 bytes, which Node's client sends one per Latin-1 character. */
const wire = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
const status = (body: string) => JSON.parse(body) as { kind: string; code: number; reason: string; message: string };

describe('the chain in-process', () => {
  let s: InProcess;
  beforeAll(async () => {
    s = await startInProcess();
  });
  afterAll(() => s.close());

  it('serves an object to the front proxy', async () => {
    const r = await s.request({ path: ONE });
    expect(r.status, r.body).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ kind: 'CustomResource', metadata: { name: 'one' } });
  });

  describe('request data that names Object.prototype members', () => {
    it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])('subresource %s is 404 NotFound', async (sub) => {
      const r = await s.request({ path: `${ONE}/${sub}` });
      expect(r.status, r.body).toBe(404);
      expect(status(r.body)).toMatchObject({ kind: 'Status', reason: 'NotFound' });
    });

    it.each(['constructor', '__proto__', 'toString'])('X-Remote-Extra-%s is an extra like any other', async (key) => {
      const r = await s.request({ path: ONE, headers: { 'X-Remote-Group': [], [`X-Remote-Extra-${key}`]: 'v' } });
      expect(r.status, r.body).toBe(200);
      expect(s.authorizer.asked.at(-1)?.user.extra).toEqual({ [key.toLowerCase()]: ['v'] });
    });
  });

  it('reads identity headers as UTF-8, as kube-apiserver sends them', async () => {
    const r = await s.request({ path: ONE, headers: { 'X-Remote-User': wire('jos\u00e9'), 'X-Remote-Group': wire('\u00e9quipe') } });
    expect(r.status, r.body).toBe(200);
    expect(s.authorizer.asked.at(-1)?.user).toMatchObject({ name: 'jos\u00e9', groups: ['\u00e9quipe', 'system:authenticated'] });
  });

  it('accepts a user with more groups than fit in Node\'s default 16 KiB of headers (Go allows 1 MiB)', async () => {
    const groups = Array.from({ length: 2_000 }, (_, i) => `group-${i}-${'g'.repeat(40)}`);
    const r = await s.request({ path: ONE, headers: { 'X-Remote-Group': groups } });
    expect(r.status, r.body).toBe(200);
    expect(s.authorizer.asked.at(-1)?.user.groups).toHaveLength(2_001);
  });
});
