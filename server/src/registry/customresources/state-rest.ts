// The state subresources: GET …/state (describe-state), PUT …/state
// (set-state), POST …/promote. Like kube's deployment RollbackREST, each
// change is decided from the object as read and written to the storage CRD's
// status subresource with that resourceVersion as precondition; on a
// conflict the object is read again and the rules are checked again, never a
// stale decision retried.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GROUP, GROUP_RESOURCE, GROUP_VERSION, KIND, STATE_KIND, STORAGE_GROUP, STORAGE_VERSION } from '../../../../api/src/names.ts';
import type { HistoryEntry, StoredObject } from '../../../../api/src/types.ts';
import type { Authorizer } from '../../auth/delegated-authz.ts';
import type { UserInfo } from '../../auth/user.ts';
import { readJsonBody } from '../../http/body.ts';
import { negotiate, PLAIN_TARGETS } from '../../http/negotiate.ts';
import { writeObject } from '../../http/respond.ts';
import type { EventRecorder } from '../../../../client/src/event-recorder.ts';
import { ApiError } from '../../../../client/src/errors.ts';
import type { RestClient } from '../../../../client/src/rest-client.ts';
import type { Logger } from '../../log/logger.ts';
import type { Metrics } from '../../metrics/metrics.ts';
import type { RequestInfo } from '../../request/request-info.ts';
import { decideTransition, isRefusal, type TransitionRequest } from '../../state/transitions.ts';
import { newBadRequest, newConflict, newForbidden, newInternalError, newInvalid, newNotFound, newServiceUnavailable, StatusError } from '../../status/status-error.ts';
import type { SubresourceHandler } from './handlers.ts';

import type { Clock, CustomResourceStorage } from './storage.ts';
import { toCustomResource } from './view.ts';

export const HISTORY_LIMIT = 100;
const MAX_REASON = 1024;
const MAX_ATTEMPTS = 5;
/** How long a write waits for the cache to show it, so a read right after sees it. */
const READ_YOUR_WRITE_MS = 5_000;

export interface StateRestDeps {
  storage: CustomResourceStorage;
  client: RestClient;
  authorizer: Authorizer;
  events: EventRecorder;
  metrics: Metrics;
  log: Logger;
  clock: Clock;
}

const KIND_REF = { group: GROUP, kind: KIND };

function storagePath(ns: string, name: string): string {
  return `/apis/${STORAGE_GROUP}/${STORAGE_VERSION}/namespaces/${encodeURIComponent(ns)}/customresources/${encodeURIComponent(name)}`;
}

