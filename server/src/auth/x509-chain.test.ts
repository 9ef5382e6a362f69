import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { X509Certificate, webcrypto } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate, newCertificateAuthority, type CertificateAuthority } from '../../../client/src/certificates.ts';
import { verifyClientChain } from './x509-chain.ts';

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

interface SignOptions {
  subject: string;
  /** BasicConstraints cA. */
  ca: boolean;
  /** KeyUsage keyCertSign, even on a non-CA (to isolate the cA check). */
  keyCertSign?: boolean;
  /** Extended key usages; undefined leaves the extension out. */
  eku?: string[];
  notBefore?: Date;
  notAfter?: Date;
}

/** A certificate signed by `issuer`, built with @peculiar/x509 as certificates.ts builds its CA. */
async function sign(issuer: CertificateAuthority, o: SignOptions): Promise<CertificateAuthority> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(o.ca, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | (o.ca || o.keyCertSign ? x509.KeyUsageFlags.keyCertSign : 0), true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey),
  ];
  if (o.eku) extensions.push(new x509.ExtendedKeyUsageExtension(o.eku, false));
  const certificate = await x509.X509CertificateGenerator.create({
    subject: o.subject,
    issuer: issuer.certificate.subject,
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: ALG,
    notBefore: o.notBefore ?? new Date(Date.now() - HOUR),
    notAfter: o.notAfter ?? new Date(Date.now() + 30 * DAY),
    extensions,
  });
  const pem = certificate.toString('pem') + '\n';
  return { certificate, keys, cert: pem, key: '' };
}

const node = (pem: string) => new X509Certificate(pem);
const fingerprints = (cs: X509Certificate[]) => cs.map((c) => c.fingerprint256);

let root: CertificateAuthority;
let otherRoot: CertificateAuthority;
/** Same subject as `root`, different key: a rotated CA. */
let lookalikeRoot: CertificateAuthority;
let rootCert: X509Certificate;
let leaf: X509Certificate;

beforeAll(async () => {
  root = await newCertificateAuthority('client-ca');
  otherRoot = await newCertificateAuthority('other-ca');
  lookalikeRoot = await newCertificateAuthority('client-ca');
  rootCert = node(root.cert);
  leaf = node((await issueCertificate(root, { commonName: 'alice', organizations: ['devs'], usage: 'client' })).cert);
});

describe('verifyClientChain: direct leaf', () => {
  it('accepts a client certificate issued by a root', () => {
    const r = verifyClientChain(leaf, [], [rootCert]);
    expect(r.ok).toBe(true);
    if (r.ok) expect(fingerprints(r.chain)).toEqual(fingerprints([leaf, rootCert]));
  });

  it('finds the right root among several', () => {
    const r = verifyClientChain(leaf, [], [node(otherRoot.cert), node(lookalikeRoot.cert), rootCert]);
    expect(r.ok && fingerprints(r.chain)).toEqual(fingerprints([leaf, rootCert]));
  });

  it('accepts a server-and-client certificate', async () => {
    const both = node((await issueCertificate(root, { commonName: 'both', usage: 'server-and-client' })).cert);
    expect(verifyClientChain(both, [], [rootCert]).ok).toBe(true);
  });

  it.each<{ name: string; eku: string[] | undefined }>([
    { name: 'no extended key usage extension', eku: undefined },
    { name: 'anyExtendedKeyUsage', eku: ['2.5.29.37.0'] },
  ])('accepts a leaf with $name', async ({ eku }) => {
    const c = await sign(root, { subject: 'CN=bob', ca: false, ...(eku ? { eku } : {}) });
    expect(verifyClientChain(node(c.cert), [], [rootCert]).ok).toBe(true);
  });
});

