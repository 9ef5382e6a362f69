// The write path (decide → authorize → write → re-read on conflict) with a
// fake status store and authorizer: fast, in-process, every branch.
import { describe, expect, it } from 'vitest';
import { FINALIZER } from '../../../../api/src/names.ts';
import type { GatePolicy, HistoryEntry, StoredObject, StoredStatus } from '../../../../api/src/types.ts';
import type { HistoryArchive, ObjectRef } from '../../store/history-archive.ts';
import type { EventRecorder, EventSubject } from '../../../../client/src/event-recorder.ts';
import type { Attributes, Authorizer } from '../../auth/delegated-authz.ts';
import type { UserInfo } from '../../auth/user.ts';
import { memoryLogger } from '../../log/logger.ts';
import { newMetrics } from '../../metrics/metrics.ts';
import { newServiceUnavailable, StatusError } from '../../status/status-error.ts';
import { WriteConflict, type StatusStore } from '../../store/status-store.ts';
import type { TransitionRequest } from '../../state/transitions.ts';
import { MAX_ATTEMPTS, StateRest } from './state-rest.ts';
import { withPolicies } from '../../state/gate-sources.ts';
import { HISTORY_KEEP, HISTORY_WINDOW } from '../../state/history.ts';

const NOW = new Date('2025-06-01T12:00:00Z');
const ago = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString();
const ALICE: UserInfo = { name: 'alice', groups: ['system:authenticated'], extra: {} };

function object(rv: number, status?: StoredStatus, spec: Partial<StoredObject['spec']> = {}): StoredObject {
  return {
    apiVersion: 'example.com/v1',
    kind: 'CustomResource',
    metadata: { name: 'checkout', namespace: 'shop', uid: 'u1', resourceVersion: String(rv), generation: 1, creationTimestamp: ago(86400), finalizers: [FINALIZER] },
    spec: { name: 'Checkout', states: ['dev', 'staging', 'prod'], protectedStates: ['prod'], ...spec },
    ...(status ? { status } : {}),
  };
}

/** One write's outcome: written, a lost precondition, or an error of the store. */
type Outcome = 'ok' | 'conflict' | StatusError;

class FakeStore implements StatusStore {
  synced = true;
  current: StoredObject | undefined;
  /** What kube-apiserver holds when the object is read again after a conflict. */
  fresh: (StoredObject | undefined)[] = [];
  outcomes: Outcome[] = [];
  writes: { rv: string | undefined; status: StoredStatus }[] = [];
  fetches = 0;

  constructor(current: StoredObject | undefined) {
    this.current = current;
  }

  cached(): StoredObject | undefined {
    return this.current;
  }

  async fetch(): Promise<StoredObject | undefined> {
    this.fetches++;
    return this.fresh.length ? this.fresh.shift() : this.current;
  }

  finalizerWrites: string[][] = [];

  async setFinalizers(obj: StoredObject, finalizers: string[]): Promise<StoredObject | undefined> {
    this.finalizerWrites.push(finalizers);
    return { ...obj, metadata: { ...obj.metadata, finalizers, resourceVersion: String(Number(obj.metadata.resourceVersion) + 1) } };
  }

  async writeStatus(obj: StoredObject, status: StoredStatus): Promise<StoredObject> {
    this.writes.push({ rv: obj.metadata.resourceVersion, status });
    const outcome = this.outcomes.shift() ?? 'ok';
    if (outcome === 'conflict') throw new WriteConflict('changed');
    if (outcome instanceof StatusError) throw outcome;
    return { ...obj, metadata: { ...obj.metadata, resourceVersion: String(Number(obj.metadata.resourceVersion) + 100) }, status };
  }
}

class FakeArchive implements HistoryArchive {
  readonly written: HistoryEntry[][] = [];
  async write(_object: ObjectRef, entries: readonly HistoryEntry[]) {
    this.written.push([...entries]);
  }
  async archivedThrough() {
    return 0;
  }
  async segmentsOf() {
    return [];
  }
}

