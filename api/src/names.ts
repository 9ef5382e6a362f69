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

/** The storage CRD (customresources.example.com) that holds the objects. */
export const STORAGE_GROUP = 'example.com';
export const STORAGE_VERSION = 'v1';
export const STORAGE_PATH = `/apis/${STORAGE_GROUP}/${STORAGE_VERSION}`;

/** The namespace the backend runs in and keeps its own objects in. */
export const SYSTEM_NAMESPACE = 'custom-system';

/** `…/customresources`, cluster-wide when `namespace` is undefined. */
export function collectionPath(namespace: string | undefined, groupPath = GROUP_PATH): string {
  return namespace === undefined ? `${groupPath}/${RESOURCE}` : `${groupPath}/namespaces/${encodeURIComponent(namespace)}/${RESOURCE}`;
}

/** `…/namespaces/NS/customresources/NAME[/SUBRESOURCE]`. */
export function objectPath(namespace: string, name: string, subresource?: string, groupPath = GROUP_PATH): string {
  return `${collectionPath(namespace, groupPath)}/${encodeURIComponent(name)}${subresource ? `/${subresource}` : ''}`;
}
