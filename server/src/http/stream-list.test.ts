import { PassThrough } from 'node:stream';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { writeStreamedList } from './stream-list.ts';

/** A response that collects what is written, with a small buffer so back-pressure happens. */
function fakeResponse() {
  const sink = new PassThrough({ highWaterMark: 16 * 1024 });
  let text = '';
  let status = 0;
  const res = Object.assign(sink, {
    writeHead(code: number) {
      status = code;
      return res;
    },
  }) as unknown as ServerResponse & PassThrough;
  // Read slowly: one chunk at a time, off the event loop's current turn.
  sink.on('data', (d: Buffer) => {
    text += d.toString();
    sink.pause();
    setImmediate(() => sink.resume());
  });
  const done = new Promise<void>((r) => sink.on('finish', () => r()));
  return { res, done, text: () => text, status: () => status };
}

describe('writeStreamedList', () => {
  it.each([
    { name: 'no items', head: { kind: 'List', metadata: { resourceVersion: '1' } }, items: [] as unknown[] },
    { name: 'one item', head: { kind: 'List', metadata: {} }, items: [{ a: 1 }] },
    { name: 'many items, larger than the buffer', head: { apiVersion: 'v1', kind: 'List', metadata: { continue: 'x' } }, items: Array.from({ length: 3000 }, (_, i) => ({ name: `obj-${i}`, text: 'é"\\n'.repeat(20) })) },
    { name: 'an empty head', head: {}, items: [1, 2] },
  ])('writes exactly JSON.stringify of the whole list: $name', async ({ head, items }) => {
    const f = fakeResponse();
    await writeStreamedList(f.res, head, 'items', items);
    await f.done;
    expect(f.status()).toBe(200);
    expect(f.text()).toBe(JSON.stringify({ ...head, items }));
  });

  it('encodes lazily: items after the client left are never encoded', async () => {
    const f = fakeResponse();
    let encoded = 0;
    function* lazy() {
      for (let i = 0; i < 100_000; i++) {
        encoded++;
        if (i === 500) f.res.destroy();
        yield { i, pad: 'x'.repeat(200) };
      }
    }
    await writeStreamedList(f.res, { kind: 'List' }, 'items', lazy());
    expect(encoded).toBeLessThan(5_000);
  });
});
