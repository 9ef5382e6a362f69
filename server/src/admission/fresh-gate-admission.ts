// The admission webhook deciding on fresh gates (issue 23): before a create or
// an update is judged, the GatePolicies and Freezes are brought up to every
// write kube-apiserver acknowledged before the review (a consistent read,
// store/consistent-collection.ts), so a GatePolicy that has been created and
// answered holds the next edit, whichever replica the webhook reaches. When
// that read fails the edit is refused (fail closed, as before the first list).
import { describeError } from '../status/status-error.ts';
import { denied, type AdmissionRequest, type AdmissionResponse } from './admission-review.ts';
import { GateAdmission, type GateAdmissionDeps } from './gate-admission.ts';

export class FreshGateAdmission extends GateAdmission {
  private readonly fresh: () => Promise<void>;

  constructor(deps: GateAdmissionDeps, fresh: () => Promise<void>) {
    super(deps);
    this.fresh = fresh;
  }

  override async admit(r: AdmissionRequest): Promise<AdmissionResponse> {
    if (!r.subResource && (r.operation === 'CREATE' || r.operation === 'UPDATE')) {
      try {
        await this.fresh();
      } catch (err) {
        return denied(r.uid, 503, 'ServiceUnavailable', `the kubectl-custom backend could not read the current GatePolicies and Freezes (${describeError(err)}), so it cannot tell which gates this change would weaken; retry`);
      }
    }
    return super.admit(r);
  }
}

