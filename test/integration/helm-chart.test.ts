// The Helm chart (charts/kubectl-custom), with helm built from its Go module
// (cluster/helm.ts): `helm lint --strict`; `helm template` with defaults is
// manifests/base object by object (the drift check; cert-manager mode is
// manifests/overlays/cert-manager); what each TLS mode renders; the strict
// values.schema.json; the test hook; and, in a control plane of this file's
// own, `helm install --dry-run=server`, a real `helm install` (every object,
// the admission policies among them, passes kube-apiserver's validation; the
// Deployment cannot run: there is no node), upgrades that keep or renew the
// certificate, the release serving through a backend started as a local
// process with Helm's certificate while the test hook's script checks it with
// the hook's own ServiceAccount, and `helm uninstall` keeping the CRDs, the
// objects and the archive.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { newCertificateAuthority } from '../../client/src/certificates.ts';
import { BACKEND_SERVICE, startBackend, waitFinalizerPolicy } from '../../cluster/backend.ts';
import { ensureBinaries } from '../../cluster/binaries.ts';
import { startCluster, stopCluster, type ClusterInfo } from '../../cluster/control-plane.ts';
import { ensureHelm } from '../../cluster/helm.ts';
import { stopProcess } from '../../cluster/processes.ts';
import { apiOn, eventually } from './harness.ts';
import { type Run, runCommand } from './run-command.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHART = join(ROOT, 'charts/kubectl-custom');
const NS = 'custom-system';
const SERVING_SECRET = 'kubectl-custom-backend-serving-cert';
const SERVICE_DNS = 'kubectl-custom-backend.custom-system.svc';
/** The labels Helm's objects carry besides those of manifests/base (templates/_helpers.tpl). */
const HELM_LABELS = ['helm.sh/chart', 'app.kubernetes.io/managed-by', 'app.kubernetes.io/instance', 'app.kubernetes.io/version'];

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  [k: string]: unknown;
}

let helmBin: string;
let kubectlBin: string;
let work: string;
let cluster: ClusterInfo | undefined;
let backendPid: number | undefined;

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return runCommand(cmd, args, { env: { ...process.env, ...env } });
}

/** helm with its config, cache and data in this run's folder (nothing of the user's), and this file's cluster if there is one. */
function helm(args: string[]): Promise<Run> {
  const home = join(work, 'helm-home');
  return run(helmBin, [...args, ...(cluster ? ['--kubeconfig', cluster.kubeconfigs.admin] : [])], {
    HELM_CONFIG_HOME: join(home, 'config'), HELM_CACHE_HOME: join(home, 'cache'), HELM_DATA_HOME: join(home, 'data'), KUBECONFIG: '/dev/null',
  });
}

function kubectl(args: string[], input?: string): Promise<Run> {
  return runCommand(kubectlBin, args, input === undefined ? {} : { input });
}

function objects(yaml: string): Obj[] {
  return parseAllDocuments(yaml).map((d) => d.toJSON() as Obj | null).filter((o): o is Obj => !!o);
}

const key = (o: Obj) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const byKey = (a: Obj, b: Obj) => key(a).localeCompare(key(b));

/** `helm template` of the chart as installed into custom-system, without the test hook. */
async function template(...set: string[]): Promise<Obj[]> {
  const r = await helm(['template', 'kubectl-custom', CHART, '-n', NS, '--skip-tests', ...set]);
  expect(r.code, r.stderr).toBe(0);
  return objects(r.stdout);
}

async function kustomize(dir: string): Promise<Obj[]> {
  const r = await kubectl(['kustomize', join(ROOT, dir)]);
  expect(r.code, r.stderr).toBe(0);
  return objects(r.stdout);
}

/**
 * A rendered object as manifests/base has it: Helm's labels (checked first)
 * and the keep annotation of the CRDs taken off; caBundles taken off and
 * returned.
 */
