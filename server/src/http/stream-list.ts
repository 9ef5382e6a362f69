// A list written as it is encoded, one item at a time, with back-pressure:
// what a large list costs in memory is the socket's buffer, not the list.
// Ten clients listing 5,000 objects at once would otherwise hold ten whole
// lists, each as objects and again as one string.
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';

/** Bytes gathered before each write: fewer, larger writes than one per item. */
const CHUNK = 64 * 1024;

/**
 * Writes `head` as a JSON object whose last field, `field`, is an array of
 * `items` (encoded lazily, in order). The output is the JSON.stringify of
 * `{ ...head, [field]: [...items] }`. Stops early if the client goes away.
 */
export async function writeStreamedList(res: ServerResponse, head: Record<string, unknown>, field: string, items: Iterable<unknown>): Promise<void> {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  const open = JSON.stringify(head);
  let chunk = `${open.slice(0, -1)}${open.length > 2 ? ',' : ''}${JSON.stringify(field)}:[`;
  let first = true;
  for (const item of items) {
    chunk += (first ? '' : ',') + JSON.stringify(item);
    first = false;
    if (chunk.length >= CHUNK) {
      const more = res.write(chunk);
      chunk = '';
      if (!more) {
        if (res.destroyed) return;
        await Promise.race([once(res, 'drain'), once(res, 'close')]);
        if (res.destroyed || res.closed) return;
      }
    }
  }
  res.end(`${chunk}]}`);
}
