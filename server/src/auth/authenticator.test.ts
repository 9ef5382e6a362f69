import 'reflect-metadata';
import { X509Certificate, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate, newCertificateAuthority, type CertificateAuthority } from '../../../client/src/certificates.ts';
import { frontProxySettings } from '../testing/front-proxy.ts';
import { Authenticator, type AuthnResult } from './authenticator.ts';
import type { AuthenticationSettings } from './authn-config.ts';
import type { DistinctHeaders } from './request-header.ts';
import type { TokenReviewer } from './token-review.ts';
import type { UserInfo } from './user.ts';

const DAY = 24 * 60 * 60 * 1000;
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

/** An intermediate CA signed by `parent`, as newCertificateAuthority builds a root. */
async function intermediateCA(parent: CertificateAuthority, commonName: string): Promise<CertificateAuthority> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.create({
    subject: `CN=${commonName}`,
    issuer: parent.certificate.subject,
    publicKey: keys.publicKey,
    signingKey: parent.keys.privateKey,
    signingAlgorithm: ALG,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 30 * DAY),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificate, keys, cert: certificate.toString('pem') + '\n', key: '' };
}

/** A TokenReviewer that knows a few tokens and records what it was asked. */
function fakeReviewer(users: Record<string, UserInfo>): TokenReviewer & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    review(token: string) {
      calls.push(token);
      return Promise.resolve(users[token]);
    },
  };
}

const TOKENS: Record<string, UserInfo> = {
  't-good': { name: 'system:serviceaccount:shop:deployer', uid: 'sa-1', groups: ['system:serviceaccounts', 'system:serviceaccounts:shop'], extra: { 'authentication.kubernetes.io/pod-name': ['p'] } },
  't-has-group': { name: 'eve', groups: ['system:authenticated', 'ops'], extra: {} },
  't-anon': { name: 'system:anonymous', groups: ['system:unauthenticated'], extra: {} },
};

type CertName = 'proxy' | 'otherProxy' | 'alice' | 'stranger' | 'viaIntermediate' | 'intermediate' | 'noCn';

let certs: Record<CertName, X509Certificate>;
const node = (pem: string) => new X509Certificate(pem);
let settings: AuthenticationSettings;

beforeAll(async () => {
  const proxyCA = await newCertificateAuthority('front-proxy-ca');
  const clientCA = await newCertificateAuthority('client-ca');
  const strangerCA = await newCertificateAuthority('stranger-ca');
  const intermediate = await intermediateCA(clientCA, 'intermediate-ca');
  certs = {
    proxy: node((await issueCertificate(proxyCA, { commonName: 'front-proxy-client', usage: 'client' })).cert),
    otherProxy: node((await issueCertificate(proxyCA, { commonName: 'some-other-proxy', usage: 'client' })).cert),
    alice: node((await issueCertificate(clientCA, { commonName: 'alice', organizations: ['devs', 'ops'], usage: 'client' })).cert),
    stranger: node((await issueCertificate(strangerCA, { commonName: 'mallory', organizations: ['system:masters'], usage: 'client' })).cert),
    viaIntermediate: node((await issueCertificate(intermediate, { commonName: 'carol', organizations: ['qa'], usage: 'client' })).cert),
    intermediate: node(intermediate.cert),
    noCn: node((await issueCertificate(clientCA, { commonName: '', usage: 'client' })).cert),
  };
  settings = frontProxySettings([node(proxyCA.cert)], [node(clientCA.cert)]);
});

/** What the front proxy sends for alice; mallory's name when a client forges them. */
const proxyHeaders = (): DistinctHeaders => ({
  'x-remote-user': ['alice'],
  'x-remote-uid': ['u-alice'],
  'x-remote-group': ['devs', 'ops'],
  'x-remote-extra-scopes': ['read', 'write'],
  accept: ['application/json'],
});

