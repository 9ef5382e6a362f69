import { describe, expect, it } from 'vitest';
import { admit, cookieName, newToken, parseCookies, tokensEqual, type RequestFacts } from './session.ts';

const TOKEN = 'k3y-0f-th3-d4shb04rd';
const bound = { address: '127.0.0.1', port: 4000 };
const cookie = `${cookieName(4000)}=${TOKEN}`;
const base: RequestFacts = { method: 'GET', url: '/', host: '127.0.0.1:4000', cookie, origin: undefined, tokenHeader: undefined };

describe('admit', () => {
  it.each([
    { name: 'a page load with the cookie', req: {}, want: { kind: 'allow' } },
    { name: 'a change with cookie and token header', req: { method: 'POST', url: '/api/x', tokenHeader: TOKEN }, want: { kind: 'allow' } },
    { name: 'a change with our Origin', req: { method: 'PUT', tokenHeader: TOKEN, origin: 'http://127.0.0.1:4000' }, want: { kind: 'allow' } },
    { name: 'a change from localhost', req: { method: 'PUT', tokenHeader: TOKEN, host: 'localhost:4000', origin: 'http://localhost:4000' }, want: { kind: 'allow' } },
    { name: 'no cookie', req: { cookie: undefined }, want: { kind: 'refuse', code: 401 } },
    { name: 'a wrong cookie', req: { cookie: `${cookieName(4000)}=nope` }, want: { kind: 'refuse', code: 401 } },
    { name: "another dashboard's cookie", req: { cookie: `${cookieName(4001)}=${TOKEN}` }, want: { kind: 'refuse', code: 401 } },
    { name: 'a wrong Host (DNS rebinding)', req: { host: 'attacker.example:4000' }, want: { kind: 'refuse', code: 403 } },
    { name: 'a change without the token header (CSRF)', req: { method: 'POST' }, want: { kind: 'refuse', code: 403 } },
    { name: 'a change with a wrong token header', req: { method: 'POST', tokenHeader: 'x' }, want: { kind: 'refuse', code: 403 } },
    { name: 'a change from another origin', req: { method: 'POST', tokenHeader: TOKEN, origin: 'http://attacker.example' }, want: { kind: 'refuse', code: 403 } },
    { name: 'a change with Origin null', req: { method: 'POST', tokenHeader: TOKEN, origin: 'null' }, want: { kind: 'refuse', code: 403 } },
    { name: 'a wrong token in the URL', req: { url: '/?token=nope', cookie: undefined }, want: { kind: 'refuse', code: 403 } },
    { name: 'the token in the URL of a POST', req: { method: 'POST', url: `/?token=${TOKEN}` }, want: { kind: 'refuse', code: 403 } },
  ])('$name', ({ req, want }) => {
    expect(admit({ ...base, ...req }, { token: TOKEN, bound })).toMatchObject(want);
  });

  it('exchanges the URL token for an HttpOnly SameSite=Strict cookie and drops it from the address', () => {
    expect(admit({ ...base, cookie: undefined, url: `/?a=1&token=${TOKEN}` }, { token: TOKEN, bound })).toEqual({
      kind: 'exchange',
      location: '/?a=1',
      cookie: `kubectl-custom-dashboard-4000=${TOKEN}; HttpOnly; SameSite=Strict; Path=/`,
    });
    expect(admit({ ...base, cookie: undefined, url: `/?token=${TOKEN}` }, { token: TOKEN, bound })).toMatchObject({ location: '/' });
  });

  it('checks the Host before anything else, token or not', () => {
    expect(admit({ ...base, host: 'evil.example:4000', url: `/?token=${TOKEN}` }, { token: TOKEN, bound })).toMatchObject({ kind: 'refuse', code: 403 });
  });
});

describe('tokens and cookies', () => {
  it('makes 256-bit URL-safe tokens', () => {
    const t = newToken();
    expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newToken()).not.toBe(t);
  });

  it.each([
    { name: 'equal', given: TOKEN, want: true },
    { name: 'a prefix', given: TOKEN.slice(0, 5), want: false },
    { name: 'longer', given: TOKEN + 'x', want: false },
    { name: 'empty', given: '', want: false },
    { name: 'absent', given: undefined, want: false },
  ])('tokensEqual: $name', ({ given, want }) => {
    expect(tokensEqual(given, TOKEN)).toBe(want);
  });

  it('reads a Cookie header, first of a name winning', () => {
    expect([...parseCookies('a=1; b = 2;c=x=y; a=3; junk')]).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['c', 'x=y'],
    ]);
    expect(parseCookies(undefined).size).toBe(0);
  });
});
