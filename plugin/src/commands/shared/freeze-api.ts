// What freeze and unfreeze share: the Freeze's apiVersion, and the message
// for a cluster without the freezes.example.com CRD.
import { STORAGE_GROUP, STORAGE_VERSION } from '../../../../api/src/names.ts';
import { ApiError } from '../../../../client/src/errors.ts';

export const FREEZE_API_VERSION = `${STORAGE_GROUP}/${STORAGE_VERSION}`;

/** `err`, or a clearer error when it says that nothing serves freezes.example.com (kube-apiserver's 404 for an unknown resource names no object). */
export function withCrdHint(err: unknown): unknown {
  if (err instanceof ApiError && err.code === 404 && !err.status?.details?.name) {
    return new Error('the freezes.example.com CRD is not installed in this cluster: install kubectl-custom (kubectl apply -k manifests/base) or pick another --context', { cause: err });
  }
  return err;
}