const forgedHeaders = (): DistinctHeaders => ({ 'x-remote-user': ['mallory'], 'x-remote-group': ['system:masters'], 'x-remote-extra-foo': ['bar'], accept: ['application/json'] });

describe('Authenticator', () => {
  it.each<{
    name: string;
    peers: CertName[];
    headers: () => DistinctHeaders;
    /** Evaluated per test, after the certificates exist. */
    settings?: () => Partial<AuthenticationSettings>;
    want: AuthnResult | undefined;
    reviewed: string[];
  }>([
    {
      name: 'front proxy: user from the headers, system:authenticated added',
      peers: ['proxy'],
      headers: proxyHeaders,
      want: { method: 'front-proxy', user: { name: 'alice', uid: 'u-alice', groups: ['devs', 'ops', 'system:authenticated'], extra: { scopes: ['read', 'write'] } } },
      reviewed: [],
    },
    {
      name: 'front proxy: empty allowed names accept any CN',
      peers: ['otherProxy'],
      headers: proxyHeaders,
      settings: () => ({ allowedNames: [] }),
      want: { method: 'front-proxy', user: { name: 'alice', uid: 'u-alice', groups: ['devs', 'ops', 'system:authenticated'], extra: { scopes: ['read', 'write'] } } },
      reviewed: [],
    },
    {
      name: 'front proxy: the headers win over a bearer token',
      peers: ['proxy'],
      headers: () => ({ ...proxyHeaders(), authorization: ['Bearer t-good'] }),
      want: { method: 'front-proxy', user: { name: 'alice', uid: 'u-alice', groups: ['devs', 'ops', 'system:authenticated'], extra: { scopes: ['read', 'write'] } } },
      reviewed: [],
    },
    {
      name: 'front proxy: CN not in allowed names falls through (nothing else: unauthenticated)',
      peers: ['otherProxy'],
      headers: forgedHeaders,
      want: undefined,
      reviewed: [],
    },
    {
      name: 'front proxy: CN not in allowed names falls through to the bearer token',
      peers: ['otherProxy'],
      headers: () => ({ ...forgedHeaders(), authorization: ['Bearer t-good'] }),
      want: { method: 'token', user: { ...TOKENS['t-good']!, groups: ['system:serviceaccounts', 'system:serviceaccounts:shop', 'system:authenticated'] } },
      reviewed: ['t-good'],
    },
    {
      name: 'front proxy: CN not in allowed names, but the CA is also the client CA: x509 with the proxy CN',
      peers: ['otherProxy'],
      headers: forgedHeaders,
      settings: () => ({ clientCAs: settings.requestHeaderCAs }),
      want: { method: 'x509', user: { name: 'some-other-proxy', groups: ['system:authenticated'], extra: {} } },
      reviewed: [],
    },
    {
      name: 'front proxy without a username header falls through',
      peers: ['proxy'],
      headers: () => ({ 'x-remote-group': ['system:masters'] }),
      want: undefined,
      reviewed: [],
    },
    {
      name: 'client certificate: CN is the user, O the groups; forged identity headers ignored',
      peers: ['alice'],
      headers: forgedHeaders,
      want: { method: 'x509', user: { name: 'alice', groups: ['devs', 'ops', 'system:authenticated'], extra: {} } },
      reviewed: [],
    },
    {
      name: 'client certificate through an intermediate the client sent',
      peers: ['viaIntermediate', 'intermediate'],
      headers: () => ({}),
      want: { method: 'x509', user: { name: 'carol', groups: ['qa', 'system:authenticated'], extra: {} } },
      reviewed: [],
    },
    {
      name: 'client certificate without a CN is no user',
      peers: ['noCn'],
      headers: () => ({}),
      want: undefined,
      reviewed: [],
    },
    {
      name: 'client certificate from an unknown CA falls through to the token',
      peers: ['stranger'],
      headers: () => ({ authorization: ['Bearer t-good'] }),
      want: { method: 'token', user: { ...TOKENS['t-good']!, groups: ['system:serviceaccounts', 'system:serviceaccounts:shop', 'system:authenticated'] } },
      reviewed: ['t-good'],
    },
    {
      name: 'client certificate from an unknown CA alone',
      peers: ['stranger'],
      headers: forgedHeaders,
      want: undefined,
      reviewed: [],
    },
    {
      name: 'bearer token',
      peers: [],
      headers: () => ({ authorization: ['Bearer t-good'] }),
      want: { method: 'token', user: { ...TOKENS['t-good']!, groups: ['system:serviceaccounts', 'system:serviceaccounts:shop', 'system:authenticated'] } },
      reviewed: ['t-good'],
    },
    {
      name: 'bearer scheme is case-insensitive, trailing space allowed',
      peers: [],
      headers: () => ({ authorization: ['bEaReR   t-good  '] }),
      want: { method: 'token', user: { ...TOKENS['t-good']!, groups: ['system:serviceaccounts', 'system:serviceaccounts:shop', 'system:authenticated'] } },
      reviewed: ['t-good'],
    },
    {
      name: 'bearer token user already in system:authenticated',
      peers: [],
      headers: () => ({ authorization: ['Bearer t-has-group'] }),
      want: { method: 'token', user: { name: 'eve', groups: ['system:authenticated', 'ops'], extra: {} } },
      reviewed: ['t-has-group'],
    },
    {
      name: 'system:anonymous does not get system:authenticated',
      peers: [],
      headers: () => ({ authorization: ['Bearer t-anon'] }),
      want: { method: 'token', user: TOKENS['t-anon']! },
      reviewed: ['t-anon'],
    },
    { name: 'token the reviewer rejects', peers: [], headers: () => ({ authorization: ['Bearer t-bad'] }), want: undefined, reviewed: ['t-bad'] },
    { name: 'token with inner space is not a bearer token', peers: [], headers: () => ({ authorization: ['Bearer t-good extra'] }), want: undefined, reviewed: [] },
    { name: 'basic auth is not reviewed', peers: [], headers: () => ({ authorization: ['Basic YWxpY2U6cHc='] }), want: undefined, reviewed: [] },
    { name: 'empty bearer', peers: [], headers: () => ({ authorization: ['Bearer '] }), want: undefined, reviewed: [] },
    { name: 'only the first authorization header is read', peers: [], headers: () => ({ authorization: ['Basic x', 'Bearer t-good'] }), want: undefined, reviewed: [] },
    { name: 'nothing at all', peers: [], headers: () => ({}), want: undefined, reviewed: [] },
    { name: 'identity headers without a certificate are not trusted', peers: [], headers: proxyHeaders, want: undefined, reviewed: [] },
  ])('$name', async ({ peers, headers, settings: override, want, reviewed }) => {
    const s: AuthenticationSettings = { ...settings, ...override?.() };
    const tokens = fakeReviewer(TOKENS);
    const auth = new Authenticator({ settings: () => s, tokens });
    const req = { peerCertificates: peers.map((p) => certs[p]), headers: headers() };
    const before = Object.keys(req.headers).filter((h) => !h.startsWith('x-remote-'));
    const got = await auth.authenticate(req);
    expect(got).toEqual(want);
    expect(tokens.calls).toEqual(reviewed);
    // Identity headers are gone whatever the outcome; the others stay.
    expect(Object.keys(req.headers).filter((h) => h.startsWith('x-remote-'))).toEqual([]);
    expect(Object.keys(req.headers)).toEqual(before);
  });
});

