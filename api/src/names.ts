// The names of the wire contract: the API group the backend serves, the
// storage CRD's group, the kinds, and the paths clients use. Both apps take
// them from here, as Go code takes them from k8s.io/api.

export const GROUP = 'custom.example.com';
export const VERSION = 'v1';
export const GROUP_VERSION = `${GROUP}/${VERSION}`;
export const GROUP_PATH = `/apis/${GROUP}/${VERSION}`;
/** The APIService that registers the group with kube-aggregator. */
export const APISERVICE = `${VERSION}.${GROUP}`;

export const KIND = 'CustomResource';
export const LIST_KIND = 'CustomResourceList';
export const RESOURCE = 'customresources';
export const SINGULAR = 'customresource';
/** The describe-state document's kind (GET …/state, and the answer to a change). */
export const STATE_KIND = 'CustomResourceState';

export const GROUP_RESOURCE = { group: GROUP, resource: RESOURCE } as const;

/**
 * The backend's own state, served as a read-only virtual resource computed
 * on every read (as core/v1 componentstatuses is): each replica answers about
 * itself, named after its pod.
 */
export const BACKEND_STATUS_KIND = 'BackendStatus';
export const BACKEND_STATUS_LIST_KIND = 'BackendStatusList';
export const BACKEND_STATUS_RESOURCE = 'backendstatuses';
export const BACKEND_STATUS_SINGULAR = 'backendstatus';

/** The storage CRD (customresources.example.com) that holds the objects. */
export const STORAGE_GROUP = 'example.com';
export const STORAGE_VERSION = 'v1';
export const STORAGE_PATH = `/apis/${STORAGE_GROUP}/${STORAGE_VERSION}`;

/** The namespace the backend runs in and keeps its own objects in (the archived history). */
export const SYSTEM_NAMESPACE = 'custom-system';

/** The backend's ServiceAccount, as kube-apiserver names its user. */
export const BACKEND_SERVICE_ACCOUNT = { namespace: SYSTEM_NAMESPACE, name: 'kubectl-custom-backend' } as const;

/** The backend's validating admission webhook for the storage CRD (manifests/base/webhook.yaml): its configuration, and the webhook's name kubectl shows in a refusal. */
export const WEBHOOK_CONFIGURATION = 'kubectl-custom-gates';
export const WEBHOOK_NAME = 'gates.custom.example.com';

/** The pseudo-resource whose verbs (enter, approve, override) guard states, named per state: states.custom.example.com/<state>. */
export const STATES_RESOURCE = 'states';
export type StateVerb = 'enter' | 'approve' | 'override';

/**
 * The backend's finalizer on every object: a deletion is archived (with a
 * `deleted` entry) before the object goes. Only the backend adds or removes
 * it (the admission policy refuses anyone else).
 */
export const FINALIZER = 'custom.example.com/history';

/** The archived trail: immutable StateHistory segments (example.com/v1) in SYSTEM_NAMESPACE. */
export const HISTORY_KIND = 'StateHistory';
export const HISTORY_RESOURCE = 'statehistories';
/** Labels and annotations of a segment: label values are at most 63 characters, so the name goes in an annotation and a hash of it in a label. */
export const HISTORY_LABELS = {
  uid: 'custom.example.com/object-uid',
  nameHash: 'custom.example.com/object-name-hash',
  /** On the segment holding a `deleted` entry: the day of the deletion (YYYY-MM-DD, UTC), so the lives that ended in a span are found by label. */
  deletedOn: 'custom.example.com/deleted-on',
} as const;
export const HISTORY_ANNOTATIONS = {
  namespace: 'custom.example.com/object-namespace',
  name: 'custom.example.com/object-name',
} as const;

/** Central gate policies (example.com/v1), written by the platform team; those in SYSTEM_NAMESPACE apply to every namespace. */
export const GATE_POLICY_RESOURCE = 'gatepolicies';
/**
 * Change freezes (example.com/v1, namespaced), written by people allowed to
 * freeze; one in SYSTEM_NAMESPACE applies to every namespace.
 */
export const FREEZE_KIND = 'Freeze';
export const FREEZE_RESOURCE = 'freezes';

/** The document GET …/customresources/NAME/history answers with. */
export const HISTORY_DOCUMENT_KIND = 'CustomResourceHistory';
/** The answer of POST …/customresources/NAME/check (api/src/checks.ts CheckReport). */
export const CHECK_REPORT_KIND = 'CustomResourceCheck';

/** The ValidatingAdmissionPolicies (and bindings, of the same names) in manifests/base that guard the gates and the trail. */
export const ADMISSION_POLICIES = ['kubectl-custom-gates', 'kubectl-custom-history'] as const;
/** The MutatingAdmissionPolicy (and binding) that gives every object the backend's finalizer at creation. */
export const FINALIZER_POLICY = 'kubectl-custom-history-finalizer';

/** `…/customresources`, cluster-wide when `namespace` is undefined. */
export function collectionPath(namespace: string | undefined, groupPath = GROUP_PATH): string {
  return namespace === undefined ? `${groupPath}/${RESOURCE}` : `${groupPath}/namespaces/${encodeURIComponent(namespace)}/${RESOURCE}`;
}

/** `…/namespaces/NS/customresources/NAME[/SUBRESOURCE]`. */
export function objectPath(namespace: string, name: string, subresource?: string, groupPath = GROUP_PATH): string {
  return `${collectionPath(namespace, groupPath)}/${encodeURIComponent(name)}${subresource ? `/${subresource}` : ''}`;
}

/** `/apis/example.com/v1/namespaces/NS/freezes[/NAME[/SUBRESOURCE]]`. */
export function freezePath(namespace: string, name?: string, subresource?: string): string {
  const collection = `${STORAGE_PATH}/namespaces/${encodeURIComponent(namespace)}/${FREEZE_RESOURCE}`;
  return name === undefined ? collection : `${collection}/${encodeURIComponent(name)}${subresource ? `/${subresource}` : ''}`;
}

/** Notification policies (example.com/v1, namespaced; issue 22): which objects' trail goes to which sinks; one in SYSTEM_NAMESPACE selects every namespace. */
export const NOTIFICATION_POLICY_KIND = 'NotificationPolicy';
export const NOTIFICATION_POLICY_RESOURCE = 'notificationpolicies';
/** The Lease whose holder is the one replica that delivers notifications. */
export const NOTIFICATION_LEASE = 'kubectl-custom-notifications';
/** The ClusterRole a namespace binds to the backend's ServiceAccount so that it may read the Secrets its policies name. */
export const SECRETS_ROLE = 'kubectl-custom-secrets';
