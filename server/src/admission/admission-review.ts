// admission.k8s.io/v1 AdmissionReview, the wire contract of a validating
// webhook: what kube-apiserver sends (the request) and what it accepts back
// (the response with the request's uid). Only the fields the gate webhook
// reads are typed; a body that is not a v1 AdmissionReview with a request is
// a 400, as k8s.io/apiserver's webhook server answers.
import type { StoredObject } from '../../../api/src/types.ts';
import { newBadRequest } from '../status/status-error.ts';
import type { UserInfo } from '../auth/user.ts';

const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

export interface AdmissionRequest {
  uid: string;
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  namespace?: string;
  name?: string;
  /** The subresource written ("" for the main resource). */
  subResource?: string;
  userInfo: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  object?: StoredObject | null;
  oldObject?: StoredObject | null;
  dryRun?: boolean;
  /** The operation's options: for a DELETE, its DeleteOptions. */
  options?: { preconditions?: { resourceVersion?: string; uid?: string } } | null;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason?: string; message: string };
}

/** The request of a v1 AdmissionReview, or a 400 that says what is wrong. */
export function parseAdmissionReview(body: unknown): AdmissionRequest {
  const review = body as { apiVersion?: unknown; kind?: unknown; request?: Partial<AdmissionRequest> } | null;
  if (!review || typeof review !== 'object' || review.kind !== 'AdmissionReview' || review.apiVersion !== ADMISSION_API_VERSION) {
    throw newBadRequest(`expected an AdmissionReview of ${ADMISSION_API_VERSION} (set admissionReviewVersions: [v1] on the webhook)`);
  }
  const r = review.request;
  if (!r || typeof r.uid !== 'string' || !r.uid || typeof r.operation !== 'string' || !r.userInfo || typeof r.userInfo !== 'object') {
    throw newBadRequest('the AdmissionReview has no request with a uid, an operation and userInfo');
  }
  return r as AdmissionRequest;
}

/** The person the request is made for, as the authorizer checks them. */
export function userOf(r: AdmissionRequest): UserInfo {
  const u = r.userInfo;
  return { name: u.username ?? '', groups: u.groups ?? [], extra: u.extra ?? {}, ...(u.uid ? { uid: u.uid } : {}) };
}

export function admissionReview(response: AdmissionResponse): Record<string, unknown> {
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response };
}

export function allowed(uid: string): AdmissionResponse {
  return { uid, allowed: true };
}

/** A refusal, shown by kubectl as `admission webhook "…" denied the request: <message>`. */
export function denied(uid: string, code: number, reason: string, message: string): AdmissionResponse {
  return { uid, allowed: false, status: { code, reason, message } };
}
