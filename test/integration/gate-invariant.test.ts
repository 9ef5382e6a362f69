// The adversary of the gate invariant (design.md, "Gates"; issue 18): a
// model-based test that drives, against the real control plane, random
// sequences of what an editor without `enter` or `override` may try —
// create, delete, re-create under the same name, edit spec (reorder, move,
// rename, remove and insert states, drop and add gates) and labels,
// promote, set-state both ways, approve as himself and as his own
// ServiceAccount (by impersonation, as the cluster's `edit` role allows) —
// while a release manager sometimes moves objects legitimately. GatePolicies
// (prod protected with one approval; qa one approval, so that the editor's
// own moves need four eyes too; a soak before prod for tier=critical)
// and Freezes (one active on prod for team=payments, one scheduled on
// staging for tier=frontend) are in force in the test's own namespace.
//
// Besides, the editor sends an edit and a move at once (races), deletes with
// a dry run or a resourceVersion precondition, creates and edits with a
// status of his own, strips the backend's finalizer, and tries to change the
// gates themselves (Freezes, GatePolicies, RoleBindings, the archive).
//
// After every step the cluster is asked, and must say:
// - no object is in an effectively protected state (its spec, or a policy
//   rule that selects it) unless the last move of its current life is the
//   entry into that state by a holder of `enter` or `override`;
// - every change the API accepted is in the trail (the move's entry in the
//   object's status, approvals too; at the end of each run every accepted
//   change in its life's trail, each life's chain intact, each deleted life
//   ending in a `deleted` entry that names who deleted it);
// - an accepted move passed its gates as they stood before it (protection
//   and reason; for forward moves approvals by people other than the mover,
//   not ServiceAccounts, each given for this very move since the object last
//   changed state, spec or labels and not revoked; no active freeze; the
//   soak of the state left; no skipped gated state); a refused or dry-run
//   request changed nothing;
// - an accepted edit of spec or labels lowered no effective gate (rules a–e
//   of the design: unprotecting, lowering a soak or an approval count,
//   removing a gated state or reordering the states before it, taking the
//   object out of a freeze's selector), left the status and the finalizer
//   alone, and put an object that never moved into no first state with
//   approvals or a freeze;
// - nothing the editor may not do at all (the gates themselves) succeeded.
// The gates are computed here from the policies and freezes this file
// created (not with the backend's code); the model only remembers what was
// done. The truth is what kube-apiserver returns.
//
// Seeded: GATE_SEED=<n> replays a run (timing, soaks and the scheduled
// freeze's window aside). It runs at least GATE_STEPS steps (200) and goes
// on for GATE_BUDGET_SECONDS (60); GATE_VERBOSE=1 prints every run's steps.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { entryHash, verifyChain } from '../../api/src/history-chain.ts';
import { FINALIZER } from '../../api/src/names.ts';
import type { CustomResourceHistory, CustomResourceState, HistoryEntry, StoredObject } from '../../api/src/types.ts';
import { api, bindClusterRole, CUSTOM, eventually, grantRole, STORAGE, useNamespace, type ApiResponse } from './harness.ts';
import { kubectlCustom } from './plugin-cli.ts';

const ns = useNamespace(import.meta.filename);
const SEED = process.env['GATE_SEED'] ? Number(process.env['GATE_SEED']) : Math.floor(Math.random() * 0x7fffffff);
const MIN_STEPS = Number(process.env['GATE_STEPS'] ?? 200);
/** Past MIN_STEPS, rounds go on until this many seconds have passed (the CI run's budget for this test). */
const BUDGET_SECONDS = Number(process.env['GATE_BUDGET_SECONDS'] ?? 60);
const RUNS_PER_ROUND = 3;
const MAX_COMMANDS = 80;
/** Seconds of soak the critical-soak policy asks before prod: short, so that it sometimes holds and sometimes not. */
const SOAK = 2;

const EDITOR = 'bob';
const RELEASE_MANAGER = 'alice';
const BOT = 'bob-bot';
const botUser = () => `system:serviceaccount:${ns()}:${BOT}`;
type Actor = 'editor' | 'bot' | 'rm';
const actorName = (a: Actor) => (a === 'editor' ? EDITOR : a === 'rm' ? RELEASE_MANAGER : botUser());

const VOCAB = ['dev', 'qa', 'staging', 'prod', 'retired'] as const;
const TEMPLATES: string[][] = [['dev', 'staging', 'prod'], ['dev', 'prod', 'retired'], ['staging', 'prod'], ['dev', 'staging', 'prod', 'retired'], ['dev', 'qa', 'prod']];
const MOVES = new Set(['promote', 'set-state', 'override']);

// ---------------------------------------------------------------------------
// The gates this file puts in force, and an oracle of the effective gates.

type Labels = Record<string, string>;
interface PolicyRule { states: string[]; selector?: Labels; protected?: boolean; requiredApprovals?: number; minSoakSeconds?: number }
const POLICIES: { name: string; rules: PolicyRule[] }[] = [
  { name: 'prod-gates', rules: [{ states: ['prod'], protected: true, requiredApprovals: 1 }, { states: ['qa'], requiredApprovals: 1 }] },
  { name: 'critical-soak', rules: [{ states: ['prod'], selector: { tier: 'critical' }, minSoakSeconds: SOAK }] },
];
interface FreezeDef { name: string; states: string[]; selector: Labels; active: boolean }
const FREEZES: FreezeDef[] = [
  { name: 'payments-now', states: ['prod'], selector: { team: 'payments' }, active: true },
  { name: 'frontend-later', states: ['staging'], selector: { tier: 'frontend' }, active: false },
];

const selects = (selector: Labels | undefined, labels: Labels | undefined) => Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);

interface View {
  path: string[];
  protected: Set<string>;
  approvals: Map<string, number>;
  /** Keyed by the state left. */
  soak: Map<string, number>;
  /** Freezes, active or scheduled, covering a move into the state. */
  freezes: Map<string, string[]>;
  activeFreezes: Map<string, string[]>;
}

function viewOf(o: Pick<StoredObject, 'spec' | 'metadata'>): View {
  const path = o.spec.states ?? [];
  const labels = o.metadata.labels;
  const v: View = { path, protected: new Set(), approvals: new Map(), soak: new Map(), freezes: new Map(), activeFreezes: new Map() };
  const raise = (m: Map<string, number>, s: string, n: number | undefined) => {
    if (n && n > 0 && n > (m.get(s) ?? 0)) m.set(s, n);
  };
  for (const s of path) {
    if (o.spec.protectedStates?.includes(s)) v.protected.add(s);
    raise(v.approvals, s, o.spec.requiredApprovals?.[s]);
    raise(v.soak, s, o.spec.minSoakSeconds?.[s]);
  }
  for (const rule of POLICIES.flatMap((p) => p.rules)) {
    if (!selects(rule.selector, labels)) continue;
    for (const s of rule.states) {
      const i = path.indexOf(s);
      if (i < 0) continue;
      if (rule.protected) v.protected.add(s);
      raise(v.approvals, s, rule.requiredApprovals);
      if (i > 0) raise(v.soak, path[i - 1]!, rule.minSoakSeconds);
    }
  }
  for (const f of FREEZES) {
    if (!selects(f.selector, labels)) continue;
    for (const s of f.states) {
      if (!path.includes(s)) continue;
      v.freezes.set(s, [...(v.freezes.get(s) ?? []), f.name]);
      if (f.active) v.activeFreezes.set(s, [...(v.activeFreezes.get(s) ?? []), f.name]);
    }
  }
  return v;
}

/** Protected by name, also off the path: an object in a state its path no longer lists can only have got there past a gate. */
function protectedState(o: StoredObject, s: string): boolean {
  if (viewOf(o).protected.has(s)) return true;
  if (o.spec.states.includes(s)) return false;
  return !!o.spec.protectedStates?.includes(s) || POLICIES.some((p) => p.rules.some((r) => r.protected && r.states.includes(s) && selects(r.selector, o.metadata.labels)));
}

const soakBefore = (v: View, s: string) => {
  const i = v.path.indexOf(s);
  return i > 0 ? (v.soak.get(v.path[i - 1]!) ?? 0) : 0;
};
const gatedToEnter = (v: View, s: string) => v.protected.has(s) || (v.approvals.get(s) ?? 0) > 0 || soakBefore(v, s) > 0 || (v.freezes.get(s)?.length ?? 0) > 0;
/** The gates a skipped state has of its own (set-state may jump only over states without). */
const ownGates = (v: View, s: string) => v.protected.has(s) || (v.approvals.get(s) ?? 0) > 0 || (v.soak.get(s) ?? 0) > 0 || (v.activeFreezes.get(s)?.length ?? 0) > 0;