function asBase(o: Obj, appVersion: string): { obj: Obj; caBundles: string[] } {
  const c = structuredClone(o);
  const labels = c.metadata.labels ?? {};
  expect(HELM_LABELS.map((l) => labels[l]), `${key(o)}: Helm's labels`).toEqual([`kubectl-custom-${appVersion}`, 'Helm', 'kubectl-custom', appVersion]);
  for (const l of HELM_LABELS) delete labels[l];
  if (!Object.keys(labels).length) delete c.metadata.labels;
  if (c.kind === 'CustomResourceDefinition') {
    expect(c.metadata.annotations?.['helm.sh/resource-policy'], `${key(o)} is kept on uninstall`).toBe('keep');
    delete c.metadata.annotations!['helm.sh/resource-policy'];
    if (!Object.keys(c.metadata.annotations!).length) delete c.metadata.annotations;
  }
  const caBundles: string[] = [];
  if (c.kind === 'APIService' && c.spec?.['caBundle']) {
    caBundles.push(c.spec['caBundle'] as string);
    delete c.spec['caBundle'];
  }
  if (c.kind === 'ValidatingWebhookConfiguration') {
    for (const w of c['webhooks'] as { clientConfig: { caBundle?: string } }[]) {
      if (w.clientConfig.caBundle) caBundles.push(w.clientConfig.caBundle);
      delete w.clientConfig.caBundle;
    }
  }
  return { obj: c, caBundles };
}

const APP_VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'kubectl-custom-helm-'));
  // Built once per machine (minutes), then cached like kube-apiserver.
  const [h, binaries] = await Promise.all([ensureHelm(), ensureBinaries()]);
  helmBin = h;
  kubectlBin = binaries.kubectl;
}, 40 * 60_000);

