// The write path (decide → authorize → write → re-read on conflict) with a
// fake status store and authorizer: fast, in-process, every branch.
import { describe, expect, it } from 'vitest';
import type { StoredObject, StoredStatus } from '../../../../api/src/types.ts';
import type { EventRecorder, EventSubject } from '../../../../client/src/event-recorder.ts';
import type { Attributes, Authorizer } from '../../auth/delegated-authz.ts';
import type { UserInfo } from '../../auth/user.ts';
import { memoryLogger } from '../../log/logger.ts';
import { newMetrics } from '../../metrics/metrics.ts';
import { newServiceUnavailable, StatusError } from '../../status/status-error.ts';
import { WriteConflict, type StatusStore } from '../../store/status-store.ts';
import type { TransitionRequest } from '../../state/transitions.ts';
import { MAX_ATTEMPTS, StateRest } from './state-rest.ts';

const NOW = new Date('2025-06-01T12:00:00Z');
const ago = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString();
const ALICE: UserInfo = { name: 'alice', groups: ['system:authenticated'], extra: {} };

function object(rv: number, status?: StoredStatus, spec: Partial<StoredObject['spec']> = {}): StoredObject {
  return {
    apiVersion: 'example.com/v1',
    kind: 'CustomResource',
    metadata: { name: 'checkout', namespace: 'shop', uid: 'u1', resourceVersion: String(rv), generation: 1, creationTimestamp: ago(86400) },
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

  async writeStatus(obj: StoredObject, status: StoredStatus): Promise<StoredObject> {
    this.writes.push({ rv: obj.metadata.resourceVersion, status });
    const outcome = this.outcomes.shift() ?? 'ok';
    if (outcome === 'conflict') throw new WriteConflict('changed');
    if (outcome instanceof StatusError) throw outcome;
    return { ...obj, metadata: { ...obj.metadata, resourceVersion: String(Number(obj.metadata.resourceVersion) + 100) }, status };
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
  const r = new StateRest({ store, authorizer, events, metrics: newMetrics(), log: memoryLogger(), clock: { now: () => NOW } });
  return { r, events, authorizer };
}

const promote = (from?: string, reason?: string): TransitionRequest => ({ action: 'promote', ...(from ? { from } : {}), ...(reason ? { reason } : {}) });

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
    want: { code?: number; reason?: string; message?: RegExp; state?: string; writes: number; fetches?: number; events: number };
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
      name: 'dry run: decided and authorized, nothing written, no Event',
      store: () => new FakeStore(object(10)),
      request: promote('dev'),
      dryRun: true,
      want: { state: 'staging', writes: 0, events: 0 },
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
      name: 'the cache is not synced yet: 503',
      store: () => Object.assign(new FakeStore(object(10)), { synced: false }),
      request: promote('dev'),
      want: { code: 503, reason: 'ServiceUnavailable', message: /not synced yet/, writes: 0, events: 0 },
    },
    {
      name: 'an object that does not exist: 404',
      store: () => new FakeStore(undefined),
      request: promote('dev'),
      want: { code: 404, reason: 'NotFound', writes: 0, events: 0 },
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
      expect(entry).toMatchObject({ action: request.action, to: want.state, user: 'alice', time: NOW.toISOString() });
      expect(got.status?.stateSince).toBe(NOW.toISOString());
    }
    expect(store.writes).toHaveLength(want.writes);
    expect(store.fetches).toBe(want.fetches ?? 0);
    expect(events.recorded).toHaveLength(want.events);
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
    expect(authorizer.asked.sort()).toEqual(['create customresources/promote/checkout', 'enter states/prod', 'update customresources/state/checkout']);
    expect(view.allowed).toEqual({ promote: false, promoteVerb: true, setState: true, enterNextState: false });
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
