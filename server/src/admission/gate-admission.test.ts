// The gate webhook's decisions with GatePolicies, Freezes and an authorizer
// of our own: which edits need which permission, what a refusal says, and
// what a DELETE records. The same webhook against a real kube-apiserver is in
// test/integration/every-door.test.ts.
import { describe, expect, it } from 'vitest';
import type { FreezeRef, GatePolicy, StoredObject } from '../../../api/src/types.ts';
import type { Attributes, Authorizer, Decision } from '../auth/delegated-authz.ts';
import type { UserInfo } from '../auth/user.ts';
import { memoryLogger } from '../log/logger.ts';
import { labelsFingerprint } from '../state/approvals.ts';
import { withPolicies } from '../state/gate-sources.ts';
import type { AdmissionRequest } from './admission-review.ts';
import { GateAdmission } from './gate-admission.ts';

const NOW = new Date('2026-12-01T12:00:00Z');

class Allow implements Authorizer {
  private readonly held: string[];
  constructor(held: string[]) {
    this.held = held;
  }
  async authorize(_u: UserInfo, a: Attributes): Promise<Decision> {
    return { allowed: 'resource' in a && this.held.includes(`${a.resource.verb} ${a.resource.name}`) };
  }
}

const policy: GatePolicy = {
  apiVersion: 'example.com/v1',
  kind: 'GatePolicy',
  metadata: { namespace: 'custom-system', name: 'prod-gates' },
  spec: { rules: [{ states: ['prod'], protected: true, requiredApprovals: 1 }, { states: ['prod'], selector: { matchLabels: { team: 'payments' } }, minSoakSeconds: 3600 }] },
};
const freeze: FreezeRef = { namespace: 'shop', name: 'payments-freeze', reason: 'audit' };

function obj(states: string[], labels?: Record<string, string>, state?: string, extra: Partial<StoredObject['spec']> = {}): StoredObject {
  return {
    apiVersion: 'example.com/v1',
    kind: 'CustomResource',
    metadata: { namespace: 'shop', name: 'cart', uid: 'u1', creationTimestamp: '2026-11-01T00:00:00Z', ...(labels ? { labels } : {}) },
    spec: { name: 'Cart', states, ...extra },
    ...(state ? { status: { state } } : {}),
  };
}

function admission(held: string[], recorded: string[] = [], ready = true, dropped: (string | undefined)[] = []) {
  const gates = withPolicies(
    { policiesFor: () => [policy] },
    () => [],
    (o, state) => (o.metadata.labels?.['team'] === 'payments' && state === 'prod' ? [freeze] : []),
  );
  return new GateAdmission({ gates, authorizer: new Allow(held), clock: { now: () => NOW }, log: memoryLogger(), ready: () => ready, recordDeletion: async (_o, user) => void recorded.push(user), dropApprovals: async (_o, h) => void dropped.push(h) });
}

const review = (operation: AdmissionRequest['operation'], object: StoredObject | null, oldObject: StoredObject | null = null, dryRun = false): AdmissionRequest => ({
  uid: 'r1',
  operation,
  namespace: 'shop',
  name: 'cart',
  userInfo: { username: 'eve', groups: ['system:authenticated'] },
  object,
  oldObject,
  dryRun,
});

const PATH = ['dev', 'staging', 'prod'];
const PAYMENTS = { team: 'payments' };

