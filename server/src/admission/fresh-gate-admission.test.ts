// The webhook waits for the consistent reads of GatePolicies and Freezes only
// so long (issue 23): kube-apiserver gives it 10 s, then fails the write with
// "context deadline exceeded", which says nothing of why. A read that does
// not answer in time, or fails, is a refusal of our own naming what could not
// be read. Fakes of the reads; the limit is the test's own, and nothing here
// measures time.
import { describe, expect, it } from 'vitest';
import type { StoredObject } from '../../../api/src/types.ts';
import { memoryLogger } from '../log/logger.ts';
import { SPEC_ONLY } from '../state/gate-sources.ts';
import type { AdmissionRequest } from './admission-review.ts';
import { FreshGateAdmission, FRESH_GATES_LIMIT_MS } from './fresh-gate-admission.ts';

const obj: StoredObject = { apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { namespace: 'shop', name: 'cart', uid: 'u1' }, spec: { name: 'Cart', states: ['dev', 'prod'] } } as StoredObject;
const review = (operation: AdmissionRequest['operation']): AdmissionRequest => ({ uid: 'r1', operation, namespace: 'shop', name: 'cart', userInfo: { username: 'eve', groups: [] }, object: operation === 'DELETE' ? null : obj, oldObject: operation === 'CREATE' ? null : obj, dryRun: true });

const never = () => new Promise<void>(() => {});
const answered = async () => {};

function admission(sources: Record<string, () => Promise<void>>, limitMs = 20) {
  return new FreshGateAdmission({ gates: SPEC_ONLY, authorizer: { authorize: async () => ({ allowed: true }) }, clock: { now: () => new Date('2026-12-08T00:00:00Z') }, log: memoryLogger(), ready: () => true, recordDeletion: async () => {}, dropApprovals: async () => {} }, sources, limitMs);
}

describe('FreshGateAdmission', () => {
  it('the limit is below the webhook\'s timeoutSeconds (10)', () => {
    expect(FRESH_GATES_LIMIT_MS).toBeLessThan(10_000);
  });

  it('a consistent read that does not answer in time: refused, naming the collection still unread', async () => {
    const r = await admission({ GatePolicies: answered, Freezes: never }).admit(review('CREATE'));
    expect(r.allowed).toBe(false);
    expect(r.status?.code).toBe(503);
    expect(r.status?.message).toMatch(/^the kubectl-custom backend could not read the current Freezes from kube-apiserver: no answer within 0\.02 s \(kube-apiserver gives this webhook 10 s\), so it cannot tell which gates this change would weaken; retry$/);
  });

  it('neither answers: both named', async () => {
    const r = await admission({ GatePolicies: never, Freezes: never }).admit(review('UPDATE'));
    expect(r.status?.message).toContain('could not read the current GatePolicies and Freezes from kube-apiserver');
  });

  it('a read that fails: refused at once with why, not after the limit', async () => {
    const r = await admission({ GatePolicies: async () => Promise.reject(new Error('kube-apiserver is not reachable')), Freezes: never }, 3_600_000).admit(review('CREATE'));
    expect(r.allowed).toBe(false);
    expect(r.status?.message).toContain('could not read the current GatePolicies (kube-apiserver is not reachable)');
  });

  it('both read: decided as GateAdmission decides; a DELETE does not wait for them', async () => {
    expect((await admission({ GatePolicies: answered, Freezes: answered }).admit(review('CREATE'))).allowed).toBe(true);
    expect((await admission({ GatePolicies: never, Freezes: never }, 3_600_000).admit(review('DELETE'))).allowed).toBe(true);
  });
});
