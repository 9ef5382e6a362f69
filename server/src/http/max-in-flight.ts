// k8s.io/apiserver's WithMaxInFlightLimit: at most so many requests at a
// time, counted apart for mutating ones; long-running requests (watches) are
// not counted; over the limit a request is answered 429 with Retry-After,
// except for system:masters ("so powerful that they should always get an
// answer": the aggregator's availability checks among them).
import type { ServerResponse } from 'node:http';
import type { UserInfo } from '../auth/user.ts';
import type { RequestInfo } from '../request/request-info.ts';
import { newTooManyRequests } from '../status/status-error.ts';

const MUTATING: ReadonlySet<string> = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

export interface InFlightLimits {
  /** Non-mutating requests at a time (kube-apiserver's --max-requests-inflight); 0: no limit. */
  nonMutating: number;
  /** Mutating requests at a time (--max-mutating-requests-inflight); 0: no limit. */
  mutating: number;
}

export class MaxInFlight {
  private readonly limits: InFlightLimits;
  private nonMutating = 0;
  private mutating = 0;

  constructor(limits: InFlightLimits) {
    this.limits = limits;
  }

  get inFlight(): { nonMutating: number; mutating: number } {
    return { nonMutating: this.nonMutating, mutating: this.mutating };
  }

  /** Takes a seat for the request until its response closes, or throws 429. */
  admit(info: RequestInfo, user: UserInfo, res: ServerResponse): void {
    if (info.verb === 'watch') return;
    const mutating = MUTATING.has(info.verb);
    const limit = mutating ? this.limits.mutating : this.limits.nonMutating;
    const used = mutating ? this.mutating : this.nonMutating;
    if (limit > 0 && used >= limit && !user.groups.includes('system:masters')) throw newTooManyRequests(1);
    if (mutating) this.mutating++;
    else this.nonMutating++;
    res.once('close', () => {
      if (mutating) this.mutating--;
      else this.nonMutating--;
    });
  }
}
