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

type Kinds = { nonMutating: number; mutating: number };

export class MaxInFlight {
  readonly limits: InFlightLimits;
  private nonMutating = 0;
  private mutating = 0;
  /** The most at once since takePeaks() was last called. */
  private peaks: Kinds = { nonMutating: 0, mutating: 0 };
  private refused: Kinds = { nonMutating: 0, mutating: 0 };

  constructor(limits: InFlightLimits) {
    this.limits = limits;
  }

  get inFlight(): Kinds {
    return { nonMutating: this.nonMutating, mutating: this.mutating };
  }

  /** Requests refused with 429 since start. */
  get rejected(): Kinds {
    return { ...this.refused };
  }

  /** The most at once since the last call (or start); the next period starts from what is in flight now. */
  takePeaks(): Kinds {
    const p = this.peekPeaks();
    this.peaks = this.inFlight;
    return p;
  }

  /** The most at once since takePeaks() was last called, without starting a new period. */
  peekPeaks(): Kinds {
    return { ...this.peaks };
  }

  /** Takes a seat for the request until its response closes, or throws 429. */
  admit(info: RequestInfo, user: UserInfo, res: ServerResponse): void {
    if (info.verb === 'watch') return;
    const mutating = MUTATING.has(info.verb);
    const limit = mutating ? this.limits.mutating : this.limits.nonMutating;
    const used = mutating ? this.mutating : this.nonMutating;
    if (limit > 0 && used >= limit && !user.groups.includes('system:masters')) {
      this.refused[mutating ? 'mutating' : 'nonMutating']++;
      throw newTooManyRequests(1);
    }
    if (mutating) this.peaks.mutating = Math.max(this.peaks.mutating, ++this.mutating);
    else this.peaks.nonMutating = Math.max(this.peaks.nonMutating, ++this.nonMutating);
    res.once('close', () => {
      if (mutating) this.mutating--;
      else this.nonMutating--;
    });
  }
}
