// The state subresources: GET …/state (describe-state), PUT …/state
// (set-state), POST …/promote. Like kube's deployment RollbackREST, each
// change is decided from the object as read and written with that
// resourceVersion as precondition (store/status-store.ts); when the object
// changed meanwhile it is read again and the rules checked again, never a
// stale decision retried. The rules are strategy.ts's and transitions.ts's.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FINALIZER, GROUP, GROUP_RESOURCE, STATES_RESOURCE, VERSION, type StateVerb } from '../../../../api/src/names.ts';
import type { CustomResourceState, StoredObject } from '../../../../api/src/types.ts';
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
import { decideTransition, gateCauses, isRefusal, overridden, type TransitionRequest } from '../../state/transitions.ts';
import { newConflict, newForbidden, newInvalid, newNotFound, newServiceUnavailable, StatusError } from '../../status/status-error.ts';
import type { HistoryArchive } from '../../store/history-archive.ts';
import { hasFinalizer, WriteConflict, type StatusStore } from '../../store/status-store.ts';
import type { SubresourceHandler } from './handlers.ts';
import { describeState, dryRunOf, eventOf, KIND_REF, parseChangeBody, protectedNextState, statusAfter, type Change } from './strategy.ts';

/** Attempts at a change whose object keeps changing under it before answering 409. */
export const MAX_ATTEMPTS = 5;

export interface StateRestDeps {
  store: StatusStore;
  archive: HistoryArchive;
  authorizer: Authorizer;
  events: EventRecorder;
  metrics: Metrics;
  log: Logger;
  clock: Clock;
}

export class StateRest {
  private readonly d: StateRestDeps;

  constructor(deps: StateRestDeps) {
    this.d = deps;
  }

  handlers(): Record<string, SubresourceHandler> {
    return {
      state: { verbs: ['get', 'update'], handle: (req, res, info, user, url) => (info.verb === 'get' ? this.serveDescribe(req, res, info, user) : this.serveChange(req, res, info, user, url, 'set-state')) },
      promote: { verbs: ['create'], handle: (req, res, info, user, url) => this.serveChange(req, res, info, user, url, 'promote') },
    };
  }

