import { X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate, newCertificateAuthority } from '../../../client/src/certificates.ts';
import { DerError } from './der.ts';
import { basicConstraints, commonName, organizations, parseCertificate, parseName, unhandledCriticalExtensions } from './x509-fields.ts';

/** DER by hand: tag, short or long length, value. */
function tlv(tag: number, value: Buffer | number[]): Buffer {
  const v = Buffer.from(value);
  const len = v.length < 0x80 ? [v.length] : [0x82, v.length >> 8, v.length & 0xff];
  return Buffer.concat([Buffer.from([tag, ...len]), v]);
}
const CN_OID = [0x55, 0x04, 0x03];
const O_OID = [0x55, 0x04, 0x0a];
const atv = (oid: number[], tag: number, value: Buffer | number[]) => tlv(0x30, Buffer.concat([tlv(0x06, oid), tlv(tag, value)]));
const rdn = (...atvs: Buffer[]) => tlv(0x31, Buffer.concat(atvs));
const name = (...rdns: Buffer[]) => tlv(0x30, Buffer.concat(rdns));

describe('parseName: string types as Go reads them', () => {
  it.each<{ name: string; der: () => Buffer; want: { type: string; value: string }[] | 'error' }>([
    { name: 'UTF8String', der: () => name(rdn(atv(CN_OID, 0x0c, Buffer.from('jos\u00e9')))), want: [{ type: '2.5.4.3', value: 'jos\u00e9' }] },
    { name: 'PrintableString', der: () => name(rdn(atv(CN_OID, 0x13, Buffer.from('a b*&')))), want: [{ type: '2.5.4.3', value: 'a b*&' }] },
    { name: 'PrintableString with an underscore is refused', der: () => name(rdn(atv(CN_OID, 0x13, Buffer.from('a_b')))), want: 'error' },
    { name: 'T61String is Latin-1', der: () => name(rdn(atv(CN_OID, 0x14, [0x6a, 0xe9]))), want: [{ type: '2.5.4.3', value: 'j\u00e9' }] },
    { name: 'BMPString', der: () => name(rdn(atv(O_OID, 0x1e, [0x00, 0x6f, 0x00, 0xe9, 0x00, 0x00]))), want: [{ type: '2.5.4.10', value: 'o\u00e9' }] },
    { name: 'BMPString surrogate is refused', der: () => name(rdn(atv(O_OID, 0x1e, [0xd8, 0x00]))), want: 'error' },
    { name: 'IA5String above ASCII is refused', der: () => name(rdn(atv(CN_OID, 0x16, [0x61, 0x80]))), want: 'error' },
    { name: 'NumericString', der: () => name(rdn(atv(CN_OID, 0x12, Buffer.from('12 3')))), want: [{ type: '2.5.4.3', value: '12 3' }] },
    { name: 'invalid UTF-8 is refused', der: () => name(rdn(atv(CN_OID, 0x0c, [0xc3]))), want: 'error' },
    { name: 'an INTEGER value is refused', der: () => name(rdn(atv(CN_OID, 0x02, [1]))), want: 'error' },
    { name: 'several attributes in one RDN, in order', der: () => name(rdn(atv(CN_OID, 0x0c, Buffer.from('a')), atv(O_OID, 0x0c, Buffer.from('b')))), want: [{ type: '2.5.4.3', value: 'a' }, { type: '2.5.4.10', value: 'b' }] },
    { name: 'empty name', der: () => name(), want: [] },
    { name: 'truncated', der: () => name(rdn(atv(CN_OID, 0x0c, Buffer.from('abc')))).subarray(0, 8), want: 'error' },
    { name: 'indefinite length', der: () => Buffer.from([0x30, 0x80, 0x00, 0x00]), want: 'error' },
  ])('$name', ({ der, want }) => {
    if (want === 'error') expect(() => parseName(der())).toThrow(DerError);
    else expect(parseName(der())).toEqual(want);
  });
});

describe('certificate fields', () => {
  let leafDer: Buffer;
  beforeAll(async () => {
    const ca = await newCertificateAuthority('fields-ca', 3650, { pathLength: 2 });
    const leaf = new X509Certificate((await issueCertificate(ca, { commonName: '', subject: 'CN=a, O=x, CN=b', usage: 'client' })).cert);
    leafDer = leaf.raw;
    expect(commonName(leaf)).toBe('b');
    expect(organizations(leaf)).toEqual(['x']);
    expect(basicConstraints(leaf)).toEqual({ isCA: false, maxPathLen: -1 });
    expect(basicConstraints(new X509Certificate(ca.cert))).toEqual({ isCA: true, maxPathLen: 2 });
    expect(unhandledCriticalExtensions(leaf)).toEqual([]);
  });

  it('an unknown critical extension is reported, a known or non-critical one is not', async () => {
    const ca = await newCertificateAuthority('crit-ca', 3650, { criticalExtension: '1.2.3.4.5' });
    expect(unhandledCriticalExtensions(new X509Certificate(ca.cert))).toEqual(['1.2.3.4.5']);
  });

  it('never throws anything but DerError, whatever the bytes (fuzzed from a real certificate)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), fc.nat(), (edits, cut) => {
        const der = Buffer.from(leafDer);
        for (const [at, b] of edits) der[at % der.length] = b;
        try {
          parseCertificate(der.subarray(0, der.length - (cut % 16)));
        } catch (err) {
          expect(err).toBeInstanceOf(DerError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws anything but DerError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          parseName(Buffer.from(bytes));
        } catch (err) {
          expect(err).toBeInstanceOf(DerError);
        }
      }),
    );
  });
});
