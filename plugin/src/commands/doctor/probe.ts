// What doctor's checks read the cluster through: the user's own client
// (so every check runs with the user's permissions, and one the user may not
// make is reported as such), GETs cached for the run (several checks read
// the same APIService or Secret), and the access reviews kube-apiserver
// answers: SelfSubjectAccessReview for the user, SubjectAccessReview for
// the backend's ServiceAccount.
import { ApiError } from '../../../../client/src/errors.ts';
import type { RestClient } from '../../../../client/src/rest-client.ts';

/** What an access review asks (authorization.k8s.io/v1 ResourceAttributes). */
export interface Access {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  name?: string;
  namespace?: string;
}

/** A GET's answer: the object, or that it is not there, or that the user may not read it. */
export type Got<T> = { found: true; object: T } | { found: false; forbidden: boolean; error?: string };

export class Probe {
  private readonly cache = new Map<string, Promise<Got<unknown>>>();

  readonly client: RestClient;
  /** The namespace the user's checks are about (-n, else the context's). */
  readonly namespace: string;
  readonly now: Date;

  constructor(client: RestClient, namespace: string, now: Date) {
    this.client = client;
    this.namespace = namespace;
    this.now = now;
  }

  get<T>(path: string): Promise<Got<T>> {
    let p = this.cache.get(path);
    if (!p) {
      p = this.client.json<T>('GET', path).then(
        (object): Got<unknown> => ({ found: true, object }),
        (e: unknown): Got<unknown> => {
          if (e instanceof ApiError && (e.code === 404 || e.code === 403)) return { found: false, forbidden: e.code === 403 };
          return { found: false, forbidden: false, error: e instanceof Error ? e.message : String(e) };
        },
      );
      this.cache.set(path, p);
    }
    return p as Promise<Got<T>>;
  }

  private me: Promise<{ username?: string; groups?: string[] }> | undefined;

  /** Who kube-apiserver says the user is (SelfSubjectReview), asked once. */
  whoami(): Promise<{ username?: string; groups?: string[] }> {
    this.me ??= this.client
      .json<{ status?: { userInfo?: { username?: string; groups?: string[] } } }>('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } })
      .then((r) => r.status?.userInfo ?? {});
    return this.me;
  }

  /** Whether the user may do it (SelfSubjectAccessReview). */
  async userMay(a: Access): Promise<boolean> {
    const r = await this.client.json<{ status?: { allowed?: boolean } }>('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: a } } });
    return r.status?.allowed === true;
  }

  /** Whether `user` may do it (SubjectAccessReview; the caller must be allowed to create one). */
  async userCan(user: { name: string; groups: string[] }, a: Access): Promise<{ allowed: boolean; reason?: string }> {
    const r = await this.client.json<{ status?: { allowed?: boolean; reason?: string } }>('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: user.name, groups: user.groups, resourceAttributes: a } },
    });
    return { allowed: r.status?.allowed === true, ...(r.status?.reason ? { reason: r.status.reason } : {}) };
  }
}

/** `verb group/resource[/subresource] [name] [in namespace]`, as kubectl auth can-i words it. */
export function describeAccess(a: Access): string {
  const res = `${a.resource}${a.subresource ? `/${a.subresource}` : ''}${a.group ? `.${a.group}` : ''}`;
  return `${a.verb} ${res}${a.name ? ` ${a.name}` : ''}${a.namespace ? ` in ${a.namespace}` : ''}`;
}
