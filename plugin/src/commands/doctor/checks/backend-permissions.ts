// The backend's own permissions, asked of kube-apiserver's authorizer with a
// SubjectAccessReview for its ServiceAccount (when the user may create
// one): what an aggregated API server needs (system:auth-delegator to
// delegate authentication and authorization, the authentication reader in
// kube-system to read the front-proxy CA) and what ours writes (the objects'
// status and finalizer, Freezes' status, Events, the archive). The list
// mirrors manifests/base/rbac-*.yaml; backend-permissions.test.ts checks
// that those manifests grant every line of it.
import { BACKEND_SERVICE_ACCOUNT, SYSTEM_NAMESPACE } from '../../../../../api/src/names.ts';
import { ApiError } from '../../../../../client/src/errors.ts';
import { type Check, fail, ok, skip } from '../check.ts';
import { type Access, describeAccess } from '../probe.ts';

export interface Need {
  what: string;
  access: Access;
  /** The manifest that grants it: the hint when it is missing. */
  grantedBy: string;
}

const DELEGATOR = 'manifests/base/rbac-auth-delegator.yaml (ClusterRoleBinding kubectl-custom-backend:system:auth-delegator)';
const READER = 'manifests/base/rbac-auth-reader.yaml (RoleBinding kube-system/kubectl-custom-backend:extension-apiserver-authentication-reader)';
const BACKEND_ROLE = 'manifests/base/rbac-backend.yaml (ClusterRole and ClusterRoleBinding kubectl-custom-backend)';
const HISTORY_ROLE = 'manifests/base/rbac-backend.yaml (Role and RoleBinding custom-system/kubectl-custom-backend-history)';
const NOTIFICATIONS_ROLE = 'manifests/base/rbac-backend.yaml (Role and RoleBinding custom-system/kubectl-custom-backend-notifications)';

export const BACKEND_NEEDS: readonly Need[] = [
  { what: 'delegated authentication', access: { verb: 'create', group: 'authentication.k8s.io', resource: 'tokenreviews' }, grantedBy: DELEGATOR },
  { what: 'delegated authorization', access: { verb: 'create', group: 'authorization.k8s.io', resource: 'subjectaccessreviews' }, grantedBy: DELEGATOR },
  { what: 'the front-proxy CA', access: { verb: 'get', group: '', resource: 'configmaps', name: 'extension-apiserver-authentication', namespace: 'kube-system' }, grantedBy: READER },
  { what: 'watching the objects', access: { verb: 'watch', group: 'example.com', resource: 'customresources' }, grantedBy: BACKEND_ROLE },
  { what: 'the finalizer', access: { verb: 'patch', group: 'example.com', resource: 'customresources' }, grantedBy: BACKEND_ROLE },
  { what: 'state changes', access: { verb: 'update', group: 'example.com', resource: 'customresources', subresource: 'status' }, grantedBy: BACKEND_ROLE },
  { what: 'GatePolicies', access: { verb: 'watch', group: 'example.com', resource: 'gatepolicies' }, grantedBy: BACKEND_ROLE },
  { what: 'Freezes', access: { verb: 'watch', group: 'example.com', resource: 'freezes' }, grantedBy: BACKEND_ROLE },
  { what: "Freezes' status", access: { verb: 'update', group: 'example.com', resource: 'freezes', subresource: 'status' }, grantedBy: BACKEND_ROLE },
  { what: 'Events', access: { verb: 'create', group: '', resource: 'events', namespace: 'default' }, grantedBy: BACKEND_ROLE },
  { what: 'the archive', access: { verb: 'create', group: 'example.com', resource: 'statehistories', namespace: SYSTEM_NAMESPACE }, grantedBy: HISTORY_ROLE },
  { what: 'NotificationPolicies', access: { verb: 'watch', group: 'example.com', resource: 'notificationpolicies' }, grantedBy: BACKEND_ROLE },
  { what: "NotificationPolicies' status", access: { verb: 'update', group: 'example.com', resource: 'notificationpolicies', subresource: 'status' }, grantedBy: BACKEND_ROLE },
  { what: 'the notifications Lease', access: { verb: 'update', group: 'coordination.k8s.io', resource: 'leases', name: 'kubectl-custom-notifications', namespace: SYSTEM_NAMESPACE }, grantedBy: NOTIFICATIONS_ROLE },
  { what: 'reading the archive', access: { verb: 'list', group: 'example.com', resource: 'statehistories', namespace: SYSTEM_NAMESPACE }, grantedBy: HISTORY_ROLE },
];

/** The backend's user as kube-apiserver names a ServiceAccount. */
export const BACKEND_USER = {
  name: `system:serviceaccount:${BACKEND_SERVICE_ACCOUNT.namespace}:${BACKEND_SERVICE_ACCOUNT.name}`,
  groups: ['system:serviceaccounts', `system:serviceaccounts:${BACKEND_SERVICE_ACCOUNT.namespace}`, 'system:authenticated'],
};

const backendPermissions: Check = {
  id: 'backend-permissions.rbac',
  group: 'backend-permissions',
  title: `ServiceAccount ${BACKEND_SERVICE_ACCOUNT.namespace}/${BACKEND_SERVICE_ACCOUNT.name}`,
  async run(p) {
    let answers;
    try {
      answers = await Promise.all(BACKEND_NEEDS.map(async (n) => ({ n, r: await p.userCan(BACKEND_USER, n.access) })));
    } catch (e) {
      if (e instanceof ApiError && e.code === 403) return skip('you may not create SubjectAccessReviews (a cluster admin can run this check)');
      throw e;
    }
    const missing = answers.filter((a) => !a.r.allowed);
    if (!missing.length) return ok(`may do all ${BACKEND_NEEDS.length} things it needs (${BACKEND_NEEDS.map((n) => n.what).join(', ')})`);
    const grants = [...new Set(missing.map((m) => m.n.grantedBy))];
    return fail(
      `may not: ${missing.map((m) => `${describeAccess(m.n.access)} (${m.n.what})`).join('; ')}`,
      `re-apply what grants it: kubectl apply -k manifests/base   (${grants.join('; ')})`,
    );
  },
};

export const backendPermissionChecks: Check[] = [backendPermissions];
