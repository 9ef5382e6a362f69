import { describe, expect, it } from 'vitest';
import { StatusError } from '../../status/status-error.ts';
import { decodeContinue, encodeContinue, parseListOptions, type ContinueToken } from './list-options.ts';

const q = (s: string) => new URLSearchParams(s);
const CONT = encodeContinue({ rv: 42, after: 'shop/checkout' });

function thrown(f: () => unknown): StatusError {
  try {
    f();
  } catch (e) {
    if (e instanceof StatusError) return e;
    throw new Error(`not a StatusError: ${String(e)}`, { cause: e });
  }
  throw new Error('did not throw');
}

describe('parseListOptions: accepted', () => {
  it('has defaults for an empty query', () => {
    const o = parseListOptions(q(''));
    expect(o).toMatchObject({ watch: false, allowWatchBookmarks: false, limit: 0 });
    expect(o.labelSelector.empty).toBe(true);
    expect(o.fieldSelector.empty).toBe(true);
    expect(Object.keys(o).sort()).toEqual(['allowWatchBookmarks', 'fieldSelector', 'labelSelector', 'limit', 'watch']);
  });

  it.each<{ name: string; query: string; want: Record<string, unknown>; absent?: string[] }>([
    { name: 'watch=true', query: 'watch=true', want: { watch: true } },
    { name: 'watch=1', query: 'watch=1', want: { watch: true } },
    { name: 'watch with any other value', query: 'watch=yes', want: { watch: true } },
    { name: 'watch with no value', query: 'watch', want: { watch: true } },
    { name: 'watch=0', query: 'watch=0', want: { watch: false } },
    { name: 'watch=FALSE', query: 'watch=FALSE', want: { watch: false } },
    { name: 'allowWatchBookmarks=1', query: 'allowWatchBookmarks=1', want: { allowWatchBookmarks: true } },
    { name: 'allowWatchBookmarks empty', query: 'allowWatchBookmarks=', want: { allowWatchBookmarks: false } },
    { name: 'limit', query: 'limit=500', want: { limit: 500 } },
    { name: 'empty limit', query: 'limit=', want: { limit: 0 } },
    { name: 'timeoutSeconds', query: 'timeoutSeconds=30', want: { timeoutSeconds: 30 } },
    { name: 'resourceVersion 0', query: 'resourceVersion=0', want: { resourceVersion: 0 } },
    { name: 'empty resourceVersion is absent', query: 'resourceVersion=', want: {}, absent: ['resourceVersion'] },
    { name: 'resourceVersion and NotOlderThan', query: 'resourceVersion=10&resourceVersionMatch=NotOlderThan', want: { resourceVersion: 10, resourceVersionMatch: 'NotOlderThan' } },
    { name: 'resourceVersion and Exact', query: 'resourceVersion=10&resourceVersionMatch=Exact', want: { resourceVersion: 10, resourceVersionMatch: 'Exact' } },
    { name: 'empty resourceVersionMatch is absent', query: 'resourceVersionMatch=', want: {}, absent: ['resourceVersionMatch'] },
    { name: 'continue', query: `continue=${CONT}&limit=2`, want: { continue: { rv: 42, after: 'shop/checkout' }, limit: 2 } },
    { name: 'continue with resourceVersion 0', query: `continue=${CONT}&resourceVersion=0`, want: { continue: { rv: 42, after: 'shop/checkout' }, resourceVersion: 0 } },
    {
      name: 'watch-list: sendInitialEvents with NotOlderThan and bookmarks',
      query: 'watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true',
      want: { watch: true, sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan', allowWatchBookmarks: true },
      absent: ['resourceVersion'],
    },
    { name: 'sendInitialEvents=false needs no bookmarks', query: 'watch=1&sendInitialEvents=false&resourceVersionMatch=NotOlderThan', want: { sendInitialEvents: false } },
  ])('$name', ({ query, want, absent }) => {
    const o = parseListOptions(q(query));
    expect(o).toMatchObject(want);
    for (const k of absent ?? []) expect(o).not.toHaveProperty(k);
  });

  it('parses selectors', () => {
    const o = parseListOptions(q('labelSelector=tier%3Dweb&fieldSelector=status.state%3Dprod'));
    expect(o.labelSelector.toString()).toBe('tier=web');
    expect(o.labelSelector.matches({ tier: 'web' })).toBe(true);
    expect(o.fieldSelector.matches({ 'status.state': 'prod' })).toBe(true);
    expect(o.fieldSelector.matches({ 'status.state': 'dev' })).toBe(false);
  });
});

describe('parseListOptions: 400 BadRequest', () => {
  it.each<{ name: string; query: string; message: string | RegExp }>([
    { name: 'bool not true or false', query: 'allowWatchBookmarks=yes', message: 'invalid value for allowWatchBookmarks: "yes": must be true or false' },
    { name: 'sendInitialEvents not a bool', query: 'watch=1&sendInitialEvents=TRUE', message: 'invalid value for sendInitialEvents: "TRUE": must be true or false' },
    { name: 'limit not an integer', query: 'limit=ten', message: 'invalid value for limit: "ten": must be an integer' },
    { name: 'limit a fraction', query: 'limit=1.5', message: 'invalid value for limit: "1.5": must be an integer' },
    { name: 'timeoutSeconds not an integer', query: 'timeoutSeconds=30s', message: 'invalid value for timeoutSeconds: "30s": must be an integer' },
    { name: 'unsupported field', query: 'fieldSelector=spec.name%3Dx', message: 'field label not supported: spec.name' },
    { name: 'bad label selector', query: 'labelSelector=tier+in+(web', message: "unable to parse requirement: found '', expected: ',' or ')'" },
    { name: 'continue with a resourceVersion', query: `continue=${CONT}&resourceVersion=5`, message: 'specifying resource version is not allowed when using continue' },
    { name: 'continue that is not JSON', query: 'continue=bm90LWpzb24', message: /^invalid continue token: continue key is not valid: it is not base64url-encoded JSON/ },
    { name: 'continue from elsewhere', query: `continue=${Buffer.from('{"v":"x","rv":1,"start":"a\\u0000"}').toString('base64url')}`, message: /it was not issued by this server/ },
  ])('$name', ({ query, message }) => {
    const e = thrown(() => parseListOptions(q(query)));
    expect(e.code).toBe(400);
    expect(e.status.reason).toBe('BadRequest');
    expect(e.message).toMatch(message);
  });
});

describe('parseListOptions: 422 Invalid', () => {
  const invalid = (summary: string) => `ListOptions.meta.k8s.io "" is invalid: ${summary}`;
  it.each<{ name: string; query: string; message: string; fields: string[] }>([
    {
      name: 'resourceVersion not a number',
      query: 'resourceVersion=abc',
      message: invalid('resourceVersion: Invalid value: "abc": must be a resourceVersion this server returned (a non-negative integer)'),
      fields: ['resourceVersion'],
    },
    {
      name: 'negative resourceVersion',
      query: 'resourceVersion=-1',
      message: invalid('resourceVersion: Invalid value: "-1": must be a resourceVersion this server returned (a non-negative integer)'),
      fields: ['resourceVersion'],
    },
    { name: 'negative limit', query: 'limit=-1', message: invalid('limit: Invalid value: -1: must be greater than or equal to 0'), fields: ['limit'] },
    { name: 'negative timeoutSeconds', query: 'timeoutSeconds=-5', message: invalid('timeoutSeconds: Invalid value: -5: must be greater than or equal to 0'), fields: ['timeoutSeconds'] },
    {
      name: 'unsupported resourceVersionMatch',
      query: 'resourceVersion=1&resourceVersionMatch=exact',
      message: invalid('resourceVersionMatch: Unsupported value: "exact": supported values: "Exact", "NotOlderThan", ""'),
      fields: ['resourceVersionMatch'],
    },
    {
      name: 'resourceVersionMatch without resourceVersion',
      query: 'resourceVersionMatch=NotOlderThan',
      message: invalid('resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided'),
      fields: ['resourceVersionMatch'],
    },
    {
      name: 'Exact at resourceVersion 0',
      query: 'resourceVersion=0&resourceVersionMatch=Exact',
      message: invalid('resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"'),
      fields: ['resourceVersionMatch'],
    },
    {
      name: 'resourceVersionMatch on a watch without sendInitialEvents',
      query: 'watch=1&resourceVersion=5&resourceVersionMatch=NotOlderThan',
      message: invalid('resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided'),
      fields: ['resourceVersionMatch'],
    },
    {
      name: 'resourceVersionMatch with continue',
      query: `continue=${CONT}&resourceVersion=0&resourceVersionMatch=NotOlderThan`,
      message: invalid('resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided'),
      fields: ['resourceVersionMatch'],
    },
    {
      name: 'sendInitialEvents on a list',
      query: 'sendInitialEvents=true',
      message: invalid('sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list'),
      fields: ['sendInitialEvents'],
    },
    {
      name: 'sendInitialEvents without NotOlderThan',
      query: 'watch=1&sendInitialEvents=false',
      message: invalid('resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan'),
      fields: ['resourceVersionMatch'],
    },
    {
      name: 'sendInitialEvents=true without bookmarks',
      query: 'watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan',
      message: invalid('allowWatchBookmarks: Forbidden: sendInitialEvents requires setting allowWatchBookmarks to true'),
      fields: ['allowWatchBookmarks'],
    },
    {
      name: 'several causes in one answer',
      query: 'limit=-2&timeoutSeconds=-1&sendInitialEvents=true',
      message: invalid('[limit: Invalid value: -2: must be greater than or equal to 0, timeoutSeconds: Invalid value: -1: must be greater than or equal to 0, sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list]'),
      fields: ['limit', 'timeoutSeconds', 'sendInitialEvents'],
    },
  ])('$name', ({ query, message, fields }) => {
    const e = thrown(() => parseListOptions(q(query)));
    expect(e.code).toBe(422);
    expect(e.status.reason).toBe('Invalid');
    expect(e.message).toBe(message);
    expect(e.status.details).toMatchObject({ name: '', group: 'meta.k8s.io', kind: 'ListOptions' });
    expect(e.status.details?.causes?.map((c) => c.field)).toEqual(fields);
  });
});

describe('continue tokens', () => {
  it.each<{ name: string; token: ContinueToken }>([
    { name: 'namespace/name', token: { rv: 42, after: 'shop/checkout' } },
    { name: 'empty key', token: { rv: 1, after: '' } },
    { name: 'unicode and separators', token: { rv: 9_007_199_254_740_991, after: 'ns/ünïcode+/=?&' } },
  ])('round-trips $name', ({ token }) => {
    const s = encodeContinue(token);
    expect(s).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeContinue(s)).toEqual(token);
  });

  it('encodes the apiserver continue-key shape', () => {
    expect(JSON.parse(Buffer.from(encodeContinue({ rv: 7, after: 'a/b' }), 'base64url').toString('utf8'))).toEqual({ v: 'meta.k8s.io/v1', rv: 7, start: 'a/b\u0000' });
  });

  const b64 = (o: unknown) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64url');
  it.each<{ name: string; token: string; message: RegExp }>([
    { name: 'not base64 JSON', token: '!!!', message: /it is not base64url-encoded JSON/ },
    { name: 'truncated', token: CONT.slice(0, -4), message: /it is not base64url-encoded JSON/ },
    { name: 'wrong version', token: b64({ v: 'meta.k8s.io/v2', rv: 1, start: 'a\u0000' }), message: /it was not issued by this server/ },
    { name: 'rv as a string', token: b64({ v: 'meta.k8s.io/v1', rv: '1', start: 'a\u0000' }), message: /it was not issued by this server/ },
    { name: 'rv 0', token: b64({ v: 'meta.k8s.io/v1', rv: 0, start: 'a\u0000' }), message: /it was not issued by this server/ },
    { name: 'rv negative', token: b64({ v: 'meta.k8s.io/v1', rv: -3, start: 'a\u0000' }), message: /it was not issued by this server/ },
    { name: 'rv fractional', token: b64({ v: 'meta.k8s.io/v1', rv: 1.5, start: 'a\u0000' }), message: /it was not issued by this server/ },
    { name: 'start without the NUL', token: b64({ v: 'meta.k8s.io/v1', rv: 1, start: 'a' }), message: /it was not issued by this server/ },
    { name: 'start missing', token: b64({ v: 'meta.k8s.io/v1', rv: 1 }), message: /it was not issued by this server/ },
    { name: 'a JSON list', token: b64([1, 2]), message: /it was not issued by this server/ },
    { name: 'a JSON number', token: b64('12'), message: /it was not issued by this server/ },
  ])('rejects $name with 400', ({ token, message }) => {
    const e = thrown(() => decodeContinue(token));
    expect(e.code).toBe(400);
    expect(e.message).toMatch(message);
  });
});

describe('continue tokens that decode to JSON null', () => {
  it('are a 400, not a 500', () => {
    expect(() => decodeContinue(Buffer.from('null').toString('base64url'))).toThrow(expect.objectContaining({ code: 400 }));
  });
});
