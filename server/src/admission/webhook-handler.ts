// POST /admission/customresources: kube-apiserver's call to the validating
// webhook. It is served before authentication, as the probes are: kube-
// apiserver calls webhooks without a client certificate unless a cluster
// admin configures one, and the answer grants nothing (it only refuses or
// lets through what kube-apiserver already authenticated and authorized).
// The one side effect, recording who asked for a deletion, names the user
// kube-apiserver put in the review; see the README's threat model.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readJsonBody } from '../http/body.ts';
import { writeJson } from '../http/respond.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { newForbiddenPath, newMethodNotAllowed } from '../status/status-error.ts';
import { admissionReview, parseAdmissionReview } from './admission-review.ts';
import type { GateAdmission } from './gate-admission.ts';

export async function serveAdmission(req: IncomingMessage, res: ServerResponse, admission: GateAdmission, metrics: Metrics): Promise<void> {
  if (req.method !== 'POST') throw newMethodNotAllowed();
  // kube-apiserver's webhook client sends no identity headers; its proxy always does. A request that
  // came through the aggregated API (a crafted path) is not an admission call.
  if (Object.keys(req.headers).some((h) => h.startsWith('x-remote-'))) throw newForbiddenPath('the admission webhook is called by kube-apiserver\'s admission chain, not through the API');
  const request = parseAdmissionReview(await readJsonBody(req));
  const response = await admission.admit(request);
  metrics.admissionReviews.inc({ operation: request.operation, result: response.allowed ? 'allowed' : 'denied' });
  writeJson(res, 200, admissionReview(response));
}
