// Bearer tokens checked with a TokenReview against kube-apiserver, answers
// cached for 10 s as the delegating authenticator does. The cache is keyed by
// a SHA-256 of the token, so no token is kept in memory longer than a request.
import { createHash } from 'node:crypto';
import type { RestClient } from '../kube/rest-client.ts';
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
  private readonly cache = new Map<string, { user: UserInfo | undefined; expires: number }>();
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
    const now = Date.now();
    const hit = this.cache.get(k);
    if (hit && hit.expires > now) {
      this.hits++;
      this.onLookup?.(true);
      return hit.user;
    }
    this.misses++;
    this.onLookup?.(false);
    const res = await this.client.json<{ status?: TokenReviewStatus }>('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, ...(this.audiences.length ? { audiences: this.audiences } : {}) } },
      timeoutMs: 10_000,
    });
    const st = res.status;
    const user: UserInfo | undefined = st?.authenticated && st.user?.username
      ? { name: st.user.username, ...(st.user.uid ? { uid: st.user.uid } : {}), groups: st.user.groups ?? [], extra: st.user.extra ?? {} }
      : undefined;
    if (this.cache.size > 10_000) this.evictExpired(now);
    this.cache.set(k, { user, expires: now + this.ttlMs });
    return user;
  }

  private evictExpired(now: number): void {
    for (const [k, v] of this.cache) if (v.expires <= now) this.cache.delete(k);
    if (this.cache.size > 10_000) this.cache.clear();
  }
}
