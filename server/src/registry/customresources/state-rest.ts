// The state subresources: GET …/state (describe-state), PUT …/state
// (set-state), POST …/promote. Like kube's deployment RollbackREST, each
// change is decided from the object as read and written with that
// resourceVersion as precondition (store/status-store.ts); when the object
// changed meanwhile it is read again and the rules checked again, never a
// stale decision retried. The rules are strategy.ts's and transitions.ts's.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GROUP, GROUP_RESOURCE, VERSION } from '../../../../api/src/names.ts';
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
import { decideTransition, isRefusal, type Transition, type TransitionRequest } from '../../state/transitions.ts';
import { newConflict, newForbidden, newInvalid, newNotFound, newServiceUnavailable, StatusError } from '../../status/status-error.ts';
import { WriteConflict, type StatusStore } from '../../store/status-store.ts';
import type { SubresourceHandler } from './handlers.ts';
import { describeState, dryRunOf, eventOf, KIND_REF, parseChangeBody, protectedNextState, statusAfter } from './strategy.ts';

export const HISTORY_LIMIT = 100;
/** Attempts at a change whose object keeps changing under it before answering 409. */
export const MAX_ATTEMPTS = 5;

export interface StateRestDeps {
  store: StatusStore;
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
      const t = await this.decide(obj, user, request, now);
      const status = statusAfter(obj, t, request, user, now, HISTORY_LIMIT);
      if (dryRun) return { ...obj, status };
      try {
        const written = await this.d.store.writeStatus(obj, status);
        this.recorded(written, t, request, user);
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

  /** The rules, then the permission they call for; throws the refusal. */
  private async decide(obj: StoredObject, user: UserInfo, request: TransitionRequest, now: Date): Promise<Transition> {
    const { name, namespace: ns } = obj.metadata;
    const decision = decideTransition(obj, request, now);
    if (isRefusal(decision)) {
      if (decision.kind === 'conflict') {
        const by = decision.lastChange ? ` (moved there by ${decision.lastChange.user} at ${decision.lastChange.time})` : '';
        throw newConflict(GROUP_RESOURCE, name, `the object is in state ${JSON.stringify(decision.current)}${by}, not ${JSON.stringify(request.from)}; look at it again (kubectl custom describe-state ${name}) and retry`);
      }
      throw newInvalid(KIND_REF, name, decision.causes);
    }
    if (decision.protectedTarget && !(await this.may(user, ns, 'enter', 'states', undefined, decision.to))) {
      throw newForbidden(GROUP_RESOURCE, name, `User ${JSON.stringify(user.name)} cannot enter state ${JSON.stringify(decision.to)}: it is protected; entering it needs the "enter" verb on resource "states" in API group "${GROUP}" with resourceNames ["${decision.to}"] in the namespace "${ns}"`);
    }
    return decision;
  }

  /** After a change: its Event (in the background, as client-go's recorder) and a log line. */
  private recorded(written: StoredObject, t: Transition, request: TransitionRequest, user: UserInfo): void {
    const { name, namespace } = written.metadata;
    const ev = eventOf(name, t, request, user);
    void this.d.events.record(written, 'Normal', ev.reason, ev.message);
    this.d.log.info('state changed', { object: `${namespace}/${name}`, action: request.action, from: t.from, to: t.to, user: user.name, resourceVersion: written.metadata.resourceVersion });
  }
}