describe('Authenticator: settings and clock', () => {
  it('removes the configured identity headers and the default x-remote-* ones', async () => {
    const s: AuthenticationSettings = {
      ...settings,
      usernameHeaders: ['X-Proxy-User'],
      uidHeaders: ['X-Proxy-Uid'],
      groupHeaders: ['X-Proxy-Group'],
      extraHeaderPrefixes: ['X-Proxy-Extra-'],
    };
    const auth = new Authenticator({ settings: () => s, tokens: fakeReviewer({}) });
    const headers: DistinctHeaders = {
      'x-proxy-user': ['alice'],
      'x-proxy-uid': ['u-1'],
      'x-proxy-group': ['devs'],
      'x-proxy-extra-team%2fname': ['blue'],
      'x-remote-user': ['mallory'],
      'x-remote-extra-foo': ['bar'],
      'x-proxy-other': ['kept'],
      accept: ['*/*'],
    };
    const got = await auth.authenticate({ peerCertificates: [certs.proxy], headers });
    expect(got).toEqual({ method: 'front-proxy', user: { name: 'alice', uid: 'u-1', groups: ['devs', 'system:authenticated'], extra: { 'team/name': ['blue'] } } });
    expect(Object.keys(headers).sort()).toEqual(['accept', 'x-proxy-other']);
  });

  it('reads the settings for every request, so a rotated CA applies at once', async () => {
    let current = settings;
    const auth = new Authenticator({ settings: () => current, tokens: fakeReviewer({}) });
    expect((await auth.authenticate({ peerCertificates: [certs.alice], headers: {} }))?.user.name).toBe('alice');
    current = { ...settings, clientCAs: [], generation: 2 };
    expect(await auth.authenticate({ peerCertificates: [certs.alice], headers: {} })).toBeUndefined();
  });

  it('checks certificate validity at the injected time', async () => {
    const later = new Date(Date.now() + 400 * DAY);
    const auth = new Authenticator({ settings: () => settings, tokens: fakeReviewer(TOKENS), now: () => later });
    expect(await auth.authenticate({ peerCertificates: [certs.alice], headers: {} })).toBeUndefined();
    const headers = proxyHeaders();
    expect(await auth.authenticate({ peerCertificates: [certs.proxy], headers: { ...headers, authorization: ['Bearer t-good'] } })).toMatchObject({ method: 'token' });
  });

  it('propagates a failing token review', async () => {
    const tokens: TokenReviewer = { review: () => Promise.reject(new Error('connection refused')) };
    const auth = new Authenticator({ settings: () => settings, tokens });
    await expect(auth.authenticate({ peerCertificates: [], headers: { authorization: ['Bearer t'] } })).rejects.toThrow('connection refused');
  });
});