/** How an edit from `b` to `a` lowers the effective gates (design rules a–e), by state; empty when it does not. */
function weakenings(b: View, a: View): string[] {
  const out: string[] = [];
  for (const s of b.path) {
    const present = a.path.includes(s);
    const why: string[] = [];
    if (b.protected.has(s) && present && !a.protected.has(s)) why.push('no longer protected');
    if ((b.soak.get(s) ?? 0) > (present ? (a.soak.get(s) ?? 0) : 0)) why.push(`soak ${b.soak.get(s)}s → ${present ? (a.soak.get(s) ?? 0) : 0}s`);
    if (present && (b.approvals.get(s) ?? 0) > (a.approvals.get(s) ?? 0)) why.push(`approvals ${b.approvals.get(s)} → ${a.approvals.get(s) ?? 0}`);
    if (gatedToEnter(b, s)) {
      const was = b.path.slice(0, b.path.indexOf(s));
      const kept = present ? a.path.slice(0, a.path.indexOf(s)).filter((p) => was.includes(p)) : [];
      if (!present) why.push('gated state removed');
      else if (kept.join(',') !== was.join(',')) why.push(`states before it [${was.join(', ')}] → [${a.path.slice(0, a.path.indexOf(s)).join(', ')}]`);
    }
    const lost = present ? (b.freezes.get(s) ?? []).filter((f) => !(a.freezes.get(s) ?? []).includes(f)) : [];
    if (lost.length) why.push(`out of Freeze ${lost.join(', ')}`);
    if (why.length) out.push(`${s}: ${why.join(', ')}`);
  }
  return out;
}

