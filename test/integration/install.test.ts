// Installing into a real cluster (a control plane of this file's own):
// manifests/base applies whole, every overlay renders, `kubectl custom
// install-certs` makes a serving certificate the aggregator accepts, and the
// backend's ServiceAccount gets nothing beyond what it needs.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND_SERVICE, serviceAccountToken, startBackend } from '../../cluster/backend.ts';
import { ensureBinaries } from '../../cluster/binaries.ts';
import { startCluster, stopCluster, type ClusterInfo } from '../../cluster/control-plane.ts';
import { stopProcess } from '../../cluster/processes.ts';
import { apiOn, eventually } from './harness.ts';
import { kubectlCustom } from './plugin-cli.ts';
import { type Run, runCommand } from './run-command.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let cluster: ClusterInfo;
let dir: string;
let backendPid: number | undefined;

function kubectl(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return runCommand(cluster.binaries.kubectl, ['--kubeconfig', cluster.kubeconfigs.admin, ...args], { env: { ...process.env, ...env } });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kubectl-custom-install-'));
  cluster = await startCluster({ dir, binaries: await ensureBinaries() });
});

afterAll(async () => {
  if (backendPid) await stopProcess(backendPid);
  if (cluster) await stopCluster(cluster);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('manifests', () => {
  it('kubectl apply -k manifests/base: every object accepted and stored', async () => {
    const applied = await kubectl(['apply', '--server-side', '-k', join(ROOT, 'manifests/base')]);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    const rendered = (await kubectl(['kustomize', join(ROOT, 'manifests/base')])).stdout;
    const objects = parseAllDocuments(rendered).map((d) => d.toJSON() as { kind: string; metadata: { name: string; namespace?: string } });
    expect(objects.map((o) => o.kind).sort()).toEqual([
      'APIService', 'ClusterRole', 'ClusterRole', 'ClusterRole', 'ClusterRole', 'ClusterRole', 'ClusterRole', 'ClusterRoleBinding', 'ClusterRoleBinding',
      'CustomResourceDefinition', 'CustomResourceDefinition', 'CustomResourceDefinition', 'CustomResourceDefinition', 'CustomResourceDefinition', 'Deployment', 'MutatingAdmissionPolicy', 'MutatingAdmissionPolicyBinding', 'Namespace', 'PodDisruptionBudget', 'Role', 'Role', 'RoleBinding', 'RoleBinding', 'RoleBinding',
      'Service', 'ServiceAccount', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding', 'ValidatingAdmissionPolicyBinding', 'ValidatingAdmissionPolicyBinding', 'ValidatingWebhookConfiguration',
    ]);
    for (const o of objects) {
      const got = await kubectl(['get', o.kind.toLowerCase() + (o.kind === 'APIService' ? '.apiregistration.k8s.io' : ''), o.metadata.name, ...(o.metadata.namespace ? ['-n', o.metadata.namespace] : []), '-o', 'name']);
      expect(got.code, `${o.kind}/${o.metadata.name}: ${got.stderr}`).toBe(0);
    }
    // The Deployment as a cluster would run it.
    const dep = JSON.parse((await kubectl(['get', 'deployment', '-n', 'custom-system', 'kubectl-custom-backend', '-o', 'json'])).stdout) as { spec: { replicas: number; template: { spec: { securityContext: Record<string, unknown>; containers: { securityContext: Record<string, unknown>; readinessProbe: { httpGet: { path: string } }; livenessProbe: { httpGet: { path: string } }; resources: { requests: unknown; limits: unknown } }[] } } } };
    const pod = dep.spec.template.spec;
    expect(dep.spec.replicas).toBe(2);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.containers[0]!.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, privileged: false, capabilities: { drop: ['ALL'] } });
    expect([pod.containers[0]!.readinessProbe.httpGet.path, pod.containers[0]!.livenessProbe.httpGet.path]).toEqual(['/readyz', '/livez']);
    expect(pod.containers[0]!.resources.limits).toBeDefined();
  });

  it.each(['local', 'cert-manager'])('overlays/%s renders, and what this cluster knows passes a server-side dry run', async (overlay) => {
    const r = await kubectl(['kustomize', join(ROOT, 'manifests/overlays', overlay)]);
    expect(r.code, r.stderr).toBe(0);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJSON() as { apiVersion: string; kind: string });
    // cert-manager's kinds need cert-manager's CRDs, which this cluster does not have.
    const known = docs.filter((d) => !d.apiVersion.startsWith('cert-manager.io/'));
    const file = join(dir, `${overlay}.json`);
    writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: known }));
    const dry = await kubectl(['apply', '--server-side', '--force-conflicts', '--dry-run=server', '-f', file]);
    expect(dry.code, dry.stderr).toBe(0);
    if (overlay === 'cert-manager') {
      expect(docs.filter((d) => d.kind === 'Certificate')).toHaveLength(2);
      expect(r.stdout).toContain('cert-manager.io/inject-ca-from: custom-system/kubectl-custom-backend-serving-cert');
    }
  });
});

