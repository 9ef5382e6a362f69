import { describe, expect, it } from 'vitest';
import { hostAllowed, isLoopback, originOf, parseHostHeader } from './host-check.ts';

describe('hostAllowed', () => {
  const loopback = { address: '127.0.0.1', port: 8080 };
  const v6 = { address: '::1', port: 8080 };
  const everywhere = { address: '0.0.0.0', port: 8080 };
  const lan = { address: '192.168.1.10', port: 8080 };
  it.each([
    { name: 'the bound address and port', host: '127.0.0.1:8080', bound: loopback, ok: true },
    { name: 'localhost on loopback', host: 'localhost:8080', bound: loopback, ok: true },
    { name: 'LOCALHOST in capitals', host: 'LOCALHOST:8080', bound: loopback, ok: true },
    { name: 'another loopback literal', host: '127.0.0.2:8080', bound: loopback, ok: true },
    { name: '[::1] on loopback', host: '[::1]:8080', bound: loopback, ok: true },
    { name: '[::1] bound on ::1', host: '[::1]:8080', bound: v6, ok: true },
    { name: 'a DNS name resolving to us (rebinding)', host: 'evil.example:8080', bound: loopback, ok: false },
    { name: 'a name under localhost', host: 'a.localhost.evil.example:8080', bound: loopback, ok: false },
    { name: 'another port', host: '127.0.0.1:8081', bound: loopback, ok: false },
    { name: 'no port (80)', host: '127.0.0.1', bound: loopback, ok: false },
    { name: 'no Host header', host: undefined, bound: loopback, ok: false },
    { name: 'garbage', host: 'a b:8080', bound: loopback, ok: false },
    { name: 'a LAN address on loopback', host: '192.168.1.10:8080', bound: loopback, ok: false },
    { name: 'the LAN address bound', host: '192.168.1.10:8080', bound: lan, ok: true },
    { name: 'localhost when bound to a LAN address', host: 'localhost:8080', bound: lan, ok: false },
    { name: 'any IP literal on every interface', host: '10.0.0.5:8080', bound: everywhere, ok: true },
    { name: 'localhost on every interface', host: 'localhost:8080', bound: everywhere, ok: true },
    { name: 'a DNS name on every interface', host: 'evil.example:8080', bound: everywhere, ok: false },
  ])('$name', ({ host, bound, ok }) => {
    expect(hostAllowed(host, bound)).toBe(ok);
  });
});

describe('the rest', () => {
  it.each([
    { name: '127.0.0.1', address: '127.0.0.1', want: true },
    { name: '127.255.0.9', address: '127.255.0.9', want: true },
    { name: '::1', address: '::1', want: true },
    { name: '[::1]', address: '[::1]', want: true },
    { name: 'mapped v4 loopback', address: '::ffff:127.0.0.1', want: true },
    { name: 'localhost', address: 'localhost', want: true },
    { name: '0.0.0.0', address: '0.0.0.0', want: false },
    { name: '10.1.2.3', address: '10.1.2.3', want: false },
    { name: 'a name', address: 'example.com', want: false },
  ])('isLoopback: $name', ({ address, want }) => {
    expect(isLoopback(address)).toBe(want);
  });

  it('parses Host headers with IPv6 literals', () => {
    expect(parseHostHeader('[::1]:9000')).toEqual({ hostname: '::1', port: 9000 });
    expect(parseHostHeader('Example.COM')).toEqual({ hostname: 'example.com', port: undefined });
    expect(parseHostHeader('a:b:c')).toBeUndefined();
  });

  it('prints an origin a browser can open', () => {
    expect(originOf({ address: '127.0.0.1', port: 1 })).toBe('http://127.0.0.1:1');
    expect(originOf({ address: '::1', port: 2 })).toBe('http://[::1]:2');
    expect(originOf({ address: '0.0.0.0', port: 3 })).toBe('http://127.0.0.1:3');
  });
});