const stateOf = (o: StoredObject) => o.status?.state || o.spec.states[0] || '';
const sinceOf = (o: StoredObject) => (o.status?.state ? o.status.stateSince : (o.status?.stateSince ?? o.metadata.creationTimestamp));
const lastSeq = (o: StoredObject | undefined) => o?.status?.history?.at(-1)?.seq ?? 0;
const sameEntry = (x: HistoryEntry, y: HistoryEntry) => x.seq === y.seq && x.hash === y.hash && x.action === y.action && x.user === y.user && x.to === y.to;
/** An object's labels, sorted, as one string: what an approval is given under. */
const labelsKey = (o: StoredObject) => JSON.stringify(Object.entries(o.metadata.labels ?? {}).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
const fmtEntry = (e: HistoryEntry | undefined) => (e ? `#${e.seq} ${e.action} ${e.from ?? ''}→${e.to ?? ''} by ${e.user}${e.approvers?.length ? ` approved by ${e.approvers.join(', ')}` : ''}` : 'none');
const brief = (r: ApiResponse) => `${r.status}${r.status >= 300 ? ` ${String((r.body as { message?: unknown } | undefined)?.message ?? r.text).slice(0, 300)}` : ''}`;
const ok = (r: ApiResponse) => r.status >= 200 && r.status < 300;

type DeleteMode = 'plain' | 'wait' | 'dry-run' | 'precondition';

/** A status the editor writes himself: the object in its last state, entered by the release manager, with a well-formed trail. */
function forgedStatus(spec: StoredObject['spec']): StoredObject['status'] {
  const to = spec.states.at(-1)!;
  const time = new Date().toISOString();
  const entry: HistoryEntry = { seq: 1, action: 'promote', from: spec.states[0]!, to, user: RELEASE_MANAGER, time, reason: 'release', approvers: [EDITOR] };
  return { state: to, stateSince: time, history: [{ ...entry, hash: entryHash('', entry) }] };
}

// ---------------------------------------------------------------------------
// The driver: acts as the editor, his ServiceAccount and the release
// manager, reads the cluster after every step and checks it.

interface Accepted { name: string; uid: string; entry: HistoryEntry; step: number }
interface Deleted { name: string; uid: string; user: string; step: number }

class Violation extends Error {}

const TAMPER = ['delete a Freeze', 'create a Freeze', 'empty a GatePolicy', 'delete a GatePolicy', 'create a GatePolicy allowing ServiceAccounts', 'bind himself enter on prod', 'delete the archive', 'post an AdmissionReview to the backend through kube-apiserver\'s proxy'] as const;
type TamperKind = (typeof TAMPER)[number];

/** What the runs did, by kind of step and answer: printed at the end, so that a run that only collects refusals shows. */
const STATS = new Map<string, number>();
const count = (key: string) => STATS.set(key, (STATS.get(key) ?? 0) + 1);
/** Answers that were neither a success nor a Status (printed at the end; a backend restarted by another test file may answer 503). */
const ODD: string[] = [];

class Driver {
  readonly log: string[] = [];
  steps = 0;
  snap = new Map<string, StoredObject>();
  readonly accepted: Accepted[] = [];
  readonly deleted: Deleted[] = [];
  /** By uid: the last seq of the trail when an accepted edit last changed the spec or the labels (approvals given before it no longer count, ever). */
  readonly editedAt = new Map<string, number>();
  /** By uid#seq of an approval: the object's labels when it was given (it counts only while they are the same). */
  readonly approvalLabels = new Map<string, string>();
  private readonly holders = new Map<string, boolean>();
  /** This run's objects are named prefix + a, b or c. */
  readonly prefix: string;
  constructor(prefix: string) {
    this.prefix = prefix;
  }

  obj(name: string, sub?: string) {
    return `${CUSTOM}/namespaces/${ns()}/customresources/${name}${sub ? `/${sub}` : ''}`;
  }

  stored(name: string) {
    return `${STORAGE}/namespaces/${ns()}/customresources/${name}`;
  }

  /** A request as `actor`: the editor and the release manager with their certificates, the bot by the editor's impersonation. */
  request<T = Record<string, unknown>>(actor: Actor, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    if (actor === 'bot') return api<T>(EDITOR, method, path, body, { ...headers, 'Impersonate-User': botUser() });
    return api<T>(actor === 'rm' ? RELEASE_MANAGER : EDITOR, method, path, body, headers);
  }

  async snapshot(): Promise<Map<string, StoredObject>> {
    const r = await api<{ items: StoredObject[] }>('admin', 'GET', `${STORAGE}/namespaces/${ns()}/customresources`);
    if (r.status !== 200) throw new Error(`list: ${r.status} ${r.text}`);
    return new Map(r.body.items.filter((o) => o.metadata.name.startsWith(this.prefix)).map((o) => [o.metadata.name, o]));
  }

  /** Whether `user` holds `enter` or `override` on `state` here, as RBAC says (SubjectAccessReview). */
  async mayEnter(user: string, state: string): Promise<boolean> {
    const key = `${user}/${state}`;
    const cached = this.holders.get(key);
    if (cached !== undefined) return cached;
    const groups = user.startsWith('system:serviceaccount:') ? ['system:serviceaccounts', `system:serviceaccounts:${ns()}`, 'system:authenticated'] : user === 'admin' ? ['system:masters', 'system:authenticated'] : ['system:authenticated'];
    let allowed = false;
    for (const verb of ['enter', 'override']) {
      const r = await api<{ status: { allowed: boolean } }>('admin', 'POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
        apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview',
        spec: { user, groups, resourceAttributes: { namespace: ns(), group: 'custom.example.com', resource: 'states', name: state, verb } },
      });
      allowed ||= r.body.status.allowed;
    }
    this.holders.set(key, allowed);
    return allowed;
  }

  async trailOf(name: string): Promise<CustomResourceHistory | undefined> {
    const r = await api<CustomResourceHistory>('admin', 'GET', this.obj(name, 'history'));
    return r.status === 200 ? r.body : undefined;
  }

  /** The current life's whole trail: the object's window when it starts at seq 1, else the archive's too. */
  async wholeLife(o: StoredObject): Promise<HistoryEntry[]> {
    const window = o.status?.history ?? [];
    if ((window[0]?.seq ?? 1) <= 1) return window;
    const doc = await this.trailOf(o.metadata.name);
    return doc?.lives.find((l) => l.uid === o.metadata.uid)?.entries ?? window;
  }

  /** The current life's entries: the object's window, or the whole trail when the window lost the last move. */
  async lifeEntries(o: StoredObject): Promise<HistoryEntry[]> {
    const window = o.status?.history ?? [];
    if (window.some((e) => MOVES.has(e.action)) || (window[0]?.seq ?? 1) <= 1) return window;
    const doc = await this.trailOf(o.metadata.name);
    return doc?.lives.find((l) => l.uid === o.metadata.uid)?.entries ?? window;
  }

  /** One step: do it, read the cluster, check it. Throws a Violation naming the step. */
  async step(kind: string, what: string, act: () => Promise<ApiResponse>, check: (r: ApiResponse, before: Map<string, StoredObject>, after: Map<string, StoredObject>) => Promise<string[]>): Promise<ApiResponse> {
    const before = this.snap;
    const r = await act();
    const after = await this.snapshot();
    this.snap = after;
    this.steps++;
    this.log.push(`#${this.log.length + 1} ${what} → ${brief(r)}`);
    count(`${kind} → ${r.status}`);
    // Not the gates' business, but worth a look: a server error, or an answer that is no Status.
    if (r.status >= 500 || (r.status >= 400 && typeof (r.body as { message?: unknown } | undefined)?.message !== 'string')) ODD.push(`run ${this.prefix} step #${this.log.length}: ${what} → ${r.status} ${r.text.slice(0, 300)}`);
    const problems = [...(await check(r, before, after)), ...(await this.invariant(after))];
    if (problems.length) throw new Violation(problems.join('\n'));
    return r;
  }

  /** No object in an effectively protected state but by its last move, made by a holder of enter or override. */
  async invariant(after: Map<string, StoredObject>): Promise<string[]> {
    const problems: string[] = [];
    for (const o of after.values()) {
      const s = stateOf(o);
      if (!protectedState(o, s)) continue;
      const entries = await this.lifeEntries(o);
      const last = entries.filter((e) => MOVES.has(e.action)).at(-1);
      if (!last) problems.push(`${o.metadata.name} (uid ${o.metadata.uid}) is in the protected state ${s}, and its trail shows no move into it: it was created or edited into it (spec ${JSON.stringify(o.spec)}, labels ${JSON.stringify(o.metadata.labels ?? {})})`);
      else if (last.to !== s) problems.push(`${o.metadata.name} is in the protected state ${s}, but its last move is ${fmtEntry(last)} (spec ${JSON.stringify(o.spec)})`);
      else if (!(await this.mayEnter(last.user, s))) problems.push(`${o.metadata.name} is in the protected state ${s}, entered by ${last.user}, who holds neither enter nor override on it: ${fmtEntry(last)}`);
    }
    return problems;
  }

  // -- the actions ----------------------------------------------------------

  async create(name: string, spec: StoredObject['spec'], labels: Labels, forge: boolean): Promise<void> {
    const status = forge ? forgedStatus(spec) : undefined;
    await this.step(`editor create${forge ? ' with a forged status' : ''}`, `editor creates ${name} ${JSON.stringify(spec)} labels ${JSON.stringify(labels)}${status ? ` status ${JSON.stringify(status)}` : ''}`,
      () => this.request('editor', 'POST', `${STORAGE}/namespaces/${ns()}/customresources`, { apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name, labels }, spec, ...(status ? { status } : {}) }),
      async (r, _b, after) => {
        const a = after.get(name);
        if (!ok(r)) return a && a.metadata.uid !== _b.get(name)?.metadata.uid ? [`the create of ${name} was refused (${r.status}) but the object exists`] : [];
        if (a && (a.status?.state || a.status?.history?.length)) return [`the editor created ${name} with a status of his own, and it was kept: ${JSON.stringify(a.status)}`];
        return [];
      });
  }

  async remove(actor: Actor, name: string, mode: DeleteMode): Promise<void> {
    const cur = this.snap.get(name);
    const uid = cur?.metadata.uid;
    const options = mode === 'precondition' && cur ? { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid, resourceVersion: cur.metadata.resourceVersion } } : undefined;
    const r = await this.step(`${actor} delete${mode === 'plain' || mode === 'wait' ? '' : ` (${mode})`}`, `${actor} (${actorName(actor)}) deletes ${name}${mode === 'wait' ? ' and waits until it is gone' : mode === 'plain' ? '' : ` (${mode})`}`,
      // Content-Length by hand: node sends a DELETE's body without it (nor chunked), and the server would read the body as the next request.
      () => this.request(actor, 'DELETE', this.stored(name) + (mode === 'dry-run' ? '?dryRun=All' : ''), options, options ? { 'Content-Length': String(Buffer.byteLength(JSON.stringify(options))) } : {}),
      async (res, before, after) => {
        const b = before.get(name);
        const a = after.get(name);
        if (mode === 'dry-run' || !ok(res)) {
          if (!a || a.metadata.deletionTimestamp !== b?.metadata.deletionTimestamp) return [`a ${mode === 'dry-run' ? 'dry-run' : `refused (${res.status})`} deletion of ${name} deleted it`];
        }
        return [];
      });
    if (ok(r) && uid && mode !== 'dry-run') {
      // A deletion with a resourceVersion precondition goes unrecorded (recording it would change the resourceVersion and fail it): its entry names no one, never someone else.
      this.deleted.push({ name, uid, user: mode === 'precondition' ? '<unknown>' : actorName(actor), step: this.log.length });
      if (mode === 'wait') await this.gone(name);
    }
  }

  async gone(name: string): Promise<void> {
    await eventually(`${name} archived and gone`, async () => (await api('admin', 'GET', this.stored(name))).status === 404, 60_000);
    this.snap = await this.snapshot();
  }

  /** An edit of spec and/or labels by the editor: refused, it changes nothing; accepted, it lowers no effective gate. */
  async edit(kind: string, name: string, what: string, patch: { spec?: StoredObject['spec']; labels?: Record<string, string | null>; finalizers?: string[]; status?: unknown }): Promise<void> {
    const ops: unknown[] = [];
    await this.step(`editor edit ${kind}`, `editor edits ${name}: ${what}`,
      () => {
        if (patch.spec) ops.push({ op: 'replace', path: '/spec', value: patch.spec });
        if (patch.labels) {
          const cur = { ...(this.snap.get(name)?.metadata.labels ?? {}) };
          for (const [k, v] of Object.entries(patch.labels)) {
            if (v === null) delete cur[k];
            else cur[k] = v;
          }
          ops.push({ op: 'add', path: '/metadata/labels', value: cur });
        }
        if (patch.finalizers) ops.push({ op: 'add', path: '/metadata/finalizers', value: patch.finalizers });
        if (patch.status) ops.push({ op: 'add', path: '/status', value: patch.status });
        return this.request('editor', 'PATCH', this.stored(name), ops, { 'Content-Type': 'application/json-patch+json' });
      },
      async (r, before, after) => {
        const b = before.get(name);
        const a = after.get(name);
        if (!b || !a || b.metadata.uid !== a.metadata.uid) return [];
        const changed = JSON.stringify(b.spec) !== JSON.stringify(a.spec) || JSON.stringify(b.metadata.labels ?? {}) !== JSON.stringify(a.metadata.labels ?? {});
        const problems: string[] = [];
        if ((a.status?.state ?? '') !== (b.status?.state ?? '') || lastSeq(a) !== lastSeq(b)) {
          problems.push(`an edit of ${name} by the editor changed its status: state ${b.status?.state} → ${a.status?.state}, trail ends ${fmtEntry(b.status?.history?.at(-1))} → ${fmtEntry(a.status?.history?.at(-1))}`);
        } else if (ok(r) && stateOf(a) !== stateOf(b)) {
          // An object that never moved is in its first state: an edit that changes the first state puts it into another, unrecorded.
          count(`accepted: an edit put a never-moved object from its first state into another`);
          const v = viewOf(a);
          const now = stateOf(a);
          const gates = [(v.approvals.get(now) ?? 0) > 0 ? 'approvals' : '', v.freezes.get(now)?.length ? `Freeze ${v.freezes.get(now)!.join(', ')}` : ''].filter(Boolean);
          if (gates.length) problems.push(`the editor's edit of ${name}, which never moved, put it from ${stateOf(b)} into ${now} past its ${gates.join(' and ')} (spec ${JSON.stringify(a.spec)}, labels ${JSON.stringify(a.metadata.labels ?? {})})`);
        }
        if ((b.metadata.finalizers ?? []).includes(FINALIZER) && !(a.metadata.finalizers ?? []).includes(FINALIZER)) problems.push(`the editor removed the backend's finalizer from ${name}`);
        if (!ok(r)) return changed ? [...problems, `the edit of ${name} was refused (${r.status}) but its spec or labels changed`] : problems;
        if (changed) this.editedAt.set(a.metadata.uid!, lastSeq(a));
        const w = weakenings(viewOf(b), viewOf(a));
        if (w.length) problems.push(`the editor's edit of ${name} was accepted though it lowers effective gates (${w.join('; ')}); before: spec ${JSON.stringify(b.spec)} labels ${JSON.stringify(b.metadata.labels ?? {})}, after: spec ${JSON.stringify(a.spec)} labels ${JSON.stringify(a.metadata.labels ?? {})}`);
        return problems;
      });
  }

  /** promote or set-state: accepted, it is recorded and passed its gates as they stood; refused or dry, it changed nothing. */
  async move(actor: Actor, name: string, kind: 'promote' | 'set-state', opts: { target?: string; reason?: string; override?: boolean; dryRun?: boolean }): Promise<void> {
    const from = this.snap.get(name) ? stateOf(this.snap.get(name)!) : undefined;
    const body = { ...(opts.target !== undefined ? { state: opts.target } : {}), ...(from !== undefined ? { from } : {}), ...(opts.reason ? { reason: opts.reason } : {}), ...(opts.override ? { override: true } : {}) };
    const path = this.obj(name, kind === 'promote' ? 'promote' : 'state') + (opts.dryRun ? '?dryRun=All' : '');
    await this.step(`${actor} ${kind}${opts.override ? ' --override' : ''}${opts.dryRun ? ' --dry-run' : ''}`, `${actor} (${actorName(actor)}) ${kind} ${name}${opts.target ? ` → ${opts.target}` : ''} ${JSON.stringify(body)}${opts.dryRun ? ' dry run' : ''}`,
      () => this.request(actor, kind === 'promote' ? 'POST' : 'PUT', path, body),
      async (r, before, after) => {
        const b = before.get(name);
        const a = after.get(name);
        if (!b || !a || b.metadata.uid !== a.metadata.uid) return [];
        const newMoves = (a.status?.history ?? []).filter((e) => (e.seq ?? 0) > lastSeq(b) && MOVES.has(e.action));
        if (!ok(r) || opts.dryRun) {
          const why = opts.dryRun ? 'a dry run' : `refused (${r.status})`;
          return stateOf(a) !== stateOf(b) || newMoves.length ? [`${kind} of ${name} was ${why} but it moved: ${stateOf(b)} → ${stateOf(a)}, ${newMoves.map(fmtEntry).join('; ')}`] : [];
        }
        return this.checkAcceptedMove(actor, kind, name, r.body as unknown as CustomResourceState, b, a, opts);
      });
  }

  private async checkAcceptedMove(actor: Actor, kind: string, name: string, res: CustomResourceState, b: StoredObject, a: StoredObject, opts: { reason?: string }, fresh = true): Promise<string[]> {
    const problems: string[] = [];
    const e = res.history?.at(-1);
    const user = actorName(actor);
    if (!e || !MOVES.has(e.action) || e.user !== user || e.from !== stateOf(b) || e.to !== res.state) {
      return [`${kind} of ${name} by ${user} was accepted, but its answer's last entry is ${fmtEntry(e)} (state ${res.state}, was ${stateOf(b)})`];
    }
    if (stateOf(a) !== e.to) problems.push(`${kind} of ${name} was accepted into ${e.to}, but the object is in ${stateOf(a)}`);
    if (!(a.status?.history ?? []).some((x) => sameEntry(x, e))) problems.push(`${kind} of ${name} was accepted, but its entry ${fmtEntry(e)} is not in the object's trail`);
    else this.accepted.push({ name, uid: a.metadata.uid!, entry: e, step: this.log.length });
    // The gates as they stood before the move.
    const v = viewOf(b);
    const to = e.to!;
    const from = stateOf(b);
    const fi = v.path.indexOf(from);
    const ti = v.path.indexOf(to);
    const forward = !(fi >= 0 && ti < fi);
    if (e.action === 'override' && !(await this.mayEnter(user, to))) problems.push(`${user} made an override into ${to} of ${name}`);
    if (protectedState(b, to)) {
      count(`accepted: ${user} into the protected ${to}`);
      if (!(await this.mayEnter(user, to))) problems.push(`${user} moved ${name} into the protected state ${to} without enter or override (${forward ? 'forward' : 'a rollback'}): ${fmtEntry(e)}`);
      if (!opts.reason?.trim()) problems.push(`${name} entered the protected state ${to} without a reason`);
    }
    if (!forward || e.action === 'override') return problems;
    const needed = v.approvals.get(to) ?? 0;
    if (needed > 0) {
      const people = new Set((e.approvers ?? []).filter((p) => p !== user && !p.startsWith('system:serviceaccount:')));
      if (people.size < needed) problems.push(`${user} moved ${name} into ${to}, which needs ${needed} approval(s) by people other than the mover; the entry names ${JSON.stringify(e.approvers ?? [])}`);
      const bots = (e.approvers ?? []).filter((p) => p.startsWith('system:serviceaccount:') || p === user);
      if (bots.length) problems.push(`the move of ${name} into ${to} by ${user} counted the approvals of ${bots.join(', ')} (the mover, or ServiceAccounts no policy allows)`);
      if (fresh) {
        // Each approval counted was given for this very move since the object last changed state, spec or labels, and not revoked.
        const life = await this.wholeLife(a);
        const before = life.filter((x) => (x.seq ?? 0) < (e.seq ?? 0));
        const since = Math.max(this.editedAt.get(a.metadata.uid!) ?? 0, before.filter((x) => MOVES.has(x.action)).at(-1)?.seq ?? 0);
        for (const p of e.approvers ?? []) {
          const last = before.filter((x) => (x.seq ?? 0) > since && x.user === p && (x.action === 'approve' || x.action === 'revoke') && x.to === to && x.from === from).at(-1);
          if (last?.action !== 'approve') problems.push(`the move of ${name} ${from} → ${to} by ${user} counted ${p}'s approval, which was ${last ? 'revoked' : 'not given for this move since the object last changed state, spec or labels'} (changes after seq ${since}; trail: ${before.filter((x) => x.user === p).map(fmtEntry).join('; ') || 'none by them'})`);
          const given = last ? this.approvalLabels.get(`${a.metadata.uid}#${last.seq}`) : undefined;
          if (given !== undefined && given !== labelsKey(b)) problems.push(`the move of ${name} ${from} → ${to} by ${user} counted ${p}'s approval, given while its labels were ${given}, though they are now ${labelsKey(b)}`);
        }
      }
    }
    const frozen = v.activeFreezes.get(to) ?? [];
    if (frozen.length) problems.push(`${user} moved ${name} into ${to} while Freeze ${frozen.join(', ')} holds it (labels ${JSON.stringify(b.metadata.labels ?? {})})`);
    const soak = v.soak.get(from) ?? 0;
    const since = sinceOf(b);
    if (soak > 0 && since && Date.parse(e.time) - Date.parse(since) < (soak - 1) * 1000) problems.push(`${user} moved ${name} out of ${from} after ${(Date.parse(e.time) - Date.parse(since)) / 1000}s, before its soak of ${soak}s`);
    if (fi >= 0 && ti > fi + 1) {
      const skipped = v.path.slice(fi + 1, ti).filter((s) => ownGates(v, s));
      if (skipped.length) problems.push(`${user} jumped ${name} from ${from} to ${to} over the gated state(s) ${skipped.join(', ')}`);
    }
    return problems;
  }

  /**
   * An edit and a move sent at once: whatever order they take, the edit
   * may not lower a gate, and the move, if accepted, is in the trail and
   * needed enter for a state protected before (approvals, soak and freezes
   * are not checked here: which gates applied depends on the order).
   */
  async race(name: string, what: string, patch: { spec?: StoredObject['spec']; labels?: Record<string, string | null> }, actor: Actor, kind: 'promote' | 'set-state', target: string | undefined): Promise<void> {
    const b = this.snap.get(name);
    if (!b) return;
    const from = stateOf(b);
    const ops: unknown[] = [];
    if (patch.spec) ops.push({ op: 'replace', path: '/spec', value: patch.spec });
    if (patch.labels) ops.push({ op: 'add', path: '/metadata/labels', value: Object.fromEntries(Object.entries({ ...(b.metadata.labels ?? {}), ...patch.labels }).filter(([, v]) => v !== null)) });
    const body = { ...(target ? { state: target } : {}), from, reason: 'race' };
    let moveAnswer: ApiResponse | undefined;
    await this.step(`race: editor edit + ${actor} ${kind}`, `race on ${name}: editor edits (${what}) while ${actor} (${actorName(actor)}) ${kind}s ${JSON.stringify(body)}`,
      async () => {
        const [edit, mv] = await Promise.all([
          this.request('editor', 'PATCH', this.stored(name), ops, { 'Content-Type': 'application/json-patch+json' }),
          this.request(actor, kind === 'promote' ? 'POST' : 'PUT', this.obj(name, kind === 'promote' ? 'promote' : 'state'), body),
        ]);
        moveAnswer = mv;
        this.log.push(`   (the ${kind}: ${brief(mv)})`);
        return edit;
      },
      async (edit, before, after) => {
        const b0 = before.get(name);
        const a = after.get(name);
        if (!b0 || !a || b0.metadata.uid !== a.metadata.uid) return [];
        const problems: string[] = [];
        if (ok(edit)) {
          // Approvals given before an accepted edit no longer count, whichever way it raced the move.
          if (JSON.stringify(b0.spec) !== JSON.stringify(a.spec) || JSON.stringify(b0.metadata.labels ?? {}) !== JSON.stringify(a.metadata.labels ?? {})) this.editedAt.set(a.metadata.uid!, lastSeq(a));
          const w = weakenings(viewOf(b0), viewOf(a));
          if (w.length) problems.push(`the editor's edit of ${name}, racing a ${kind}, was accepted though it lowers effective gates (${w.join('; ')})`);
        } else if (JSON.stringify(b0.spec) !== JSON.stringify(a.spec) || JSON.stringify(b0.metadata.labels ?? {}) !== JSON.stringify(a.metadata.labels ?? {})) {
          problems.push(`the edit of ${name} was refused (${edit.status}) but its spec or labels changed`);
        }
        const mv = moveAnswer!;
        const moves = (a.status?.history ?? []).filter((x) => (x.seq ?? 0) > lastSeq(b0) && MOVES.has(x.action));
        if (!ok(mv)) {
          if (moves.length) problems.push(`the ${kind} of ${name} was refused (${mv.status}) but it moved: ${moves.map(fmtEntry).join('; ')}`);
          return problems;
        }
        const e = (mv.body as unknown as CustomResourceState).history?.at(-1);
        if (!e || !(a.status?.history ?? []).some((x) => sameEntry(x, e))) problems.push(`the ${kind} of ${name} was accepted but its entry ${fmtEntry(e)} is not in the trail`);
        else this.accepted.push({ name, uid: a.metadata.uid!, entry: e, step: this.log.length });
        if (e?.to && protectedState(b0, e.to) && !(await this.mayEnter(actorName(actor), e.to))) problems.push(`${actorName(actor)} moved ${name} into the protected state ${e.to} without enter, racing an edit`);
        return problems;
      });
  }

  /** What the editor may not do at all: change the gates themselves. Any 2xx is a violation. */
  async tamper(what: TamperKind): Promise<void> {
    const policies = `${STORAGE}/namespaces/${ns()}/gatepolicies`;
    const freezes = `${STORAGE}/namespaces/${ns()}/freezes`;
    const requests: Record<TamperKind, () => Promise<ApiResponse>> = {
      'delete a Freeze': () => this.request('editor', 'DELETE', `${freezes}/${FREEZES[0]!.name}`),
      'create a Freeze': () => this.request('editor', 'POST', freezes, { apiVersion: 'example.com/v1', kind: 'Freeze', metadata: { name: `mine-${this.prefix}${this.log.length}` }, spec: { reason: 'mine', start: new Date().toISOString(), end: new Date(Date.now() + 60_000).toISOString() } }),
      'empty a GatePolicy': () => this.request('editor', 'PATCH', `${policies}/${POLICIES[0]!.name}`, { spec: { rules: [{ states: ['nowhere'], protected: true }] } }, { 'Content-Type': 'application/merge-patch+json' }),
      'delete a GatePolicy': () => this.request('editor', 'DELETE', `${policies}/${POLICIES[0]!.name}`),
      'create a GatePolicy allowing ServiceAccounts': () => this.request('editor', 'POST', policies, { apiVersion: 'example.com/v1', kind: 'GatePolicy', metadata: { name: `mine-${this.prefix}${this.log.length}` }, spec: { rules: [{ states: ['prod'], requiredApprovals: 1, serviceAccountApprovals: true }] } }),
      'bind himself enter on prod': () => this.request('editor', 'POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns()}/rolebindings`, { metadata: { name: `mine-${this.prefix}${this.log.length}` }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'release-manager' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: EDITOR }] }),
      'delete the archive': () => this.request('editor', 'DELETE', `${STORAGE}/namespaces/custom-system/statehistories?labelSelector=${encodeURIComponent('custom.example.com/object-uid=none-of-this-test')}`),
      // The webhook's path is served without authentication (kube-apiserver calls it); through the aggregation
      // proxy a path that kube-apiserver authorizes as …/approve may still lead there. The review frames the release manager.
      'post an AdmissionReview to the backend through kube-apiserver\'s proxy': () => {
        const target = [...this.snap.values()].find((o) => !o.metadata.deletionTimestamp);
        const review = { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'forged', operation: 'DELETE', namespace: ns(), name: target?.metadata.name ?? 'none', userInfo: { username: RELEASE_MANAGER }, ...(target ? { oldObject: target } : {}) } };
        return this.request('editor', 'POST', `${this.obj(target?.metadata.name ?? 'none', 'approve')}/${'..%2f'.repeat(8)}admission%2fcustomresources`, review);
      },
    };
    await this.step(`editor tamper: ${what}`, `editor tries to ${what}`, requests[what], async (r, before, after) => {
      if (!ok(r)) return [];
      const records = [...after.values()].filter((o) => JSON.stringify(o.status?.deletion) !== JSON.stringify(before.get(o.metadata.name)?.status?.deletion)).map((o) => `${o.metadata.name}'s status.deletion is now ${JSON.stringify(o.status?.deletion)}`);
      return [`the editor could ${what}: ${r.status} ${r.text.slice(0, 300)}${records.length ? `; ${records.join('; ')}` : ''}`];
    });
  }

  async approve(actor: Actor, name: string, to: string | undefined, revoke: boolean): Promise<void> {
    const from = this.snap.get(name) ? stateOf(this.snap.get(name)!) : undefined;
    const body = { ...(from !== undefined ? { from } : {}), ...(to ? { to } : {}), reason: 'looked at it', ...(revoke ? { revoke: true } : {}) };
    await this.step(`${actor} ${revoke ? 'revoke' : 'approve'}`, `${actor} (${actorName(actor)}) ${revoke ? 'revokes approval of' : 'approves'} ${name} ${JSON.stringify(body)}`,
      () => this.request(actor, 'POST', this.obj(name, 'approve'), body),
      async (r, before, after) => {
        const b = before.get(name);
        const a = after.get(name);
        if (!b || !a || b.metadata.uid !== a.metadata.uid) return [];
        const fresh = (a.status?.history ?? []).filter((e) => (e.seq ?? 0) > lastSeq(b));
        if (fresh.some((e) => MOVES.has(e.action))) return [`an approval of ${name} moved it: ${fresh.map(fmtEntry).join('; ')}`];
        if (r.status === 201) {
          const e = fresh.find((x) => x.action === (revoke ? 'revoke' : 'approve') && x.user === actorName(actor));
          if (!e) return [`the ${revoke ? 'revocation' : 'approval'} of ${name} by ${actorName(actor)} was accepted (201) but is not in its trail`];
          this.accepted.push({ name, uid: a.metadata.uid!, entry: e, step: this.log.length });
          if (!revoke) this.approvalLabels.set(`${a.metadata.uid}#${e.seq}`, labelsKey(a));
        }
        return [];
      });
  }

  /** The end of a run: every deleted object gone, every accepted change and deletion in its life's trail, every chain intact. */
  async finish(): Promise<void> {
    for (const [name, o] of this.snap) if (o.metadata.deletionTimestamp) await this.gone(name);
    const problems: string[] = [];
    const names = new Set([...this.accepted.map((x) => x.name), ...this.deleted.map((x) => x.name)]);
    for (const name of names) {
      let doc: CustomResourceHistory | undefined;
      // The backend archives deletions in the background: wait for every deleted life's entry.
      await eventually(`the trail of ${name} has all its deleted lives`, async () => {
        doc = await this.trailOf(name);
        return !!doc && this.deleted.filter((d) => d.name === name).every((d) => doc!.lives.find((l) => l.uid === d.uid)?.entries.at(-1)?.action === 'deleted');
      }, 30_000).catch(() => undefined);
      if (!doc) {
        problems.push(`no trail of ${name}`);
        continue;
      }
      for (const life of doc.lives) {
        const chain = verifyChain(life.entries);
        if (!chain.ok) problems.push(`the trail of ${name} (life ${life.uid}) is broken at seq ${chain.brokenSeq}: ${chain.problem}`);
      }
      for (const x of this.accepted.filter((y) => y.name === name)) {
        const life = doc.lives.find((l) => l.uid === x.uid);
        if (!life?.entries.some((e) => sameEntry(e, x.entry))) problems.push(`the change of step #${x.step}, ${fmtEntry(x.entry)} of ${name} (life ${x.uid}), is not in its trail${life ? `, which ends ${fmtEntry(life.entries.at(-1))}` : ' (no such life)'}`);
      }
      for (const d of this.deleted.filter((y) => y.name === name)) {
        const last = doc.lives.find((l) => l.uid === d.uid)?.entries.at(-1);
        if (last?.action !== 'deleted') problems.push(`the life ${d.uid} of ${name}, deleted at step #${d.step}, does not end with its deleted entry (it ends ${fmtEntry(last)})`);
        else if (last.user !== d.user) problems.push(`the deleted entry of ${name} (life ${d.uid}, deleted by ${d.user} at step #${d.step}) names ${JSON.stringify(last.user)}`);
      }
    }
    this.log.push(`#${this.log.length + 1} end of run: every trail checked`);
    if (problems.length) throw new Violation(problems.join('\n'));
  }
}

