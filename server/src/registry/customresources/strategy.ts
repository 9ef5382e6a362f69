// The rules of customresources in one place, as sample-apiserver's
// strategy.go keeps them: which fields a selector may name and what an
// object shows a watcher, what a state-change body may hold, what a dry run
// is, what describe-state says, and the status a change writes. Storage and
// the REST objects assemble these; none of them decides anything itself.
import { GROUP, GROUP_VERSION, KIND, STATE_KIND } from '../../../../api/src/names.ts';
import type { CustomResource, CustomResourceState, HistoryEntry, StoredObject, StoredStatus } from '../../../../api/src/types.ts';
import type { UserInfo } from '../../auth/user.ts';
import { positionOf, type Transition, type TransitionRequest } from '../../state/transitions.ts';
import { newBadRequest, newInvalid } from '../../status/status-error.ts';
import type { CacheEvent } from '../../store/crd-watch-cache.ts';
import type { ListOptions } from './list-options.ts';
import { toCustomResource } from './view.ts';

/** The kind Invalid errors name (kubectl prints `The CustomResource "x" is invalid`). */
export const KIND_REF = { group: GROUP, kind: KIND };

// ---- Field selectors and watch filtering ----

/** The fields a field selector may name, and their values for an object. */
export function fieldsOf(o: StoredObject): Record<string, string> {
  return {
    'metadata.name': o.metadata.name,
    'metadata.namespace': o.metadata.namespace,
    'status.state': positionOf(o.spec, o.status).state,
  };
}

export function matches(o: StoredObject, namespace: string | undefined, opts: Pick<ListOptions, 'labelSelector' | 'fieldSelector'>): boolean {
  if (namespace !== undefined && o.metadata.namespace !== namespace) return false;
  if (!opts.labelSelector.empty && !opts.labelSelector.matches(o.metadata.labels)) return false;
  if (!opts.fieldSelector.empty && !opts.fieldSelector.matches(fieldsOf(o))) return false;
  return true;
}

export type WatchEvent = { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: CustomResource; rv: number };

/**
 * Turns a change into what a watcher with these filters sees: an object
 * entering the selection is ADDED, one leaving it is DELETED, as the
 * apiserver's cacher reports it.
 */
export function filterEvent(ev: CacheEvent, namespace: string | undefined, opts: Pick<ListOptions, 'labelSelector' | 'fieldSelector'>, now: Date): WatchEvent | undefined {
  const cur = ev.type !== 'DELETED' && matches(ev.object, namespace, opts);
  const before = ev.prev !== undefined && matches(ev.prev, namespace, opts);
  if (ev.type === 'DELETED') return before || matches(ev.object, namespace, opts) ? { type: 'DELETED', object: toCustomResource(ev.object, now), rv: ev.rv } : undefined;
  if (cur && (ev.type === 'ADDED' || !before)) return { type: 'ADDED', object: toCustomResource(ev.object, now), rv: ev.rv };
  if (cur && before) return { type: 'MODIFIED', object: toCustomResource(ev.object, now), rv: ev.rv };
  // Leaving the selection: the object as the watcher last saw it (it matched), at this event's resourceVersion, as the cacher sends it.
  if (!cur && before) {
    const last = toCustomResource(ev.prev!, now);
    return { type: 'DELETED', object: { ...last, metadata: { ...last.metadata, resourceVersion: String(ev.rv) } }, rv: ev.rv };
  }
  return undefined;
}

// ---- State changes: request bodies and dry runs ----

export const MAX_REASON = 1024;

type BodyField = 'state' | 'reason' | 'from';

/** The fields each action's body takes, and which of them it needs. */
const BODIES: Record<TransitionRequest['action'], { allowed: readonly BodyField[]; required: readonly BodyField[] }> = {
  promote: { allowed: ['reason', 'from'], required: [] },
  'set-state': { allowed: ['state', 'reason', 'from'], required: ['state'] },
};

