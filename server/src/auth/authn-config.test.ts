import type { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { newCertificateAuthority } from '../../../client/src/certificates.ts';
import { EMPTY_SETTINGS, parsePemBundle, settingsFromConfigMap } from './authn-config.ts';

let caA: string;
let caB: string;

beforeAll(async () => {
  caA = (await newCertificateAuthority('ca-a')).cert;
  caB = (await newCertificateAuthority('ca-b')).cert;
});

const subjects = (cs: readonly X509Certificate[]) => cs.map((c) => c.subject);

describe('parsePemBundle', () => {
  it.each<{ name: string; pem: () => string | undefined; want: string[] }>([
    { name: 'undefined', pem: () => undefined, want: [] },
    { name: 'empty', pem: () => '', want: [] },
    { name: 'no PEM blocks', pem: () => 'just some text\n', want: [] },
    { name: 'one certificate', pem: () => caA, want: ['CN=ca-a'] },
    { name: 'two certificates in order', pem: () => caB + caA, want: ['CN=ca-b', 'CN=ca-a'] },
    { name: 'text and CRLF around the blocks', pem: () => `# bundle\r\n${caA.replace(/\n/g, '\r\n')}\r\nsubject=ca-b\n${caB}trailing`, want: ['CN=ca-a', 'CN=ca-b'] },
    { name: 'other PEM types are skipped', pem: () => `-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n${caA}`, want: ['CN=ca-a'] },
  ])('$name', ({ pem, want }) => {
    expect(subjects(parsePemBundle(pem()))).toEqual(want);
  });

  it('throws on a corrupt certificate block', () => {
    expect(() => parsePemBundle('-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n')).toThrow();
  });
});

describe('settingsFromConfigMap', () => {
  it('reads every key kube-apiserver publishes', () => {
    const s = settingsFromConfigMap(
      {
        'client-ca-file': caA,
        'requestheader-client-ca-file': caB + caA,
        'requestheader-allowed-names': '["front-proxy-client"]',
        'requestheader-username-headers': '["X-Remote-User"]',
        'requestheader-uid-headers': '["X-Remote-Uid"]',
        'requestheader-group-headers': '["X-Remote-Group"]',
        'requestheader-extra-headers-prefix': '["X-Remote-Extra-"]',
      },
      7,
    );
    expect(subjects(s.clientCAs)).toEqual(['CN=ca-a']);
    expect(subjects(s.requestHeaderCAs)).toEqual(['CN=ca-b', 'CN=ca-a']);
    expect({ ...s, clientCAs: undefined, requestHeaderCAs: undefined }).toEqual({
      clientCAs: undefined,
      requestHeaderCAs: undefined,
      allowedNames: ['front-proxy-client'],
      usernameHeaders: ['X-Remote-User'],
      uidHeaders: ['X-Remote-Uid'],
      groupHeaders: ['X-Remote-Group'],
      extraHeaderPrefixes: ['X-Remote-Extra-'],
      generation: 7,
    });
  });

  it.each<{ name: string; data: Record<string, string> | undefined }>([
    { name: 'no data', data: undefined },
    { name: 'empty data', data: {} },
    { name: 'empty strings', data: { 'client-ca-file': '', 'requestheader-allowed-names': '', 'requestheader-username-headers': '' } },
    { name: 'empty lists', data: { 'requestheader-allowed-names': '[]', 'requestheader-group-headers': '[]' } },
  ])('is empty for $name', ({ data }) => {
    expect(settingsFromConfigMap(data, 3)).toEqual({ ...EMPTY_SETTINGS, generation: 3 });
  });

  it.each<{ name: string; key: string; value: string; want: RegExp }>([
    { name: 'not JSON', key: 'requestheader-allowed-names', value: 'front-proxy-client', want: /JSON/ },
    { name: 'truncated JSON', key: 'requestheader-username-headers', value: '["X-Remote-User"', want: /JSON/ },
    { name: 'a JSON string, not a list', key: 'requestheader-group-headers', value: '"X-Remote-Group"', want: /^expected a JSON list of strings, got "X-Remote-Group"$/ },
    { name: 'a list with a number', key: 'requestheader-uid-headers', value: '["X-Remote-Uid", 1]', want: /^expected a JSON list of strings, got \["X-Remote-Uid", 1\]$/ },
    { name: 'an object', key: 'requestheader-extra-headers-prefix', value: '{"a":"b"}', want: /^expected a JSON list of strings/ },
    { name: 'null', key: 'requestheader-allowed-names', value: 'null', want: /^expected a JSON list of strings, got null$/ },
  ])('throws on a malformed list: $name', ({ key, value, want }) => {
    expect(() => settingsFromConfigMap({ [key]: value }, 1)).toThrow(want);
  });

  it('cuts a long malformed value in the error to 80 characters', () => {
    const value = JSON.stringify({ long: 'x'.repeat(200) });
    expect(() => settingsFromConfigMap({ 'requestheader-allowed-names': value }, 1)).toThrow(`expected a JSON list of strings, got ${value.slice(0, 80)}`);
    expect(() => settingsFromConfigMap({ 'requestheader-allowed-names': value }, 1)).not.toThrow(value.slice(0, 81));
  });

  it('throws on a corrupt CA bundle', () => {
    expect(() => settingsFromConfigMap({ 'client-ca-file': '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' }, 1)).toThrow();
  });
});