class FakeAuthorizer implements Authorizer {
  readonly asked: string[] = [];
  private readonly denied: Set<string>;
  constructor(denied: Set<string> = new Set()) {
    this.denied = denied;
  }
  async authorize(_user: UserInfo, attrs: Attributes) {
    const a = 'resource' in attrs ? `${attrs.resource.verb} ${attrs.resource.resource}${attrs.resource.subresource ? `/${attrs.resource.subresource}` : ''}/${attrs.resource.name}` : attrs.nonResource.path;
    this.asked.push(a);
    return { allowed: !this.denied.has(a) };
  }
}

class FakeEvents implements EventRecorder {
  readonly recorded: { type: string; reason: string; message: string }[] = [];
  async record(_obj: EventSubject, type: 'Normal' | 'Warning', reason: string, message: string) {
    this.recorded.push({ type, reason, message });
  }
}

function rest(store: FakeStore, authorizer = new FakeAuthorizer()) {
  const events = new FakeEvents();
  const archive = new FakeArchive();
  const r = new StateRest({ store, archive, authorizer, events, metrics: newMetrics(), log: memoryLogger(), clock: { now: () => NOW } });
  return { r, events, authorizer, archive };
}

const promote = (from?: string, reason?: string, override?: boolean): TransitionRequest => ({ action: 'promote', ...(from ? { from } : {}), ...(reason ? { reason } : {}), ...(override ? { override } : {}) });

async function failure(p: Promise<unknown>): Promise<StatusError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof StatusError) return err;
    throw err;
  }
  throw new Error('expected the change to be refused');
}

