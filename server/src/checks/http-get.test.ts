import { describe, expect, it } from 'vitest';
import { get, linkLocal } from './http-get.ts';

describe("a check's GET never asks a link-local address (cloud metadata)", () => {
  it.each([
    ['169.254.169.254', true],
    ['169.254.0.1', true],
    ['::ffff:169.254.169.254', true],
    ['fe80::1', true],
    ['FEBF::1', true],
    ['127.0.0.1', false],
    ['10.0.0.1', false],
    ['::1', false],
    ['fec0::1', false],
    ['169.255.0.1', false],
  ])('%s: %s', (ip, want) => {
    expect(linkLocal(ip)).toBe(want);
  });

  it('refuses an address given by number before any packet is sent', async () => {
    await expect(get(new URL('http://169.254.169.254/latest/meta-data/'), { timeoutMs: 1000, what: 'x' })).rejects.toThrow('169.254.169.254 is a link-local address (where clouds serve instance metadata and credentials): checks may not ask it');
    await expect(get(new URL('http://[fe80::1]:8080/'), { timeoutMs: 1000, what: 'x' })).rejects.toThrow('fe80::1 is a link-local address');
  });

  it('a name is looked up and its addresses checked: localhost is asked (and refuses here)', async () => {
    await expect(get(new URL('http://localhost:1/'), { timeoutMs: 2000, what: 'http://localhost:1/' })).rejects.toThrow('cannot reach http://localhost:1/: connection refused');
  });
});
