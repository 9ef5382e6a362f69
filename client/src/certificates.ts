import { webcrypto } from 'node:crypto';
// @peculiar/x509 resolves its algorithms through tsyringe, which needs the
// Reflect metadata polyfill loaded before it.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as ReturnType<typeof x509.cryptoProvider.get>);

// ECDSA P-256: fast to generate (the test PKI makes a dozen keys per run),
// accepted by Go's crypto/tls and by kube-apiserver for every key it takes.
const KEY_ALGORITHM: webcrypto.EcKeyGenParams & webcrypto.EcdsaParams = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

export interface KeyPairPem {
  /** PEM "CERTIFICATE". */
  cert: string;
  /** PEM "PRIVATE KEY" (PKCS#8). */
  key: string;
}

export interface CertificateAuthority extends KeyPairPem {
  certificate: x509.X509Certificate;
  keys: CryptoKeyPair;
}

export interface IssueOptions {
  commonName: string;
  /** The whole subject as an RFC 4514 name (e.g. `CN=alice, CN=bob`), in place of commonName and organizations. */
  subject?: string;
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  usage: 'server' | 'client' | 'server-and-client';
  /** Validity in days; one year by default. */
  days?: number;
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function publicKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('spki', key);
  return x509.PemConverter.encode(der, 'PUBLIC KEY');
}

/** Escapes a value for an RFC 4514 distinguished name. */
function rdn(value: string): string {
  return value.replace(/([,+"\\<>;=])/g, '\\$1').replace(/^([ #])/, '\\$1').replace(/ $/, '\\ ');
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  // Back-date by an hour to tolerate clock skew between processes/machines.
  const notBefore = new Date(Date.now() - 60 * 60 * 1000);
  return { notBefore, notAfter: new Date(notBefore.getTime() + days * 24 * 60 * 60 * 1000) };
}

export interface CaOptions {
  /** An intermediate CA signed by this one; self-signed (a root) otherwise. */
  signedBy?: CertificateAuthority;
  /** basicConstraints pathLenConstraint: how many intermediates may follow. */
  pathLength?: number;
  /** Adds a critical extension with this OID that no verifier knows (an empty value). */
  criticalExtension?: string;
}

export async function newCertificateAuthority(commonName: string, days = 3650, opts: CaOptions = {}): Promise<CertificateAuthority> {
  const keys = await generateKeys();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(true, opts.pathLength, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  // An empty SEQUENCE as the value: well-formed DER whatever the OID.
  if (opts.criticalExtension) extensions.push(new x509.Extension(opts.criticalExtension, true, new Uint8Array([0x30, 0x00]).buffer));
  const name = `CN=${rdn(commonName)}`;
  const parent = opts.signedBy;
  const certificate = parent
    ? await x509.X509CertificateGenerator.create({
        subject: name,
        issuer: parent.certificate.subject,
        publicKey: keys.publicKey,
        signingKey: parent.keys.privateKey,
        signingAlgorithm: KEY_ALGORITHM,
        ...validity(days),
        extensions: [...extensions, await x509.AuthorityKeyIdentifierExtension.create(parent.keys.publicKey)],
      })
    : await x509.X509CertificateGenerator.createSelfSigned({ name, keys, signingAlgorithm: KEY_ALGORITHM, ...validity(days), extensions });
  return { certificate, keys, cert: certificate.toString('pem') + '\n', key: await privateKeyPem(keys.privateKey) + '\n' };
}

export async function issueCertificate(ca: CertificateAuthority, opts: IssueOptions): Promise<KeyPairPem> {
  const keys = await generateKeys();
  const subject = opts.subject ?? [`CN=${rdn(opts.commonName)}`, ...(opts.organizations ?? []).map((o) => `O=${rdn(o)}`)].join(', ');
  const usages: string[] = [];
  if (opts.usage !== 'client') usages.push(x509.ExtendedKeyUsage.serverAuth);
  if (opts.usage !== 'server') usages.push(x509.ExtendedKeyUsage.clientAuth);
  const names: x509.JsonGeneralName[] = [
    ...(opts.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(opts.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(usages, false),
    await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
  ];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
  const certificate = await x509.X509CertificateGenerator.create({
    subject,
    issuer: ca.certificate.subject,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: KEY_ALGORITHM,
    ...validity(opts.days ?? 365),
    extensions,
  });
  return { cert: certificate.toString('pem') + '\n', key: await privateKeyPem(keys.privateKey) + '\n' };
}

/** A self-signed serving certificate, as the backend makes for --cert-dir when given none. */
export async function selfSignedServingCertificate(commonName: string, dnsNames: string[], ipAddresses: string[]): Promise<KeyPairPem & { ca: string }> {
  const ca = await newCertificateAuthority(`${commonName}-ca@${Math.floor(Date.now() / 1000)}`);
  const pair = await issueCertificate(ca, { commonName, dnsNames, ipAddresses, usage: 'server' });
  return { ...pair, ca: ca.cert };
}

export async function newSigningKeyPair(): Promise<{ privateKey: string; publicKey: string }> {
  const keys = await generateKeys();
  return { privateKey: await privateKeyPem(keys.privateKey) + '\n', publicKey: await publicKeyPem(keys.publicKey) + '\n' };
}

/** A CA from PEM files (certificate and PKCS#8 ECDSA key), to sign more certificates with it. */
export async function loadCertificateAuthority(certPem: string, keyPem: string): Promise<CertificateAuthority> {
  const certificate = new x509.X509Certificate(certPem);
  const der = x509.PemConverter.decode(keyPem)[0];
  if (!der) throw new Error('no private key in PEM');
  const privateKey = await webcrypto.subtle.importKey('pkcs8', der, KEY_ALGORITHM, true, ['sign']);
  const publicKey = await certificate.publicKey.export(KEY_ALGORITHM, ['verify']);
  return { certificate, keys: { privateKey, publicKey }, cert: certPem, key: keyPem };
}
