import { describe, expect, it } from 'vitest';
import { KUBE_APISERVER_HEADER_NAMES } from '../testing/front-proxy.ts';
import { fc, headerValue, requestText } from '../testing/fuzz.ts';
import { identityHeaderNames, userFromHeaders, type DistinctHeaders, type RequestHeaderNames } from './request-header.ts';
import type { UserInfo } from './user.ts';

// What kube-apiserver publishes by default in extension-apiserver-authentication.
const DEFAULT_NAMES: RequestHeaderNames = KUBE_APISERVER_HEADER_NAMES;

const CUSTOM_NAMES: RequestHeaderNames = {
  usernameHeaders: ['X-Proxy-User', 'X-Fallback-User'],
  uidHeaders: ['X-Proxy-Uid', 'X-Fallback-Uid'],
  groupHeaders: ['X-Proxy-Group', 'X-Proxy-Team'],
  extraHeaderPrefixes: ['X-Proxy-Extra-', 'X-Other-Extra-'],
};

describe('userFromHeaders', () => {
  it.each<{ name: string; names?: RequestHeaderNames; headers: DistinctHeaders; want: UserInfo | undefined }>([
    { name: 'no headers at all', headers: {}, want: undefined },
    { name: 'groups and extras without a username', headers: { 'x-remote-group': ['devs'], 'x-remote-extra-scopes': ['a'] }, want: undefined },
    { name: 'only an empty username', headers: { 'x-remote-user': [''] }, want: undefined },
    { name: 'header present with no values', headers: { 'x-remote-user': [] }, want: undefined },
    { name: 'header explicitly undefined', headers: { 'x-remote-user': undefined }, want: undefined },
    { name: 'username only', headers: { 'x-remote-user': ['alice'] }, want: { name: 'alice', groups: [], extra: {} } },
    { name: 'first non-empty value of a repeated username header', headers: { 'x-remote-user': ['', 'alice', 'bob'] }, want: { name: 'alice', groups: [], extra: {} } },
    { name: 'uid', headers: { 'x-remote-user': ['alice'], 'x-remote-uid': ['', 'u-1'] }, want: { name: 'alice', uid: 'u-1', groups: [], extra: {} } },
    { name: 'empty uid is left out', headers: { 'x-remote-user': ['alice'], 'x-remote-uid': [''] }, want: { name: 'alice', groups: [], extra: {} } },
    {
      name: 'repeated groups kept one per value, commas not split',
      headers: { 'x-remote-user': ['alice'], 'x-remote-group': ['devs', 'ops,admins', 'system:masters'] },
      want: { name: 'alice', groups: ['devs', 'ops,admins', 'system:masters'], extra: {} },
    },
    {
      name: 'extras: key percent-decoded and lower-cased, values kept in order',
      headers: { 'x-remote-user': ['alice'], 'x-remote-extra-acme.com%2fproject': ['p1', 'p2'], 'x-remote-extra-scopes': ['view'] },
      want: { name: 'alice', groups: [], extra: { 'acme.com/project': ['p1', 'p2'], scopes: ['view'] } },
    },
    {
      // Go lower-cases the header name, then unescapes: an escaped letter keeps its case.
      name: 'extras: an escaped upper-case letter stays upper-case, as in Go',
      headers: { 'x-remote-user': ['alice'], 'x-remote-extra-%41bc': ['x'] },
      want: { name: 'alice', groups: [], extra: { Abc: ['x'] } },
    },
    {
      name: 'extras: a bad escape is taken literally',
      headers: { 'x-remote-user': ['alice'], 'x-remote-extra-bad%zzkey': ['v'], 'x-remote-extra-trailing%': ['w'] },
      want: { name: 'alice', groups: [], extra: { 'bad%zzkey': ['v'], 'trailing%': ['w'] } },
    },
    {
      name: 'extras: the bare prefix carries no key',
      headers: { 'x-remote-user': ['alice'], 'x-remote-extra-': ['ignored'] },
      want: { name: 'alice', groups: [], extra: {} },
    },
    {
      name: 'extras: two encodings of one key merge',
      headers: { 'x-remote-user': ['alice'], 'x-remote-extra-a%2fb': ['1'], 'x-remote-extra-a%2Fb': ['2'] },
      want: { name: 'alice', groups: [], extra: { 'a/b': ['1', '2'] } },
    },
    {
      name: 'custom names: first username header with a value wins',
      names: CUSTOM_NAMES,
      headers: { 'x-proxy-user': [''], 'x-fallback-user': ['carol'], 'x-remote-user': ['mallory'] },
      want: { name: 'carol', groups: [], extra: {} },
    },
    {
      name: 'custom names: earlier username header preferred',
      names: CUSTOM_NAMES,
      headers: { 'x-fallback-user': ['dave'], 'x-proxy-user': ['carol'] },
      want: { name: 'carol', groups: [], extra: {} },
    },
    {
      name: 'custom names: uid, groups from every group header, extras from every prefix',
      names: CUSTOM_NAMES,
      headers: {
        'x-proxy-user': ['carol'],
        'x-fallback-uid': ['u-9'],
        'x-proxy-team': ['t1'],
        'x-proxy-group': ['g1', 'g2'],
        'x-proxy-extra-k': ['a'],
        'x-other-extra-k': ['b'],
        'x-remote-group': ['system:masters'],
        'x-remote-extra-k': ['c'],
      },
      want: { name: 'carol', uid: 'u-9', groups: ['g1', 'g2', 't1'], extra: { k: ['a', 'b'] } },
    },
    {
      name: 'custom names: default headers are not read',
      names: CUSTOM_NAMES,
      headers: { 'x-remote-user': ['mallory'] },
      want: undefined,
    },
  ])('$name', ({ names, headers, want }) => {
    expect(userFromHeaders(headers, names ?? DEFAULT_NAMES)).toEqual(want);
  });

  it('does not modify the headers', () => {
    const headers: DistinctHeaders = { 'x-remote-user': ['alice'], 'x-remote-group': ['a'], 'x-remote-extra-k': ['v'] };
    const copy = structuredClone(headers);
    userFromHeaders(headers, DEFAULT_NAMES);
    expect(headers).toEqual(copy);
  });
});

