// Gates hold only with the admission policies of manifests/base in place: a
// missing policy or binding lets editors weaken the gates in spec (and
// without the MutatingAdmissionPolicy, new objects wait for the backend to
// add its finalizer). The
// backend looks for them every minute, warns in its log when one is missing,
// and says so in a Warning header on discovery (which `kubectl custom
// version` prints), as kube-apiserver warns of deprecated APIs.
import { ADMISSION_POLICIES, FINALIZER_POLICY } from '../../../api/src/names.ts';
import { ApiError } from '../../../client/src/errors.ts';
import type { RestClient } from '../../../client/src/rest-client.ts';
import type { Logger } from '../log/logger.ts';

const BASE = '/apis/admissionregistration.k8s.io/v1';

export class AdmissionPolicyCheck {
  private readonly client: RestClient;
  private readonly log: Logger;
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private current: string[] = [];

  constructor(client: RestClient, log: Logger, intervalMs = 60_000) {
    this.client = client;
    this.log = log;
    this.intervalMs = intervalMs;
  }

  /** What is missing, one sentence each; empty when the policies and bindings are in place. */
  get warnings(): readonly string[] {
    return this.current;
  }

  start(): void {
    const tick = () => void this.check().finally(() => (this.timer = setTimeout(tick, this.intervalMs).unref()));
    tick();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  async check(): Promise<readonly string[]> {
    const found: string[] = [];
    const expected = [
      ...ADMISSION_POLICIES.flatMap((name) => [
        { name, kind: 'ValidatingAdmissionPolicy', path: 'validatingadmissionpolicies', without: 'the gates in spec are not guarded' },
        { name, kind: 'ValidatingAdmissionPolicyBinding', path: 'validatingadmissionpolicybindings', without: 'the gates in spec are not guarded' },
      ]),
      ...[
        { kind: 'MutatingAdmissionPolicy', path: 'mutatingadmissionpolicies' },
        { kind: 'MutatingAdmissionPolicyBinding', path: 'mutatingadmissionpolicybindings' },
      ].map((x) => ({ ...x, name: FINALIZER_POLICY, without: 'new objects get the finalizer only from the backend, and one deleted before that leaves no deleted entry' })),
    ];
    for (const { name, kind, path, without } of expected) {
      try {
        await this.client.json('GET', `${BASE}/${path}/${name}`, { timeoutMs: 10_000 });
      } catch (err) {
        if (err instanceof ApiError && err.code === 404) found.push(`the ${kind} ${name} is missing, so ${without}: apply manifests/base`);
        else if (err instanceof ApiError && err.code === 403) found.push(`cannot check the ${kind} ${name}: the backend may not read it (see manifests/base/rbac-backend.yaml)`);
        // Other failures (kube-apiserver away) say nothing about the policies: keep what was known.
        else return this.current;
      }
    }
    if (found.join('\n') !== this.current.join('\n')) {
      for (const w of found) this.log.warn(w);
      if (found.length === 0 && this.current.length) this.log.info('the admission policies are in place again');
    }
    this.current = found;
    return found;
  }
}