// ---------------------------------------------------------------------------
// The commands fast-check picks from.

/** The short names (a, b, c) of the objects the cluster has, and of those being deleted. */
interface Model { present: Set<string>; terminating: Set<string> }

const syncModel = (m: Model, d: Driver) => {
  const short = (o: StoredObject) => o.metadata.name.slice(d.prefix.length);
  m.present = new Set([...d.snap.values()].map(short));
  m.terminating = new Set([...d.snap.values()].filter((o) => o.metadata.deletionTimestamp).map(short));
};

type Cmd = fc.AsyncCommand<Model, Driver>;
const NAMES = ['a', 'b', 'c'] as const;
type Short = (typeof NAMES)[number];
const pick = <T>(xs: readonly T[], i: number): T | undefined => (xs.length ? xs[i % xs.length] : undefined);

/** A command on the run's object of short name `n`; the model then follows the cluster. */
function onObject(label: string, n: Short, act: (d: Driver, name: string) => Promise<void>, check: (m: Readonly<Model>) => boolean = (m) => m.present.has(n)): Cmd {
  return {
    check,
    async run(m, d) {
      await act(d, `${d.prefix}${n}`);
      syncModel(m, d);
    },
    toString: () => label,
  };
}

const create = (n: Short, spec: StoredObject['spec'], labels: Labels, forge: boolean) =>
  onObject(`create(${n}, ${JSON.stringify(spec)}, ${JSON.stringify(labels)}${forge ? ', forged status' : ''})`, n, (d, name) => d.create(name, spec, labels, forge), (m) => !m.present.has(n));

