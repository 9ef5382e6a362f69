// The rules of customresources in one place, as sample-apiserver's
// strategy.go keeps them: which fields a selector may name and what an
// object shows a watcher, what a state-change body may hold, what a dry run
// is, what describe-state says, and the status a change writes. Storage and
// the REST objects assemble these; none of them decides anything itself.
import { GROUP, GROUP_VERSION, KIND, STATE_KIND } from '../../../../api/src/names.ts';
import type { CustomResource, CustomResourceState, FreezeRef, GateCheck, HistoryAction, HistoryEntry, Spec, Status, StoredObject, StoredStatus } from '../../../../api/src/types.ts';
import type { UserInfo } from '../../auth/user.ts';
import { append } from '../../state/history.ts';
import { approversOf, validApprovals } from '../../state/approvals.ts';
import { formatGateSource } from '../../state/effective-gates.ts';
import type { EffectiveSpec } from '../../state/gate-sources.ts';
import { positionOf } from '../../state/position.ts';
import { formatSeconds, type Transition, type TransitionRequest } from '../../state/transitions.ts';
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
export function filterEvent(
  ev: CacheEvent,
  namespace: string | undefined,
  opts: Pick<ListOptions, 'labelSelector' | 'fieldSelector'>,
  now: Date,
  view: (o: StoredObject, now: Date) => CustomResource = toCustomResource,
): WatchEvent | undefined {
  const cur = ev.type !== 'DELETED' && matches(ev.object, namespace, opts);
  const before = ev.prev !== undefined && matches(ev.prev, namespace, opts);
  if (ev.type === 'DELETED') return before || matches(ev.object, namespace, opts) ? { type: 'DELETED', object: view(ev.object, now), rv: ev.rv } : undefined;
  if (cur && (ev.type === 'ADDED' || !before)) return { type: 'ADDED', object: view(ev.object, now), rv: ev.rv };
  if (cur && before) return { type: 'MODIFIED', object: view(ev.object, now), rv: ev.rv };
  // Leaving the selection: the object as the watcher last saw it (it matched), at this event's resourceVersion, as the cacher sends it.
  if (!cur && before) {
    const last = view(ev.prev!, now);
    return { type: 'DELETED', object: { ...last, metadata: { ...last.metadata, resourceVersion: String(ev.rv) } }, rv: ev.rv };
  }
  return undefined;
}

// ---- State changes: request bodies and dry runs ----

export const MAX_REASON = 1024;

/** What a subresource's body takes: string fields, one true/false flag, and the fields it needs. */
export interface BodySpec<S extends string, F extends string> {
  strings: readonly S[];
  flag: F;
  required?: readonly S[];
}

/** The fields each action's body takes, and which of them it needs. */
const BODIES: Record<TransitionRequest['action'], BodySpec<'state' | 'reason' | 'from', 'override'>> = {
  promote: { strings: ['reason', 'from'], flag: 'override' },
  'set-state': { strings: ['state', 'reason', 'from'], flag: 'override', required: ['state'] },
};