afterAll(async () => {
  if (backendPid) await stopProcess(backendPid);
  if (cluster) await stopCluster(cluster);
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('helm lint and helm template', () => {
  it('helm lint --strict passes with the defaults and with each TLS mode', async () => {
    const ca = await newCertificateAuthority('lint-ca');
    for (const set of [[], ['--set', 'tls.mode=cert-manager'], ['--set', 'tls.mode=existingSecret', '--set', 'tls.existingSecret.name=mine', '--set-string', `tls.existingSecret.caBundle=${ca.cert}`]]) {
      const r = await helm(['lint', '--strict', CHART, '-n', NS, ...set]);
      expect(r.code, `${set.join(' ')}: ${r.stdout}${r.stderr}`).toBe(0);
      expect(r.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    }
  });

  it('helm template with the defaults is manifests/base object by object, but for the Namespace, plus the serving certificate', async () => {
    const base = (await kustomize('manifests/base')).filter((o) => o.kind !== 'Namespace');
    const rendered = await template();
    const secret = rendered.find((o) => o.kind === 'Secret')!;
    expect(key(secret)).toBe(`Secret/${NS}/${SERVING_SECRET}`);
    const others = rendered.filter((o) => o !== secret).map((o) => asBase(o, APP_VERSION));
    expect(others.map((o) => o.obj).sort(byKey)).toEqual(base.sort(byKey));
    // The APIService and the webhook trust the Secret's CA.
    expect(others.flatMap((o) => o.caBundles)).toEqual([secret.data!['ca.crt'], secret.data!['ca.crt']]);
  });

  it('with tls.mode=cert-manager it is manifests/overlays/cert-manager object by object, but for the Namespace', async () => {
    const overlay = (await kustomize('manifests/overlays/cert-manager')).filter((o) => o.kind !== 'Namespace');
    const rendered = (await template('--set', 'tls.mode=cert-manager')).map((o) => asBase(o, APP_VERSION));
    expect(rendered.flatMap((o) => o.caBundles), 'cert-manager injects the caBundles').toEqual([]);
    expect(rendered.map((o) => o.obj).sort(byKey)).toEqual(overlay.sort(byKey));
  });

  it('tls.mode=helm: a CA and a certificate for the Service, kept in a kubernetes.io/tls Secret', async () => {
    const secret = (await template()).find((o) => o.kind === 'Secret')!;
    expect(secret.type).toBe('kubernetes.io/tls');
    const pem = (k: string) => Buffer.from(secret.data![k]!, 'base64').toString();
    const ca = new X509Certificate(pem('ca.crt'));
    const cert = new X509Certificate(pem('tls.crt'));
    expect(ca.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkHost(SERVICE_DNS)).toBe(SERVICE_DNS);
    expect(cert.subjectAltName).toBe(`DNS:${SERVICE_DNS}, DNS:${SERVICE_DNS}.cluster.local`);
    expect(cert.checkPrivateKey(createPrivateKey(pem('tls.key')))).toBe(true);
    expect(cert.publicKey.asymmetricKeyType).toBe('ec');
    const days = (Date.parse(cert.validTo) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(3640);
    expect(Number(secret.metadata.annotations!['custom.example.com/not-after']) * 1000).toBeCloseTo(Date.parse(cert.validTo), -5);
  });

  it('tls.mode=existingSecret: the Deployment mounts the Secret named, both caBundles are the CA given, no Secret is made', async () => {
    const ca = await newCertificateAuthority('my-ca');
    const rendered = await template('--set', 'tls.mode=existingSecret', '--set', 'tls.existingSecret.name=my-serving-cert', '--set-string', `tls.existingSecret.caBundle=${ca.cert}`);
    expect(rendered.filter((o) => o.kind === 'Secret' || o.apiVersion.startsWith('cert-manager.io'))).toEqual([]);
    const dep = rendered.find((o) => o.kind === 'Deployment')!;
    expect((dep.spec as { template: { spec: { volumes: { secret: { secretName: string } }[] } } }).template.spec.volumes[0]!.secret.secretName).toBe('my-serving-cert');
    const bundles = rendered.map((o) => asBase(o, APP_VERSION)).flatMap((o) => o.caBundles);
    expect(bundles).toEqual([Buffer.from(ca.cert).toString('base64'), Buffer.from(ca.cert).toString('base64')]);
    // Without the CA it cannot install.
    const missing = await helm(['template', 'kubectl-custom', CHART, '-n', NS, '--set', 'tls.mode=existingSecret', '--set', 'tls.existingSecret.name=my-serving-cert']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('/tls/existingSecret/caBundle');
  });

  it('values: image, replicas, resources; the admission policies, the webhook and the CRDs can be left out', async () => {
    const dep = (await template('--set', 'image.repository=registry.example/kc', '--set', 'image.tag=0.2.0', '--set', 'image.pullPolicy=Always', '--set', 'replicas=3', '--set', 'resources.limits.memory=512Mi'))
      .find((o) => o.kind === 'Deployment')!;
    const spec = dep.spec as { replicas: number; template: { spec: { containers: { image: string; imagePullPolicy: string; resources: { limits: Record<string, string>; requests: Record<string, string> } }[] } } };
    expect(spec.replicas).toBe(3);
    expect(spec.template.spec.containers[0]).toMatchObject({ image: 'registry.example/kc:0.2.0', imagePullPolicy: 'Always', resources: { limits: { cpu: '1', memory: '512Mi' }, requests: { cpu: '100m', memory: '192Mi' } } });
    const kinds = (objs: Obj[]) => [...new Set(objs.map((o) => o.kind))].sort();
    const all = kinds(await template());
    const without = (gone: string[]) => all.filter((k) => !gone.includes(k));
    expect(kinds(await template('--set', 'admission.policies=false'))).toEqual(without(['MutatingAdmissionPolicy', 'MutatingAdmissionPolicyBinding', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']));
    expect(kinds(await template('--set', 'admission.webhook=false'))).toEqual(without(['ValidatingWebhookConfiguration']));
    expect(kinds(await template('--set', 'crds.install=false'))).toEqual(without(['CustomResourceDefinition']));
  });

  it('values.schema.json refuses a typo, a wrong type and an unknown TLS mode, in helm lint and helm template alike', async () => {
    const cases: [string[], string][] = [
      [['--set', 'replica=3'], "additional properties 'replica' not allowed"],
      [['--set', 'image.pullpolicy=Always'], "additional properties 'pullpolicy' not allowed"],
      [['--set', 'replicas=two'], "at '/replicas': got string, want integer"],
      [['--set', 'admission.webhook=maybe'], "at '/admission/webhook': got string, want boolean"],
      [['--set', 'tls.mode=vault'], "at '/tls/mode': value must be one of 'helm', 'cert-manager', 'existingSecret'"],
    ];
    for (const [set, message] of cases) {
      const lint = await helm(['lint', '--strict', CHART, '-n', NS, ...set]);
      expect(lint.code, set.join(' ')).not.toBe(0);
      expect(lint.stdout + lint.stderr).toContain(message);
      const t = await helm(['template', 'kubectl-custom', CHART, '-n', NS, ...set]);
      expect(t.code, set.join(' ')).not.toBe(0);
      expect(t.stderr).toContain(message);
    }
  });

  it('refuses any namespace but custom-system', async () => {
    const r = await helm(['template', 'kubectl-custom', CHART, '-n', 'default']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('kubectl-custom is installed into the namespace custom-system');
  });

  it('the test hook: a Pod of the backend image running the check, with its own namespace, ServiceAccount and least-privilege RBAC', async () => {
    const r = await helm(['template', 'kc', CHART, '-n', NS, '--show-only', 'templates/tests/promote-test.yaml']);
    expect(r.code, r.stderr).toBe(0);
    const hook = objects(r.stdout);
    expect(hook.map(key).sort()).toEqual([
      'ClusterRole//kc-test', 'ClusterRoleBinding//kc-test', `ConfigMap/${NS}/kc-test`, 'Namespace//kc-test', `Pod/${NS}/kc-test`, 'Role/kc-test/kc-test', 'RoleBinding/kc-test/kc-test', `ServiceAccount/${NS}/kc-test`,
    ]);
    for (const o of hook) {
      expect(o.metadata.annotations?.['helm.sh/hook'], key(o)).toBe('test');
      expect(o.metadata.annotations?.['helm.sh/hook-delete-policy'], key(o)).toBe('before-hook-creation,hook-succeeded');
    }
    const rules = (name: string) => (hook.find((o) => o.kind === name)!['rules']);
    expect(rules('ClusterRole')).toEqual([{ apiGroups: ['apiregistration.k8s.io'], resources: ['apiservices'], resourceNames: ['v1.custom.example.com'], verbs: ['get'] }]);
    expect(rules('Role')).toEqual([
      { apiGroups: ['example.com'], resources: ['customresources'], verbs: ['create', 'get', 'delete'] },
      { apiGroups: ['custom.example.com'], resources: ['customresources'], verbs: ['get'] },
      { apiGroups: ['custom.example.com'], resources: ['customresources/promote'], verbs: ['create'] },
    ]);
    const pod = hook.find((o) => o.kind === 'Pod')! as Obj & { spec: { serviceAccountName: string; containers: { image: string; command: string[]; securityContext: Record<string, unknown> }[] } };
    expect(pod.spec.serviceAccountName).toBe('kc-test');
    expect(pod.spec.containers[0]).toMatchObject({ image: `kubectl-custom-backend:${APP_VERSION}`, command: ['/nodejs/bin/node', '/helm-test/promote-test.mts'], securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false } });
    const script = (hook.find((o) => o.kind === 'ConfigMap')!.data as Record<string, string>)['promote-test.mts'];
    expect(script).toContain("'APIService v1.custom.example.com is Available'");
  });
});

describe('helm install into a control plane of its own (no node: the Deployment cannot run)', () => {
  const admin = () => ['--kubeconfig', cluster!.kubeconfigs.admin];
  const getJson = async <T = Obj>(...args: string[]): Promise<T> => {
    const r = await kubectl([...admin(), 'get', ...args, '-o', 'json']);
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    return JSON.parse(r.stdout) as T;
  };
  const servingSecret = () => getJson(`secret/${SERVING_SECRET}`, '-n', NS);
  const caBundles = async () => [
    (await getJson('apiservice.apiregistration.k8s.io/v1.custom.example.com')).spec!['caBundle'],
    ...(await getJson<{ webhooks: { clientConfig: { caBundle?: string } }[] }>('validatingwebhookconfiguration/kubectl-custom-gates')).webhooks.map((w) => w.clientConfig.caBundle),
  ];
  const b64pem = (b64: string) => Buffer.from(b64, 'base64').toString();

  beforeAll(async () => {
    cluster = await startCluster({ dir: join(work, 'cluster'), binaries: await ensureBinaries() });
  }, 180_000);

  it('helm install --dry-run=server passes (lookup and the server\'s OpenAPI), then helm install creates every object', async () => {
    const dry = await helm(['install', 'kubectl-custom', CHART, '-n', NS, '--create-namespace', '--dry-run=server']);
    expect(dry.code, dry.stderr).toBe(0);
    const install = await helm(['install', 'kubectl-custom', CHART, '-n', NS, '--create-namespace']);
    expect(install.code, install.stderr).toBe(0);
    expect(install.stdout).toContain('STATUS: deployed');
    const manifest = await helm(['get', 'manifest', 'kubectl-custom', '-n', NS]);
    const installed = objects(manifest.stdout);
    expect(installed.length).toBe((await template()).length);
    const got = await kubectl([...admin(), 'get', '-f', '-', '-o', 'name'], manifest.stdout);
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout.trim().split('\n')).toHaveLength(installed.length);
    // The APIService and the webhook trust the CA of the Secret Helm made.
    const secret = await servingSecret();
    expect(await caBundles()).toEqual([secret.data!['ca.crt'], secret.data!['ca.crt']]);
  }, 120_000);

  it('helm upgrade to another image tag keeps the certificate (lookup)', async () => {
    const before = await servingSecret();
    const up = await helm(['upgrade', 'kubectl-custom', CHART, '-n', NS, '--set', 'image.tag=0.1.1']);
    expect(up.code, up.stderr).toBe(0);
    const dep = await getJson<{ spec: { template: { spec: { containers: { image: string }[] } } } }>('deployment/kubectl-custom-backend', '-n', NS);
    expect(dep.spec.template.spec.containers[0]!.image).toBe('kubectl-custom-backend:0.1.1');
    const after = await servingSecret();
    expect(after.data).toEqual(before.data);
    expect(await caBundles()).toEqual([before.data!['ca.crt'], before.data!['ca.crt']]);
  }, 60_000);

  it('an upgrade within 30 days of the certificate\'s end makes a new one, trusting both CAs until the next upgrade', async () => {
    const old = await servingSecret();
    const soon = String(Math.floor(Date.now() / 1000) + 10 * 86_400);
    const a = await kubectl([...admin(), 'annotate', '--overwrite', '-n', NS, `secret/${SERVING_SECRET}`, `custom.example.com/not-after=${soon}`]);
    expect(a.code, a.stderr).toBe(0);
    // (--force-conflicts: the annotation was set here by kubectl, not by time passing.)
    const up = await helm(['upgrade', 'kubectl-custom', CHART, '-n', NS, '--reuse-values', '--force-conflicts']);
    expect(up.code, up.stderr).toBe(0);
    const renewed = await servingSecret();
    expect(renewed.data!['tls.crt']).not.toBe(old.data!['tls.crt']);
    expect(renewed.data!['ca.crt']).not.toBe(old.data!['ca.crt']);
    const both = Buffer.from(b64pem(renewed.data!['ca.crt']!) + b64pem(old.data!['ca.crt']!)).toString('base64');
    expect(await caBundles()).toEqual([both, both]);
    expect((await helm(['upgrade', 'kubectl-custom', CHART, '-n', NS, '--reuse-values'])).code).toBe(0);
    expect((await servingSecret()).data).toEqual(renewed.data);
    expect(await caBundles()).toEqual([renewed.data!['ca.crt'], renewed.data!['ca.crt']]);
  }, 60_000);

  it('serves with Helm\'s certificate, and the test hook\'s check passes with the hook\'s own ServiceAccount', async () => {
    // What the Deployment's pods would do, as a local process: the Secret's certificate, the
    // release's ServiceAccount; the Service made an ExternalName for it (as cluster/backend.ts does).
    const secret = await servingSecret();
    const tlsDir = join(work, 'serving');
    mkdirSync(tlsDir, { recursive: true });
    const files = { caFile: join(tlsDir, 'ca.crt'), certFile: join(tlsDir, 'tls.crt'), keyFile: join(tlsDir, 'tls.key') };
    writeFileSync(files.caFile, b64pem(secret.data!['ca.crt']!));
    writeFileSync(files.certFile, b64pem(secret.data!['tls.crt']!));
    writeFileSync(files.keyFile, b64pem(secret.data!['tls.key']!), { mode: 0o600 });
    const c = cluster!;
    const b = await startBackend({ cluster: c, dir: join(work, 'backend'), tls: files, register: false });
    backendPid = b.pid;
    const svcPath = `/api/v1/namespaces/${BACKEND_SERVICE.namespace}/services/${BACKEND_SERVICE.name}`;
    // Its metadata kept: the release still owns it.
    const current = (await apiOn<Obj>(c, 'admin', 'GET', svcPath)).body;
    const svc = await apiOn(c, 'admin', 'PUT', svcPath, { ...current, spec: { type: 'ExternalName', externalName: 'localhost', ports: [{ name: 'https', port: b.port, protocol: 'TCP' }] } });
    expect(svc.status, svc.text).toBe(200);
    const apisvc = await apiOn(c, 'admin', 'PATCH', '/apis/apiregistration.k8s.io/v1/apiservices/v1.custom.example.com', { spec: { service: { port: b.port } } }, { 'Content-Type': 'application/merge-patch+json' });
    expect(apisvc.status, apisvc.text).toBe(200);
    const hook = await apiOn(c, 'admin', 'PATCH', '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/kubectl-custom-gates', [{ op: 'replace', path: '/webhooks/0/clientConfig/service/port', value: b.port }], { 'Content-Type': 'application/json-patch+json' });
    expect(hook.status, hook.text).toBe(200);
    await waitFinalizerPolicy(c);

    // The hook's objects but the Pod, as `helm test` creates them, and a token of its ServiceAccount.
    const rendered = await helm(['template', 'kubectl-custom', CHART, '-n', NS, '--show-only', 'templates/tests/promote-test.yaml']);
    const hookObjects = objects(rendered.stdout).filter((o) => o.kind !== 'Pod');
    const applied = await kubectl([...admin(), 'apply', '-f', '-'], hookObjects.map((o) => stringify(o)).join('---\n'));
    expect(applied.code, applied.stderr).toBe(0);
    const token = await kubectl([...admin(), 'create', 'token', 'kubectl-custom-test', '-n', NS]);
    expect(token.code, token.stderr).toBe(0);
    const saDir = join(work, 'serviceaccount');
    mkdirSync(saDir, { recursive: true });
    writeFileSync(join(saDir, 'token'), token.stdout.trim());
    const url = new URL(c.server);
    const check = await run(process.execPath, [join(CHART, 'files/promote-test.mts')], {
      KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port, NODE_EXTRA_CA_CERTS: c.caFile, SERVICE_ACCOUNT_DIR: saDir, TEST_NAMESPACE: 'kubectl-custom-test',
    });
    expect(check.code, `${check.stdout}${check.stderr}`).toBe(0);
    expect(check.stdout).toContain('ok: APIService v1.custom.example.com is Available');
    expect(check.stdout).toContain('ok: promote dev -> prod');
    expect(check.stdout).toContain('by system:serviceaccount:custom-system:kubectl-custom-test');
    expect(check.stdout).toContain('ok: the backend archived the object and let it go');
    expect(check.stdout).toContain('PASS');
    // Its ServiceAccount may do that and no more.
    const can = async (...args: string[]) => (await kubectl([...admin(), 'auth', 'can-i', '--as', 'system:serviceaccount:custom-system:kubectl-custom-test', ...args])).stdout.trim();
    expect(await can('create', 'customresources.example.com', '-n', 'kubectl-custom-test')).toBe('yes');
    expect(await can('create', 'customresources.example.com', '-n', 'default')).toBe('no');
    expect(await can('update', 'customresources.example.com', '-n', 'kubectl-custom-test')).toBe('no');
    expect(await can('create', 'customresources.custom.example.com', '-n', 'kubectl-custom-test', '--subresource=state')).toBe('no');
    expect(await can('list', 'apiservices.apiregistration.k8s.io')).toBe('no');
    expect(await can('get', 'secrets', '-n', NS)).toBe('no');
  }, 180_000);

  it('helm uninstall keeps the CRDs, the objects, the namespace and the archive; a second install takes the CRDs back', async () => {
    const c = cluster!;
    // An object (the finalizer policy gives it the backend's finalizer), moved once.
    await eventually('an object is created through the webhook', async () => (await apiOn(c, 'admin', 'POST', '/apis/example.com/v1/namespaces/default/customresources', { apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name: 'kept' }, spec: { name: 'kept', states: ['dev', 'prod'] } })).status === 201, 30_000);
    await eventually('promoted', async () => (await apiOn(c, 'admin', 'POST', '/apis/custom.example.com/v1/namespaces/default/customresources/kept/promote', { from: 'dev', reason: 'before uninstall' })).status === 201, 30_000);
    const segments = (await getJson<{ items: Obj[] }>('statehistories.example.com', '-n', NS)).items.map((o) => o.metadata.name);
    expect(segments.length, 'the test hook\'s object was archived').toBeGreaterThan(0);

    const un = await helm(['uninstall', 'kubectl-custom', '-n', NS]);
    expect(un.code, un.stderr).toBe(0);
    expect(un.stdout + un.stderr).toContain('kept due to the resource policy');
    for (const crd of ['customresources.example.com', 'statehistories.example.com', 'gatepolicies.example.com', 'freezes.example.com']) {
      expect((await kubectl([...admin(), 'get', 'crd', crd, '-o', 'name'])).code, crd).toBe(0);
    }
    const kept = await getJson<Obj & { status: { state: string }; metadata: { finalizers: string[] } }>('customresources.example.com/kept', '-n', 'default');
    expect(kept.status.state).toBe('prod');
    expect(kept.metadata.finalizers).toContain('custom.example.com/history');
    expect((await getJson<{ items: Obj[] }>('statehistories.example.com', '-n', NS)).items.map((o) => o.metadata.name)).toEqual(segments);
    expect((await kubectl([...admin(), 'get', 'namespace', NS, '-o', 'name'])).code).toBe(0);
    for (const gone of ['apiservice.apiregistration.k8s.io/v1.custom.example.com', 'validatingwebhookconfiguration/kubectl-custom-gates', 'validatingadmissionpolicy/kubectl-custom-gates', 'mutatingadmissionpolicy/kubectl-custom-history-finalizer', 'clusterrole/kubectl-custom-backend']) {
      expect((await kubectl([...admin(), 'get', gone, '-o', 'name'])).stderr, gone).toContain('NotFound');
    }
    for (const gone of ['deployment/kubectl-custom-backend', 'service/kubectl-custom-backend', `secret/${SERVING_SECRET}`]) {
      const g = await kubectl([...admin(), 'get', gone, '-n', NS, '-o', 'yaml']);
      expect(g.stderr, `${gone}: ${g.stdout}`).toContain('NotFound');
    }

    const again = await helm(['install', 'kubectl-custom', CHART, '-n', NS]);
    expect(again.code, again.stderr).toBe(0);
    const crd = await getJson('crd/customresources.example.com');
    expect(crd.metadata.annotations?.['meta.helm.sh/release-name']).toBe('kubectl-custom');
    expect((await getJson<Obj & { status: { state: string } }>('customresources.example.com/kept', '-n', 'default')).status.state).toBe('prod');
  }, 120_000);
});