const remove = (n: Short, who: Actor, mode: DeleteMode) =>
  onObject(`delete(${n}, ${who}, ${mode})`, n, (d, name) => d.remove(who, name, mode), (m) => m.present.has(n) && !m.terminating.has(n));

type SpecEdit =
  | { kind: 'reorder'; keys: number[] }
  | { kind: 'move'; i: number; j: number }
  | { kind: 'rename'; i: number; k: number }
  | { kind: 'remove'; i: number; tidy: boolean }
  | { kind: 'insert'; j: number; k: number }
  | { kind: 'drop-gates'; which: 'protectedStates' | 'requiredApprovals' | 'minSoakSeconds' | 'all' }
  | { kind: 'add-gate'; i: number; gate: 'protect' | 'approvals' | 'soak'; n: number }
  | { kind: 'display-name' };

function applySpecEdit(spec: StoredObject['spec'], e: SpecEdit): StoredObject['spec'] {
  const s: StoredObject['spec'] = JSON.parse(JSON.stringify(spec)) as StoredObject['spec'];
  const states = [...s.states];
  const outside = VOCAB.filter((x) => !states.includes(x));
  const drop = (x: string) => {
    if (s.protectedStates) s.protectedStates = s.protectedStates.filter((p) => p !== x);
    if (s.requiredApprovals) delete s.requiredApprovals[x];
    if (s.minSoakSeconds) delete s.minSoakSeconds[x];
  };
  switch (e.kind) {
    case 'reorder':
      s.states = states.map((x, i) => [x, e.keys[i] ?? i] as const).sort((a, b) => a[1] - b[1]).map(([x]) => x);
      break;
    case 'move': {
      const [x] = states.splice(e.i % Math.max(states.length, 1), 1);
      if (x !== undefined) states.splice(e.j % (states.length + 1), 0, x);
      s.states = states;
      break;
    }
    case 'rename': {
      const i = e.i % Math.max(states.length, 1);
      const to = pick(outside, e.k);
      const from = states[i];
      if (to && from !== undefined) {
        states[i] = to;
        s.states = states;
        if (s.protectedStates?.includes(from)) s.protectedStates = s.protectedStates.map((p) => (p === from ? to : p));
        for (const m of [s.requiredApprovals, s.minSoakSeconds]) {
          if (m && from in m) {
            m[to] = m[from]!;
            delete m[from];
          }
        }
      }
      break;
    }
    case 'remove': {
      const [x] = states.splice(e.i % Math.max(states.length, 1), 1);
      if (states.length && x !== undefined) {
        s.states = states;
        if (e.tidy) drop(x);
      }
      break;
    }
    case 'insert': {
      const x = pick(outside, e.k);
      if (x) states.splice(e.j % (states.length + 1), 0, x);
      s.states = states;
      break;
    }
    case 'drop-gates':
      if (e.which === 'all' || e.which === 'protectedStates') delete s.protectedStates;
      if (e.which === 'all' || e.which === 'requiredApprovals') delete s.requiredApprovals;
      if (e.which === 'all' || e.which === 'minSoakSeconds') delete s.minSoakSeconds;
      break;
    case 'add-gate': {
      const x = states[e.i % Math.max(states.length, 1)];
      if (x === undefined) break;
      if (e.gate === 'protect') s.protectedStates = [...new Set([...(s.protectedStates ?? []), x])];
      else if (e.gate === 'approvals') s.requiredApprovals = { ...(s.requiredApprovals ?? {}), [x]: 1 + (e.n % 2) };
      else s.minSoakSeconds = { ...(s.minSoakSeconds ?? {}), [x]: 1 + (e.n % 3) };
      break;
    }
    case 'display-name':
      s.name = `${s.name.replace(/ \(\d+\)$/, '')} (${Date.now() % 1000})`;
      break;
  }
  return s;
}

