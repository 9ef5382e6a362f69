// The state subresources: GET …/state (describe-state), PUT …/state
// (set-state), POST …/promote. Like kube's deployment RollbackREST, each
// change is decided from the object as read and written with that
// resourceVersion as precondition (store/status-store.ts); when the object
// changed meanwhile it is read again and the rules checked again, never a
// stale decision retried. The rules are transitions.ts's; the bodies, the status written and describe-state are request-body.ts's, change-record.ts's and describe-state.ts's.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GROUP, GROUP_RESOURCE, STATES_RESOURCE, VERSION, type StateVerb } from '../../../../api/src/names.ts';
import type { CustomResourceState, GateSource, StoredObject } from '../../../../api/src/types.ts';
import { formatGateSource } from '../../state/effective-gates.ts';
import type { EventRecorder } from '../../../../client/src/event-recorder.ts';
import type { Authorizer } from '../../auth/delegated-authz.ts';
import type { UserInfo } from '../../auth/user.ts';
import type { Clock } from '../../clock.ts';
import { readJsonBody } from '../../http/body.ts';
import { negotiate, PLAIN_TARGETS } from '../../http/negotiate.ts';
import { writeObject } from '../../http/respond.ts';
import type { Logger } from '../../log/logger.ts';
import type { Metrics } from '../../metrics/metrics.ts';
import type { RequestInfo } from '../../request/request-info.ts';
import { recordedChecks, verdictsOfMove } from '../../state/check-gates.ts';
import { positionOf } from '../../state/position.ts';
import { decideTransition, gateCauses, isRefusal, overridden, type TransitionRequest } from '../../state/transitions.ts';
import { newConflict, newForbidden, newInvalid, newNotFound, newServiceUnavailable, StatusError } from '../../status/status-error.ts';
import type { HistoryArchive } from '../../store/history-archive.ts';
import type { StatusStore } from '../../store/status-store.ts';
import { SPEC_ONLY, type GateSources } from '../../state/gate-sources.ts';
import { guardedWrite } from './guarded-write.ts';
import type { SubresourceHandler } from './handlers.ts';
import { toCustomResource } from './view.ts';
import { eventOf, nextApprovals, statusAfter, type Change } from './change-record.ts';
import { describeState, protectedNextState } from './describe-state.ts';
import { dryRunOf, KIND_REF, parseChangeBody } from './request-body.ts';

/** How a soak's refusal names where it comes from: `spec.minSoakSeconds`, `GatePolicy custom-system/prod-gates`, or both. */
function soakSourceOf(sources: readonly GateSource[] | undefined): string {
  if (!sources?.length) return 'spec.minSoakSeconds';
  return sources.map((x) => (x.kind === 'spec' ? 'spec.minSoakSeconds' : formatGateSource(x))).join(', ');
}

/** Attempts at a change whose object keeps changing under it before answering 409. */
export const MAX_ATTEMPTS = 5;

/** What a REST object that changes an object's status needs (state changes, approvals). */
export interface WriteDeps {
  store: StatusStore;
  archive: HistoryArchive;
  authorizer: Authorizer;
  events: EventRecorder;
  metrics: Metrics;
  log: Logger;
  clock: Clock;
}

export interface StateRestDeps extends WriteDeps {
  /** Policies and freezes; the object's own spec alone when absent. */
  gates?: GateSources;
  /** Told of a change refused for a permission (403) or a gate (422), dry runs aside, after the refusal is decided (notifications, issue 22); must not block. */
  onRefused?(obj: StoredObject | undefined, user: UserInfo, request: TransitionRequest, err: StatusError): void;
}

export class StateRest {
  private readonly d: StateRestDeps;

  constructor(deps: StateRestDeps) {
    this.d = deps;
  }

  handlers(): Record<string, SubresourceHandler> {
    return {
      state: { verbs: ['get', 'update'], handle: (req, res, info, user, url, fresh) => (info.verb === 'get' ? this.serveDescribe(req, res, info, user, fresh) : this.serveChange(req, res, info, user, url, 'set-state')) },
      promote: { verbs: ['create'], handle: (req, res, info, user, url) => this.serveChange(req, res, info, user, url, 'promote') },
    };
  }

  /** describe-state of `fresh` (the object as a quorum read found it), else of the cached object. */
  private async serveDescribe(req: IncomingMessage, res: ServerResponse, info: RequestInfo, user: UserInfo, fresh?: StoredObject): Promise<void> {
    const target = negotiate(req.headers.accept, PLAIN_TARGETS);
    writeObject(res, 200, await this.describe(fresh ?? this.read(info.namespace, info.name), user), target);
  }

