// What the backend trusts when called directly on its port: the X-Remote-*
// identity only from the front proxy's verified certificate; users' own
// client certificates and service-account tokens otherwise; nothing else.
import { readFileSync } from 'node:fs';
import { CoreV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { issueCertificate, loadCertificateAuthority, newCertificateAuthority, type CertificateAuthority } from '../../client/src/certificates.ts';
import { asUser, direct, frontProxyCert } from './backend-client.ts';
import { cluster, eventually, kubeConfig } from './harness.ts';

const RESOURCES = '/apis/custom.example.com/v1';
const LIST = '/apis/custom.example.com/v1/customresources';

function loadCa(pair: { cert: string; key: string }): Promise<CertificateAuthority> {
  return loadCertificateAuthority(readFileSync(pair.cert, 'utf8'), readFileSync(pair.key, 'utf8'));
}

describe('backend authentication', () => {
  it('refuses X-Remote-User sent without a client certificate', async () => {
    const r = await direct({ path: RESOURCES, headers: asUser('admin', ['system:masters']) });
    expect(r.status).toBe(401);
    expect(r.json()).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
  });

  it('refuses X-Remote-User with a certificate from another CA, even with the allowed CN', async () => {
    const other = await newCertificateAuthority('front-proxy-ca');
    const cert = await issueCertificate(other, { commonName: 'front-proxy-client', usage: 'client' });
    const r = await direct({ path: RESOURCES, cert, headers: asUser('admin', ['system:masters']) });
    expect(r.status).toBe(401);
  });

  it('refuses X-Remote-User with a front-proxy-CA certificate whose CN is not allowed', async () => {
    const ca = await loadCa(cluster().frontProxyCa);
    const cert = await issueCertificate(ca, { commonName: 'someone-else', usage: 'client' });
    const r = await direct({ path: RESOURCES, cert, headers: asUser('admin', ['system:masters']) });
    expect(r.status).toBe(401);
  });

  it('refuses a front-proxy-CA certificate that is not for client authentication', async () => {
    const ca = await loadCa(cluster().frontProxyCa);
    const cert = await issueCertificate(ca, { commonName: 'front-proxy-client', usage: 'server' });
    const r = await direct({ path: RESOURCES, cert, headers: asUser('admin', ['system:masters']) });
    expect(r.status).toBe(401);
  });

  it('refuses the real front-proxy certificate without X-Remote-User', async () => {
    const r = await direct({ path: RESOURCES, cert: frontProxyCert() });
    expect(r.status).toBe(401);
  });

  it('trusts the real front-proxy certificate and takes user and groups from the headers', async () => {
    const admin = await direct({ path: RESOURCES, cert: frontProxyCert(), headers: asUser('someone', ['system:masters']) });
    expect(admin.status).toBe(200);
    expect(admin.json()).toMatchObject({ kind: 'APIResourceList', groupVersion: 'custom.example.com/v1' });
    // The same certificate for a user without permissions: the SubjectAccessReview names that user.
    const bob = await direct({ path: LIST, cert: frontProxyCert(), headers: asUser('bob', ['team-b']) });
    expect(bob.status).toBe(403);
    expect(bob.json<{ message: string }>().message).toBe('customresources.custom.example.com is forbidden: User "bob" cannot list resource "customresources" in API group "custom.example.com" at the cluster scope');
  });

  it('authenticates a user client certificate from the cluster CA, and ignores X-Remote-User next to it', async () => {
    const alice = { cert: readFileSync(cluster().users.alice.cert, 'utf8'), key: readFileSync(cluster().users.alice.key, 'utf8') };
    const r = await direct({ path: LIST, cert: alice, headers: asUser('admin', ['system:masters']) });
    expect(r.status).toBe(403);
    expect(r.json<{ message: string }>().message).toContain('User "alice" cannot list');
    const admin = { cert: readFileSync(cluster().users.admin.cert, 'utf8'), key: readFileSync(cluster().users.admin.key, 'utf8') };
    expect((await direct({ path: LIST, cert: admin })).status).toBe(200);
  });

  it('authenticates a service-account token through TokenReview, and refuses a bad one', async () => {
    const core = kubeConfig('admin').makeApiClient(CoreV1Api);
    await core.createNamespacedServiceAccount({ namespace: 'custom-system', body: { metadata: { name: 'token-user' } } }).catch(() => undefined);
    const tr = await core.createNamespacedServiceAccountToken({ namespace: 'custom-system', name: 'token-user', body: { spec: { audiences: [], expirationSeconds: 600 } } });
    const token = tr.status!.token!;
    const r = await direct({ path: LIST, headers: { Authorization: `Bearer ${token}` } });
    expect(r.status).toBe(403);
    expect(r.json<{ message: string }>().message).toContain('User "system:serviceaccount:custom-system:token-user" cannot list');
    const bad = await direct({ path: LIST, headers: { Authorization: `Bearer ${token.slice(0, -4)}AAAA` } });
    expect(bad.status).toBe(401);
    const none = await direct({ path: LIST });
    expect(none.status).toBe(401);
  });

  it('serves health probes without credentials', async () => {
    for (const p of ['/healthz', '/livez', '/readyz']) {
      const r = await direct({ path: p });
      expect(r.status, p).toBe(200);
      expect(r.body).toBe('ok');
    }
    expect((await direct({ path: '/metrics' })).status).toBe(401);
  });

  it('follows a CA rotation in kube-system/extension-apiserver-authentication without a restart', async () => {
    const newCa = await newCertificateAuthority('front-proxy-ca-2');
    const cert = await issueCertificate(newCa, { commonName: 'front-proxy-client', usage: 'client' });
    const probe = () => direct({ path: RESOURCES, cert, headers: asUser('someone', ['system:masters']) });
    expect((await probe()).status).toBe(401);
    const core = kubeConfig('admin').makeApiClient(CoreV1Api);
    const cm = await core.readNamespacedConfigMap({ namespace: 'kube-system', name: 'extension-apiserver-authentication' });
    // Add the new CA next to the old one (a rotation's first step); kube-apiserver keeps extra CAs it finds there.
    const bundle = (cm.data?.['requestheader-client-ca-file'] ?? '') + newCa.cert;
    await core.patchNamespacedConfigMap({ namespace: 'kube-system', name: 'extension-apiserver-authentication', body: [{ op: 'replace', path: '/data/requestheader-client-ca-file', value: bundle }] });
    await eventually('the backend trusts the new CA', async () => (await probe()).status === 200, 20_000);
    // The old CA still works: aggregation through kube-apiserver is not disturbed.
    expect((await direct({ path: RESOURCES, cert: frontProxyCert(), headers: asUser('someone', ['system:masters']) })).status).toBe(200);
  });
});