describe('verifyClientChain: refusals', () => {
  it.each<{ name: string; roots: () => X509Certificate[]; now?: () => Date; want: string | RegExp }>([
    { name: 'no roots configured', roots: () => [], want: 'no CA is configured' },
    { name: 'signed by another CA', roots: () => [node(otherRoot.cert)], want: 'certificate signed by unknown authority' },
    { name: 'a root with the same name but another key', roots: () => [node(lookalikeRoot.cert)], want: 'certificate signed by unknown authority' },
    { name: 'expired', roots: () => [rootCert], now: () => new Date(Date.parse(leaf.validTo) + 1000), want: /^certificate has expired or is not yet valid \(valid .+ to .+\)$/ },
    { name: 'not yet valid', roots: () => [rootCert], now: () => new Date(Date.parse(leaf.validFrom) - 1000), want: /^certificate has expired or is not yet valid/ },
  ])('$name', ({ roots, now, want }) => {
    const r = verifyClientChain(leaf, [], roots(), now?.());
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(want);
  });

  it('is valid on its last second and refused just after', () => {
    const end = new Date(Date.parse(leaf.validTo));
    expect(verifyClientChain(leaf, [], [rootCert], end).ok).toBe(true);
    expect(verifyClientChain(leaf, [], [rootCert], new Date(end.getTime() + 1000)).ok).toBe(false);
  });

  it('refuses a server-only certificate', async () => {
    const server = node((await issueCertificate(root, { commonName: 'api', dnsNames: ['api.svc'], usage: 'server' })).cert);
    expect(verifyClientChain(server, [], [rootCert])).toEqual({ ok: false, reason: 'certificate is not allowed for client authentication' });
  });

  it('refuses when the root has expired though the leaf has not', async () => {
    const shortRoot = await newCertificateAuthority('short-ca', 1);
    const c = node((await issueCertificate(shortRoot, { commonName: 'alice', usage: 'client', days: 30 })).cert);
    const now = new Date(Date.now() + 2 * DAY);
    expect(verifyClientChain(c, [], [node(shortRoot.cert)], now)).toEqual({ ok: false, reason: 'the signing CA has expired or is not yet valid' });
    expect(verifyClientChain(c, [], [node(shortRoot.cert)]).ok).toBe(true);
  });
});

