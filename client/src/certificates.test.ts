import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { issueCertificate, newCertificateAuthority, newSigningKeyPair, selfSignedServingCertificate } from './certificates.ts';

describe('certificates', () => {
  it('issues a client certificate with CN = user and O = groups, chained to its CA', async () => {
    const ca = await newCertificateAuthority('test-ca');
    const pair = await issueCertificate(ca, { commonName: 'alice', organizations: ['devs', 'system:masters'], usage: 'client' });
    const cert = new X509Certificate(pair.cert);
    const caCert = new X509Certificate(ca.cert);
    expect(cert.subject.split('\n')).toEqual(['CN=alice', 'O=devs', 'O=system:masters']);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.ca).toBe(false);
    expect(caCert.ca).toBe(true);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    // The private key matches the certificate.
    expect(cert.checkPrivateKey(createPrivateKey(pair.key))).toBe(true);
  });

  it('puts DNS and IP names on a serving certificate', async () => {
    const s = await selfSignedServingCertificate('backend', ['custom-api.custom-system.svc', 'localhost'], ['127.0.0.1']);
    const cert = new X509Certificate(s.cert);
    expect(cert.subjectAltName).toBe('DNS:custom-api.custom-system.svc, DNS:localhost, IP Address:127.0.0.1');
    expect(cert.checkHost('custom-api.custom-system.svc')).toBe('custom-api.custom-system.svc');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkHost('other.svc')).toBeUndefined();
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(cert.checkIssued(new X509Certificate(s.ca))).toBe(true);
  });

  it('escapes distinguished-name specials instead of letting them add attributes', async () => {
    const ca = await newCertificateAuthority('test-ca');
    const pair = await issueCertificate(ca, { commonName: 'eve, O=system:masters', usage: 'client' });
    expect(new X509Certificate(pair.cert).subject).toBe('CN=eve\\, O=system:masters');
    expect(new X509Certificate(pair.cert).subject.split('\n')).toHaveLength(1);
  });

  it('makes a PEM signing key pair', async () => {
    const k = await newSigningKeyPair();
    expect(createPrivateKey(k.privateKey).asymmetricKeyType).toBe('ec');
    expect(createPublicKey(k.publicKey).asymmetricKeyType).toBe('ec');
  });
});
