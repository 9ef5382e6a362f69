// What Go's crypto/x509 reads from a certificate and node:crypto does not
// give: the subject's attributes as values (Node's `subject` is escaped text,
// one line per RDN, multi-valued RDNs joined with " + "), and the extensions
// with their criticality (basicConstraints' path length, unknown critical
// extensions). Parsed from the DER once per certificate object, with der.ts
// rather than @peculiar/x509: that library (and tsyringe, reflect-metadata)
// is megabytes of heap the server loads only to make a self-signed pair,
// and these few fields need a hundred lines, fuzzed in x509-fields.test.ts.
import type { X509Certificate } from 'node:crypto';
import { DerError, DerReader, TAG, decodeOid, decodeUnsigned } from './der.ts';

export interface Attribute {
  type: string;
  value: string;
}

export interface Extension {
  oid: string;
  critical: boolean;
  value: Buffer;
}

export interface CertificateFields {
  /** The subject's attributes in order, RDN by RDN. */
  subject: Attribute[];
  extensions: Extension[];
}

const CN = '2.5.4.3';
const O = '2.5.4.10';
const BASIC_CONSTRAINTS = '2.5.29.19';
const SUBJECT_ALT_NAME = '2.5.29.17';
const AUTHORITY_INFO_ACCESS = '1.3.6.1.5.5.7.1.1';
/**
 * Extensions Go's parser handles (RFC 5280 id-ce arcs): a critical extension
 * outside this set makes x509.Verify refuse the chain. Name constraints are
 * left out on purpose: Go enforces them and this verifier does not, so a CA
 * that marks them critical is refused rather than trusted beyond its limits.
 */
const HANDLED = new Set(['2.5.29.15', BASIC_CONSTRAINTS, '2.5.29.31', '2.5.29.35', '2.5.29.36', '2.5.29.37', '2.5.29.14', '2.5.29.32', '2.5.29.33', '2.5.29.54', AUTHORITY_INFO_ACCESS]);