const editSpec = (n: Short, e: SpecEdit) =>
  onObject(`editSpec(${n}, ${JSON.stringify(e)})`, n, async (d, name) => {
    const cur = d.snap.get(name);
    if (!cur) return;
    const spec = applySpecEdit(cur.spec, e);
    await d.edit(`spec ${e.kind}`, name, `spec ${e.kind} ${JSON.stringify(cur.spec)} → ${JSON.stringify(spec)}`, { spec });
  });

const editLabels = (n: Short, key: 'team' | 'tier', value: string | null) =>
  onObject(`editLabels(${n}, ${key}=${value})`, n, (d, name) => d.edit('labels', name, `labels ${key}=${value ?? '(removed)'} on ${JSON.stringify(d.snap.get(name)?.metadata.labels ?? {})}`, { labels: { [key]: value } }));

interface MoveArgs { actor: Actor; kind: 'promote' | 'set-state'; target: number; offPath: boolean; reason: boolean; override: boolean; dryRun: boolean }
const move = (n: Short, o: MoveArgs) =>
  onObject(`${o.kind}(${n}, ${o.actor}${o.kind === 'set-state' ? `, target #${o.target}${o.offPath ? ' of all names' : ''}` : ''}${o.reason ? ', reason' : ''}${o.override ? ', override' : ''}${o.dryRun ? ', dry run' : ''})`, n, (d, name) => {
    const path = d.snap.get(name)?.spec.states ?? [];
    const target = o.kind === 'set-state' ? (o.offPath ? pick(VOCAB, o.target) : pick(path, o.target)) : undefined;
    return d.move(o.actor, name, o.kind, { ...(target ? { target } : {}), ...(o.reason ? { reason: o.actor === 'rm' ? 'release' : 'back' } : {}), override: o.override, dryRun: o.dryRun });
  });