describe('verifyClientChain: intermediates', () => {
  let intermediate: CertificateAuthority;
  let interCert: X509Certificate;
  let viaIntermediate: X509Certificate;

  beforeAll(async () => {
    intermediate = await sign(root, { subject: 'CN=intermediate-ca', ca: true });
    interCert = node(intermediate.cert);
    viaIntermediate = node((await issueCertificate(intermediate, { commonName: 'carol', usage: 'client' })).cert);
  });

  it('accepts a leaf through an intermediate the client sent', () => {
    const r = verifyClientChain(viaIntermediate, [interCert], [rootCert]);
    expect(r.ok && fingerprints(r.chain)).toEqual(fingerprints([viaIntermediate, interCert, rootCert]));
  });

  it('ignores unrelated intermediates', async () => {
    const unrelated = node((await sign(otherRoot, { subject: 'CN=unrelated-ca', ca: true })).cert);
    const r = verifyClientChain(viaIntermediate, [unrelated, interCert], [rootCert]);
    expect(r.ok && fingerprints(r.chain)).toEqual(fingerprints([viaIntermediate, interCert, rootCert]));
  });

  it('accepts an intermediate that is itself a root', () => {
    const r = verifyClientChain(viaIntermediate, [], [interCert]);
    expect(r.ok && fingerprints(r.chain)).toEqual(fingerprints([viaIntermediate, interCert]));
  });

  it('refuses when the intermediate is missing', () => {
    expect(verifyClientChain(viaIntermediate, [], [rootCert])).toEqual({ ok: false, reason: 'certificate signed by unknown authority' });
  });

  it('refuses an intermediate that is not a CA', async () => {
    // keyCertSign set, cA false: only the basic-constraints check can refuse it.
    const notCa = await sign(root, { subject: 'CN=not-a-ca', ca: false, keyCertSign: true });
    const c = node((await issueCertificate(notCa, { commonName: 'dave', usage: 'client' })).cert);
    // The signature itself is good: the non-CA is accepted only when trusted as a root.
    expect(verifyClientChain(c, [], [node(notCa.cert)]).ok).toBe(true);
    expect(verifyClientChain(c, [node(notCa.cert)], [rootCert])).toEqual({ ok: false, reason: 'certificate signed by unknown authority' });
  });

  it('refuses an intermediate limited to server authentication', async () => {
    const serverOnly = await sign(root, { subject: 'CN=server-only-ca', ca: true, eku: ['1.3.6.1.5.5.7.3.1'] });
    const c = node((await issueCertificate(serverOnly, { commonName: 'erin', usage: 'client' })).cert);
    expect(verifyClientChain(c, [node(serverOnly.cert)], [rootCert])).toEqual({ ok: false, reason: 'an intermediate certificate does not allow client authentication' });
  });

  it('accepts an intermediate whose EKU includes client authentication', async () => {
    const clientCa = await sign(root, { subject: 'CN=client-only-ca', ca: true, eku: ['1.3.6.1.5.5.7.3.2'] });
    const c = node((await issueCertificate(clientCa, { commonName: 'frank', usage: 'client' })).cert);
    expect(verifyClientChain(c, [node(clientCa.cert)], [rootCert]).ok).toBe(true);
  });

  it('refuses an expired intermediate', async () => {
    const shortLived = await sign(root, { subject: 'CN=short-ca', ca: true, notAfter: new Date(Date.now() + DAY) });
    const c = node((await issueCertificate(shortLived, { commonName: 'gina', usage: 'client', days: 30 })).cert);
    const later = new Date(Date.now() + 2 * DAY);
    expect(verifyClientChain(c, [node(shortLived.cert)], [rootCert], later)).toEqual({ ok: false, reason: 'an intermediate certificate has expired or is not yet valid' });
    expect(verifyClientChain(c, [node(shortLived.cert)], [rootCert]).ok).toBe(true);
  });

  it.each<{ name: string; depth: number; ok: boolean }>([
    { name: 'four intermediates', depth: 4, ok: true },
    { name: 'five intermediates', depth: 5, ok: false },
  ])('chain length: $name', async ({ depth, ok }) => {
    const chain: CertificateAuthority[] = [];
    let issuer = root;
    for (let i = 0; i < depth; i++) {
      issuer = await sign(issuer, { subject: `CN=level-${i}`, ca: true });
      chain.unshift(issuer);
    }
    const c = node((await issueCertificate(issuer, { commonName: 'deep', usage: 'client' })).cert);
    const r = verifyClientChain(c, chain.map((x) => node(x.cert)), [rootCert]);
    expect(r).toEqual(ok ? expect.objectContaining({ ok: true }) : { ok: false, reason: 'certificate chain is too long' });
    if (r.ok) expect(r.chain).toHaveLength(depth + 2);
  });
});

