// What the page shows, computed from what the API serves, without the DOM
// (so it is tested as plain functions): the objects grouped by namespace,
// each path as steps, time in state, the gates of the next move as badges,
// the filters; and for the detail panel, what describe-state says the user
// may do and why not. Every badge and step carries its meaning in text, not
// only in colour.
import { humanDuration } from '../../../api/src/human-duration.ts';
import type { RecordedCheck } from '../../../api/src/checks.ts';
import type { CheckGateRun, CustomResource, CustomResourceState, HistoryEntry, Status } from '../../../api/src/types.ts';
import { blockerText, checkResultWord, gateSourceText } from '../output/gate-words.ts';

/** The gates of the next move in the list's objects (status.nextGates; older servers send none, and the badges say what the spec says). */
export type NextGates = NonNullable<Status['nextGates']>;

/** An object as the feed carries it, with when it arrived (soak left counts down from then). */
export interface FeedObject {
  object: CustomResource;
  receivedAt: number;
}

export type StepPlace = 'done' | 'current' | 'ahead';

export interface Step {
  state: string;
  place: StepPlace;
  protected: boolean;
  /** The state the next promote goes into. */
  next: boolean;
}

export type BadgeKind = 'soak' | 'protected' | 'approvals' | 'frozen' | 'invalid' | 'deleting';

export interface Badge {
  kind: BadgeKind;
  /** What the badge says (it is read, not only seen). */
  text: string;
  /** A longer explanation (the badge's title and accessible description). */
  detail: string;
  /** Whether this gate holds the next move back now. */
  blocking: boolean;
}

export interface ObjectView {
  key: string;
  namespace: string;
  name: string;
  displayName: string;
  state: string;
  nextState?: string;
  valid: boolean;
  steps: Step[];
  /** e.g. `3h12m`; absent when the server did not say. */
  timeInState?: string;
  badges: Badge[];
  labels: Record<string, string>;
  lastChange?: { user: string; action: string; time: string };
}

export const keyOf = (o: { metadata: { namespace: string; name: string } }): string => `${o.metadata.namespace}/${o.metadata.name}`;

/** Seconds still to serve in the current state, counted down from when the object arrived. */
function soakLeftSeconds(f: FeedObject, now: number): number {
  const left = f.object.status.soakRemainingSeconds ?? 0;
  return Math.max(0, Math.ceil(left - (now - f.receivedAt) / 1000));
}

function nextGatesOf(o: CustomResource): NextGates | undefined {
  return o.status.nextGates;
}

export function objectView(f: FeedObject, now: number): ObjectView {
  const o = f.object;
  const st = o.status;
  const path = o.spec.states ?? [];
  const protectedStates = new Set(o.spec.protectedStates ?? []);
  const pos = path.indexOf(st.state);
  const steps = path.map((state, i): Step => ({
    state,
    place: i === pos ? 'current' : pos >= 0 && i < pos ? 'done' : 'ahead',
    protected: protectedStates.has(state),
    next: state === st.nextState,
  }));
  const badges: Badge[] = [];
  if (!st.valid) badges.push({ kind: 'invalid', text: 'invalid state', detail: st.message ?? `${st.state} is not on the path; only set-state can repair it`, blocking: true });
  if (o.metadata.deletionTimestamp) badges.push({ kind: 'deleting', text: 'being deleted', detail: 'the backend archives its trail before it goes', blocking: true });
  const soak = soakLeftSeconds(f, now);
  if (soak > 0) badges.push({ kind: 'soak', text: `soak ${humanDuration(soak * 1000)} left`, detail: `${humanDuration(soak * 1000)} more in ${st.state} before it may move on`, blocking: true });
  const next = st.nextState;
  if (next !== undefined) {
    const served = nextGatesOf(o);
    const isProtected = served ? !!served.protected : protectedStates.has(next);
    if (isProtected) badges.push({ kind: 'protected', text: `${next} protected`, detail: `entering ${next} needs the enter permission and a reason`, blocking: false });
    const approvals = served ? served.approvals : approvalsFromSpec(o, next);
    if (approvals) {
      const missing = approvals.given < approvals.needed;
      badges.push({ kind: 'approvals', text: `approvals ${approvals.given}/${approvals.needed}`, detail: `${approvals.given} of ${approvals.needed} approvals of the move into ${next} given`, blocking: missing });
    }
    const frozen = served?.frozenBy ?? [];
    if (frozen.length) badges.push({ kind: 'frozen', text: `${next} frozen`, detail: `moves into ${next} are frozen by ${frozen.join(', ')}`, blocking: true });
  }
  const last = [...(st.history ?? [])].reverse().find((e) => e.action !== 'approve' && e.action !== 'revoke');
  const since = st.stateSince ? Date.parse(st.stateSince) : NaN;
  const inState = Number.isFinite(since) ? now - since : st.secondsInState !== undefined ? st.secondsInState * 1000 + (now - f.receivedAt) : undefined;
  return {
    key: keyOf(o),
    namespace: o.metadata.namespace,
    name: o.metadata.name,
    displayName: o.spec.name,
    state: st.state,
    ...(next !== undefined ? { nextState: next } : {}),
    valid: st.valid,
    steps,
    ...(inState !== undefined ? { timeInState: humanDuration(inState) } : {}),
    badges,
    labels: o.metadata.labels ?? {},
    ...(last ? { lastChange: { user: last.user, action: last.action, time: last.time } } : {}),
  };
}