describe('kubectl custom install-certs', () => {
  it('makes a serving certificate that kube-aggregator accepts through the caBundle', async () => {
    const env = { KUBECONFIG: cluster.kubeconfigs.admin };
    const first = await kubectlCustom(undefined, ['install-certs'], env);
    expect(first.stderr).toBe('');
    expect(first.stdout).toBe('secret/kubectl-custom-backend-serving-cert created\ndeployment.apps/kubectl-custom-backend restarted\napiservice.apiregistration.k8s.io/v1.custom.example.com caBundle set\nvalidatingwebhookconfiguration.admissionregistration.k8s.io/kubectl-custom-gates caBundle set\n');
    const again = await kubectlCustom(undefined, ['install-certs'], env);
    expect(again.stdout).toMatch(/^secret\/kubectl-custom-backend-serving-cert unchanged \(valid until .+\)\napiservice\.apiregistration\.k8s\.io\/v1\.custom\.example\.com caBundle set\nvalidatingwebhookconfiguration\.admissionregistration\.k8s\.io\/kubectl-custom-gates caBundle set\n$/);
    // Serve with exactly the Secret's certificate, as the Deployment's pods would.
    const secret = JSON.parse((await kubectl(['get', 'secret', '-n', 'custom-system', 'kubectl-custom-backend-serving-cert', '-o', 'json'])).stdout) as { type: string; data: Record<string, string> };
    expect(secret.type).toBe('kubernetes.io/tls');
    const files = { caFile: join(dir, 'ca.crt'), certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') };
    writeFileSync(files.caFile, Buffer.from(secret.data['ca.crt']!, 'base64'));
    writeFileSync(files.certFile, Buffer.from(secret.data['tls.crt']!, 'base64'));
    writeFileSync(files.keyFile, Buffer.from(secret.data['tls.key']!, 'base64'));
    const apisvc = JSON.parse((await kubectl(['get', 'apiservice', 'v1.custom.example.com', '-o', 'json'])).stdout) as { spec: { caBundle: string; insecureSkipTLSVerify?: boolean } };
    expect(apisvc.spec.caBundle).toBe(secret.data['ca.crt']);
    expect(apisvc.spec.insecureSkipTLSVerify ?? false).toBe(false);
    const webhook = JSON.parse((await kubectl(['get', 'validatingwebhookconfiguration', 'kubectl-custom-gates', '-o', 'json'])).stdout) as { webhooks: { clientConfig: { caBundle: string } }[] };
    expect(webhook.webhooks.map((w) => w.clientConfig.caBundle)).toEqual([secret.data['ca.crt']]);
    // The Deployment cannot run here (no nodes): the Service becomes an ExternalName for a local process on that port.
    const b = await startBackend({ cluster, dir: join(dir, 'backend'), tls: files, register: false });
    backendPid = b.pid;
    const svc = await apiOn(cluster, 'admin', 'PUT', `/api/v1/namespaces/${BACKEND_SERVICE.namespace}/services/${BACKEND_SERVICE.name}`, {
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: BACKEND_SERVICE.name, namespace: BACKEND_SERVICE.namespace, resourceVersion: (await apiOn<{ metadata: { resourceVersion: string } }>(cluster, 'admin', 'GET', `/api/v1/namespaces/${BACKEND_SERVICE.namespace}/services/${BACKEND_SERVICE.name}`)).body.metadata.resourceVersion },
      spec: { type: 'ExternalName', externalName: 'localhost', ports: [{ name: 'https', port: b.port, protocol: 'TCP' }] },
    });
    expect(svc.status, svc.text).toBe(200);
    const patched = await apiOn(cluster, 'admin', 'PATCH', '/apis/apiregistration.k8s.io/v1/apiservices/v1.custom.example.com', { spec: { service: { port: b.port } } }, { 'Content-Type': 'application/merge-patch+json' });
    expect(patched.status, patched.text).toBe(200);
    await eventually('the APIService is Available', async () => {
      const a = await apiOn<{ status?: { conditions?: { type: string; status: string }[] } }>(cluster, 'admin', 'GET', '/apis/apiregistration.k8s.io/v1/apiservices/v1.custom.example.com');
      return a.body.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True') ?? false;
    }, 60_000);
    const list = await kubectlCustom(undefined, ['list', '-A'], env);
    expect(list.code, list.stderr).toBe(0);
    // kube-apiserver calls the webhook through the same Service with that caBundle: an object is created through it.
    const hook = await apiOn(cluster, 'admin', 'PATCH', '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/kubectl-custom-gates', [{ op: 'replace', path: '/webhooks/0/clientConfig/service/port', value: b.port }], { 'Content-Type': 'application/json-patch+json' });
    expect(hook.status, hook.text).toBe(200);
    await eventually('a create passes the webhook', async () => {
      const r = await apiOn(cluster, 'admin', 'POST', '/apis/example.com/v1/namespaces/custom-system/customresources?dryRun=All', { apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name: 'through-webhook' }, spec: { name: 'x', states: ['a'] } });
      return r.status === 201;
    }, 30_000);
  });
});