describe('GateAdmission', () => {
  it.each<{ name: string; req: AdmissionRequest; held?: string[]; allowed: boolean; message?: RegExp }>([
    { name: 'a create in an unprotected first state', req: review('CREATE', obj(PATH)), allowed: true },
    { name: 'a create in a state a GatePolicy protects, without enter', req: review('CREATE', obj(['prod', 'retired'])), allowed: false, message: /^creating customresources.example.com "cart" is refused: the object starts in the protected state "prod": that needs the "enter" verb on states.custom.example.com "prod" in namespace "shop"$/ },
    { name: 'the same create by a holder of enter', req: review('CREATE', obj(['prod', 'retired'])), held: ['enter prod'], allowed: true },
    { name: 'the same create by a holder of override (it counts as enter)', req: review('CREATE', obj(['prod', 'retired'])), held: ['override prod'], allowed: true },
    { name: 'reordering a policy-gated state before the current one', req: review('UPDATE', obj(['prod', 'dev', 'staging'], undefined, 'staging'), obj(PATH, undefined, 'staging')), allowed: false, message: /weakening the gates of "prod" \(states before it removed or reordered\) needs the "override" verb on states.custom.example.com "prod"/ },
    { name: 'the same reorder by a holder of override on prod', req: review('UPDATE', obj(['prod', 'dev', 'staging'], undefined, 'staging'), obj(PATH, undefined, 'staging')), held: ['override prod'], allowed: true },
    {
      name: 'a label that takes the object out of a rule and a freeze',
      req: review('UPDATE', obj(PATH, {}, 'staging'), obj(PATH, PAYMENTS, 'staging')),
      allowed: false,
      message: /weakening the gates of "staging" \(soak of 3600s removed\) needs the "override" verb on states.custom.example.com "staging".*weakening the gates of "prod" \(no longer covered by Freeze shop\/payments-freeze\) needs the "override" verb on states.custom.example.com "prod"/,
    },
    { name: 'adding the label is no weakening', req: review('UPDATE', obj(PATH, PAYMENTS, 'staging'), obj(PATH, {}, 'staging')), allowed: true },
    { name: 'making the state the object is in protected', req: review('UPDATE', obj(PATH, undefined, 'staging', { protectedStates: ['staging'] }), obj(PATH, undefined, 'staging')), allowed: false, message: /the object is in "staging", which the change makes protected: that needs the "enter" verb/ },
    { name: 'a status write is not judged', req: { ...review('UPDATE', obj(['prod']), obj(PATH)), subResource: 'status' }, allowed: true },
  ])('$name', async ({ req, held, allowed, message }) => {
    const res = await admission(held ?? []).admit(req);
    expect(res.allowed).toBe(allowed);
    expect(res.uid).toBe('r1');
    if (message) {
      expect(res.status?.code).toBe(403);
      expect(res.status?.message).toMatch(message);
    }
  });

  it('refuses everything until the GatePolicies and Freezes are listed (fail closed)', async () => {
    const res = await admission([], [], false).admit(review('CREATE', obj(PATH)));
    expect(res).toMatchObject({ allowed: false, status: { code: 503, message: expect.stringMatching(/has not listed the GatePolicies and Freezes yet/) } });
  });

  it.each([
    { name: 'a DELETE records who asked', req: review('DELETE', null, obj(PATH)), recorded: ['eve'] },
    { name: 'a dry-run DELETE records nothing', req: review('DELETE', null, obj(PATH), true), recorded: [] },
    { name: 'a DELETE with a resourceVersion precondition records nothing (the write would fail it)', req: { ...review('DELETE', null, obj(PATH)), options: { preconditions: { resourceVersion: '261' } } }, recorded: [] },
    { name: 'a second DELETE of an object already going keeps the first user', req: review('DELETE', null, { ...obj(PATH), metadata: { ...obj(PATH).metadata, deletionTimestamp: '2026-12-01T11:59:00Z' } }), recorded: [] },
  ])('$name', async ({ req, recorded: want }) => {
    const recorded: string[] = [];
    expect((await admission([], recorded).admit(req)).allowed).toBe(true);
    expect(recorded).toEqual(want);
  });

  it('refuses a DELETE whose user it could not record, so that no deletion goes unnamed', async () => {
    const a = new GateAdmission({ gates: withPolicies({ policiesFor: () => [] }), authorizer: new Allow([]), clock: { now: () => NOW }, log: memoryLogger(), ready: () => true, recordDeletion: async () => Promise.reject(new Error('kube-apiserver is not reachable')), dropApprovals: async () => {} });
    expect(await a.admit(review('DELETE', null, obj(PATH)))).toMatchObject({ allowed: false, status: { code: 503, message: expect.stringMatching(/could not record who asked for this deletion \(kube-apiserver is not reachable\); retry/) } });
  });

  describe('a change of labels drops the approvals given under the labels it leaves', () => {
    const approved = (labels?: Record<string, string>) => {
      const o = obj(PATH, labels, 'staging');
      o.status = { state: 'staging', approvals: [{ from: 'staging', to: 'prod', user: 'bob', time: '2026-12-01T11:00:00Z', ...(labels ? { labelsHash: labelsFingerprint(labels) } : {}) }] };
      return o;
    };
    it.each([
      { name: 'labels changed: dropped (under the old fingerprint)', req: review('UPDATE', obj(PATH, { team: 'search' }, 'staging'), approved({ team: 'storefront' })), want: [labelsFingerprint({ team: 'storefront' })] },
      { name: 'labels added to an object approved without any', req: review('UPDATE', obj(PATH, { team: 'search' }, 'staging'), approved()), want: [undefined] },
      { name: 'labels unchanged (a spec edit): nothing to drop', req: review('UPDATE', obj(PATH, { team: 'storefront' }, 'staging', { name: 'renamed' }), approved({ team: 'storefront' })), want: [] },
      { name: 'a dry run drops nothing', req: { ...review('UPDATE', obj(PATH, { team: 'search' }, 'staging'), approved({ team: 'storefront' })), dryRun: true }, want: [] },
      { name: 'a refused change drops nothing', req: review('UPDATE', obj(PATH, {}, 'staging'), approved(PAYMENTS)), want: [] },
    ])('$name', async ({ req, want }) => {
      const dropped: (string | undefined)[] = [];
      await admission([], [], true, dropped).admit(req);
      expect(dropped).toEqual(want);
    });
  });
});
