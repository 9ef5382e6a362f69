// The one version string of the project (package.json's, checked by a unit
// test) and the header the backend names itself with, so that `kubectl
// custom version` can report the backend's version through kube-apiserver.

export const PROJECT_VERSION = '0.1.0';

/** Sent by the backend on every answer; lower-case as Node hands headers over. */
export const VERSION_HEADER = 'x-kubectl-custom-version';
