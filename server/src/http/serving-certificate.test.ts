import { X509Certificate } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate, newCertificateAuthority, type CertificateAuthority, type KeyPairPem } from '../../../client/src/certificates.ts';
import { memoryLogger } from '../log/logger.ts';
import { startInProcess, type InProcess } from '../testing/in-process-server.ts';
import { ServingCertificateFiles, type KeyPair } from './serving-certificate.ts';

let ca: CertificateAuthority;
const serving = (c: CertificateAuthority): Promise<KeyPairPem> => issueCertificate(c, { commonName: 'localhost', usage: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;

/** Replaces a file as kubelet and cert-manager do: a new file renamed over the old one. */
function replace(file: string, content: string): void {
  writeFileSync(`${file}.tmp`, content);
  renameSync(`${file}.tmp`, file);
}

function files(pair: KeyPairPem): { dir: string; certFile: string; keyFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'serving-cert-'));
  const f = { dir, certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') };
  writeFileSync(f.certFile, pair.cert);
  writeFileSync(f.keyFile, pair.key);
  return f;
}

beforeAll(async () => {
  ca = await newCertificateAuthority('serving-ca');
});

describe('ServingCertificateFiles', () => {
  it('loads the pair, reloads a new one, and keeps the one in use when the files do not make a pair', async () => {
    const [a, b] = [await serving(ca), await serving(ca)];
    const f = files(a);
    const log = memoryLogger();
    const sc = new ServingCertificateFiles({ certFile: f.certFile, keyFile: f.keyFile, log });
    const seen: KeyPair[] = [];
    sc.onChange((p) => seen.push(p));
    expect(fingerprint(sc.current().cert)).toBe(fingerprint(a.cert));
    expect(sc.reload()).toBe(false);
    // The certificate first, the key a moment later: a mismatch meanwhile.
    replace(f.certFile, b.cert);
    expect(sc.reload()).toBe(false);
    expect(fingerprint(sc.current().cert)).toBe(fingerprint(a.cert));
    expect(log.lines.some((l) => l['level'] === 'error' && l['msg'] === 'serving certificate not reloaded; keeping the one in use')).toBe(true);
    replace(f.keyFile, b.key);
    expect(sc.reload()).toBe(true);
    expect(seen.map((p) => fingerprint(p.cert))).toEqual([fingerprint(b.cert)]);
    // Gone altogether: kept too.
    rmSync(f.certFile);
    expect(sc.reload()).toBe(false);
    expect(fingerprint(sc.current().cert)).toBe(fingerprint(b.cert));
    rmSync(f.dir, { recursive: true });
  });

  it('refuses to start without a pair that loads', async () => {
    const [a, b] = [await serving(ca), await serving(ca)];
    const f = files({ cert: a.cert, key: b.key });
    expect(() => new ServingCertificateFiles({ certFile: f.certFile, keyFile: f.keyFile, log: memoryLogger() })).toThrow(/key values mismatch/);
    rmSync(f.dir, { recursive: true });
  });
});

describe('a rotated serving certificate is served without a restart', () => {
  let s: InProcess;
  let f: ReturnType<typeof files>;
  let sc: ServingCertificateFiles;
  let first: KeyPairPem;
  beforeAll(async () => {
    first = await serving(ca);
    f = files(first);
    sc = new ServingCertificateFiles({ certFile: f.certFile, keyFile: f.keyFile, log: memoryLogger(), settleMs: 20 });
    s = await startInProcess({ config: { servingCertificate: sc } });
    sc.start();
  });
  afterAll(async () => {
    sc.stop();
    await s.close();
    rmSync(f.dir, { recursive: true });
  });

  const served = () =>
    new Promise<string>((resolve, reject) => {
      const sock = connect({ host: '127.0.0.1', port: s.port, servername: 'localhost', rejectUnauthorized: false }, () => {
        resolve(sock.getPeerX509Certificate()!.fingerprint256);
        sock.destroy();
      });
      sock.on('error', reject);
    });

  it('new handshakes get the new pair once the files change (even from a new CA)', async () => {
    expect(await served()).toBe(fingerprint(first.cert));
    const next = await serving(await newCertificateAuthority('next-serving-ca'));
    const changed = new Promise<KeyPair>((r) => sc.onChange(r));
    replace(f.keyFile, next.key);
    replace(f.certFile, next.cert);
    // The watch reads the files again; no minute-long poll needed.
    expect(fingerprint((await changed).cert)).toBe(fingerprint(next.cert));
    expect(await served()).toBe(fingerprint(next.cert));
  });
});