  private async serveChange(req: IncomingMessage, res: ServerResponse, info: RequestInfo, user: UserInfo, url: URL, action: TransitionRequest['action']): Promise<void> {
    const target = negotiate(req.headers.accept, PLAIN_TARGETS);
    const dryRun = dryRunOf(url);
    const request = parseChangeBody(await readJsonBody(req), info.name, action);
    try {
      const written = await this.transition(info.namespace, info.name, user, request, dryRun);
      this.d.metrics.transitions.inc({ action, result: dryRun ? 'dry-run' : 'accepted' });
      // As kube-apiserver answers: 201 for a create (POST promote), 200 for an update (PUT state), dry run or not.
      writeObject(res, action === 'promote' ? 201 : 200, await this.describe(written, user), target);
    } catch (err) {
      this.d.metrics.transitions.inc({ action, result: err instanceof StatusError ? err.status.reason : 'error' });
      if (!dryRun && err instanceof StatusError && (err.status.code === 403 || err.status.code === 422)) this.d.onRefused?.(this.d.store.cached(info.namespace, info.name), user, request, err);
      throw err;
    }
  }

  read(ns: string, name: string): StoredObject {
    if (!this.d.store.synced) throw newServiceUnavailable('the cache of customresources.example.com is not synced yet; retry in a few seconds');
    const o = this.d.store.cached(ns, name);
    if (!o) throw newNotFound(GROUP_RESOURCE, name);
    return o;
  }

  private async may(user: UserInfo, ns: string, verb: string, resource: string, subresource: string | undefined, name: string): Promise<boolean> {
    const d = await this.d.authorizer.authorize(user, { resource: { namespace: ns, verb, group: GROUP, version: VERSION, resource, ...(subresource ? { subresource } : {}), name } });
    return d.allowed;
  }

  /** The describe-state document for `user`: describe-state.ts's, with what the authorizer says they may do. */
  async describe(obj: StoredObject, user: UserInfo): Promise<CustomResourceState> {
    const { name, namespace: ns } = obj.metadata;
    const now = this.d.clock.now();
    const gates = this.d.gates ?? SPEC_ONLY;
    const effective = gates.effective(obj);
    const next = toCustomResource({ ...obj, spec: effective.spec }, now).status.nextState;
    const protectedNext = protectedNextState(obj, now, effective.spec);
    const onNext = (verb: StateVerb) => (next !== undefined ? this.may(user, ns, verb, STATES_RESOURCE, undefined, next) : Promise.resolve(false));
    const [promote, setState, enterNext, approveVerb, approveNext, overrideNext] = await Promise.all([
      this.may(user, ns, 'create', 'customresources', 'promote', name),
      this.may(user, ns, 'update', 'customresources', 'state', name),
      protectedNext !== undefined ? this.may(user, ns, 'enter', STATES_RESOURCE, undefined, protectedNext) : Promise.resolve(true),
      this.may(user, ns, 'create', 'customresources', 'approve', name),
      onNext('approve'),
      onNext('override'),
    ]);
    const freezes = next !== undefined ? gates.freezes(obj, next, now) : [];
    return describeState(obj, now, { promote, setState, enterNext, approveNext: approveVerb && approveNext, overrideNext }, { gates: effective, freezes, user: user.name });
  }

  /** Decides, authorizes and writes one transition; returns the object as written (or as it would be, for a dry run). */
  async transition(ns: string, name: string, user: UserInfo, request: TransitionRequest, dryRun: boolean): Promise<StoredObject> {
    const { written, decision } = await guardedWrite(
      this.d,
      this.read(ns, name),
      async (obj) => {
        const now = this.d.clock.now();
        const change = await this.decide(obj, user, request, now);
        const { status, archive } = statusAfter(obj, change, request.reason, user, now);
        return { status, archive, decision: change };
      },
      { dryRun, maxAttempts: MAX_ATTEMPTS },
    );
    if (!dryRun && decision) this.recorded(written, decision, request, user);
    return written;
  }

  private forbidden(user: UserInfo, ns: string, name: string, verb: StateVerb, state: string, why: string): StatusError {
    return newForbidden(GROUP_RESOURCE, name, `User ${JSON.stringify(user.name)} cannot ${why}; that needs the "${verb}" verb on resource "${STATES_RESOURCE}" in API group "${GROUP}" with resourceNames ["${state}"] in the namespace "${ns}"`);
  }

