import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { printDocument } from './document-printer.ts';
import { hasUnsafeCharacters } from './escape.ts';

const CRAFTED = {
  kind: 'CustomResourceHistory',
  metadata: { name: 'checkout', namespace: 'shop' },
  lives: [{
    uid: 'u1',
    live: true,
    entries: [
      { seq: 1, action: 'promote', user: 'mallory\u009b2J', time: '2025-06-01T10:00:00Z', reason: 'ok\x1b[2J\x1b[H\r\nfake row\x07\x7f' },
      { seq: 2, action: 'promote', user: 'user\u202eevil\u2066', time: '2025-06-01T11:00:00Z', reason: `long ${'words and more words '.repeat(10)}\u0085\u009b` },
    ],
  }],
  'key\u202e': ['\u2069', 1, null, true],
};

describe('printDocument', () => {
  it.each([
    { name: 'json', format: 'json' as const, read: (t: string): unknown => JSON.parse(t) },
    { name: 'yaml', format: 'yaml' as const, read: (t: string): unknown => parse(t) },
  ])('$name: parses back to the same data, and holds nothing a terminal acts on but line breaks', ({ format, read }) => {
    const text = printDocument(CRAFTED, format);
    expect(read(text)).toEqual(CRAFTED);
    expect(hasUnsafeCharacters(text.replaceAll('\n', ''))).toBe(false);
    expect(text.endsWith('\n')).toBe(true);
  });

  it.each([
    { name: 'json', format: 'json' as const, want: '{\n  "a": "x",\n  "b": [\n    1\n  ]\n}\n' },
    { name: 'yaml', format: 'yaml' as const, want: 'a: x\nb:\n  - 1\n' },
  ])('$name: plain data is printed as the encoder prints it', ({ format, want }) => {
    expect(printDocument({ a: 'x', b: [1] }, format)).toBe(want);
  });

  it('yaml: a string needing an escape is double-quoted, the others are left alone', () => {
    expect(printDocument({ a: 'x\u009by', b: 'plain' }, 'yaml')).toBe('a: "x\\u009by"\nb: plain\n');
  });
});
