// Before installing (--pre): whether this cluster can run the backend. A
// Kubernetes version with what manifests/base uses (ValidatingAdmissionPolicy
// and MutatingAdmissionPolicy in admissionregistration.k8s.io/v1), the
// aggregation layer configured (kube-apiserver publishes its front-proxy CA),
// and whether you may create what `kubectl apply -k manifests/base` creates.
import { type Check, fail, ok } from '../check.ts';
import { describeAccess, type Access } from '../probe.ts';
import { AGGREGATION_LAYER_FIX, AUTHENTICATION_CONFIGMAP } from './certificates.ts';

/** The oldest Kubernetes the manifests are tested against with MutatingAdmissionPolicy v1 served. */
export const MIN_KUBERNETES = { major: 1, minor: 36 };

const version: Check = {
  id: 'pre.kubernetes-version',
  group: 'pre',
  title: 'Kubernetes version',
  async run(p) {
    const v = await p.client.json<{ major: string; minor: string; gitVersion: string }>('GET', '/version');
    const major = Number(v.major);
    const minor = Number.parseInt(v.minor, 10);
    const enough = major > MIN_KUBERNETES.major || (major === MIN_KUBERNETES.major && minor >= MIN_KUBERNETES.minor);
    return enough ? ok(v.gitVersion) : fail(`${v.gitVersion}: kubectl-custom needs ${MIN_KUBERNETES.major}.${MIN_KUBERNETES.minor} or newer`, 'upgrade the cluster first');
  },
};

const admissionApis: Check = {
  id: 'pre.admission-apis',
  group: 'pre',
  title: 'Admission policy APIs',
  async run(p) {
    const list = await p.get<{ resources: { name: string }[] }>('/apis/admissionregistration.k8s.io/v1');
    if (!list.found) return fail('admissionregistration.k8s.io/v1 is not served');
    const served = new Set(list.object.resources.map((r) => r.name));
    const missing = ['validatingadmissionpolicies', 'mutatingadmissionpolicies', 'validatingwebhookconfigurations'].filter((r) => !served.has(r));
    return missing.length ? fail(`admissionregistration.k8s.io/v1 does not serve ${missing.join(', ')}`, 'enable them in kube-apiserver (--runtime-config, --feature-gates) or upgrade the cluster') : ok('ValidatingAdmissionPolicy, MutatingAdmissionPolicy and webhooks in admissionregistration.k8s.io/v1');
  },
};

const aggregation: Check = {
  id: 'pre.aggregation-layer',
  group: 'pre',
  title: 'Aggregation layer',
  async run(p) {
    const cm = await p.get<{ data?: Record<string, string> }>(AUTHENTICATION_CONFIGMAP);
    if (cm.found && cm.object.data?.['requestheader-client-ca-file']) return ok('kube-apiserver publishes its front-proxy CA');
    if (!cm.found && cm.forbidden) return fail('you may not read kube-system/extension-apiserver-authentication: ask a cluster admin to install');
    return fail('kube-apiserver runs without the aggregation layer', AGGREGATION_LAYER_FIX);
  },
};

const INSTALL: readonly Access[] = [
  { verb: 'create', group: '', resource: 'namespaces' },
  { verb: 'create', group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions' },
  { verb: 'create', group: 'apiregistration.k8s.io', resource: 'apiservices' },
  { verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'clusterroles' },
  { verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings' },
  { verb: 'create', group: 'admissionregistration.k8s.io', resource: 'validatingadmissionpolicies' },
  { verb: 'create', group: 'admissionregistration.k8s.io', resource: 'mutatingadmissionpolicies' },
  { verb: 'create', group: 'admissionregistration.k8s.io', resource: 'validatingwebhookconfigurations' },
  { verb: 'create', group: 'apps', resource: 'deployments', namespace: 'custom-system' },
  { verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'rolebindings', namespace: 'kube-system' },
];

const installPermissions: Check = {
  id: 'pre.install-permissions',
  group: 'pre',
  title: 'Your permissions to install',
  async run(p) {
    const missing = (await Promise.all(INSTALL.map(async (a) => ((await p.userMay(a)) ? undefined : describeAccess(a))))).filter(Boolean);
    return missing.length ? fail(`you may not ${missing.join('; ')}`, 'a cluster admin installs it: kubectl apply -k manifests/base') : ok('you may create everything manifests/base holds');
  },
};

export const preChecks: Check[] = [version, admissionApis, aggregation, installPermissions];
