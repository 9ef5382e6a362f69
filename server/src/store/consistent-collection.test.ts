import { describe, expect, it } from 'vitest';
import type { GatePolicy } from '../../../api/src/types.ts';
import type { RestClient } from '../../../client/src/rest-client.ts';
import { ConnectionError } from '../../../client/src/errors.ts';
import { StatusError } from '../status/status-error.ts';
import { CachePosition, ConsistentCollection, holdsExactly } from './consistent-collection.ts';
import { PolicyStore } from './policy-cache.ts';

function policy(name: string, rv: string, requiredApprovals = 1): GatePolicy {
  return { apiVersion: 'example.com/v1', kind: 'GatePolicy', metadata: { namespace: 'shop', name, resourceVersion: rv }, spec: { rules: [{ states: ['prod'], requiredApprovals }] } };
}

/** A client whose LIST answers what `answer` says now, counting the calls; pure logic, no API server behaviour. */
function listing(answer: () => { items: GatePolicy[]; resourceVersion: string } | Error): RestClient & { calls: number } {
  const c = {
    calls: 0,
    json: async () => {
      c.calls++;
      await new Promise((r) => setTimeout(r, 1));
      const a = answer();
      if (a instanceof Error) throw a;
      return { metadata: { resourceVersion: a.resourceVersion }, items: structuredClone(a.items) };
    },
  };
  return c as unknown as RestClient & { calls: number };
}

const approvalsOf = (s: PolicyStore) => s.policiesFor('shop').map((p) => `${p.metadata.name}:${p.spec.rules[0]!.requiredApprovals}`);

describe('CachePosition', () => {
  it('leaves out events and lists at or below a consistent read it took, and goes on after it', () => {
    const p = new CachePosition();
    expect(p.listed(10)).toBe(true);
    expect(p.event(12)).toBe(true);
    p.adopted(20);
    expect(p.resourceVersion).toBe(20);
    expect(p.event(15)).toBe(false);
    expect(p.event(20)).toBe(false);
    expect(p.listed(18)).toBe(false);
    expect(p.event(21)).toBe(true);
    expect(p.resourceVersion).toBe(21);
    p.advance(30);
    expect(p.resourceVersion).toBe(30);
  });
});

describe('holdsExactly', () => {
  it('is true only for the same objects at the same resourceVersions', () => {
    const cached = new Map([['shop/a', '1'], ['shop/b', '2']]);
    expect(holdsExactly(cached, [policy('a', '1'), policy('b', '2')])).toBe(true);
    expect(holdsExactly(cached, [policy('a', '1'), policy('b', '3')])).toBe(false);
    expect(holdsExactly(cached, [policy('a', '1')])).toBe(false);
    expect(holdsExactly(cached, [policy('a', '1'), policy('c', '2')])).toBe(false);
    expect(holdsExactly(new Map(), [])).toBe(true);
  });
});

describe('ConsistentCollection over a PolicyStore', () => {
  it('keeps the cache when it holds what kube-apiserver lists, though etcd moved on with other collections', async () => {
    const store = new PolicyStore();
    store.replace([policy('a', '5')], '10');
    const c = new ConsistentCollection({ client: listing(() => ({ items: [policy('a', '5')], resourceVersion: '99' })), path: '/x', target: store, description: 'GatePolicies' });
    await c.fresh();
    expect(c.counts).toEqual({ reads: 1, adopted: 0 });
    expect(store.resourceVersion).toBe(10);
  });

  it('takes the consistent read when the watch has not brought a change yet, and leaves out the watch\'s older events after', async () => {
    const store = new PolicyStore();
    store.replace([policy('a', '5')], '10');
    const c = new ConsistentCollection({ client: listing(() => ({ items: [policy('a', '12', 2), policy('b', '14')], resourceVersion: '20' })), path: '/x', target: store, description: 'GatePolicies' });
    await c.fresh();
    expect(c.counts.adopted).toBe(1);
    expect(approvalsOf(store)).toEqual(['a:2', 'b:1']);
    // The watch catches up: nothing it brings up to 20 goes back on what the cache holds.
    store.apply('MODIFIED', policy('a', '12', 2));
    store.apply('ADDED', policy('b', '14'));
    store.apply('DELETED', policy('b', '16'));
    expect(approvalsOf(store)).toEqual(['a:2', 'b:1']);
    store.apply('MODIFIED', policy('a', '21', 3));
    expect(approvalsOf(store)).toEqual(['a:3', 'b:1']);
    // A re-list answered before the consistent read is older than what the cache holds.
    store.replace([], '19');
    expect(approvalsOf(store)).toEqual(['a:3', 'b:1']);
  });

  it('lets callers that arrive during a read wait for the next one, one read in flight and one waiting', async () => {
    const store = new PolicyStore();
    store.replace([], '1');
    let items: GatePolicy[] = [];
    let rv = 2;
    const client = listing(() => ({ items, resourceVersion: String(rv++) }));
    const c = new ConsistentCollection({ client, path: '/x', target: store, description: 'GatePolicies' });
    const first = c.fresh();
    // Written after the first read was sent: only a later read may answer for these callers.
    items = [policy('late', '50')];
    const later = [c.fresh(), c.fresh(), c.fresh()];
    await first;
    await Promise.all(later);
    expect(client.calls).toBe(2);
    expect(approvalsOf(store)).toEqual(['late:1']);
  });

  it('fails with 503 when kube-apiserver cannot be read, so nothing is decided on stale gates', async () => {
    const store = new PolicyStore();
    store.replace([], '1');
    const c = new ConsistentCollection({ client: listing(() => new ConnectionError('https://127.0.0.1:6443', 'connect ECONNREFUSED', 'ECONNREFUSED')), path: '/x', target: store, description: 'GatePolicies' });
    const err = await c.fresh().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StatusError);
    expect((err as StatusError).status.code).toBe(503);
  });
});
