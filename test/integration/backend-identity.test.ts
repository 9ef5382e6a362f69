// What kube-apiserver sends the backend, and what the backend must read as
// kube-apiserver means it (issue 12): a body without Content-Type, users
// with UTF-8 names or very many groups, extra keys that name Object.prototype
// members, and client certificates whose subject Go reads differently from
// Node's escaped text. Each through the real kube-apiserver and kubectl.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate, loadCertificateAuthority } from '../../client/src/certificates.ts';
import { direct } from './backend-client.ts';
import { api, cluster, createObject, CUSTOM, grantRole, kubectl, useNamespace, waitServed } from './harness.ts';

const ns = useNamespace(import.meta.filename);
const objectPath = (name: string) => `${CUSTOM}/namespaces/${ns()}/customresources/${name}`;
const readRules = [{ apiGroups: ['custom.example.com'], resources: ['customresources'], verbs: ['get', 'list', 'watch'] }];

beforeAll(async () => {
  await createObject(ns(), 'checkout', { name: 'Checkout', states: ['dev', 'staging', 'prod'] });
  await waitServed(ns(), 'checkout');
});

describe('through kube-apiserver with the kubectl built alongside it', () => {
  it('kubectl create --raw … -f body.json (no Content-Type) promotes', async () => {
    const body = join(mkdtempSync(join(tmpdir(), 'raw-body-')), 'body.json');
    writeFileSync(body, JSON.stringify({ from: 'dev', reason: 'raw request' }));
    const r = await kubectl('admin', ['create', '--raw', `${objectPath('checkout')}/promote`, '-f', body]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ kind: 'CustomResourceState', state: 'staging' });
  });

  it('a user with 1,500 long groups (over 16 KiB and 1,000 header lines) is served', async () => {
    const groups = Array.from({ length: 1_500 }, (_, i) => `--as-group=team-${i}-${'x'.repeat(40)}`);
    const r = await kubectl('admin', ['get', '--raw', objectPath('checkout'), '--as=many-groups', '--as-group=system:masters', ...groups]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ metadata: { name: 'checkout' } });
  });

  it('a UTF-8 user name reaches the backend\'s SubjectAccessReview as kube-apiserver knows it', async () => {
    await grantRole(ns(), 'utf8-reader', 'jos\u00e9', readRules);
    const r = await kubectl('admin', ['get', '--raw', objectPath('checkout'), '--as=jos\u00e9']);
    // Read as Latin-1, the backend asked about "josÃ©", whom no RBAC names: 403 from the backend.
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it.each(['constructor', '__proto__', 'toString'])('an extra key named %s is served', async (key) => {
    const r = await api('admin', 'GET', objectPath('checkout'), undefined, { 'Impersonate-User': 'extra-user', 'Impersonate-Group': 'system:masters', [`Impersonate-Extra-${key}`]: 'v' });
    expect(r.status, r.text).toBe(200);
  });
});

describe('a client certificate straight to the backend, read as Go reads it', () => {
  it('two CNs: the last names the user, as kube-apiserver says', async () => {
    await grantRole(ns(), 'cn-reader', 'cn-last', readRules);
    const c = cluster();
    const ca = await loadCertificateAuthority(readFileSync(c.clusterCa.cert, 'utf8'), readFileSync(c.clusterCa.key, 'utf8'));
    const pair = await issueCertificate(ca, { commonName: '', subject: 'CN=cn-first, CN=cn-last', usage: 'client' });
    const whoami = await kubectl('admin', ['auth', 'whoami', '-o', 'json', `--client-certificate=${write('cn.crt', pair.cert)}`, `--client-key=${write('cn.key', pair.key)}`]);
    expect(whoami.stderr).toBe('');
    expect(JSON.parse(whoami.stdout)).toMatchObject({ status: { userInfo: { username: 'cn-last' } } });
    const r = await direct({ path: objectPath('checkout'), cert: pair });
    expect(r.status, r.body).toBe(200);
  });
});

let certDir: string | undefined;
function write(name: string, content: string): string {
  certDir ??= mkdtempSync(join(tmpdir(), 'identity-certs-'));
  const f = join(certDir, name);
  writeFileSync(f, content, { mode: 0o600 });
  return f;
}
