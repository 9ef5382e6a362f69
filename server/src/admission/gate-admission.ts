// The validating admission webhook for customresources.example.com: the
// doors into a state that are not state changes. It computes the effective
// gates (spec, GatePolicies, Freezes active or scheduled) before and after
// with the same sources the write path decides with (state/gate-sources.ts),
// asks state/gate-invariant.ts what the edit needs, and checks those
// permissions with SubjectAccessReviews for the user kube-apiserver names in
// the review. An allowed change of labels first drops the approvals given
// under the labels it leaves (store/approval-lapse.ts). A DELETE is allowed and its user recorded for the trail's
// `deleted` entry (store/deletion-record.ts). Until the backend has
// listed the GatePolicies and Freezes it refuses (fail closed), as
// kube-apiserver does while the webhook is unreachable.
import { GROUP, STATES_RESOURCE, VERSION, type StateVerb } from '../../../api/src/names.ts';
import type { StoredObject } from '../../../api/src/types.ts';
import type { Authorizer } from '../auth/delegated-authz.ts';
import type { UserInfo } from '../auth/user.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log/logger.ts';
import { checkProblems, newSecretNames } from '../checks/validate.ts';
import { labelsFingerprint } from '../state/approvals.ts';
import { gateView, neededToCreate, neededToUpdate, type GateView, type Needed } from '../state/gate-invariant.ts';
import type { GateSources } from '../state/gate-sources.ts';
import { describeError } from '../status/status-error.ts';
import { allowed, denied, userOf, type AdmissionRequest, type AdmissionResponse } from './admission-review.ts';

/** Where the backend serves it (the webhook's clientConfig.service.path). */
export const WEBHOOK_PATH = '/admission/customresources';

export interface GateAdmissionDeps {
  gates: GateSources;
  authorizer: Authorizer;
  clock: Clock;
  /** The GatePolicies and Freezes have been listed: until then no answer can be trusted. */
  ready(): boolean;
  /** Records who asked for a deletion (kept in the object's status until the finalizer archives it). */
  recordDeletion(obj: StoredObject, user: string, now: Date): Promise<void>;
  /** Removes the approvals given under labels with this fingerprint (store/approval-lapse.ts). */
  dropApprovals(obj: StoredObject, labelsHash: string | undefined): Promise<void>;
  log: Logger;
}

function withNamespace(obj: StoredObject, ns: string | undefined): StoredObject {
  const spec = { ...obj.spec, states: Array.isArray(obj.spec?.states) ? obj.spec.states : [] };
  return { ...obj, spec, metadata: { ...obj.metadata, namespace: obj.metadata?.namespace || ns || '' } };
}

function viewOf(gates: GateSources, obj: StoredObject, now: Date): GateView {
  const effective = gates.effective(obj);
  return gateView(effective.spec, (s) => gates.freezesInForce(obj, s, now).map((f) => `${f.namespace}/${f.name}`), effective.serviceAccountApprovals?.keys(), effective.checks, obj.metadata.labels ?? {});
}

/** How a missing permission reads in the refusal. */
function missingLine(n: Needed, ns: string): string {
  const what = n.verb === 'override' ? `weakening the gates of ${JSON.stringify(n.state)} (${n.why.join('; ')})` : `${n.why.join('; ')}: that`;
  return `${what} needs the "${n.verb}" verb on ${STATES_RESOURCE}.${GROUP} ${JSON.stringify(n.state)} in namespace ${JSON.stringify(ns)}`;
}

export class GateAdmission {
  private readonly d: GateAdmissionDeps;

  constructor(deps: GateAdmissionDeps) {
    this.d = deps;
  }

  async admit(r: AdmissionRequest): Promise<AdmissionResponse> {
    if (r.subResource) return allowed(r.uid);
    if (!this.d.ready()) {
      return denied(r.uid, 503, 'ServiceUnavailable', 'the kubectl-custom backend has not listed the GatePolicies and Freezes yet, so it cannot tell which gates this change would weaken; retry in a few seconds');
    }
    const now = this.d.clock.now();
    if (r.operation === 'DELETE') return this.deletion(r, now);
    if (r.operation !== 'CREATE' && r.operation !== 'UPDATE') return allowed(r.uid);
    if (!r.object) return denied(r.uid, 400, 'BadRequest', `the AdmissionReview of a ${r.operation} carries no object`);
    const next = withNamespace(r.object, r.namespace);
    let needed: Needed[];
    let old: StoredObject | undefined;
    if (r.operation === 'CREATE') {
      needed = neededToCreate(next, viewOf(this.d.gates, next, now));
    } else {
      if (!r.oldObject) return denied(r.uid, 400, 'BadRequest', 'the AdmissionReview of an UPDATE carries no oldObject');
      old = withNamespace(r.oldObject, r.namespace);
      needed = neededToUpdate(old, next, viewOf(this.d.gates, old, now), viewOf(this.d.gates, next, now));
    }
    const ns = next.metadata.namespace;
    const user = userOf(r);
    const refused = await this.checksRefused(r, user, old, next);
    if (refused) return refused;
    const missing: Needed[] = [];
    for (const n of needed) if (!(await this.holds(user, ns, n))) missing.push(n);
    if (missing.length === 0) return this.allowedEdit(r, old, next);
    const subject = `${r.operation === 'CREATE' ? 'creating' : 'changing'} customresources.example.com ${JSON.stringify(next.metadata.name ?? r.name ?? '')}`;
    this.d.log.info('admission refused a change that would open a gate', { object: `${ns}/${next.metadata.name ?? r.name ?? ''}`, operation: r.operation, user: user.name, missing: missing.map((m) => `${m.verb} ${m.state}`) });
    return denied(r.uid, 403, 'Forbidden', `${subject} is refused: ${missing.map((m) => missingLine(m, ns)).join('; ')}`);
  }