/** Reads `{state?, reason?, from?}`, refusing unknown fields and wrong types with 422 causes. */
export function parseBody(body: unknown, name: string, allowed: readonly ('state' | 'reason' | 'from')[], required: readonly string[]): TransitionRequest & { state?: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw newBadRequest('the request body must be a JSON object');
  const causes: { field: string; reason: string; message: string }[] = [];
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    if (k === 'apiVersion' || k === 'kind') continue;
    if (!(allowed as readonly string[]).includes(k)) {
      causes.push({ field: k, reason: 'FieldValueForbidden', message: `Forbidden: unknown field; the body takes ${allowed.join(', ')}` });
      continue;
    }
    if (typeof v !== 'string') {
      causes.push({ field: k, reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(v)}: must be a string` });
      continue;
    }
    out[k] = v;
  }
  for (const r of required) if (!out[r]) causes.push({ field: r, reason: 'FieldValueRequired', message: 'Required value' });
  if ((out['reason']?.length ?? 0) > MAX_REASON) causes.push({ field: 'reason', reason: 'FieldValueInvalid', message: `Too long: may not be more than ${MAX_REASON} characters` });
  if (causes.length) throw newInvalid(KIND_REF, name, causes);
  return { action: 'promote', ...out } as TransitionRequest;
}

function dryRunOf(url: URL): boolean {
  const v = url.searchParams.getAll('dryRun');
  if (v.length === 0) return false;
  if (v.every((x) => x === 'All')) return true;
  throw newBadRequest(`dryRun: Unsupported value: ${JSON.stringify(v.find((x) => x !== 'All'))}: supported values: "All"`);
}

export class StateRest {
  private readonly d: StateRestDeps;

  constructor(deps: StateRestDeps) {
    this.d = deps;
  }

  handlers(): Record<string, SubresourceHandler> {
    return {
      state: { verbs: ['get', 'update'], handle: (req, res, info, user, url) => (info.verb === 'get' ? this.describe(req, res, info, user) : this.change(req, res, info, user, url, 'set-state')) },
      promote: { verbs: ['create'], handle: (req, res, info, user, url) => this.change(req, res, info, user, url, 'promote') },
    };
  }

  private async describe(req: IncomingMessage, res: ServerResponse, info: RequestInfo, user: UserInfo): Promise<void> {
    const target = negotiate(req.headers.accept, PLAIN_TARGETS);
    const obj = this.read(info.namespace, info.name);
    writeObject(res, 200, await this.view(obj, user), target);
  }

  private read(ns: string, name: string): StoredObject {
    if (!this.d.storage.cache.hasSynced) throw newServiceUnavailable('the cache of customresources.example.com is not synced yet; retry in a few seconds');
    const o = this.d.storage.cache.get(ns, name);
    if (!o) throw newNotFound(GROUP_RESOURCE, name);
    return o;
  }

  private async may(user: UserInfo, ns: string, verb: string, resource: string, subresource: string | undefined, name: string): Promise<boolean> {
    const d = await this.d.authorizer.authorize(user, { resource: { namespace: ns, verb, group: GROUP, version: 'v1', resource, ...(subresource ? { subresource } : {}), name } });
    return d.allowed;
  }

  /** The describe-state document: where the object stands, its gates, what `user` may do, its history. */
  async view(obj: StoredObject, user: UserInfo) {
    const { spec, status, metadata } = obj;
    // Where it stands: the same computed status the read side serves.
    const st = toCustomResource(obj, this.d.clock.now()).status;
    const next = st.nextState;
    const soakLeft = st.soakRemainingSeconds ?? 0;
    const nextProtected = next !== undefined && (spec.protectedStates?.includes(next) ?? false);
    const ns = metadata.namespace;
    const [promote, setState, enterNext] = await Promise.all([
      this.may(user, ns, 'create', 'customresources', 'promote', metadata.name),
      this.may(user, ns, 'update', 'customresources', 'state', metadata.name),
      nextProtected ? this.may(user, ns, 'enter', 'states', undefined, next) : Promise.resolve(true),
    ]);
    const blockedBy: string[] = [];
    if (!st.valid) blockedBy.push('invalid-state');
    else if (next === undefined) blockedBy.push('last-state');
    if (soakLeft > 0) blockedBy.push('soak');
    if (!promote) blockedBy.push('permission');
    if (nextProtected && !enterNext) blockedBy.push('enter-permission');
    return {
      kind: STATE_KIND,
      apiVersion: GROUP_VERSION,
      metadata: { name: metadata.name, namespace: ns, uid: metadata.uid, resourceVersion: metadata.resourceVersion, generation: metadata.generation, creationTimestamp: metadata.creationTimestamp },
      displayName: spec.name,
      state: st.state,
      ...(st.stateSince ? { stateSince: st.stateSince } : {}),
      ...(st.secondsInState !== undefined ? { secondsInState: st.secondsInState } : {}),
      path: spec.states,
      position: spec.states.indexOf(st.state),
      ...(next ? { nextState: next } : {}),
      valid: st.valid,
      ...(st.message ? { message: st.message } : {}),
      protectedStates: spec.protectedStates ?? [],
      gates: {
        minSoakSeconds: spec.minSoakSeconds?.[st.state] ?? 0,
        soakRemainingSeconds: soakLeft,
        nextStateProtected: nextProtected,
        reasonRequired: nextProtected,
        promoteBlockedBy: blockedBy,
      },
      allowed: { promote: promote && enterNext && blockedBy.length === 0, promoteVerb: promote, setState, enterNextState: enterNext },
      history: status?.history ?? [],
    };
  }

  private async change(req: IncomingMessage, res: ServerResponse, info: RequestInfo, user: UserInfo, url: URL, action: 'promote' | 'set-state'): Promise<void> {
    const target = negotiate(req.headers.accept, PLAIN_TARGETS);
    const dryRun = dryRunOf(url);
    const body = await readJsonBody(req);
    const parsed = action === 'promote' ? parseBody(body, info.name, ['reason', 'from'], []) : parseBody(body, info.name, ['state', 'reason', 'from'], ['state']);
    const request: TransitionRequest = { ...parsed, action };
    try {
      const written = await this.transition(info.namespace, info.name, user, request, dryRun);
      this.d.metrics.transitions.inc({ action, result: dryRun ? 'dry-run' : 'accepted' });
      // As kube-apiserver answers: 201 for a create (POST promote), 200 for an update (PUT state), dry run or not.
      writeObject(res, action === 'promote' ? 201 : 200, await this.view(written, user), target);
    } catch (err) {
      this.d.metrics.transitions.inc({ action, result: err instanceof StatusError ? err.status.reason : 'error' });
      throw err;
    }
  }

  /** Decides, authorizes and writes one transition; returns the object as written (or as it would be, for a dry run). */
  async transition(ns: string, name: string, user: UserInfo, request: TransitionRequest, dryRun: boolean): Promise<StoredObject> {
    let obj = this.read(ns, name);
    for (let attempt = 1; ; attempt++) {
      const now = this.d.clock.now();
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
      const entry: HistoryEntry = { action: request.action, from: decision.from, to: decision.to, user: user.name, time: now.toISOString(), ...(request.reason ? { reason: request.reason } : {}) };
      const history = [...(obj.status?.history ?? []), entry].slice(-HISTORY_LIMIT);
      const next: StoredObject = {
        ...obj,
        status: { ...obj.status, state: decision.to, stateSince: now.toISOString(), observedGeneration: obj.metadata.generation ?? 0, history },
      };
      if (dryRun) return next;
      try {
        const written = await this.d.client.json<StoredObject>('PUT', `${storagePath(ns, name)}/status`, {
          body: { apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name, namespace: ns, uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion }, spec: obj.spec, status: next.status },
          timeoutMs: 15_000,
        });
        // Read-your-writes: answer once a read from the cache sees this write.
        await this.d.storage.cache.waitFor(Number(written.metadata.resourceVersion), READ_YOUR_WRITE_MS);
        const verb = request.action === 'promote' ? 'promoted' : 'moved';
        // Recorded in the background, as client-go's event recorder does: the
        // change is made and answered whether or not its Event is written.
        void this.d.events.record(written, 'Normal', request.action === 'promote' ? 'Promoted' : 'StateSet', `${user.name} ${verb} ${name} from ${decision.from} to ${decision.to}${request.reason ? `: ${request.reason}` : ''}`);
        this.d.log.info('state changed', { object: `${ns}/${name}`, action: request.action, from: decision.from, to: decision.to, user: user.name, resourceVersion: written.metadata.resourceVersion });
        return written;
      } catch (err) {
        if (err instanceof ApiError && err.code === 409 && attempt < MAX_ATTEMPTS) {
          // Someone else changed the object since it was read: read it fresh
          // from kube-apiserver and decide again.
          obj = await this.fetch(ns, name);
          continue;
        }
        if (err instanceof ApiError && err.code === 404) throw newNotFound(GROUP_RESOURCE, name);
        if (err instanceof ApiError && err.code === 409) throw newConflict(GROUP_RESOURCE, name, 'the object kept changing while this change was being made; retry');
        if (err instanceof ApiError && err.code === 422) throw newInternalError(`the storage CRD refused the new status: ${err.message}`);
        if (err instanceof ApiError && (err.code === 503 || err.code === 504 || err.code === 429)) throw newServiceUnavailable(`kube-apiserver is not available to store the change: ${err.message}`);
        throw err instanceof ApiError ? newInternalError(err.message) : err;
      }
    }
  }

  private async fetch(ns: string, name: string): Promise<StoredObject> {
    try {
      const o = await this.d.client.json<StoredObject>('GET', storagePath(ns, name), { timeoutMs: 10_000 });
      delete o.metadata['managedFields'];
      return o;
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) throw newNotFound(GROUP_RESOURCE, name);
      throw err;
    }
  }
}