  private async serveDescribe(req: IncomingMessage, res: ServerResponse, info: RequestInfo, user: UserInfo): Promise<void> {
    const target = negotiate(req.headers.accept, PLAIN_TARGETS);
    writeObject(res, 200, await this.describe(this.read(info.namespace, info.name), user), target);
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
      throw err;
    }
  }

  private read(ns: string, name: string): StoredObject {
    if (!this.d.store.synced) throw newServiceUnavailable('the cache of customresources.example.com is not synced yet; retry in a few seconds');
    const o = this.d.store.cached(ns, name);
    if (!o) throw newNotFound(GROUP_RESOURCE, name);
    return o;
  }

  private async may(user: UserInfo, ns: string, verb: string, resource: string, subresource: string | undefined, name: string): Promise<boolean> {
    const d = await this.d.authorizer.authorize(user, { resource: { namespace: ns, verb, group: GROUP, version: VERSION, resource, ...(subresource ? { subresource } : {}), name } });
    return d.allowed;
  }

  /** The describe-state document for `user`: the strategy's, with what the authorizer says they may do. */
  async describe(obj: StoredObject, user: UserInfo): Promise<CustomResourceState> {
    const { name, namespace: ns } = obj.metadata;
    const next = protectedNextState(obj, this.d.clock.now());
    const [promote, setState, enterNext] = await Promise.all([
      this.may(user, ns, 'create', 'customresources', 'promote', name),
      this.may(user, ns, 'update', 'customresources', 'state', name),
      next !== undefined ? this.may(user, ns, 'enter', 'states', undefined, next) : Promise.resolve(true),
    ]);
    return describeState(obj, this.d.clock.now(), { promote, setState, enterNext });
  }

  /** Decides, authorizes and writes one transition; returns the object as written (or as it would be, for a dry run). */
  async transition(ns: string, name: string, user: UserInfo, request: TransitionRequest, dryRun: boolean): Promise<StoredObject> {
    let obj = this.read(ns, name);
    for (let attempt = 1; ; attempt++) {
      const now = this.d.clock.now();
      const change = await this.decide(obj, user, request, now);
      const { status, archive } = statusAfter(obj, change, request.reason, user, now);
      if (dryRun) return { ...obj, status };
      try {
        // The finalizer at the latest with the first change, so no deletion goes unarchived.
        if (!hasFinalizer(obj, FINALIZER)) {
          obj = (await this.d.store.setFinalizers(obj, [...(obj.metadata.finalizers ?? []), FINALIZER]))!;
          continue;
        }
        // Segment first, then the window trimmed: a crash between the two loses nothing.
        if (archive.length) await this.d.archive.write({ namespace: ns, name, uid: obj.metadata.uid! }, archive);
        const written = await this.d.store.writeStatus(obj, status);
        this.recorded(written, change, request, user);
        return written;
      } catch (err) {
        if (!(err instanceof WriteConflict)) throw err;
        if (attempt >= MAX_ATTEMPTS) throw newConflict(GROUP_RESOURCE, name, 'the object kept changing while this change was being made; retry');
        // Someone else changed the object since it was read: read it fresh and decide again.
        const fresh = await this.d.store.fetch(ns, name);
        if (!fresh) throw newNotFound(GROUP_RESOURCE, name);
        obj = fresh;
      }
    }
  }

  private forbidden(user: UserInfo, ns: string, name: string, verb: StateVerb, state: string, why: string): StatusError {
    return newForbidden(GROUP_RESOURCE, name, `User ${JSON.stringify(user.name)} cannot ${why}; that needs the "${verb}" verb on resource "${STATES_RESOURCE}" in API group "${GROUP}" with resourceNames ["${state}"] in the namespace "${ns}"`);
  }

  /** The rules, then the permissions they call for, then the gates: throws the refusal (409, 422, 403). */
  private async decide(obj: StoredObject, user: UserInfo, request: TransitionRequest, now: Date): Promise<Change> {
    const { name, namespace: ns } = obj.metadata;
    if (obj.metadata.deletionTimestamp) throw newConflict(GROUP_RESOURCE, name, 'the object is being deleted; its history is being archived');
    const t = decideTransition(obj, request, now);
    if (isRefusal(t)) {
      if (t.kind === 'conflict') {
        const by = t.lastChange ? ` (moved there by ${t.lastChange.user} at ${t.lastChange.time})` : '';
        throw newConflict(GROUP_RESOURCE, name, `the object is in state ${JSON.stringify(t.current)}${by}, not ${JSON.stringify(request.from)}; look at it again (kubectl custom describe-state ${name}) and retry`);
      }
      throw newInvalid(KIND_REF, name, t.causes);
    }
    if (t.direction === 'backward') {
      if (request.override) throw newInvalid(KIND_REF, name, [{ field: 'override', reason: 'FieldValueInvalid', message: `Invalid value: true: moving back to ${JSON.stringify(t.to)} is a rollback, which has no gate to override; leave out --override` }]);
      return { t, action: request.action };
    }
    const may = (verb: StateVerb) => this.may(user, ns, verb, STATES_RESOURCE, undefined, t.to);
    let overrode: string[] | undefined;
    if (request.override) {
      if (!(await may('override'))) throw this.forbidden(user, ns, name, 'override', t.to, `override the gates of state ${JSON.stringify(t.to)}`);
      overrode = overridden(t, !t.protectedTarget || (await may('enter')));
    } else {
      if (t.protectedTarget && !(await may('enter'))) throw this.forbidden(user, ns, name, 'enter', t.to, `enter state ${JSON.stringify(t.to)}: it is protected`);
      if (t.skipped.length && !(await may('override'))) {
        throw this.forbidden(user, ns, name, 'override', t.to, `move to ${JSON.stringify(t.to)} over ${t.skipped.map((x) => JSON.stringify(x.state)).join(', ')}: skipping states with gates of their own is an override`);
      }
    }
    const causes = gateCauses(t, request);
    if (causes.length) throw newInvalid(KIND_REF, name, causes);
    return { t, action: request.override ? 'override' : request.action, ...(overrode ? { overrode } : {}) };
  }

  /** After a change: its Event (in the background, as client-go's recorder) and a log line. */
  private recorded(written: StoredObject, change: Change, request: TransitionRequest, user: UserInfo): void {
    const { name, namespace } = written.metadata;
    const ev = eventOf(name, change, request.reason, user);
    void this.d.events.record(written, ev.type, ev.reason, ev.message);
    this.d.log.info('state changed', { object: `${namespace}/${name}`, action: change.action, from: change.t.from, to: change.t.to, user: user.name, ...(change.overrode ? { overrode: change.overrode } : {}), resourceVersion: written.metadata.resourceVersion });
  }
}
