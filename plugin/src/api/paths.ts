// Paths of the custom.example.com/v1 API, as the backend serves it through kube-apiserver.
export const GROUP = 'custom.example.com';
export const VERSION = 'v1';
export const GROUP_PATH = `/apis/${GROUP}/${VERSION}`;
export const RESOURCE = 'customresources';
export const APISERVICE = `${VERSION}.${GROUP}`;

export function collectionPath(namespace: string | undefined): string {
  return namespace === undefined ? `${GROUP_PATH}/${RESOURCE}` : `${GROUP_PATH}/namespaces/${encodeURIComponent(namespace)}/${RESOURCE}`;
}

export function objectPath(namespace: string, name: string, subresource?: string): string {
  return `${collectionPath(namespace)}/${encodeURIComponent(name)}${subresource ? `/${subresource}` : ''}`;
}

export const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';

export interface HistoryEntry {
  action: string;
  from?: string;
  to: string;
  user: string;
  time: string;
  reason?: string;
}

/** The describe-state document (kind CustomResourceState). */
export interface StateView {
  kind: 'CustomResourceState';
  apiVersion: string;
  metadata: { name: string; namespace: string; resourceVersion?: string; creationTimestamp?: string };
  displayName: string;
  state: string;
  stateSince?: string;
  secondsInState?: number;
  path: string[];
  position: number;
  nextState?: string;
  valid: boolean;
  message?: string;
  protectedStates: string[];
  gates: { minSoakSeconds: number; soakRemainingSeconds: number; nextStateProtected: boolean; reasonRequired: boolean; promoteBlockedBy: string[] };
  allowed: { promote: boolean; promoteVerb: boolean; setState: boolean; enterNextState: boolean };
  history: HistoryEntry[];
}