  /**
   * An allowed edit that changes the labels first drops the approvals given
   * under the labels it leaves (they lapse for good, as on a spec change);
   * when that cannot be written, the edit is refused so that none survives.
   */
  private async allowedEdit(r: AdmissionRequest, old: StoredObject | undefined, next: StoredObject): Promise<AdmissionResponse> {
    if (!old || r.dryRun) return allowed(r.uid);
    const was = labelsFingerprint(old.metadata.labels);
    if (was === labelsFingerprint(next.metadata.labels) || !(old.status?.approvals ?? []).some((a) => a.labelsHash === was)) return allowed(r.uid);
    try {
      await this.d.dropApprovals(old, was);
      return allowed(r.uid);
    } catch (err) {
      this.d.log.warn('could not drop the approvals given under the labels being changed; refusing the change', { object: `${r.namespace}/${r.name}`, error: describeError(err) });
      return denied(r.uid, 503, 'ServiceUnavailable', `the kubectl-custom backend could not drop the approvals given under the labels being changed (${describeError(err)}); retry`);
    }
  }

  /**
   * A spec whose checks cannot be measured as written is invalid (422); one
   * that adds or changes a check naming a Secret its writer may not read is
   * forbidden (403): the check would send the Secret's value to the address
   * it names, which the writer chose.
   */
  private async checksRefused(r: AdmissionRequest, user: UserInfo, old: StoredObject | undefined, next: StoredObject): Promise<AdmissionResponse | undefined> {
    const name = JSON.stringify(next.metadata.name ?? r.name ?? '');
    const problems = checkProblems(next.spec);
    if (problems.length) return denied(r.uid, 422, 'Invalid', `customresources.example.com ${name} is invalid: ${problems.join('; ')}`);
    const ns = next.metadata.namespace;
    for (const secret of newSecretNames(old?.spec, next.spec)) {
      const d = await this.d.authorizer.authorize(user, { resource: { namespace: ns, verb: 'get', group: '', version: 'v1', resource: 'secrets', name: secret } });
      if (!d.allowed) {
        return denied(r.uid, 403, 'Forbidden', `${r.operation === 'CREATE' ? 'creating' : 'changing'} customresources.example.com ${name} is refused: a check names Secret ${JSON.stringify(secret)}, which User ${JSON.stringify(user.name)} cannot read (the check sends its value to the address it names); that needs the "get" verb on secrets ${JSON.stringify(secret)} in namespace ${JSON.stringify(ns)}`);
      }
    }
    return undefined;
  }

  /** `enter` is held by holders of `override` too (break glass counts as entering). */
  private async holds(user: UserInfo, ns: string, n: Needed): Promise<boolean> {
    const check = async (verb: StateVerb) => (await this.d.authorizer.authorize(user, { resource: { namespace: ns, verb, group: GROUP, version: VERSION, resource: STATES_RESOURCE, name: n.state } })).allowed;
    if (await check(n.verb)) return true;
    return n.verb === 'enter' && (await check('override'));
  }

  private async deletion(r: AdmissionRequest, now: Date): Promise<AdmissionResponse> {
    const old = r.oldObject;
    // A dry run records nothing; a second DELETE of an object already going keeps the first one's user.
    if (r.dryRun || !old || old.metadata?.deletionTimestamp) return allowed(r.uid);
    // Writing the record changes the object's resourceVersion, which would fail a DELETE that asks for
    // the one it read: such a deletion goes through unrecorded (its `deleted` entry names no one).
    if (r.options?.preconditions?.resourceVersion) return allowed(r.uid);
    try {
      await this.d.recordDeletion(withNamespace(old, r.namespace), userOf(r).name, now);
      return allowed(r.uid);
    } catch (err) {
      this.d.log.warn('could not record who asked for a deletion; refusing it so that the trail names them', { object: `${r.namespace}/${r.name}`, error: describeError(err) });
      return denied(r.uid, 503, 'ServiceUnavailable', `the kubectl-custom backend could not record who asked for this deletion (${describeError(err)}); retry`);
    }
  }
}