/** Reads a state-change body, refusing unknown fields and wrong types with one 422 cause per field. */
export function parseChangeBody(body: unknown, name: string, action: TransitionRequest['action']): TransitionRequest {
  const { allowed, required } = BODIES[action];
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw newBadRequest('the request body must be a JSON object');
  const causes: { field: string; reason: string; message: string }[] = [];
  const out: Partial<Record<BodyField, string>> = {};
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
    out[k as BodyField] = v;
  }
  for (const r of required) if (!out[r]) causes.push({ field: r, reason: 'FieldValueRequired', message: 'Required value' });
  if ((out.reason?.length ?? 0) > MAX_REASON) causes.push({ field: 'reason', reason: 'FieldValueInvalid', message: `Too long: may not be more than ${MAX_REASON} characters` });
  if (causes.length) throw newInvalid(KIND_REF, name, causes);
  return { action, ...out };
}

/** `dryRun=All` (the only value kube-apiserver knows); anything else is 400. */
export function dryRunOf(url: URL): boolean {
  const v = url.searchParams.getAll('dryRun');
  if (v.length === 0) return false;
  if (v.every((x) => x === 'All')) return true;
  throw newBadRequest(`dryRun: Unsupported value: ${JSON.stringify(v.find((x) => x !== 'All'))}: supported values: "All"`);
}

// ---- What a change writes ----

/** The status after `t`: the new state since `now`, the spec generation seen, and the history entry appended. */
export function statusAfter(obj: StoredObject, t: Transition, request: TransitionRequest, user: UserInfo, now: Date, historyLimit: number): StoredStatus {
  const entry: HistoryEntry = { action: request.action, from: t.from, to: t.to, user: user.name, time: now.toISOString(), ...(request.reason ? { reason: request.reason } : {}) };
  const history = [...(obj.status?.history ?? []), entry].slice(-historyLimit);
  return { ...obj.status, state: t.to, stateSince: now.toISOString(), observedGeneration: obj.metadata.generation ?? 0, history };
}

/** The Event a change raises: its reason and message. */
export function eventOf(name: string, t: Transition, request: TransitionRequest, user: UserInfo): { reason: string; message: string } {
  const verb = request.action === 'promote' ? 'promoted' : 'moved';
  return {
    reason: request.action === 'promote' ? 'Promoted' : 'StateSet',
    message: `${user.name} ${verb} ${name} from ${t.from} to ${t.to}${request.reason ? `: ${request.reason}` : ''}`,
  };
}

// ---- describe-state ----

/** What the caller may do, as the authorizer answered. */
export interface Permissions {
  /** create on customresources/promote. */
  promote: boolean;
  /** update on customresources/state. */
  setState: boolean;
  /** enter on states/<next>; true when the next state is not protected. */
  enterNext: boolean;
}

/** The next state when it is protected: describe-state asks whether the caller may enter it. */
export function protectedNextState(obj: StoredObject, now: Date): string | undefined {
  const next = toCustomResource(obj, now).status.nextState;
  return next !== undefined && obj.spec.protectedStates?.includes(next) ? next : undefined;
}

/** The describe-state document: where the object stands, its gates, what the caller may do, its history. */
export function describeState(obj: StoredObject, now: Date, may: Permissions): CustomResourceState {
  const { spec, status, metadata } = obj;
  // Where it stands: the same computed status the read side serves.
  const st = toCustomResource(obj, now).status;
  const next = st.nextState;
  const soakLeft = st.soakRemainingSeconds ?? 0;
  const nextProtected = protectedNextState(obj, now) !== undefined;
  const blockedBy: string[] = [];
  if (!st.valid) blockedBy.push('invalid-state');
  else if (next === undefined) blockedBy.push('last-state');
  if (soakLeft > 0) blockedBy.push('soak');
  if (!may.promote) blockedBy.push('permission');
  if (nextProtected && !may.enterNext) blockedBy.push('enter-permission');
  return {
    kind: STATE_KIND,
    apiVersion: GROUP_VERSION,
    metadata: { name: metadata.name, namespace: metadata.namespace, uid: metadata.uid, resourceVersion: metadata.resourceVersion, generation: metadata.generation, creationTimestamp: metadata.creationTimestamp },
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
    allowed: { promote: may.promote && may.enterNext && blockedBy.length === 0, promoteVerb: may.promote, setState: may.setState, enterNextState: may.enterNext },
    history: status?.history ?? [],
  };
}
