// Bearer tokens checked with a TokenReview against kube-apiserver, answers
// cached for 10 s as the delegating authenticator does. The cache is keyed by
// a SHA-256 of the token, so no token is kept in memory longer than a request.
import { createHash } from 'node:crypto';
import { ExpiringCache } from '../../../client/src/expiring-cache.ts';
// A review in flight is shared by every request asking the same: not cancelled with the first.
import { detached } from '../http/request-scope.ts';
import type { RestClient } from '../../../client/src/rest-client.ts';
import type { UserInfo } from './user.ts';

export interface TokenReviewer {
  review(token: string): Promise<UserInfo | undefined>;
}

interface TokenReviewStatus {
  authenticated?: boolean;
  user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  error?: string;
}

export class CachedTokenReviewer implements TokenReviewer {
  // undefined (not authenticated) is an answer too: cached as null.
  private readonly cache = new ExpiringCache<UserInfo | null>();
  private readonly client: RestClient;
  private readonly ttlMs: number;
  private readonly audiences: string[];
  hits = 0;
  misses = 0;

  private readonly onLookup: ((hit: boolean) => void) | undefined;

  constructor(client: RestClient, opts: { ttlMs?: number; audiences?: string[]; onLookup?: (hit: boolean) => void } = {}) {
    this.client = client;
    this.onLookup = opts.onLookup;
    this.ttlMs = opts.ttlMs ?? 10_000;
    this.audiences = opts.audiences ?? [];
  }

  async review(token: string): Promise<UserInfo | undefined> {
    const k = createHash('sha256').update(token).digest('base64');
    const { value, hit } = await this.cache.getOrLoad(k, () => detached(() => this.ask(token)), () => this.ttlMs);
    if (hit) this.hits++;
    else this.misses++;
    this.onLookup?.(hit);
    return value ?? undefined;
  }

  private async ask(token: string): Promise<UserInfo | null> {
    const res = await this.client.json<{ status?: TokenReviewStatus }>('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, ...(this.audiences.length ? { audiences: this.audiences } : {}) } },
      timeoutMs: 10_000,
    });
    const st = res.status;
    return st?.authenticated && st.user?.username
      ? { name: st.user.username, ...(st.user.uid ? { uid: st.user.uid } : {}), groups: st.user.groups ?? [], extra: st.user.extra ?? {} }
      : null;
  }
}