describe('verifyClientChain: what Go x509.Verify refuses besides', () => {
  it.each<{ name: string; pathLength: number; below: number; ok: boolean }>([
    { name: 'pathLen 0 on the root, no intermediate', pathLength: 0, below: 0, ok: true },
    { name: 'pathLen 0 on the root, one intermediate', pathLength: 0, below: 1, ok: false },
    { name: 'pathLen 1 on the root, one intermediate', pathLength: 1, below: 1, ok: true },
    { name: 'pathLen 1 on the root, two intermediates', pathLength: 1, below: 2, ok: false },
  ])('basicConstraints path length: $name', async ({ pathLength, below, ok }) => {
    const limited = await newCertificateAuthority('limited-root', 3650, { pathLength });
    const intermediates: CertificateAuthority[] = [];
    let issuer = limited;
    for (let i = 0; i < below; i++) {
      issuer = await newCertificateAuthority(`below-${i}`, 365, { signedBy: issuer });
      intermediates.unshift(issuer);
    }
    const c = node((await issueCertificate(issuer, { commonName: 'hank', usage: 'client' })).cert);
    const r = verifyClientChain(c, intermediates.map((x) => node(x.cert)), [node(limited.cert)]);
    expect(r).toEqual(ok ? expect.objectContaining({ ok: true }) : { ok: false, reason: 'a path length constraint is violated (too many intermediates)' });
  });

  it('an intermediate with pathLen 0 may sign leaves but not another CA', async () => {
    const zero = await newCertificateAuthority('zero', 365, { signedBy: root, pathLength: 0 });
    const leafOfZero = node((await issueCertificate(zero, { commonName: 'ivy', usage: 'client' })).cert);
    expect(verifyClientChain(leafOfZero, [node(zero.cert)], [rootCert]).ok).toBe(true);
    const below = await newCertificateAuthority('below-zero', 365, { signedBy: zero });
    const deep = node((await issueCertificate(below, { commonName: 'jack', usage: 'client' })).cert);
    expect(verifyClientChain(deep, [node(below.cert), node(zero.cert)], [rootCert])).toEqual({ ok: false, reason: 'a path length constraint is violated (too many intermediates)' });
  });

  it.each<{ name: string; where: 'root' | 'intermediate' | 'leaf' }>([
    { name: 'on the root', where: 'root' },
    { name: 'on an intermediate', where: 'intermediate' },
    { name: 'on the leaf', where: 'leaf' },
  ])('refuses an unknown critical extension $name', async ({ where }) => {
    const crit = { criticalExtension: '1.3.6.1.4.1.55555.1' };
    const r0 = await newCertificateAuthority('crit-root', 3650, where === 'root' ? crit : {});
    const mid = await newCertificateAuthority('crit-mid', 365, { signedBy: r0, ...(where === 'intermediate' ? crit : {}) });
    const leafCa = where === 'leaf' ? await newCertificateAuthority('leaf-with-ext', 365, { signedBy: mid, ...crit }) : undefined;
    // A CA certificate stands in for a leaf carrying the extension: it allows client authentication too (no EKU).
    const c = leafCa ? node(leafCa.cert) : node((await issueCertificate(mid, { commonName: 'kim', usage: 'client' })).cert);
    expect(verifyClientChain(c, [node(mid.cert)], [node(r0.cert)])).toEqual({ ok: false, reason: 'unhandled critical extension 1.3.6.1.4.1.55555.1' });
  });
});

describe('verifyClientChain: verified chains are remembered', () => {
  it('the same connection\'s leaf against the same CA pool: the remembered result, without checking signatures again', () => {
    const pool = [rootCert];
    const first = verifyClientChain(leaf, [], pool);
    expect(first.ok).toBe(true);
    // The very object comes back: nothing was verified again.
    expect(verifyClientChain(leaf, [], pool)).toBe(first);
  });

  it('a new CA pool (the ConfigMap changed) is asked again: a rotated CA no longer trusts the leaf', () => {
    const pool = [rootCert];
    expect(verifyClientChain(leaf, [], pool).ok).toBe(true);
    const rotated = [node(lookalikeRoot.cert)];
    expect(verifyClientChain(leaf, [], rotated)).toMatchObject({ ok: false, reason: 'certificate signed by unknown authority' });
  });

  it('other intermediates are asked again', () => {
    const pool = [rootCert];
    const ok = verifyClientChain(leaf, [], pool);
    expect(verifyClientChain(leaf, [rootCert], pool)).not.toBe(ok);
  });

  it('a remembered chain expires with its certificates', () => {
    const pool = [rootCert];
    const end = new Date(Date.parse(leaf.validTo));
    expect(verifyClientChain(leaf, [], pool, end).ok).toBe(true);
    expect(verifyClientChain(leaf, [], pool, new Date(end.getTime() + 1000)).ok).toBe(false);
    expect(verifyClientChain(leaf, [], pool, new Date(Date.parse(leaf.validFrom) - 1000)).ok).toBe(false);
  });

  it('failures are not remembered: the CA pool it was missing from is asked again', () => {
    const pool = [node(otherRoot.cert)];
    expect(verifyClientChain(leaf, [], pool).ok).toBe(false);
    pool.push(rootCert);
    expect(verifyClientChain(leaf, [], pool).ok).toBe(true);
  });
});