/** Before status.nextGates: the approvals the spec asks for, counted from status.approvals of this very move (the server's count also drops stale generations and the mover). */
function approvalsFromSpec(o: CustomResource, next: string): NextGates['approvals'] {
  const needed = o.spec.requiredApprovals?.[next] ?? 0;
  if (needed <= 0) return undefined;
  const given = new Set((o.status.approvals ?? []).filter((a) => a.to === next && a.from === o.status.state).map((a) => a.user)).size;
  return { needed, given };
}

export interface Filter {
  /** Empty: every namespace. */
  namespace: string;
  /** Empty: every state. */
  state: string;
}

export interface NamespaceGroup {
  namespace: string;
  objects: ObjectView[];
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The objects that pass the filter, grouped by namespace, both sorted by name (as kubectl lists them). */
export function groupByNamespace(views: readonly ObjectView[], filter: Filter): NamespaceGroup[] {
  const groups = new Map<string, ObjectView[]>();
  for (const v of views) {
    if (filter.namespace && v.namespace !== filter.namespace) continue;
    if (filter.state && v.state !== filter.state) continue;
    let g = groups.get(v.namespace);
    if (!g) groups.set(v.namespace, (g = []));
    g.push(v);
  }
  return [...groups.entries()].sort(([a], [b]) => byName(a, b)).map(([namespace, objects]) => ({ namespace, objects: objects.sort((a, b) => byName(a.name, b.name)) }));
}

/** The choices of the namespace and state filters: every one among the objects, sorted. */
export function filterChoices(views: readonly ObjectView[]): { namespaces: string[]; states: string[] } {
  const namespaces = new Set<string>();
  const states = new Set<string>();
  for (const v of views) {
    namespaces.add(v.namespace);
    for (const s of v.steps) states.add(s.state);
    states.add(v.state);
  }
  return { namespaces: [...namespaces].sort(byName), states: [...states].sort(byName) };
}

// ---------------------------------------------------------------------------
// The detail panel: describe-state for people.

export interface ActionView {
  enabled: boolean;
  /** Why it is disabled, in words (read by screen readers and shown as a note). */
  why?: string;
}

/** A check of the next move as the panel shows it under its gate (issue 21). */
export interface CheckRunView {
  name: string;
  /** pass, fail, pending, inconclusive or error (gate-words.ts). */
  result: string;
  /** The run's phase as sent, for the style of the result. */
  phase: string;
  /** e.g. `2 of 3 measured; last value [0.042], 4m ago; next run in 3m`. */
  summary: string;
  /** The newest measurement's value in full (the summary cuts a long one). */
  value?: string;
  /** Why the newest measurement failed or erred, when the server said. */
  message?: string;
}

/** A value longer than this is cut in the summary; the whole one is its title. */
const VALUE_CHARS = 80;

function agoText(time: string, now: number): string {
  const t = Date.parse(time);
  return Number.isFinite(t) ? `${humanDuration(now - t)} ago` : time;
}

function dueText(time: string, now: number): string {
  const t = Date.parse(time);
  if (!Number.isFinite(t)) return time;
  // A part of a second counts as one: never `in 0s`.
  return t <= now ? 'due now' : `in ${humanDuration(Math.ceil((t - now) / 1000) * 1000)}`;
}

export function checkRunView(k: CheckGateRun, now: number): CheckRunView {
  const parts = [`${k.measured} of ${k.count} measured`];
  if (k.last) {
    const v = k.last.value;
    const shown = v === undefined ? '' : Array.from(v).length > VALUE_CHARS ? `${Array.from(v).slice(0, VALUE_CHARS - 1).join('')}…` : v;
    parts.push(`${v !== undefined ? `last value ${shown}, ` : 'last run '}${agoText(k.last.time, now)}`);
  }
  if (k.nextMeasurementAt) parts.push(`next run ${dueText(k.nextMeasurementAt, now)}`);
  return {
    name: k.name,
    result: checkResultWord(k.phase),
    phase: k.phase,
    summary: parts.join('; '),
    ...(k.last?.value !== undefined ? { value: k.last.value } : {}),
    ...(k.last?.message ? { message: k.last.message } : {}),
  };
}

/** A move's recorded checks, for the panel's history: `checks error-rate pass [0.004], health error`. */
export function recordedChecksWords(checks: readonly RecordedCheck[] | undefined): string {
  if (!checks?.length) return '';
  return `checks ${checks.map((k) => `${k.name} ${checkResultWord(k.phase)}${k.value !== undefined ? ` ${k.value}` : ''}`).join(', ')}`;
}

export interface DetailView {
  title: string;
  steps: Step[];
  state: string;
  nextState?: string;
  timeInState?: string;
  problem?: string;
  /** Every gate of the next move; a check's gate carries its run. */
  gates: { gate: string; met: boolean; text: string; sources: string; check?: CheckRunView }[];
  approvals: string[];
  /** What the user may do, as describe-state's `allowed` says. */
  may: { label: string; yes: boolean }[];
  promote: ActionView & { reasonRequired: boolean; override: boolean };
  setState: ActionView & { targets: string[] };
  approve: ActionView & { to?: string };
  /** The window of the trail, newest first. */
  history: HistoryEntry[];
  /** Entries archived before the window (the whole trail has them). */
  earlier: number;
}

export function detailView(d: CustomResourceState, now: number): DetailView {
  const protectedStates = new Set(d.protectedStates);
  const steps = d.path.map((state, i): Step => ({ state, place: i === d.position ? 'current' : d.position >= 0 && i < d.position ? 'done' : 'ahead', protected: protectedStates.has(state), next: state === d.nextState }));
  const a = d.allowed;
  const blocked = d.gates.promoteBlockedBy.map(blockerText);
  // Break glass: a move the gates refuse, by a holder of override on the next state (and of the promote verb).
  const override = !a.promote && a.promoteVerb && a.overrideNextState === true && d.nextState !== undefined && d.valid;
  const promote = { enabled: a.promote || override, reasonRequired: d.gates.reasonRequired || override, override, ...(a.promote || override ? {} : { why: blocked.join('; ') || 'not allowed' }) };
  const targets = d.path.filter((s) => s !== d.state);
  const setState = { enabled: a.setState && targets.length > 0, targets, ...(a.setState ? (targets.length ? {} : { why: 'there is no other state' }) : { why: 'no permission to set the state' }) };
  const approveOk = a.approveNextState === true && d.nextState !== undefined;
  const approve = { enabled: approveOk, ...(d.nextState !== undefined ? { to: d.nextState } : {}), ...(approveOk ? {} : { why: d.nextState === undefined ? 'there is no next state' : `no permission to approve moves into ${d.nextState}` }) };
  const may = [
    { label: 'promote', yes: a.promote },
    { label: 'set-state', yes: a.setState },
    ...(a.approveNextState !== undefined ? [{ label: 'approve', yes: a.approveNextState }] : []),
    ...(a.overrideNextState !== undefined ? [{ label: 'override', yes: a.overrideNextState }] : []),
  ];
  const since = d.stateSince ? Date.parse(d.stateSince) : NaN;
  const first = d.history[0]?.seq;
  return {
    title: `${d.metadata.namespace}/${d.metadata.name}`,
    steps,
    state: d.state,
    ...(d.nextState !== undefined ? { nextState: d.nextState } : {}),
    ...(Number.isFinite(since) ? { timeInState: humanDuration(now - since) } : d.secondsInState !== undefined ? { timeInState: humanDuration(d.secondsInState * 1000) } : {}),
    ...(!d.valid && d.message ? { problem: d.message } : {}),
    gates: (d.checks ?? []).map((c) => ({ gate: c.gate, met: c.met, text: c.message, sources: c.sources.map(gateSourceText).join(', '), ...(c.check ? { check: checkRunView(c.check, now) } : {}) })),
    approvals: (d.approvals ?? []).map((p) => `${p.user} → ${p.to}`),
    may,
    promote,
    setState,
    approve,
    history: [...d.history].reverse(),
    earlier: first !== undefined && first > 1 ? first - 1 : 0,
  };
}