const approve = (n: Short, who: Actor, to: number | null, revoke: boolean) =>
  onObject(`approve(${n}, ${who}${to === null ? '' : `, to #${to}`}${revoke ? ', revoke' : ''})`, n, (d, name) => {
    const path = d.snap.get(name)?.spec.states ?? [];
    return d.approve(who, name, to === null ? undefined : pick(path, to), revoke);
  });

/**
 * A move with an approval: someone (the editor, his ServiceAccount, the
 * release manager) approves the next move, then the release manager (the way
 * into prod) or the editor (into qa, which needs an approval but no enter)
 * promotes.
 */
const release = (n: Short, approver: Actor, mover: Actor) =>
  onObject(`release(${n}, approved by ${approver}, promoted by ${mover})`, n, async (d, name) => {
    await d.approve(approver, name, undefined, false);
    await d.move(mover, name, 'promote', { reason: 'release', override: false, dryRun: false });
  });

/** An approval, then a change of labels (and back) or of the spec, then the move: the approval may not count. */
const staleApproval = (n: Short, change: 'labels' | 'spec', approver: Actor, mover: Actor) =>
  onObject(`staleApproval(${n}, ${change}, approved by ${approver}, promoted by ${mover})`, n, async (d, name) => {
    await d.approve(approver, name, undefined, false);
    const cur = d.snap.get(name);
    if (!cur) return;
    if (change === 'spec') {
      await d.edit('spec display-name', name, 'spec display name changed', { spec: applySpecEdit(cur.spec, { kind: 'display-name' }) });
    } else {
      const was = cur.metadata.labels?.['note'] ?? null;
      await d.edit('labels', name, 'labels note=x', { labels: { note: 'x' } });
      await d.edit('labels', name, `labels note back to ${was ?? '(none)'}`, { labels: { note: was } });
    }
    await d.move(mover, name, 'promote', { reason: 'release', override: false, dryRun: false });
  });

/** A label changed and changed back: the approvals given before are dropped for good. */
const labelRoundTrip = (n: Short, key: 'team' | 'tier', value: string) =>
  onObject(`labelRoundTrip(${n}, ${key}=${value})`, n, async (d, name) => {
    const was = d.snap.get(name)?.metadata.labels?.[key] ?? null;
    await d.edit('labels', name, `labels ${key}=${value} on ${JSON.stringify(d.snap.get(name)?.metadata.labels ?? {})}`, { labels: { [key]: value } });
    await d.edit('labels', name, `labels ${key} back to ${was ?? '(none)'} on ${JSON.stringify(d.snap.get(name)?.metadata.labels ?? {})}`, { labels: { [key]: was } });
  });

const forbiddenEdit = (n: Short, what: 'finalizers' | 'status') =>
  onObject(`forbiddenEdit(${n}, ${what})`, n, (d, name) => {
    const cur = d.snap.get(name);
    if (!cur) return Promise.resolve();
    return what === 'finalizers'
      ? d.edit('finalizers', name, 'metadata.finalizers emptied', { finalizers: [] })
      : d.edit('status', name, 'status forged (in the last state, entered by the release manager)', { status: forgedStatus(cur.spec) });
  });

const race = (n: Short, e: SpecEdit | { kind: 'labels'; key: 'team' | 'tier'; value: string | null }, who: Actor, kind: 'promote' | 'set-state', target: number) =>
  onObject(`race(${n}, ${JSON.stringify(e)}, ${who} ${kind} #${target})`, n, (d, name) => {
    const cur = d.snap.get(name);
    if (!cur) return Promise.resolve();
    const patch = e.kind === 'labels' ? { labels: { [e.key]: e.value } } : { spec: applySpecEdit(cur.spec, e) };
    const what = e.kind === 'labels' ? `labels ${e.key}=${e.value ?? '(removed)'}` : `spec ${e.kind} → ${JSON.stringify(patch.spec)}`;
    return d.race(name, what, patch, who, kind, kind === 'set-state' ? pick(cur.spec.states, target) : undefined);
  });

const tamper = (what: TamperKind): Cmd => ({
  check: () => true,
  async run(m, d) {
    await d.tamper(what);
    syncModel(m, d);
  },
  toString: () => `tamper(${what})`,
});

const name = fc.constantFrom(...NAMES);
const actor = fc.oneof({ arbitrary: fc.constant<Actor>('editor'), weight: 6 }, { arbitrary: fc.constant<Actor>('bot'), weight: 1 }, { arbitrary: fc.constant<Actor>('rm'), weight: 2 });
const specArb = fc.record({
  states: fc.oneof(fc.constantFrom(...TEMPLATES), fc.shuffledSubarray([...VOCAB], { minLength: 1, maxLength: 4 })),
  protect: fc.subarray([0, 1, 2, 3], { maxLength: 2 }),
  approvals: fc.subarray([0, 1, 2, 3], { maxLength: 1 }),
  soak: fc.subarray([0, 1, 2, 3], { maxLength: 1 }),
  gates: fc.boolean(),
}).map(({ states, protect, approvals, soak, gates }): StoredObject['spec'] => {
  const at = (is: number[]) => [...new Set(is.map((i) => states[i % states.length]!))];
  return {
    name: 'Adversary',
    states: [...states],
    ...(gates && protect.length ? { protectedStates: at(protect) } : {}),
    ...(gates && approvals.length ? { requiredApprovals: Object.fromEntries(at(approvals).map((s) => [s, 1])) } : {}),
    ...(gates && soak.length ? { minSoakSeconds: Object.fromEntries(at(soak).map((s) => [s, 1])) } : {}),
  };
});
const labelsArb = fc.record({ team: fc.constantFrom('payments', 'storefront', undefined), tier: fc.constantFrom('critical', 'frontend', undefined) })
  .map((l) => Object.fromEntries(Object.entries(l).filter(([, v]) => v !== undefined)) as Labels);
const specEdit: fc.Arbitrary<SpecEdit> = fc.oneof(
  fc.record({ kind: fc.constant('reorder' as const), keys: fc.array(fc.nat(100), { minLength: 5, maxLength: 5 }) }),
  fc.record({ kind: fc.constant('move' as const), i: fc.nat(9), j: fc.nat(9) }),
  fc.record({ kind: fc.constant('rename' as const), i: fc.nat(9), k: fc.nat(9) }),
  fc.record({ kind: fc.constant('remove' as const), i: fc.nat(9), tidy: fc.boolean() }),
  fc.record({ kind: fc.constant('insert' as const), j: fc.nat(9), k: fc.nat(9) }),
  fc.record({ kind: fc.constant('drop-gates' as const), which: fc.constantFrom('protectedStates', 'requiredApprovals', 'minSoakSeconds', 'all') }),
  fc.record({ kind: fc.constant('add-gate' as const), i: fc.nat(9), gate: fc.constantFrom('protect', 'approvals', 'soak'), n: fc.nat(5) }),
  fc.constant({ kind: 'display-name' as const }),
);

