import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StatusError } from '../status/status-error.ts';
import { MAX_BODY_BYTES, readJsonBody } from './body.ts';

function message(body: string | Buffer, headers: Record<string, string> = {}): IncomingMessage {
  return Object.assign(Readable.from([Buffer.from(body)]), { headers }) as unknown as IncomingMessage;
}

async function outcome(p: Promise<unknown>): Promise<unknown> {
  try {
    return { ok: await p };
  } catch (err) {
    return err instanceof StatusError ? { code: err.code, reason: err.status.reason } : err;
  }
}

describe('readJsonBody', () => {
  it.each<{ name: string; headers: Record<string, string>; body: string; want: unknown }>([
    // kubectl create --raw -f sends none; kube-apiserver then takes its first supported type, JSON.
    { name: 'no Content-Type: read as JSON', headers: {}, body: '{"from":"a"}', want: { ok: { from: 'a' } } },
    { name: 'empty Content-Type: read as JSON', headers: { 'content-type': '' }, body: '{"from":"a"}', want: { ok: { from: 'a' } } },
    { name: 'JSON with parameters', headers: { 'content-type': 'Application/JSON; charset=utf-8' }, body: '[1]', want: { ok: [1] } },
    { name: 'no Content-Type and not JSON: 400, not 415', headers: {}, body: 'reason: x', want: { code: 400, reason: 'BadRequest' } },
    { name: 'another type: 415', headers: { 'content-type': 'text/plain' }, body: 'hi', want: { code: 415, reason: 'UnsupportedMediaType' } },
    { name: 'empty body: 400', headers: { 'content-type': 'application/json' }, body: '  ', want: { code: 400, reason: 'BadRequest' } },
    { name: 'declared too large: 413', headers: { 'content-type': 'application/json', 'content-length': String(MAX_BODY_BYTES + 1) }, body: '{}', want: { code: 413, reason: 'RequestEntityTooLarge' } },
  ])('$name', async ({ headers, body, want }) => {
    expect(await outcome(readJsonBody(message(body, headers)))).toEqual(want);
  });

  it('fuzzed: any bytes under any Content-Type end in a value or a StatusError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), fc.option(fc.string({ maxLength: 40 })), async (bytes, type) => {
        const got = await outcome(readJsonBody(message(Buffer.from(bytes), type === null ? {} : { 'content-type': type })));
        expect(got).toSatisfy((g: unknown) => typeof g === 'object' && g !== null && ('ok' in g || [400, 413, 415].includes((g as { code: number }).code)));
      }),
    );
  });
});
