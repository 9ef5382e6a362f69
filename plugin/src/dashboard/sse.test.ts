import { describe, expect, it } from 'vitest';
import { sseComment, sseEvent, sseParser, sseRetry } from './sse.ts';

describe('server-sent events', () => {
  it('frames an event with its id and JSON data, ended by a blank line', () => {
    expect(sseEvent('change', { a: 'b\nc' }, '42')).toBe('event: change\nid: 42\ndata: {"a":"b\\nc"}\n\n');
    expect(sseEvent('live', { live: true })).toBe('event: live\ndata: {"live":true}\n\n');
  });

  it('refuses names and ids that would break the framing', () => {
    expect(() => sseEvent('a\nb', {})).toThrow();
    expect(() => sseEvent('a', {}, '1\n2')).toThrow();
  });

  it('writes comments and the retry interval', () => {
    expect(sseComment('keep\nalive')).toBe(': keep alive\n\n');
    expect(sseRetry(1000.7)).toBe('retry: 1000\n\n');
  });

  it('reads back what it writes, across chunk boundaries', () => {
    const parse = sseParser();
    const text = sseRetry(1000) + sseEvent('snapshot', { items: [] }, '7') + sseComment('x') + sseEvent('live', { live: false, message: 'gone' });
    const events = [...text].flatMap((ch) => parse(ch));
    expect(events).toEqual([
      { event: 'snapshot', data: '{"items":[]}', id: '7' },
      { event: 'live', data: '{"live":false,"message":"gone"}' },
    ]);
  });
});