describe('Authenticator: the user of a client certificate, as Go reads the subject', () => {
  let clientCA: CertificateAuthority;
  beforeAll(async () => {
    clientCA = await newCertificateAuthority('subjects-ca');
  });

  it.each<{ name: string; subject: string; user: string; groups: string[] }>([
    // kube-apiserver takes pkix.Name.CommonName, which the last CN overwrites.
    { name: 'two CNs: the last one', subject: 'CN=alice, CN=bob', user: 'bob', groups: [] },
    { name: 'escaped characters are values, not escapes', subject: 'CN=smith\\, jane, O=acme\\, inc, O=r\\+d', user: 'smith, jane', groups: ['acme, inc', 'r+d'] },
    { name: 'a multi-valued RDN is two attributes', subject: 'CN=carol+O=qa', user: 'carol', groups: ['qa'] },
    { name: 'UTF-8 values', subject: 'CN=jos\u00e9, O=\u00e9quipe', user: 'jos\u00e9', groups: ['\u00e9quipe'] },
    { name: 'groups in order, CN anywhere', subject: 'O=b, CN=dave, O=a', user: 'dave', groups: ['b', 'a'] },
  ])('$name', async ({ subject, user, groups }) => {
    const cert = node((await issueCertificate(clientCA, { commonName: '', subject, usage: 'client' })).cert);
    const auth = new Authenticator({ settings: () => ({ ...settings, clientCAs: [node(clientCA.cert)] }), tokens: fakeReviewer({}) });
    const got = await auth.authenticate({ peerCertificates: [cert], headers: {} });
    expect(got).toEqual({ method: 'x509', user: { name: user, groups: [...groups, 'system:authenticated'], extra: {} } });
  });
});
