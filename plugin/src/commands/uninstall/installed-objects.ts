// What `kubectl apply -k manifests/base` installs, in the order `kubectl
// custom uninstall` deletes it: the plugin's one list of it.
// installed-objects.test.ts reads the files manifests/base/kustomization.yaml
// lists and fails until this list names exactly their objects, so a manifest
// added there is not forgotten here.
//
// The order is the safe one (by then every CustomResource is archived and
// gone, see uninstall.ts):
// 1. the APIService, so kube-aggregator sends nobody's request to the backend;
// 2. the objects' CRD, while the backend still runs to release one created
//    meanwhile (the CRD's deletion deletes it), and the Freezes' CRD (with
//    every Freeze);
//    then the admission webhook and policies guarding the objects' gates
//    and giving them the finalizer (with no objects left there is nothing to
//    guard; the fail-closed webhook goes before the backend that serves it);
// 3. the backend: Deployment, PodDisruptionBudget, Service; then the
//    GatePolicies' and NotificationPolicies' CRDs (their policies with
//    them), once no backend reads them;
// 4. the archive's CRD and the policy that keeps its segments immutable
//    (both kept by --keep-history);
// 5. RBAC and the ServiceAccount;
// 6. the namespace, last and not waited for (kept by --keep-history).
import { APISERVICE, FINALIZER_POLICY, SYSTEM_NAMESPACE } from '../../../../api/src/names.ts';

/** The plural resource of each kind we install, for its REST path. */
const RESOURCES = {
  APIService: 'apiservices',
  ClusterRole: 'clusterroles',
  ClusterRoleBinding: 'clusterrolebindings',
  CustomResourceDefinition: 'customresourcedefinitions',
  Deployment: 'deployments',
  Namespace: 'namespaces',
  PodDisruptionBudget: 'poddisruptionbudgets',
  Role: 'roles',
  RoleBinding: 'rolebindings',
  Service: 'services',
  ServiceAccount: 'serviceaccounts',
  MutatingAdmissionPolicy: 'mutatingadmissionpolicies',
  MutatingAdmissionPolicyBinding: 'mutatingadmissionpolicybindings',
  ValidatingAdmissionPolicy: 'validatingadmissionpolicies',
  ValidatingAdmissionPolicyBinding: 'validatingadmissionpolicybindings',
  ValidatingWebhookConfiguration: 'validatingwebhookconfigurations',
} as const;

export type InstalledKind = keyof typeof RESOURCES;

export interface InstalledObject {
  apiVersion: string;
  kind: InstalledKind;
  name: string;
  /** Set for namespaced objects. */
  namespace?: string;
  /** The archived history and where it lives: kept by --keep-history. */
  keptWithHistory?: true;
}

const RBAC = 'rbac.authorization.k8s.io/v1';
const CRD = 'apiextensions.k8s.io/v1';
const ADMISSION = 'admissionregistration.k8s.io/v1';
const BACKEND = 'kubectl-custom-backend';

export const INSTALLED: readonly InstalledObject[] = [
  { apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', name: APISERVICE },
  { apiVersion: CRD, kind: 'CustomResourceDefinition', name: 'customresources.example.com' },
  { apiVersion: CRD, kind: 'CustomResourceDefinition', name: 'freezes.example.com' },
  { apiVersion: ADMISSION, kind: 'ValidatingWebhookConfiguration', name: 'kubectl-custom-gates' },
  { apiVersion: ADMISSION, kind: 'ValidatingAdmissionPolicyBinding', name: 'kubectl-custom-gates' },
  { apiVersion: ADMISSION, kind: 'ValidatingAdmissionPolicy', name: 'kubectl-custom-gates' },
  { apiVersion: ADMISSION, kind: 'MutatingAdmissionPolicyBinding', name: FINALIZER_POLICY },
  { apiVersion: ADMISSION, kind: 'MutatingAdmissionPolicy', name: FINALIZER_POLICY },
  { apiVersion: ADMISSION, kind: 'ValidatingAdmissionPolicyBinding', name: 'kubectl-custom-notifications' },
  { apiVersion: ADMISSION, kind: 'ValidatingAdmissionPolicy', name: 'kubectl-custom-notifications' },
  { apiVersion: 'apps/v1', kind: 'Deployment', name: BACKEND, namespace: SYSTEM_NAMESPACE },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', name: BACKEND, namespace: SYSTEM_NAMESPACE },
  { apiVersion: 'v1', kind: 'Service', name: BACKEND, namespace: SYSTEM_NAMESPACE },
  { apiVersion: CRD, kind: 'CustomResourceDefinition', name: 'gatepolicies.example.com' },
  { apiVersion: CRD, kind: 'CustomResourceDefinition', name: 'notificationpolicies.example.com' },
  { apiVersion: CRD, kind: 'CustomResourceDefinition', name: 'statehistories.example.com', keptWithHistory: true },
  { apiVersion: ADMISSION, kind: 'ValidatingAdmissionPolicyBinding', name: 'kubectl-custom-history', keptWithHistory: true },
  { apiVersion: ADMISSION, kind: 'ValidatingAdmissionPolicy', name: 'kubectl-custom-history', keptWithHistory: true },
  { apiVersion: RBAC, kind: 'ClusterRole', name: 'kubectl-custom-viewer' },
  { apiVersion: RBAC, kind: 'ClusterRole', name: 'kubectl-custom-editor' },
  { apiVersion: RBAC, kind: 'ClusterRole', name: 'kubectl-custom-admin' },
  { apiVersion: RBAC, kind: 'ClusterRole', name: 'kubectl-custom-policy-admin' },
  { apiVersion: RBAC, kind: 'ClusterRole', name: 'kubectl-custom-secrets' },
  { apiVersion: RBAC, kind: 'ClusterRoleBinding', name: BACKEND },
  { apiVersion: RBAC, kind: 'ClusterRole', name: BACKEND },
  { apiVersion: RBAC, kind: 'ClusterRoleBinding', name: `${BACKEND}:system:auth-delegator` },
  { apiVersion: RBAC, kind: 'RoleBinding', name: `${BACKEND}:extension-apiserver-authentication-reader`, namespace: 'kube-system' },
  { apiVersion: RBAC, kind: 'RoleBinding', name: `${BACKEND}-history`, namespace: SYSTEM_NAMESPACE },
  { apiVersion: RBAC, kind: 'Role', name: `${BACKEND}-history`, namespace: SYSTEM_NAMESPACE },
  { apiVersion: RBAC, kind: 'RoleBinding', name: `${BACKEND}-notifications`, namespace: SYSTEM_NAMESPACE },
  { apiVersion: RBAC, kind: 'Role', name: `${BACKEND}-notifications`, namespace: SYSTEM_NAMESPACE },
  { apiVersion: 'v1', kind: 'ServiceAccount', name: BACKEND, namespace: SYSTEM_NAMESPACE },
  { apiVersion: 'v1', kind: 'Namespace', name: SYSTEM_NAMESPACE, keptWithHistory: true },
];

/** The object's REST path. */
export function objectUrl(o: Pick<InstalledObject, 'apiVersion' | 'kind' | 'name' | 'namespace'>): string {
  const base = o.apiVersion.includes('/') ? `/apis/${o.apiVersion}` : `/api/${o.apiVersion}`;
  const ns = o.namespace ? `/namespaces/${encodeURIComponent(o.namespace)}` : '';
  return `${base}${ns}/${RESOURCES[o.kind]}/${encodeURIComponent(o.name)}`;
}