describe('identityHeaderNames', () => {
  it.each<{ name: string; names: RequestHeaderNames; headers: DistinctHeaders; want: string[] }>([
    { name: 'configured names, lower-cased, even when absent', names: DEFAULT_NAMES, headers: {}, want: ['x-remote-user', 'x-remote-uid', 'x-remote-group'] },
    {
      name: 'extra headers present on the request',
      names: DEFAULT_NAMES,
      headers: { 'x-remote-extra-a': ['1'], 'x-remote-extra-b%2fc': ['2'], 'x-remote-extra-': ['3'], accept: ['*/*'], 'x-remote-extrax': ['4'] },
      want: ['x-remote-user', 'x-remote-uid', 'x-remote-group', 'x-remote-extra-a', 'x-remote-extra-b%2fc', 'x-remote-extra-'],
    },
    {
      name: 'custom names and several prefixes',
      names: CUSTOM_NAMES,
      headers: { 'x-proxy-extra-k': ['a'], 'x-other-extra-j': ['b'], 'x-remote-extra-k': ['c'] },
      want: ['x-proxy-user', 'x-fallback-user', 'x-proxy-uid', 'x-fallback-uid', 'x-proxy-group', 'x-proxy-team', 'x-proxy-extra-k', 'x-other-extra-j'],
    },
    {
      name: 'duplicates listed once',
      names: { usernameHeaders: ['X-User', 'x-user'], uidHeaders: ['X-User'], groupHeaders: [], extraHeaderPrefixes: ['X-E-', 'x-e-'] },
      headers: { 'x-e-k': ['1'] },
      want: ['x-user', 'x-e-k'],
    },
    { name: 'nothing configured', names: { usernameHeaders: [], uidHeaders: [], groupHeaders: [], extraHeaderPrefixes: [] }, headers: { 'x-remote-user': ['a'] }, want: [] },
  ])('$name', ({ names, headers, want }) => {
    expect(identityHeaderNames(names, headers)).toEqual(want);
  });
});