describe("the backend's ServiceAccount", () => {
  it('may not read Secrets, write the storage CRD spec, or write anything else', async () => {
    // It patches the main resource only to add or remove its finalizer: RBAC
    // cannot say "only metadata.finalizers", the admission policy
    // kubectl-custom-gates does (test/integration/admission.test.ts).
    const token = await serviceAccountToken(cluster);
    const can = async (verb: string, resource: string, ns?: string, subresource?: string) =>
      (await kubectl(['auth', 'can-i', verb, resource, ...(subresource ? [`--subresource=${subresource}`] : []), ...(ns ? ['-n', ns] : []), '--token', token, '--kubeconfig', '/dev/null', '--server', cluster.server, '--certificate-authority', cluster.caFile])).stdout.trim();
    expect(await can('get', 'secrets', 'custom-system')).toBe('no');
    expect(await can('list', 'secrets', 'kube-system')).toBe('no');
    expect(await can('update', 'customresources.example.com', 'default')).toBe('no');
    expect(await can('patch', 'customresources.example.com', 'default')).toBe('yes');
    expect(await can('delete', 'customresources.example.com', 'default')).toBe('no');
    expect(await can('create', 'statehistories.example.com', 'custom-system')).toBe('yes');
    expect(await can('list', 'statehistories.example.com', 'custom-system')).toBe('yes');
    expect(await can('create', 'statehistories.example.com', 'default')).toBe('no');
    expect(await can('update', 'statehistories.example.com', 'custom-system')).toBe('no');
    expect(await can('delete', 'statehistories.example.com', 'custom-system')).toBe('no');
    // The status is written as a guarded update of the status subresource (the object as read, with its resourceVersion);
    // patch stays for one release, for replicas of the release before during a rolling upgrade.
    expect(await can('update', 'customresources.example.com', 'default', 'status')).toBe('yes');
    expect(await can('patch', 'customresources.example.com', 'default', 'status')).toBe('yes');
    expect(await can('watch', 'customresources.example.com')).toBe('yes');
    // GatePolicies are the platform team's: the backend reads and watches them, never writes them.
    expect(await can('watch', 'gatepolicies.example.com')).toBe('yes');
    expect(await can('list', 'gatepolicies.example.com')).toBe('yes');
    for (const verb of ['create', 'update', 'patch', 'delete']) expect(await can(verb, 'gatepolicies.example.com', 'custom-system'), verb).toBe('no');
    // Freezes: read and watched, their status written, never their spec.
    expect(await can('watch', 'freezes.example.com')).toBe('yes');
    expect(await can('list', 'freezes.example.com')).toBe('yes');
    expect(await can('get', 'freezes.example.com', 'custom-system')).toBe('yes');
    expect(await can('update', 'freezes.example.com', 'default', 'status')).toBe('yes');
    expect(await can('patch', 'freezes.example.com', 'default', 'status')).toBe('no');
    expect(await can('create', 'freezes.example.com', 'default')).toBe('no');
    expect(await can('update', 'freezes.example.com', 'default')).toBe('no');
    expect(await can('delete', 'freezes.example.com', 'custom-system')).toBe('no');
    // NotificationPolicies (issue 22): read and watched, their status written, never their spec; the Secrets they
    // name are readable only where a namespace binds kubectl-custom-secrets (none here).
    expect(await can('watch', 'notificationpolicies.example.com')).toBe('yes');
    expect(await can('update', 'notificationpolicies.example.com', 'default', 'status')).toBe('yes');
    for (const verb of ['create', 'update', 'patch', 'delete']) expect(await can(verb, 'notificationpolicies.example.com', 'default'), verb).toBe('no');
    expect(await can('get', 'secrets', 'default')).toBe('no');
    // One replica delivers: the Lease is created, read and renewed by name, in custom-system only.
    expect(await can('update', 'leases.coordination.k8s.io/kubectl-custom-notifications', 'custom-system')).toBe('yes');
    expect(await can('update', 'leases.coordination.k8s.io/other', 'custom-system')).toBe('no');
    expect(await can('create', 'leases.coordination.k8s.io', 'default')).toBe('no');
    // Events are created, and counted again by a patch (as client-go's recorder); never deleted.
    expect(await can('create', 'events', 'default')).toBe('yes');
    expect(await can('patch', 'events', 'default')).toBe('yes');
    expect(await can('delete', 'events', 'default')).toBe('no');
    expect(await can('create', 'tokenreviews.authentication.k8s.io')).toBe('yes');
    expect(await can('create', 'subjectaccessreviews.authorization.k8s.io')).toBe('yes');
    expect(await can('get', 'configmaps/extension-apiserver-authentication', 'kube-system')).toBe('yes');
    expect(await can('get', 'configmaps', 'default')).toBe('no');
    expect(await can('create', 'pods', 'custom-system')).toBe('no');
  });
});