describe('StateRest.transition', () => {
  interface Case {
    name: string;
    store: () => FakeStore;
    request: TransitionRequest;
    dryRun?: boolean;
    denied?: string[];
    want: { code?: number; reason?: string; message?: RegExp; state?: string; action?: string; overrode?: string[]; writes: number; fetches?: number; events: number; eventType?: string };
  }
  const cases: Case[] = [
    {
      name: 'a promote is written once, with the read resourceVersion, and raises an Event',
      store: () => new FakeStore(object(10)),
      request: promote('dev', 'tests green'),
      want: { state: 'staging', writes: 1, events: 1 },
    },
    {
      name: 'conflict on the first write, then success: read again, decided again, written at the new resourceVersion',
      store: () => {
        const s = new FakeStore(object(10));
        s.outcomes = ['conflict', 'ok'];
        s.fresh = [object(11, { state: 'dev', stateSince: ago(60) })];
        return s;
      },
      request: promote('dev'),
      want: { state: 'staging', writes: 2, fetches: 1, events: 1 },
    },
    {
      name: 'conflict, and the fresh object has moved on: 409 naming who moved it, nothing written again',
      store: () => {
        const s = new FakeStore(object(10));
        s.outcomes = ['conflict'];
        s.fresh = [object(11, { state: 'staging', stateSince: ago(5), history: [{ action: 'promote', from: 'dev', to: 'staging', user: 'bob', time: ago(5) }] })];
        return s;
      },
      request: promote('dev'),
      want: { code: 409, reason: 'Conflict', message: /in state "staging" \(moved there by bob/, writes: 1, fetches: 1, events: 0 },
    },
    {
      name: 'deleted mid-way (404 on the re-read): NotFound',
      store: () => {
        const s = new FakeStore(object(10));
        s.outcomes = ['conflict'];
        s.fresh = [undefined];
        return s;
      },
      request: promote('dev'),
      want: { code: 404, reason: 'NotFound', message: /customresources.custom.example.com "checkout" not found/, writes: 1, fetches: 1, events: 0 },
    },
    {
      name: `conflict on every one of ${MAX_ATTEMPTS} attempts: 409, try again`,
      store: () => {
        const s = new FakeStore(object(10));
        s.outcomes = Array.from({ length: MAX_ATTEMPTS }, () => 'conflict' as const);
        return s;
      },
      request: promote('dev'),
      want: { code: 409, reason: 'Conflict', message: /kept changing/, writes: MAX_ATTEMPTS, fetches: MAX_ATTEMPTS - 1, events: 0 },
    },
    {
      name: 'a gate not met (soak): 422 with its cause, nothing written',
      store: () => new FakeStore(object(10, { state: 'staging', stateSince: ago(60) }, { minSoakSeconds: { staging: 3600 } })),
      request: promote('staging', 'go'),
      want: { code: 422, reason: 'Invalid', message: /status.stateSince: Forbidden: "staging" needs 1h of soak time/, writes: 0, events: 0 },
    },
    {
      name: 'kube-apiserver cannot take the write: 503, no Event',
      store: () => {
        const s = new FakeStore(object(10));
        s.outcomes = [newServiceUnavailable('kube-apiserver is not available to store the change')];
        return s;
      },
      request: promote('dev'),
      want: { code: 503, reason: 'ServiceUnavailable', writes: 1, events: 0 },
    },
    {
      name: 'dry run: decided and authorized, checked once against the object read fresh (the same here), nothing written, no Event',
      store: () => new FakeStore(object(10)),
      request: promote('dev'),
      dryRun: true,
      want: { state: 'staging', writes: 0, fetches: 1, events: 0 },
    },
    {
      name: 'a protected target without enter: 403 naming the verb, nothing written',
      store: () => new FakeStore(object(10, { state: 'staging', stateSince: ago(60) })),
      request: promote('staging', 'ship it'),
      denied: ['enter states/prod'],
      want: { code: 403, reason: 'Forbidden', message: /needs the "enter" verb on resource "states"/, writes: 0, events: 0 },
    },
    {
      name: 'a stale from: 409, nothing written',
      store: () => new FakeStore(object(10, { state: 'staging', stateSince: ago(60) })),
      request: promote('dev'),
      want: { code: 409, reason: 'Conflict', message: /is in state "staging".*not "dev"/, writes: 0, events: 0 },
    },
    {
      name: 'the cache has not seen the change the client just made through the other replica: read fresh, decided again, written; no 409',
      store: () => {
        const s = new FakeStore(object(10, { state: 'dev', stateSince: ago(60) }));
        s.fresh = [object(12, { state: 'staging', stateSince: ago(1) })];
        return s;
      },
      request: { action: 'set-state', state: 'dev', from: 'staging', reason: 'back' },
      want: { state: 'dev', writes: 1, fetches: 1, events: 1 },
    },
    {
      name: 'a refusal on the cached object that the fresh one confirms: read once, refused, nothing written',
      store: () => {
        const s = new FakeStore(object(10, { state: 'dev', stateSince: ago(60) }));
        s.fresh = [object(12, { state: 'prod', stateSince: ago(1) })];
        return s;
      },
      request: promote('staging'),
      want: { code: 409, reason: 'Conflict', message: /is in state "prod".*not "staging"/, writes: 0, fetches: 1, events: 0 },
    },
    {
      name: 'the cache is not synced yet: 503',
      store: () => Object.assign(new FakeStore(object(10)), { synced: false }),
      request: promote('dev'),
      want: { code: 503, reason: 'ServiceUnavailable', message: /not synced yet/, writes: 0, events: 0 },
    },
    {
      name: 'set-state forward out of a soaking state: 422 (soak), nothing written',
      store: () => new FakeStore(object(10, { state: 'dev', stateSince: ago(60) }, { minSoakSeconds: { dev: 3600 } })),
      request: { action: 'set-state', state: 'staging', from: 'dev' },
      want: { code: 422, reason: 'Invalid', message: /status.stateSince: Forbidden: "dev" needs 1h of soak time/, writes: 0, events: 0 },
    },
    {
      name: 'set-state over a gated state without override: 403 naming override',
      store: () => new FakeStore(object(10, { state: 'dev', stateSince: ago(60) }, { protectedStates: ['staging'] })),
      request: { action: 'set-state', state: 'prod', from: 'dev', reason: 'x' },
      denied: ['override states/prod'],
      want: { code: 403, reason: 'Forbidden', message: /skipping states with gates of their own is an override; that needs the "override" verb/, writes: 0, events: 0 },
    },
    {
      name: 'set-state over a gated state by an override holder who did not ask for one: 422 saying --override',
      store: () => new FakeStore(object(10, { state: 'dev', stateSince: ago(60) }, { protectedStates: ['staging'] })),
      request: { action: 'set-state', state: 'prod', from: 'dev', reason: 'x' },
      want: { code: 422, reason: 'Invalid', message: /skips "staging" \(protected\).*--override/, writes: 0, events: 0 },
    },
    {
      name: 'an override passes soak and skipped states, recorded as override with a Warning',
      store: () => new FakeStore(object(10, { state: 'dev', stateSince: ago(60) }, { protectedStates: ['staging', 'prod'], minSoakSeconds: { dev: 3600 } })),
      request: { action: 'set-state', state: 'prod', from: 'dev', reason: 'incident 42', override: true },
      denied: ['enter states/prod'],
      want: { state: 'prod', action: 'override', overrode: ['soak', 'protection', 'skipped-states'], writes: 1, events: 1, eventType: 'Warning' },
    },
    {
      name: 'an override without the verb: 403 naming override',
      store: () => new FakeStore(object(10, { state: 'dev', stateSince: ago(60) }, { minSoakSeconds: { dev: 3600 } })),
      request: promote('dev', 'please', true),
      denied: ['override states/staging'],
      want: { code: 403, reason: 'Forbidden', message: /cannot override the gates of state "staging"; that needs the "override" verb on resource "states"/, writes: 0, events: 0 },
    },
    {
      name: 'an override without a reason: 422',
      store: () => new FakeStore(object(10, { state: 'dev', stateSince: ago(60) }, { minSoakSeconds: { dev: 3600 } })),
      request: promote('dev', undefined, true),
      want: { code: 422, reason: 'Invalid', message: /an override needs a reason/, writes: 0, events: 0 },
    },
    {
      name: 'a rollback with --override: 422, there is nothing to override',
      store: () => new FakeStore(object(10, { state: 'staging', stateSince: ago(60) })),
      request: { action: 'set-state', state: 'dev', reason: 'x', override: true },
      want: { code: 422, reason: 'Invalid', message: /rollback into an unprotected state, which has no gate to override/, writes: 0, events: 0 },
    },
    {
      name: 'a rollback into a protected state without enter: 403 naming enter, nothing written',
      store: () => new FakeStore(object(10, { state: 'retired', stateSince: ago(60) }, { states: ['dev', 'prod', 'retired'] })),
      request: { action: 'set-state', state: 'prod', from: 'retired', reason: 'back' },
      denied: ['enter states/prod'],
      want: { code: 403, reason: 'Forbidden', message: /cannot enter state "prod": it is protected \(a rollback into a protected state needs it too\); that needs the "enter" verb/, writes: 0, events: 0 },
    },
    {
      name: 'a rollback into a protected state needs a reason',
      store: () => new FakeStore(object(10, { state: 'retired', stateSince: ago(60) }, { states: ['dev', 'prod', 'retired'] })),
      request: { action: 'set-state', state: 'prod', from: 'retired' },
      want: { code: 422, reason: 'Invalid', message: /entering the protected state "prod" needs a reason/, writes: 0, events: 0 },
    },
    {
      name: 'a rollback into a protected state by a holder of enter, with a reason',
      store: () => new FakeStore(object(10, { state: 'retired', stateSince: ago(60) }, { states: ['dev', 'prod', 'retired'] })),
      request: { action: 'set-state', state: 'prod', from: 'retired', reason: 'back' },
      want: { state: 'prod', action: 'set-state', writes: 1, events: 1 },
    },
    {
      name: 'a rollback into a protected state by override alone: recorded as override of protection',
      store: () => new FakeStore(object(10, { state: 'retired', stateSince: ago(60) }, { states: ['dev', 'prod', 'retired'] })),
      request: { action: 'set-state', state: 'prod', from: 'retired', reason: 'incident', override: true },
      denied: ['enter states/prod'],
      want: { state: 'prod', action: 'override', overrode: ['protection'], writes: 1, events: 1, eventType: 'Warning' },
    },
    {
      name: 'a rollback needs no reason and passes soak',
      store: () => new FakeStore(object(10, { state: 'prod', stateSince: ago(1) }, { minSoakSeconds: { prod: 3600 } })),
      request: { action: 'set-state', state: 'staging' },
      want: { state: 'staging', writes: 1, events: 1 },
    },
    {
      name: 'an object being deleted: 409, its history is being archived',
      store: () => new FakeStore({ ...object(10), metadata: { ...object(10).metadata, deletionTimestamp: ago(1) } }),
      request: promote('dev'),
      want: { code: 409, reason: 'Conflict', message: /being deleted/, writes: 0, events: 0 },
    },
    {
      name: 'an object that does not exist: 404',
      store: () => new FakeStore(undefined),
      request: promote('dev'),
      want: { code: 404, reason: 'NotFound', writes: 0, fetches: 0, events: 0 },
    },
  ];

  it.each(cases)('$name', async ({ store: makeStore, request, dryRun, denied, want }) => {
    const store = makeStore();
    const { r, events } = rest(store, new FakeAuthorizer(new Set(denied)));
    const run = r.transition('shop', 'checkout', ALICE, request, dryRun ?? false);
    if (want.code) {
      const err = await failure(run);
      expect(err.code).toBe(want.code);
      expect(err.status.reason).toBe(want.reason);
      if (want.message) expect(err.message).toMatch(want.message);
    } else {
      const got = await run;
      expect(got.status?.state).toBe(want.state);
      const entry = got.status?.history?.at(-1);
      expect(entry).toMatchObject({ action: want.action ?? request.action, to: want.state, user: 'alice', time: NOW.toISOString(), seq: (store.current?.status?.history?.length ?? 0) + 1 });
      expect(entry?.overrode).toEqual(want.overrode);
      expect(got.status?.stateSince).toBe(NOW.toISOString());
    }
    expect(store.writes).toHaveLength(want.writes);
    // A refusal decided on the cached object is checked once against the object read fresh (the same here).
    expect(store.fetches).toBe(want.fetches ?? (want.code !== undefined && want.writes === 0 && want.code !== 503 ? 1 : 0));
    expect(events.recorded).toHaveLength(want.events);
    if (want.eventType) expect(events.recorded[0]?.type).toBe(want.eventType);
  });

  it('writes each attempt at the resourceVersion it read', async () => {
    const store = new FakeStore(object(10));
    store.outcomes = ['conflict', 'conflict', 'ok'];
    store.fresh = [object(11), object(12)];
    await rest(store).r.transition('shop', 'checkout', ALICE, promote('dev'), false);
    expect(store.writes.map((w) => w.rv)).toEqual(['10', '11', '12']);
  });

  it('the Event names the user, the move and the reason', async () => {
    const store = new FakeStore(object(10));
    const { r, events } = rest(store);
    await r.transition('shop', 'checkout', ALICE, promote('dev', 'tests green'), false);
    expect(events.recorded).toEqual([{ type: 'Normal', reason: 'Promoted', message: 'alice promoted checkout from dev to staging: tests green' }]);
  });
});

describe('StateRest.describe', () => {
  it('asks whether the caller may enter a protected next state, and says so', async () => {
    const store = new FakeStore(object(10, { state: 'staging', stateSince: ago(60) }));
    const { r, authorizer } = rest(store, new FakeAuthorizer(new Set(['enter states/prod'])));
    const view = await r.describe(store.current!, ALICE);
    expect(authorizer.asked.sort()).toEqual(['approve states/prod', 'create customresources/approve/checkout', 'create customresources/promote/checkout', 'enter states/prod', 'override states/prod', 'update customresources/state/checkout']);
    expect(view.allowed).toEqual({ promote: false, promoteVerb: true, setState: true, enterNextState: false, approveNextState: true, overrideNextState: true });
    expect(view.checks).toEqual([{ gate: 'protection', met: false, message: 'prod is protected: entering needs the "enter" permission and a reason (you do not have it)', sources: [{ kind: 'spec' }] }]);
    expect(view.gates.promoteBlockedBy).toEqual(['enter-permission']);
  });

  it('does not ask about enter when the next state is not protected', async () => {
    const store = new FakeStore(object(10));
    const { r, authorizer } = rest(store);
    const view = await r.describe(store.current!, ALICE);
    expect(authorizer.asked).not.toContain('enter states/staging');
    expect(view.allowed.promote).toBe(true);
  });
});

describe('StateRest.transition: the trail', () => {
  it('adds the finalizer before the first change of an object that has none, then writes at the new resourceVersion', async () => {
    const store = new FakeStore({ ...object(10), metadata: { ...object(10).metadata, finalizers: ['other.example.com/x'] } });
    await rest(store).r.transition('shop', 'checkout', ALICE, promote('dev'), false);
    expect(store.finalizerWrites).toEqual([['other.example.com/x', FINALIZER]]);
    expect(store.writes.map((w) => w.rv)).toEqual(['11']);
  });

  it('a dry run adds no finalizer', async () => {
    const store = new FakeStore({ ...object(10), metadata: { ...object(10).metadata, finalizers: [] } });
    await rest(store).r.transition('shop', 'checkout', ALICE, promote('dev'), true);
    expect(store.finalizerWrites).toEqual([]);
  });

  it('archives the entries that leave the window before writing the trimmed window', async () => {
    const history: HistoryEntry[] = Array.from({ length: HISTORY_WINDOW }, (_, i) => ({ action: i % 2 ? 'set-state' : 'promote', from: 'dev', to: 'staging', user: 'bob', time: ago(1000 - i) }));
    const store = new FakeStore(object(10, { state: 'dev', stateSince: ago(100), history }));
    const { r, archive } = rest(store);
    const written = await r.transition('shop', 'checkout', ALICE, promote('dev'), false);
    const leaving = HISTORY_WINDOW + 1 - HISTORY_KEEP;
    expect(archive.written).toHaveLength(1);
    expect(archive.written[0]!.map((e) => e.seq)).toEqual(Array.from({ length: leaving }, (_, i) => i + 1));
    expect(written.status?.history?.map((e) => e.seq)).toEqual(Array.from({ length: HISTORY_KEEP }, (_, i) => leaving + i + 1));
  });
});

describe('StateRest.transition: gates from GatePolicies', () => {
  it("a soak a GatePolicy asks for is refused naming that GatePolicy, not the spec", async () => {
    const store = new FakeStore(object(10, { state: 'staging', stateSince: ago(60) }, { protectedStates: [] }));
    const policy: GatePolicy = { apiVersion: 'example.com/v1', kind: 'GatePolicy', metadata: { namespace: 'custom-system', name: 'prod-soak' }, spec: { rules: [{ states: ['prod'], minSoakSeconds: 3600 }] } };
    const r = new StateRest({ store, archive: new FakeArchive(), authorizer: new FakeAuthorizer(), events: new FakeEvents(), metrics: newMetrics(), log: memoryLogger(), clock: { now: () => NOW }, gates: withPolicies({ policiesFor: () => [policy] }) });
    const err = await failure(r.transition('shop', 'checkout', ALICE, promote('staging', 'go'), false));
    expect(err.status.code).toBe(422);
    expect(err.status.message).toMatch(/"staging" needs 1h of soak time \(GatePolicy custom-system\/prod-soak\) before promotion/);
  });
});
