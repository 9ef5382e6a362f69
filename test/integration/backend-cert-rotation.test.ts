// The serving certificate rotated under load, as cert-manager rotates it in
// the Secret the backend mounts: a new pair from the same CA, then a pair
// from a new CA (the APIService's caBundle first trusts both, then only the
// new one), then a broken pair that must not replace the one in use. On a
// stack of this file's own: the APIService's caBundle changes here.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate, loadCertificateAuthority, newCertificateAuthority, type CertificateAuthority, type KeyPairPem } from '../../client/src/certificates.ts';
import { registerLocalApiService } from '../../cluster/aggregation.ts';
import { adminKubeConfig, BACKEND_SERVICE } from '../../cluster/backend.ts';
import { startStack, type Stack } from '../../cluster/stack.ts';
import { apiOn, CUSTOM, eventually, STORAGE } from './harness.ts';

let stack: Stack;
let dir: string;
const NS = 'rotation';
const SVC = `${BACKEND_SERVICE.name}.${BACKEND_SERVICE.namespace}.svc`;
const OBJECT = `${CUSTOM}/namespaces/${NS}/customresources/web`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kubectl-custom-rotation-'));
  stack = await startStack({ dir });
  expect((await apiOn(stack.cluster, 'admin', 'POST', '/api/v1/namespaces', { metadata: { name: NS } })).status).toBe(201);
  const made = await apiOn(stack.cluster, 'admin', 'POST', `${STORAGE}/namespaces/${NS}/customresources`, { apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name: 'web' }, spec: { name: 'Web', states: ['a', 'b'] } });
  expect(made.status, made.text).toBe(201);
  await eventually('the backend serves the object', async () => (await apiOn(stack.cluster, 'admin', 'GET', OBJECT)).status === 200, 30_000);
});

afterAll(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The certificate the backend presents to a new connection, as kube-aggregator dials it. */
function served(): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port: stack.backend.port, servername: SVC, rejectUnauthorized: false }, () => {
      resolve(sock.getPeerX509Certificate()!);
      sock.destroy();
    });
    sock.on('error', reject);
  });
}

const servingPair = (ca: CertificateAuthority): Promise<KeyPairPem> => issueCertificate(ca, { commonName: SVC, usage: 'server', dnsNames: [SVC, 'localhost'], ipAddresses: ['127.0.0.1'] });

/** As a Secret volume changes: each file replaced by a rename, the certificate first. */
function install(pair: KeyPairPem): void {
  for (const [file, content] of [[stack.backend.certFile, pair.cert], [stack.backend.keyFile, pair.key]] as const) {
    writeFileSync(`${file}.new`, content);
    renameSync(`${file}.new`, file);
  }
}

const caBundle = (pem: string) => registerLocalApiService(adminKubeConfig(stack.cluster), { group: 'custom.example.com', version: 'v1', service: BACKEND_SERVICE, port: stack.backend.port, caBundle: pem });

/** Clients reading the object through kube-apiserver until stopped; every answer recorded. */
function load(clients: number) {
  const codes: number[] = [];
  let stop = false;
  const run = async () => {
    while (!stop) {
      const r = await apiOn(stack.cluster, 'admin', 'GET', OBJECT, undefined, {}, 10_000).catch((err: Error) => ({ status: 0, text: err.message }));
      codes.push(r.status);
    }
  };
  const running = Promise.all(Array.from({ length: clients }, run));
  return {
    codes,
    /** Waits for `n` more answers than there are now. */
    async more(n: number) {
      const target = codes.length + n;
      await eventually(`${n} more requests answered`, async () => codes.length >= target, 30_000);
    },
    async stop() {
      stop = true;
      await running;
    },
  };
}

describe('serving certificate rotation', () => {
  it('serves each new pair without a restart, with requests succeeding throughout', async () => {
    const pid = stack.backend.pid;
    const caA = await loadCertificateAuthority(readFileSync(stack.backend.caFile, 'utf8'), readFileSync(stack.backend.caKeyFile!, 'utf8'));
    const before = await served();
    const traffic = load(3);
    try {
      await traffic.more(20);

      // 1. Renewed by the same CA.
      const renewed = await servingPair(caA);
      install(renewed);
      await eventually('the renewed certificate is served', async () => (await served()).fingerprint256 === new X509Certificate(renewed.cert).fingerprint256, 30_000);
      expect((await served()).serialNumber).not.toBe(before.serialNumber);
      await traffic.more(20);

      // 2. A new CA: trusted beside the old one first, then the pair, then only the new CA.
      const caB = await newCertificateAuthority('kubectl-custom-backend-ca-2');
      await caBundle(caA.cert + caB.cert);
      await traffic.more(20);
      const fromB = await servingPair(caB);
      install(fromB);
      await eventually('the certificate from the new CA is served', async () => (await served()).fingerprint256 === new X509Certificate(fromB.cert).fingerprint256, 30_000);
      await traffic.more(20);
      await caBundle(caB.cert);
      await traffic.more(40);

      // 3. A key that is not the certificate's: logged, and the pair in use kept.
      const refusals = () => readFileSync(stack.backend.logFile, 'utf8').split('serving certificate not reloaded; keeping the one in use').length - 1;
      const refusedBefore = refusals();
      const stranger = await servingPair(caB);
      install({ cert: stranger.cert, key: (await servingPair(caB)).key });
      await eventually('the backend logs the pair it refused', async () => refusals() > refusedBefore, 30_000);
      expect((await served()).fingerprint256).toBe(new X509Certificate(fromB.cert).fingerprint256);
      await traffic.more(20);
    } finally {
      await traffic.stop();
    }
    expect(traffic.codes.filter((c) => c !== 200)).toEqual([]);
    expect(traffic.codes.length).toBeGreaterThan(140);
    // The same process all along.
    expect(stack.backend.pid).toBe(pid);
    expect(readFileSync(stack.backend.logFile, 'utf8').match(/serving certificate reloaded/g)).toHaveLength(2);
  }, 240_000);
});
