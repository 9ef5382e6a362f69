// Delegated authorization: one SubjectAccessReview per distinct request,
// answers cached 10 s (allowed and denied alike), as k8s.io/apiserver's
// delegating authorizer does. Health paths and system:masters are always
// allowed without asking, as its defaults (AlwaysAllowPaths,
// AlwaysAllowGroups) do.
import { ExpiringCache } from '../../../client/src/expiring-cache.ts';
// A review in flight is shared by every request asking the same: not cancelled with the first.
import { detached } from '../http/request-scope.ts';
import type { RestClient } from '../../../client/src/rest-client.ts';
import type { UserInfo } from './user.ts';

export interface ResourceAttributes {
  namespace?: string;
  verb: string;
  group: string;
  version?: string;
  resource: string;
  subresource?: string;
  name?: string;
}

export interface NonResourceAttributes {
  path: string;
  verb: string;
}

export type Attributes = { resource: ResourceAttributes } | { nonResource: NonResourceAttributes };

export interface Decision {
  allowed: boolean;
  /** The authorizer's reason, when it gave one. */
  reason?: string;
}

export interface Authorizer {
  authorize(user: UserInfo, attrs: Attributes): Promise<Decision>;
}

const ALWAYS_ALLOW_PATHS = ['/healthz', '/readyz', '/livez'];
const ALWAYS_ALLOW_GROUPS = ['system:masters'];

export interface AuthzStats {
  hits: number;
  misses: number;
}

export class DelegatingAuthorizer implements Authorizer {
  private readonly client: RestClient;
  private readonly allowTtlMs: number;
  private readonly denyTtlMs: number;
  private readonly cache = new ExpiringCache<Decision>();
  readonly stats: AuthzStats = { hits: 0, misses: 0 };

  private readonly onLookup: ((hit: boolean) => void) | undefined;

  constructor(client: RestClient, opts: { allowTtlMs?: number; denyTtlMs?: number; onLookup?: (hit: boolean) => void } = {}) {
    this.client = client;
    this.onLookup = opts.onLookup;
    this.allowTtlMs = opts.allowTtlMs ?? 10_000;
    this.denyTtlMs = opts.denyTtlMs ?? 10_000;
  }

  async authorize(user: UserInfo, attrs: Attributes): Promise<Decision> {
    if ('nonResource' in attrs && ALWAYS_ALLOW_PATHS.includes(attrs.nonResource.path)) return { allowed: true };
    if (user.groups.some((g) => ALWAYS_ALLOW_GROUPS.includes(g))) return { allowed: true };
    const spec = {
      user: user.name,
      ...(user.uid ? { uid: user.uid } : {}),
      groups: user.groups,
      ...(Object.keys(user.extra).length ? { extra: user.extra } : {}),
      ...('resource' in attrs ? { resourceAttributes: attrs.resource } : { nonResourceAttributes: attrs.nonResource }),
    };
    const { value, hit } = await this.cache.getOrLoad(JSON.stringify(spec), () => detached(() => this.review(spec)), (d) => (d.allowed ? this.allowTtlMs : this.denyTtlMs));
    if (hit) this.stats.hits++;
    else this.stats.misses++;
    this.onLookup?.(hit);
    return value;
  }

  private async review(spec: object): Promise<Decision> {
    const res = await this.client.json<{ status?: { allowed?: boolean; denied?: boolean; reason?: string; evaluationError?: string } }>(
      'POST',
      '/apis/authorization.k8s.io/v1/subjectaccessreviews',
      { body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec }, timeoutMs: 10_000 },
    );
    return { allowed: res.status?.allowed === true, ...(res.status?.reason ? { reason: res.status.reason } : {}) };
  }
}

/** The 403 message kube-apiserver's RBAC gives, e.g. `User "alice" cannot list resource "customresources" in API group "custom.example.com" in the namespace "shop"`. */
export function forbiddenReason(user: UserInfo, attrs: Attributes, reason?: string): string {
  let msg: string;
  if ('nonResource' in attrs) {
    msg = `User "${user.name}" cannot ${attrs.nonResource.verb} path "${attrs.nonResource.path}"`;
  } else {
    const a = attrs.resource;
    const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    msg = `User "${user.name}" cannot ${a.verb} resource "${res}" in API group "${a.group}"`;
    msg += a.namespace ? ` in the namespace "${a.namespace}"` : ' at the cluster scope';
  }
  return reason ? `${msg}: ${reason}` : msg;
}