  /** The rules, then the permissions they call for, then the gates: throws the refusal (409, 422, 403). */
  private async decide(obj: StoredObject, user: UserInfo, request: TransitionRequest, now: Date): Promise<Change> {
    const { name, namespace: ns } = obj.metadata;
    if (obj.metadata.deletionTimestamp) throw newConflict(GROUP_RESOURCE, name, 'the object is being deleted; its history is being archived');
    const gates = this.d.gates ?? SPEC_ONLY;
    const effective = gates.effective(obj);
    const since = positionOf(obj.spec, obj.status, obj.metadata.creationTimestamp).since;
    const t = decideTransition({ ...obj, spec: effective.spec }, request, now, {
      mover: user.name,
      freezesOf: (s) => gates.freezes(obj, s, now),
      serviceAccountApprovals: (s) => effective.serviceAccountApprovals?.has(s) ?? false,
      soakSource: (s) => soakSourceOf(effective.sources.get(`soak/${s}`)),
      checksOf: (from, to) => verdictsOfMove(obj, effective.checks, from, to, since),
      hasChecks: (s) => (effective.checks.get(s)?.length ?? 0) > 0,
    });
    if (isRefusal(t)) {
      if (t.kind === 'conflict') {
        const by = t.lastChange ? ` (moved there by ${t.lastChange.user} at ${t.lastChange.time})` : '';
        throw newConflict(GROUP_RESOURCE, name, `the object is in state ${JSON.stringify(t.current)}${by}, not ${JSON.stringify(request.from)}; look at it again (kubectl custom describe-state ${name}) and retry`);
      }
      throw newInvalid(KIND_REF, name, t.causes);
    }
    // A rollback passes every gate but protection: into a protected state it needs `enter` as any move does.
    if (t.direction === 'backward' && request.override && !t.protectedTarget) {
      throw newInvalid(KIND_REF, name, [{ field: 'override', reason: 'FieldValueInvalid', message: `Invalid value: true: moving back to ${JSON.stringify(t.to)} is a rollback into an unprotected state, which has no gate to override; leave out --override` }]);
    }
    const may = (verb: StateVerb) => this.may(user, ns, verb, STATES_RESOURCE, undefined, t.to);
    let overrode: string[] | undefined;
    if (request.override) {
      if (!(await may('override'))) throw this.forbidden(user, ns, name, 'override', t.to, `override the gates of state ${JSON.stringify(t.to)}`);
      overrode = overridden(t, !t.protectedTarget || (await may('enter')));
    } else {
      if (t.protectedTarget && !(await may('enter'))) throw this.forbidden(user, ns, name, 'enter', t.to, `enter state ${JSON.stringify(t.to)}: it is protected${t.direction === 'backward' ? ' (a rollback into a protected state needs it too)' : ''}`);
      if (t.skipped.length && !(await may('override'))) {
        throw this.forbidden(user, ns, name, 'override', t.to, `move to ${JSON.stringify(t.to)} over ${t.skipped.map((x) => JSON.stringify(x.state)).join(', ')}: skipping states with gates of their own is an override`);
      }
    }
    const causes = gateCauses(t, { ...request, mover: user.name });
    if (causes.length) throw newInvalid(KIND_REF, name, causes);
    const broke = request.override ? t.freezes?.[0] : undefined;
    return {
      t,
      action: request.override ? 'override' : request.action,
      ...(overrode ? { overrode } : {}),
      ...(t.approvals?.by.length ? { approvers: t.approvals.by } : {}),
      ...(broke ? { freeze: `${broke.namespace}/${broke.name}` } : {}),
      ...(t.checks ? { checks: recordedChecks(t.checks.verdicts) } : {}),
      ...nextApprovals(effective.spec, t.to),
    };
  }

  /** After a change: its Event (in the background, as client-go's recorder) and a log line. */
  private recorded(written: StoredObject, change: Change, request: TransitionRequest, user: UserInfo): void {
    const { name, namespace } = written.metadata;
    const ev = eventOf(name, change, request.reason, user);
    void this.d.events.record(written, ev.type, ev.reason, ev.message);
    this.d.log.info('state changed', { object: `${namespace}/${name}`, action: change.action, from: change.t.from, to: change.t.to, user: user.name, ...(change.overrode ? { overrode: change.overrode } : {}), resourceVersion: written.metadata.resourceVersion });
  }
}
