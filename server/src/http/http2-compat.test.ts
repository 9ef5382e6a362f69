import { describe, expect, it } from 'vitest';
import { distinctHeaders } from './http2-compat.ts';

describe('distinctHeaders', () => {
  it('keeps repeated fields apart (Node joins them with ", " in headers) and drops the pseudo-headers', () => {
    const raw = [':method', 'GET', ':path', '/x', 'X-Remote-Group', 'a', 'x-remote-group', 'b, c', 'X-Remote-User', 'alice'];
    expect(distinctHeaders(raw)).toEqual({ 'x-remote-group': ['a', 'b, c'], 'x-remote-user': ['alice'] });
  });

  it('a name that is an Object.prototype member is a header like any other', () => {
    const h = distinctHeaders(['constructor', 'v', '__proto__', 'w']);
    expect(h['constructor']).toEqual(['v']);
    expect(h['__proto__']).toEqual(['w']);
    expect(Object.keys(h)).toEqual(['constructor', '__proto__']);
  });
});