const labelKey = fc.constantFrom('team' as const, 'tier' as const);
const labelValue = fc.constantFrom('payments', 'storefront', 'critical', 'frontend', null);
const COMMANDS: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(name, specArb, labelsArb, fc.nat(9)).map(([n, s, l, f]) => create(n, s, l, f === 0)) },
  {
    weight: 2,
    arbitrary: fc.tuple(name, fc.oneof({ weight: 4, arbitrary: fc.constant<Actor>('editor') }, { weight: 1, arbitrary: fc.constant<Actor>('rm') }), fc.constantFrom<DeleteMode>('plain', 'wait', 'dry-run', 'precondition'))
      .map(([n, a, mode]) => remove(n, a, mode)),
  },
  { weight: 4, arbitrary: fc.tuple(name, specEdit).map(([n, e]) => editSpec(n, e)) },
  { weight: 2, arbitrary: fc.tuple(name, labelKey, labelValue).map(([n, k, v]) => editLabels(n, k, v)) },
  {
    weight: 6,
    arbitrary: fc.tuple(name, actor, fc.constantFrom('promote' as const, 'set-state' as const), fc.nat(9), fc.nat(5), fc.boolean(), fc.nat(19), fc.nat(9))
      .map(([n, a, k, t, off, reason, o, dry]) => move(n, { actor: a, kind: k, target: t, offPath: off === 0, reason, override: o === 0, dryRun: dry === 0 })),
  },
  { weight: 3, arbitrary: fc.tuple(name, actor, fc.option(fc.nat(9), { nil: null }), fc.nat(9)).map(([n, a, to, r]) => approve(n, a, to, r === 0)) },
  { weight: 3, arbitrary: fc.tuple(name, actor, fc.constantFrom<Actor>('rm', 'rm', 'editor')).map(([n, a, m]) => release(n, a, m)) },
  { weight: 1, arbitrary: fc.tuple(name, fc.constantFrom('labels' as const, 'spec' as const), actor, fc.constantFrom<Actor>('rm', 'editor')).map(([n, c, a, m]) => staleApproval(n, c, a, m)) },
  { weight: 1, arbitrary: fc.tuple(name, labelKey, fc.constantFrom('payments', 'storefront', 'critical', 'frontend')).map(([n, k, v]) => labelRoundTrip(n, k, v)) },
  { weight: 1, arbitrary: fc.tuple(name, fc.constantFrom('finalizers' as const, 'status' as const)).map(([n, w]) => forbiddenEdit(n, w)) },
  {
    weight: 2,
    arbitrary: fc.tuple(name, fc.oneof(specEdit, fc.record({ kind: fc.constant('labels' as const), key: labelKey, value: labelValue })), actor, fc.constantFrom('promote' as const, 'set-state' as const), fc.nat(9))
      .map(([n, e, a, k, t]) => race(n, e, a, k, t)),
  },
  { weight: 1, arbitrary: fc.constantFrom(...TAMPER).map((w) => tamper(w)) },
);

// ---------------------------------------------------------------------------

beforeAll(async () => {
  // The editor: kubectl-custom-editor (what `edit` aggregates), `approve`
  // on prod and qa, and impersonation of his own ServiceAccount (as `edit`
  // gives for every ServiceAccount of the namespace). His ServiceAccount: an
  // editor that may approve prod and qa. The release manager: editor,
  // `enter` and `approve` on prod, `approve` on qa.
  const states = (verbs: string[], names: string[]) => ({ apiGroups: ['custom.example.com'], resources: ['states'], resourceNames: names, verbs });
  await bindClusterRole(ns(), EDITOR, 'kubectl-custom-editor');
  await grantRole(ns(), 'editor-extras', EDITOR, [states(['approve'], ['prod', 'qa']), { apiGroups: [''], resources: ['serviceaccounts'], resourceNames: [BOT], verbs: ['impersonate'] }]);
  await bindClusterRole(ns(), RELEASE_MANAGER, 'kubectl-custom-editor');
  await grantRole(ns(), 'release-manager', RELEASE_MANAGER, [states(['enter', 'approve'], ['prod']), states(['approve'], ['qa'])]);
  expect((await api('admin', 'POST', `/api/v1/namespaces/${ns()}/serviceaccounts`, { metadata: { name: BOT } })).status).toBe(201);
  expect((await api('admin', 'POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns()}/roles`, { metadata: { name: 'bot-approver' }, rules: [states(['approve'], ['prod', 'qa'])] })).status).toBe(201);
  for (const [role, kind] of [['bot-approver', 'Role'], ['kubectl-custom-editor', 'ClusterRole']] as const) {
    const r = await api('admin', 'POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns()}/rolebindings`, {
      metadata: { name: `bot-${role}` }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind, name: role }, subjects: [{ kind: 'ServiceAccount', name: BOT, namespace: ns() }],
    });
    expect(r.status, r.text).toBe(201);
  }
  for (const p of POLICIES) {
    const rules = p.rules.map(({ selector, ...r }) => ({ ...r, ...(selector ? { selector: { matchLabels: selector } } : {}) }));
    const r = await api('admin', 'POST', `${STORAGE}/namespaces/${ns()}/gatepolicies`, { apiVersion: 'example.com/v1', kind: 'GatePolicy', metadata: { name: p.name }, spec: { rules } });
    expect(r.status, r.text).toBe(201);
  }
  // The scheduled freeze's window opens twelve hours from now, for an hour.
  const laterHour = (new Date().getUTCHours() + 12) % 24;
  for (const f of FREEZES) {
    const sel = Object.entries(f.selector).map(([k, v]) => `${k}=${v}`).join(',');
    const when = f.active ? ['--for', '2h'] : ['--schedule', `0 ${laterHour} * * *`, '--duration', '1h'];
    const r = await kubectlCustom('admin', ['freeze', '-n', ns(), '--states', f.states.join(','), '-l', sel, ...when, '--reason', `gate invariant: ${f.name}`, '--name', f.name]);
    expect(r.code, r.stderr).toBe(0);
  }
  // RBAC in force; the backend gates with the policies and both freezes.
  await eventually('RBAC in force', async () => (await api(EDITOR, 'GET', `${CUSTOM}/namespaces/${ns()}/customresources`, undefined, { 'Impersonate-User': botUser() })).status === 200 && (await api(RELEASE_MANAGER, 'GET', `${CUSTOM}/namespaces/${ns()}/customresources`)).status === 200);
  await eventually('the backend has written both freezes\' status', async () => {
    const r = await api<{ items: { status?: { observedGeneration?: number; active?: boolean } }[] }>('admin', 'GET', `${STORAGE}/namespaces/${ns()}/freezes`);
    return r.body.items.length === FREEZES.length && r.body.items.every((f) => f.status?.observedGeneration !== undefined);
  }, 30_000);
  const probe = await api('admin', 'POST', `${STORAGE}/namespaces/${ns()}/customresources`, { apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name: 'probe', labels: { team: 'payments', tier: 'critical' } }, spec: { name: 'Probe', states: ['dev', 'prod'] } });
  expect(probe.status, probe.text).toBe(201);
  await eventually('the backend gates prod by the policies and the active freeze', async () => {
    const v = await api<CustomResourceState>('admin', 'GET', `${CUSTOM}/namespaces/${ns()}/customresources/probe/state`);
    const gates = new Set((v.body.checks ?? []).flatMap((c) => c.sources.map((s) => `${c.gate}:${s.name ?? s.kind}`)));
    return v.status === 200 && gates.has('protection:prod-gates') && gates.has('approvals:prod-gates') && gates.has('soak:critical-soak') && v.body.gates.promoteBlockedBy.includes('freeze');
  }, 30_000);
});

describe('the gate invariant against an insider', () => {
  it('holds after every step of random sequences of what an editor may try', async () => {
    console.log(`[gate-invariant] seed ${SEED}: replay with GATE_SEED=${SEED} npx vitest run --project integration test/integration/gate-invariant.test.ts`);
    let steps = 0;
    let runs = 0;
    let round = 0;
    const started = Date.now();
    while (steps < MIN_STEPS || Date.now() - started < BUDGET_SECONDS * 1000) {
      const seed = (SEED + round) % 0x7fffffff;
      await fc.assert(
        fc.asyncProperty(fc.commands([COMMANDS], { maxCommands: MAX_COMMANDS, size: 'max' }), async (cmds) => {
          const run = ++runs;
          const driver = new Driver(`r${run}-`);
          try {
            await fc.asyncModelRun(async () => ({ model: { present: new Set<string>(), terminating: new Set<string>() }, real: driver }), cmds);
            await driver.finish();
          } catch (err) {
            const head = err instanceof Violation ? 'the gate invariant does not hold' : 'the adversary failed';
            throw new Error(`${head} (GATE_SEED=${SEED}, round ${round} seed ${seed}, run ${run}, objects ${driver.prefix}* in namespace ${ns()}):\n${err instanceof Error ? err.message : String(err)}\nsteps:\n${driver.log.join('\n')}`, { cause: err });
          } finally {
            steps += driver.steps;
            if (process.env['GATE_VERBOSE']) console.log(`[gate-invariant] run ${run}:\n${driver.log.join('\n')}`);
          }
        }),
        { seed, numRuns: RUNS_PER_ROUND, endOnFailure: true },
      );
      round++;
    }
    const stats = [...STATS].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, n]) => `  ${k}: ${n}`).join('\n');
    console.log(`[gate-invariant] seed ${SEED}: ${steps} steps in ${runs} runs (${round} rounds), ${((Date.now() - started) / 1000).toFixed(0)} s, no violation\n${stats}${ODD.length ? `\nodd answers:\n${ODD.join('\n')}` : ''}`);
  }, 600_000);
});
