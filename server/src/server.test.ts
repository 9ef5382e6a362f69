// The whole filter chain in-process (testing/in-process-server.ts): what a
// request goes through from TLS to the handler, with fakes only where
// kube-apiserver would answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInProcess, type InProcess } from './testing/in-process-server.ts';

const G = '/apis/custom.example.com/v1';

describe('the chain in-process', () => {
  let s: InProcess;
  beforeAll(async () => {
    s = await startInProcess();
  });
  afterAll(() => s.close());

  it('serves an object to the front proxy', async () => {
    const r = await s.request({ path: `${G}/namespaces/shop/customresources/one` });
    expect(r.status, r.body).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ kind: 'CustomResource', metadata: { name: 'one' } });
  });
});