// The same verdicts from an independent verifier: OpenSSL's `verify` with the
// TLS client purpose, on the same certificates (the root trusted, the sent
// intermediates untrusted). The chain-length limit is Go's and not OpenSSL's,
// so that case is not compared.
describe('verifyClientChain agrees with openssl verify -purpose sslclient', () => {
  const dir = mkdtempSync(join(tmpdir(), 'x509-openssl-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function openssl(leafPem: string, intermediates: string[], rootPem: string): boolean {
    const f = (name: string, text: string) => (writeFileSync(join(dir, name), text), join(dir, name));
    const args = ['verify', '-purpose', 'sslclient', '-CAfile', f('root.pem', rootPem), ...(intermediates.length ? ['-untrusted', f('inter.pem', intermediates.join(''))] : []), f('leaf.pem', leafPem)];
    try {
      execFileSync('openssl', args, { stdio: 'pipe' });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('openssl is not on PATH: apt-get install openssl', { cause: err });
      return false;
    }
  }

  it.each<{ name: string; ok: boolean; make: () => Promise<{ leaf: string; intermediates: string[]; root: string }> }>([
    { name: 'a client certificate issued by the root', ok: true, make: async () => ({ leaf: (await issueCertificate(root, { commonName: 'alice', usage: 'client' })).cert, intermediates: [], root: root.cert }) },
    { name: 'another root', ok: false, make: async () => ({ leaf: (await issueCertificate(root, { commonName: 'alice', usage: 'client' })).cert, intermediates: [], root: otherRoot.cert }) },
    { name: 'a look-alike root (same subject, other key)', ok: false, make: async () => ({ leaf: (await issueCertificate(root, { commonName: 'alice', usage: 'client' })).cert, intermediates: [], root: lookalikeRoot.cert }) },
    { name: 'a server-only certificate', ok: false, make: async () => ({ leaf: (await issueCertificate(root, { commonName: 'web', usage: 'server', dnsNames: ['web'] })).cert, intermediates: [], root: root.cert }) },
    {
      name: 'through a CA intermediate', ok: true,
      make: async () => {
        const mid = await sign(root, { subject: 'CN=mid', ca: true });
        return { leaf: (await issueCertificate(mid, { commonName: 'bob', usage: 'client' })).cert, intermediates: [mid.cert], root: root.cert };
      },
    },
    {
      name: 'the intermediate missing', ok: false,
      make: async () => {
        const mid = await sign(root, { subject: 'CN=mid', ca: true });
        return { leaf: (await issueCertificate(mid, { commonName: 'bob', usage: 'client' })).cert, intermediates: [], root: root.cert };
      },
    },
    {
      name: 'an intermediate that is not a CA', ok: false,
      make: async () => {
        const notCa = await sign(root, { subject: 'CN=not-a-ca', ca: false, keyCertSign: true });
        return { leaf: (await issueCertificate(notCa, { commonName: 'dave', usage: 'client' })).cert, intermediates: [notCa.cert], root: root.cert };
      },
    },
    {
      name: 'an intermediate limited to server authentication', ok: false,
      make: async () => {
        const serverOnly = await sign(root, { subject: 'CN=server-only-ca', ca: true, eku: ['1.3.6.1.5.5.7.3.1'] });
        return { leaf: (await issueCertificate(serverOnly, { commonName: 'erin', usage: 'client' })).cert, intermediates: [serverOnly.cert], root: root.cert };
      },
    },
    {
      name: 'an intermediate allowing client authentication', ok: true,
      make: async () => {
        const clientCa = await sign(root, { subject: 'CN=client-only-ca', ca: true, eku: ['1.3.6.1.5.5.7.3.2'] });
        return { leaf: (await issueCertificate(clientCa, { commonName: 'frank', usage: 'client' })).cert, intermediates: [clientCa.cert], root: root.cert };
      },
    },
    {
      name: 'an expired intermediate', ok: false,
      make: async () => {
        const old = await sign(root, { subject: 'CN=old-ca', ca: true, notBefore: new Date(Date.now() - 3 * DAY), notAfter: new Date(Date.now() - DAY) });
        return { leaf: (await issueCertificate(old, { commonName: 'gina', usage: 'client' })).cert, intermediates: [old.cert], root: root.cert };
      },
    },
  ])('$name: accepted is $ok by both', async ({ ok, make }) => {
    const m = await make();
    expect(openssl(m.leaf, m.intermediates, m.root), 'openssl').toBe(ok);
    expect(verifyClientChain(node(m.leaf), m.intermediates.map(node), [node(m.root)]).ok, 'ours').toBe(ok);
  });
});
