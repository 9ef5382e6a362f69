// Leader election's renewals (issue 22), with a fake clock and a fake of our
// RestClient that plays kube-apiserver's Lease: a renewal that fails late is
// timed when it fails, and one that hangs is aborted when renewDeadline is
// reached, so the leader stops leading in time.
import { describe, expect, it } from 'vitest';
import type { RestClient, RequestOpts } from '../../../client/src/rest-client.ts';
import { memoryLogger } from '../log/logger.ts';
import { LeaseElection } from './lease-election.ts';

const T0 = Date.parse('2026-12-07T10:00:00Z');
const DEADLINE = 10_000;

/** A fake client whose every call does what the test set with `setNext`. */
function fakes() {
  let at = T0;
  const clock = { now: () => new Date(at) };
  const calls: { method: string; opts: RequestOpts | undefined }[] = [];
  let next: (method: string, opts: RequestOpts | undefined) => Promise<unknown> = () => Promise.reject(new Error('no answer set'));
  const client = {
    json: (method: string, _path: string, opts?: RequestOpts) => {
      calls.push({ method, opts });
      return next(method, opts);
    },
  } as unknown as RestClient;
  const events: string[] = [];
  const election = new LeaseElection({ client, log: memoryLogger(), clock, namespace: 'custom-system', name: 'l', identity: 'me', renewDeadlineMs: DEADLINE, onStartedLeading: () => events.push('started'), onStoppedLeading: () => events.push('stopped') });
  return {
    election,
    events,
    calls,
    advance: (ms: number) => (at += ms),
    setNext: (fn: typeof next) => (next = fn),
  };
}

describe('LeaseElection renewals', () => {
  it('a renewal that fails after renewDeadline has passed stops the leading: the failure is timed when it happens', async () => {
    const f = fakes();
    f.setNext((method, opts) => (method === 'GET' ? Promise.resolve({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l', namespace: 'custom-system', resourceVersion: '1' }, spec: { holderIdentity: 'me', leaseDurationSeconds: 15 } }) : Promise.resolve(opts?.body)));
    await f.election.tick();
    expect(f.election.isLeader).toBe(true);
    expect(f.events).toEqual(['started']);

    // Two seconds later a renewal starts; its PUT fails 9 s after that (11 s after the last renewal).
    f.advance(2_000);
    f.setNext((method) => {
      if (method === 'GET') return Promise.resolve({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l', namespace: 'custom-system', resourceVersion: '2' }, spec: { holderIdentity: 'me', leaseDurationSeconds: 15 } });
      f.advance(9_000);
      return Promise.reject(new Error('connection reset'));
    });
    await f.election.tick();
    expect(f.election.isLeader).toBe(false);
    expect(f.events).toEqual(['started', 'stopped']);
  });

  it('a renewal that hangs is aborted when renewDeadline is reached, and each call is given no more than the time left', async () => {
    const f = fakes();
    const mine = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l', namespace: 'custom-system', resourceVersion: '1' }, spec: { holderIdentity: 'me', leaseDurationSeconds: 15 } };
    f.setNext((method, opts) => (method === 'GET' ? Promise.resolve(mine) : Promise.resolve(opts?.body)));
    await f.election.tick();
    expect(f.election.isLeader).toBe(true);

    // 20 ms before the deadline the next look starts; kube-apiserver does not answer.
    f.advance(DEADLINE - 20);
    f.calls.length = 0;
    f.setNext((_method, opts) => new Promise((_resolve, reject) => opts?.signal?.addEventListener('abort', () => reject(opts.signal!.reason as Error))));
    await f.election.tick();
    expect(f.calls).toHaveLength(1);
    expect(f.calls[0]!.opts?.timeoutMs).toBeLessThanOrEqual(20);
    expect(f.calls[0]!.opts?.signal?.aborted).toBe(true);
    expect(f.election.isLeader).toBe(false);
    expect(f.events).toEqual(['started', 'stopped']);
  });

  it('a leader whose deadline has passed before it looks stops without asking', async () => {
    const f = fakes();
    f.setNext((method, opts) => (method === 'GET' ? Promise.resolve({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l', namespace: 'custom-system' }, spec: { holderIdentity: 'me' } }) : Promise.resolve(opts?.body)));
    await f.election.tick();
    f.advance(DEADLINE);
    f.calls.length = 0;
    await f.election.tick();
    expect(f.calls).toEqual([]);
    expect(f.events).toEqual(['started', 'stopped']);
  });
});