describe('empty group header values', () => {
  it('are dropped, as k8s.io/apiserver drops them', () => {
    const names = { usernameHeaders: ['X-Remote-User'], uidHeaders: [], groupHeaders: ['X-Remote-Group'], extraHeaderPrefixes: [] };
    expect(userFromHeaders({ 'x-remote-user': ['u'], 'x-remote-group': ['', 'g'] }, names)?.groups).toEqual(['g']);
  });
});

/** A header value as Node hands it over: each byte on the wire one Latin-1 character. */
const wire = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

describe('userFromHeaders: values as bytes, keys from the request', () => {
  it.each<{ name: string; headers: DistinctHeaders; want: UserInfo }>([
    {
      name: 'UTF-8 user, uid, groups and extra values are decoded as Go keeps them',
      headers: { 'x-remote-user': [wire('jos\u00e9')], 'x-remote-uid': [wire('\u00fc-1')], 'x-remote-group': [wire('\u00e9quipe'), wire('\u30c1\u30fc\u30e0')], 'x-remote-extra-note': [wire('d\u00e9j\u00e0')] },
      want: { name: 'jos\u00e9', uid: '\u00fc-1', groups: ['\u00e9quipe', '\u30c1\u30fc\u30e0'], extra: { note: ['d\u00e9j\u00e0'] } },
    },
    {
      name: 'bytes that are not UTF-8 become U+FFFD (as Go strings reach JSON)',
      headers: { 'x-remote-user': ['a\u00ffb'] },
      want: { name: 'a\ufffdb', groups: [], extra: {} },
    },
    {
      name: 'extra keys that name Object.prototype members are ordinary keys',
      headers: { 'x-remote-user': ['alice'], 'x-remote-extra-constructor': ['c'], 'x-remote-extra-__proto__': ['p'], 'x-remote-extra-tostring': ['t'], 'x-remote-extra-hasownproperty': ['h'] },
      want: { name: 'alice', groups: [], extra: { constructor: ['c'], ['__proto__']: ['p'], tostring: ['t'], hasownproperty: ['h'] } },
    },
    {
      name: 'extra key lower-cased before it is unescaped, as Go does (%C3%89 stays upper-case)',
      headers: { 'x-remote-user': ['alice'], 'x-remote-extra-%c3%89t%c3%a9': ['x'] },
      want: { name: 'alice', groups: [], extra: { '\u00c9t\u00e9': ['x'] } },
    },
  ])('$name', ({ headers, want }) => {
    const got = userFromHeaders(headers, DEFAULT_NAMES);
    expect(got).toEqual(want);
    expect(Object.keys(got!.extra).sort()).toEqual(Object.keys(want.extra).sort());
  });
});

describe('userFromHeaders: fuzzed', () => {
  const name = fc.oneof(fc.constantFrom('x-remote-user', 'x-remote-uid', 'x-remote-group', 'x-remote-extra-', 'authorization'), requestText(10).map((k) => `x-remote-extra-${k.toLowerCase()}`));
  it('reads any identity headers without throwing; values stay strings', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(name, fc.array(headerValue(20), { maxLength: 3 })), { maxLength: 8 }), (entries) => {
        const headers: DistinctHeaders = Object.create(null) as DistinctHeaders;
        for (const [k, v] of entries) headers[k] = v;
        const user = userFromHeaders(headers, DEFAULT_NAMES);
        for (const vals of Object.values(user?.extra ?? {})) expect(vals.every((v) => typeof v === 'string')).toBe(true);
        expect(JSON.parse(JSON.stringify(user ?? null))).toEqual(user ?? null);
        identityHeaderNames(DEFAULT_NAMES, headers);
      }),
      { numRuns: 3000 },
    );
  });
});