const STRING = { UTF8: 0x0c, NUMERIC: 0x12, PRINTABLE: 0x13, T61: 0x14, IA5: 0x16, BMP: 0x1e } as const;
const PRINTABLE = /^[A-Za-z0-9'()+,\-./:=? *&]*$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** An attribute value as Go's parseASN1String reads it; any other type makes the name unreadable, as in Go. */
function decodeString(tag: number, v: Buffer): string {
  switch (tag) {
    case STRING.UTF8:
      try {
        return utf8.decode(v);
      } catch {
        throw new DerError('invalid UTF8String');
      }
    case STRING.PRINTABLE:
      if (!PRINTABLE.test(v.toString('latin1'))) throw new DerError('invalid PrintableString');
      return v.toString('latin1');
    case STRING.T61:
      // Read as Latin-1, as Go and BoringSSL do.
      return v.toString('latin1');
    case STRING.IA5:
      if (v.some((b) => b >= 0x80)) throw new DerError('invalid IA5String');
      return v.toString('latin1');
    case STRING.NUMERIC:
      if (!/^[0-9 ]*$/.test(v.toString('latin1'))) throw new DerError('invalid NumericString');
      return v.toString('latin1');
    case STRING.BMP:
      return decodeBmp(v);
  }
  throw new DerError(`unsupported string type 0x${tag.toString(16)}`);
}

/** UCS-2 big-endian; surrogates and non-characters refused, a trailing NUL pair dropped. */
function decodeBmp(v: Buffer): string {
  if (v.length % 2 !== 0) throw new DerError('invalid BMPString');
  const end = v.length >= 2 && v[v.length - 1] === 0 && v[v.length - 2] === 0 ? v.length - 2 : v.length;
  let s = '';
  for (let i = 0; i < end; i += 2) {
    const point = (v[i]! << 8) | v[i + 1]!;
    if (point === 0xfffe || point === 0xffff || (point >= 0xfdd0 && point <= 0xfdef) || (point >= 0xd800 && point <= 0xdfff)) throw new DerError('invalid BMPString');
    s += String.fromCharCode(point);
  }
  return s;
}

/** A DER Name (RDNSequence) as its attributes in order. */
export function parseName(der: Buffer): Attribute[] {
  return rdnSequence(new DerReader(der).read(TAG.SEQUENCE).value);
}

function rdnSequence(content: Buffer): Attribute[] {
  const out: Attribute[] = [];
  const rdns = new DerReader(content);
  while (!rdns.empty) {
    const set = new DerReader(rdns.read(TAG.SET).value);
    while (!set.empty) {
      const atv = new DerReader(set.read(TAG.SEQUENCE).value);
      const type = decodeOid(atv.read(TAG.OID).value);
      const value = atv.read();
      out.push({ type, value: decodeString(value.tag, value.value) });
    }
  }
  return out;
}

function parseExtensions(der: Buffer): Extension[] {
  const out: Extension[] = [];
  const list = new DerReader(new DerReader(der).read(TAG.SEQUENCE).value);
  while (!list.empty) {
    const ext = new DerReader(list.read(TAG.SEQUENCE).value);
    const oid = decodeOid(ext.read(TAG.OID).value);
    const critical = ext.readOptional(TAG.BOOLEAN)?.value[0] === 0xff;
    out.push({ oid, critical, value: ext.read(TAG.OCTET_STRING).value });
  }
  return out;
}

export function parseCertificate(der: Buffer): CertificateFields {
  const tbs = new DerReader(new DerReader(new DerReader(der).read(TAG.SEQUENCE).value).read(TAG.SEQUENCE).value);
  tbs.readOptional(TAG.context(0)); // version
  tbs.read(TAG.INTEGER); // serialNumber
  tbs.read(TAG.SEQUENCE); // signature
  tbs.read(TAG.SEQUENCE); // issuer
  tbs.read(TAG.SEQUENCE); // validity
  const subject = rdnSequence(tbs.read(TAG.SEQUENCE).value);
  tbs.read(TAG.SEQUENCE); // subjectPublicKeyInfo
  tbs.readOptional(TAG.context(1, false)); // issuerUniqueID
  tbs.readOptional(TAG.context(2, false)); // subjectUniqueID
  const exts = tbs.readOptional(TAG.context(3));
  return { subject, extensions: exts ? parseExtensions(exts.value) : [] };
}

const cache = new WeakMap<X509Certificate, CertificateFields>();

/** The certificate's fields; throws DerError when it cannot be read as Go would read it. */
function certificateFields(c: X509Certificate): CertificateFields {
  let f = cache.get(c);
  if (!f) {
    f = parseCertificate(c.raw);
    cache.set(c, f);
  }
  return f;
}

/** pkix.Name.CommonName: the last CN attribute (Go overwrites as it goes); undefined when there is none. */
export function commonName(c: X509Certificate): string | undefined {
  return certificateFields(c).subject.findLast((a) => a.type === CN)?.value;
}

/** pkix.Name.Organization: every O attribute, in order. */
export function organizations(c: X509Certificate): string[] {
  return certificateFields(c).subject.filter((a) => a.type === O).map((a) => a.value);
}

/** basicConstraints: whether it is a CA and its path length (-1 when unlimited); undefined when absent. */
export function basicConstraints(c: X509Certificate): { isCA: boolean; maxPathLen: number } | undefined {
  const ext = certificateFields(c).extensions.find((e) => e.oid === BASIC_CONSTRAINTS);
  if (!ext) return undefined;
  const r = new DerReader(new DerReader(ext.value).read(TAG.SEQUENCE).value);
  const isCA = r.readOptional(TAG.BOOLEAN)?.value[0] === 0xff;
  const len = r.readOptional(TAG.INTEGER);
  return { isCA, maxPathLen: len ? decodeUnsigned(len.value) : -1 };
}

/** The critical extensions Go's parser would not handle (x509.Verify then refuses the certificate). */
export function unhandledCriticalExtensions(c: X509Certificate): string[] {
  return certificateFields(c)
    .extensions.filter((e) => e.critical && !(HANDLED.has(e.oid) || (e.oid === SUBJECT_ALT_NAME && hasNames(e.value))))
    .map((e) => e.oid);
}

/** A subjectAltName Go understands names in (DNS, email, IP, URI); an empty or other-only one is unhandled when critical. */
function hasNames(value: Buffer): boolean {
  const names = new DerReader(new DerReader(value).read(TAG.SEQUENCE).value);
  while (!names.empty) {
    const tag = names.read().tag & 0x1f;
    if (tag === 1 || tag === 2 || tag === 6 || tag === 7) return true;
  }
  return false;
}
