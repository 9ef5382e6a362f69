// The admission webhook deciding on fresh gates (issue 23): before a create or
// an update is judged, the GatePolicies and Freezes are brought up to every
// write kube-apiserver acknowledged before the review (a consistent read,
// store/consistent-collection.ts), so a GatePolicy that has been created and
// answered holds the next edit, whichever replica the webhook reaches. When
// that read fails, or does not answer in time, the edit is refused (fail
// closed, as before the first list), naming what could not be read.
//
// In time: kube-apiserver gives the webhook timeoutSeconds (10,
// manifests/base/webhook.yaml) and then fails the write itself with
// "failed calling webhook … context deadline exceeded" (failurePolicy: Fail),
// which says nothing of why. The consistent read is shared with the state
// changes and may queue behind one in flight (each bounded at 10 s), so the
// review waits for it at most FRESH_GATES_LIMIT_MS, leaving the rest of the
// webhook's time for the SubjectAccessReviews that follow, and refuses on its
// own with the reason.
import { describeError } from '../status/status-error.ts';
import { denied, type AdmissionRequest, type AdmissionResponse } from './admission-review.ts';
import { GateAdmission, type GateAdmissionDeps } from './gate-admission.ts';

/** How long a review waits for the consistent reads of the gates: well below the webhook's timeoutSeconds (10). */
export const FRESH_GATES_LIMIT_MS = 6_000;

/** The consistent read of each gate collection, by the name a refusal gives it (GatePolicies, Freezes). */
export type FreshSources = Readonly<Record<string, () => Promise<void>>>;

export class FreshGateAdmission extends GateAdmission {
  private readonly sources: FreshSources;
  private readonly limitMs: number;

  constructor(deps: GateAdmissionDeps, sources: FreshSources, limitMs = FRESH_GATES_LIMIT_MS) {
    super(deps);
    this.sources = sources;
    this.limitMs = limitMs;
  }

  override async admit(r: AdmissionRequest): Promise<AdmissionResponse> {
    if (!r.subResource && (r.operation === 'CREATE' || r.operation === 'UPDATE')) {
      const unread = await this.freshInTime();
      if (unread) return denied(r.uid, 503, 'ServiceUnavailable', `the kubectl-custom backend could not read the current ${unread}, so it cannot tell which gates this change would weaken; retry`);
    }
    return super.admit(r);
  }

  /** Every source read at once: undefined when all answered in time, else what could not be read and why (the first failure, or each one still unanswered at the limit). */
  private async freshInTime(): Promise<string | undefined> {
    const pending = new Set(Object.keys(this.sources));
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      Promise.all(
        Object.entries(this.sources).map(([what, fresh]) =>
          fresh().then(
            () => void pending.delete(what),
            (err: unknown) => Promise.reject(new Error(`${what} (${describeError(err)})`)),
          ),
        ),
      ).then(
        () => undefined,
        (err: Error) => err.message,
      ),
      new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve(`${[...pending].join(' and ')} from kube-apiserver: no answer within ${this.limitMs / 1000} s (kube-apiserver gives this webhook 10 s)`), this.limitMs);
      }),
    ]);
    clearTimeout(timer);
    return outcome;
  }
}