/**
 * Control characters (C0, DEL, C1) and the bidirectional controls that can
 * reorder what a terminal shows: a reason is text for people, printed in
 * tables, and may not draw on their screen.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;

/** The 422 cause for a reason that is not printable text of at most MAX_REASON characters, if it is not. */
export function reasonCause(reason: string): { field: string; reason: string; message: string } | undefined {
  if ([...reason].length > MAX_REASON) return { field: 'reason', reason: 'FieldValueInvalid', message: `Too long: may not be more than ${MAX_REASON} characters` };
  const bad = UNPRINTABLE.exec(reason);
  if (bad) {
    const code = `U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    return { field: 'reason', reason: 'FieldValueInvalid', message: `Invalid value: the reason must be printable text; it holds the control character ${code} at position ${bad.index}` };
  }
  return undefined;
}

/**
 * Reads a subresource's JSON body of `spec`'s fields (apiVersion and kind
 * ignored), refusing unknown fields, wrong types, missing required fields and
 * a reason that is no printable text with one 422 cause per field. The flag
 * is there only when true.
 */
export function parseBody<S extends string, F extends string>(body: unknown, name: string, spec: BodySpec<S, F>): { [K in S]?: string } & { [K in F]?: true } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw newBadRequest('the request body must be a JSON object');
  const allowed: readonly string[] = [...spec.strings, spec.flag];
  const causes: { field: string; reason: string; message: string }[] = [];
  const out: Record<string, string | true> = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    if (k === 'apiVersion' || k === 'kind') continue;
    if (!allowed.includes(k)) {
      causes.push({ field: k, reason: 'FieldValueForbidden', message: `Forbidden: unknown field; the body takes ${allowed.join(', ')}` });
    } else if (k === spec.flag) {
      if (v === true) out[k] = true;
      else if (v !== false) causes.push({ field: k, reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(v)}: must be true or false` });
    } else if (typeof v !== 'string') {
      causes.push({ field: k, reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(v)}: must be a string` });
    } else {
      out[k] = v;
    }
  }
  for (const r of spec.required ?? []) if (!out[r]) causes.push({ field: r, reason: 'FieldValueRequired', message: 'Required value' });
  const bad = typeof out['reason'] === 'string' ? reasonCause(out['reason']) : undefined;
  if (bad) causes.push(bad);
  if (causes.length) throw newInvalid(KIND_REF, name, causes);
  return out as { [K in S]?: string } & { [K in F]?: true };
}

/** Reads a state-change body (see parseBody). */
export function parseChangeBody(body: unknown, name: string, action: TransitionRequest['action']): TransitionRequest {
  return { action, ...parseBody(body, name, BODIES[action]) };
}

/** `dryRun=All` (the only value kube-apiserver knows); anything else is 400. */
export function dryRunOf(url: URL): boolean {
  const v = url.searchParams.getAll('dryRun');
  if (v.length === 0) return false;
  if (v.every((x) => x === 'All')) return true;
  throw newBadRequest(`dryRun: Unsupported value: ${JSON.stringify(v.find((x) => x !== 'All'))}: supported values: "All"`);
}

// ---- What a change writes ----

/** A decided change: the move, the action recorded, and what an override passed. */
export interface Change {
  t: Transition;
  action: HistoryAction;
  /** For an override: the gates it passed. */
  overrode?: string[];
  /** The approvers of the move, when its target required approvals. */
  approvers?: string[];
  /** For an override: the freeze it broke (namespace/name). */
  freeze?: string;
}

/** The status after a change: the new state since `now`, the spec generation seen, the entry appended to the window, and what leaves the window. */
export function statusAfter(obj: StoredObject, change: Change, reason: string | undefined, user: UserInfo, now: Date): { status: StoredStatus; archive: HistoryEntry[] } {
  const { t, action, overrode, approvers, freeze } = change;
  const { window, archive } = append(obj.status?.history ?? [], {
    action,
    from: t.from,
    to: t.to,
    user: user.name,
    time: now.toISOString(),
    ...(reason ? { reason } : {}),
    ...(approvers?.length ? { approvers } : {}),
    ...(overrode ? { overrode } : {}),
    ...(freeze ? { freeze } : {}),
  });
  // A new state: the approvals given for moves out of the old one no longer count.
  return { status: { ...obj.status, state: t.to, stateSince: now.toISOString(), observedGeneration: obj.metadata.generation ?? 0, approvals: [], history: window }, archive };
}

/** The Event a change raises: its type, reason and message. An override is a Warning. */
export function eventOf(name: string, change: Change, reason: string | undefined, user: UserInfo): { type: 'Normal' | 'Warning'; reason: string; message: string } {
  const { t, action, overrode } = change;
  const why = reason ? `: ${reason}` : '';
  if (action === 'override') {
    return { type: 'Warning', reason: 'Override', message: `${user.name} overrode ${overrode?.length ? overrode.join(', ') : 'no gate'} to move ${name} from ${t.from} to ${t.to}${why}` };
  }
  const verb = action === 'promote' ? 'promoted' : 'moved';
  return { type: 'Normal', reason: action === 'promote' ? 'Promoted' : 'StateSet', message: `${user.name} ${verb} ${name} from ${t.from} to ${t.to}${why}` };
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
  /** create on customresources/approve and approve on states/<next>. */
  approveNext?: boolean;
  /** override on states/<next>. */
  overrideNext?: boolean;
}

/** What describe-state needs besides the object: its effective gates and the freezes of its next state. */
export interface DescribeContext {
  gates: EffectiveSpec;
  /** Active freezes of the next state. */
  freezes: FreezeRef[];
  /** Who asks: their own approval would not count for their own move. */
  user: string;
}

/** The next state when it is protected (by spec or policy): describe-state asks whether the caller may enter it. */
export function protectedNextState(obj: StoredObject, now: Date, spec: Spec = obj.spec): string | undefined {
  const next = toCustomResource(obj, now).status.nextState;
  return next !== undefined && spec.protectedStates?.includes(next) ? next : undefined;
}

/** Every gate of the move into `next`, met or not, with its sources. */
export function gateChecks(obj: StoredObject, st: Status, next: string, may: Permissions, ctx: DescribeContext): GateCheck[] {
  const { spec, sources } = ctx.gates;
  const src = (key: string) => sources.get(key) ?? [];
  const checks: GateCheck[] = [];
  const min = spec.minSoakSeconds?.[st.state] ?? 0;
  if (min > 0) {
    const left = st.soakRemainingSeconds ?? 0;
    checks.push({ gate: 'soak', met: left === 0, message: `${formatSeconds(min)} in ${st.state} before moving on: ${left ? `${formatSeconds(left)} left` : 'served'}`, sources: src(`soak/${st.state}`), soakRemainingSeconds: left });
  }
  if (spec.protectedStates?.includes(next)) {
    checks.push({ gate: 'protection', met: may.enterNext, message: `${next} is protected: entering needs the "enter" permission and a reason (${may.enterNext ? 'you have it' : 'you do not have it'})`, sources: src(`protected/${next}`) });
  }
  const needed = spec.requiredApprovals?.[next] ?? 0;
  if (needed > 0) {
    // ServiceAccounts' approvals count only where a GatePolicy rule allows them; say so either way.
    const allowedBy = ctx.gates.serviceAccountApprovals?.get(next);
    const by = approversOf({ ...obj, spec }, next, ctx.user, allowedBy !== undefined);
    const uncounted = allowedBy ? [] : approversOf({ ...obj, spec }, next, ctx.user, true).filter((u) => !by.includes(u));
    const serviceAccounts = allowedBy
      ? `; approvals by ServiceAccounts count (${allowedBy.map(formatGateSource).join(', ')})`
      : uncounted.length ? `; not counted: ${uncounted.join(', ')} (approvals by ServiceAccounts count only where a GatePolicy rule says serviceAccountApprovals: true)` : '';
    const more = Math.max(0, needed - by.length);
    checks.push({ gate: 'approvals', met: more === 0, message: `${needed} approval${needed === 1 ? '' : 's'} by others: ${by.length ? `given by ${by.join(', ')}` : 'none given yet'}${more ? `, ${more} more needed` : ''}${serviceAccounts}`, sources: src(`approvals/${next}`), approvals: { needed, by } });
  }
  for (const f of ctx.freezes) {
    checks.push({ gate: 'freeze', met: false, message: `frozen by ${f.namespace}/${f.name}${f.end ? ` until ${f.end}` : ''}: ${f.reason}`, sources: [], freezes: [f] });
  }
  return checks;
}

/** The describe-state document: where the object stands, its gates, what the caller may do, its history. */
export function describeState(obj: StoredObject, now: Date, may: Permissions, ctx?: DescribeContext): CustomResourceState {
  const { status, metadata } = obj;
  const spec = ctx?.gates.spec ?? obj.spec;
  // Where it stands: the same computed status the read side serves.
  const st = toCustomResource({ ...obj, spec }, now).status;
  const next = st.nextState;
  const soakLeft = st.soakRemainingSeconds ?? 0;
  const nextProtected = protectedNextState(obj, now, spec) !== undefined;
  const checks = next !== undefined && ctx ? gateChecks(obj, st, next, may, ctx) : [];
  const blockedBy: string[] = [];
  if (!st.valid) blockedBy.push('invalid-state');
  else if (next === undefined) blockedBy.push('last-state');
  if (soakLeft > 0) blockedBy.push('soak');
  if (checks.some((c) => c.gate === 'approvals' && !c.met)) blockedBy.push('approvals');
  if (checks.some((c) => c.gate === 'freeze')) blockedBy.push('freeze');
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
    allowed: {
      promote: may.promote && may.enterNext && blockedBy.length === 0,
      promoteVerb: may.promote,
      setState: may.setState,
      enterNextState: may.enterNext,
      ...(may.approveNext !== undefined ? { approveNextState: may.approveNext } : {}),
      ...(may.overrideNext !== undefined ? { overrideNextState: may.overrideNext } : {}),
    },
    history: status?.history ?? [],
    ...(ctx ? { checks, approvals: validApprovals(obj) } : {}),
  };
}
