import { describe, expect, it } from 'vitest';
import type { GatePolicy } from '../../../api/src/types.ts';
import { memoryLogger } from '../log/logger.ts';
import { effectiveGates } from '../state/effective-gates.ts';
import { PolicyStore } from './policy-cache.ts';

function policy(namespace: string, name: string, rv = '1', requiredApprovals = 1): GatePolicy {
  return {
    apiVersion: 'example.com/v1',
    kind: 'GatePolicy',
    metadata: { namespace, name, resourceVersion: rv },
    spec: { rules: [{ states: ['prod'], requiredApprovals }] },
  };
}

const names = (ps: readonly GatePolicy[]) => ps.map((p) => `${p.metadata.namespace}/${p.metadata.name}`);

/** A store fed as the reflector feeds it: a list, then events. */
function fed(list: GatePolicy[], events: ['ADDED' | 'MODIFIED' | 'DELETED', GatePolicy][] = []): PolicyStore {
  const s = new PolicyStore();
  s.replace(list, '10');
  for (const [type, p] of events) s.apply(type, p);
  return s;
}

describe('PolicyStore', () => {
  it('is not synced, and knows no policy, before the first list', () => {
    const s = new PolicyStore();
    expect(s.synced).toBe(false);
    expect(s.policiesFor('shop')).toEqual([]);
    s.replace([], '1');
    expect(s.synced).toBe(true);
  });

  it.each<{ name: string; store: () => PolicyStore; namespace: string; want: string[] }>([
    {
      name: "its own namespace's and custom-system's, in namespace/name order; not another namespace's",
      store: () => fed([policy('shop', 'b'), policy('web', 'a'), policy('custom-system', 'z'), policy('shop', 'a')]),
      namespace: 'shop',
      want: ['custom-system/z', 'shop/a', 'shop/b'],
    },
    {
      name: 'a namespace sorting before custom-system comes first',
      store: () => fed([policy('custom-system', 'g'), policy('apps', 'p')]),
      namespace: 'apps',
      want: ['apps/p', 'custom-system/g'],
    },
    {
      name: 'in custom-system itself, each policy once',
      store: () => fed([policy('custom-system', 'g'), policy('shop', 'p')]),
      namespace: 'custom-system',
      want: ['custom-system/g'],
    },
    {
      name: 'a namespace with none of its own: the cluster-wide ones',
      store: () => fed([policy('custom-system', 'g'), policy('shop', 'p')]),
      namespace: 'empty',
      want: ['custom-system/g'],
    },
    {
      name: 'ADDED after the list',
      store: () => fed([], [['ADDED', policy('shop', 'new')]]),
      namespace: 'shop',
      want: ['shop/new'],
    },
    {
      name: 'DELETED',
      store: () => fed([policy('shop', 'a'), policy('custom-system', 'g')], [['DELETED', policy('shop', 'a')], ['DELETED', policy('custom-system', 'g')]]),
      namespace: 'shop',
      want: [],
    },
    {
      name: 'a re-list (after 410) drops what is gone',
      store: () => {
        const s = fed([policy('shop', 'a'), policy('shop', 'b')]);
        s.replace([policy('shop', 'b', '20')], '20');
        return s;
      },
      namespace: 'shop',
      want: ['shop/b'],
    },
  ])('policiesFor: $name', ({ store, namespace, want }) => {
    expect(names(store().policiesFor(namespace))).toEqual(want);
  });

  it('answers with the latest version of a policy after MODIFIED, though it had answered before', () => {
    const s = fed([policy('shop', 'p', '1', 1)]);
    expect(s.policiesFor('shop')[0]?.spec.rules[0]?.requiredApprovals).toBe(1);
    s.apply('MODIFIED', policy('shop', 'p', '2', 3));
    expect(s.policiesFor('shop').map((p) => [p.metadata.resourceVersion, p.spec.rules[0]?.requiredApprovals])).toEqual([['2', 3]]);
    s.apply('ADDED', policy('custom-system', 'g'));
    expect(names(s.policiesFor('shop'))).toEqual(['custom-system/g', 'shop/p']);
    expect(s.size).toBe(2);
  });

  it('keeps no managedFields', () => {
    const p = policy('shop', 'p');
    p.metadata['managedFields'] = [{ manager: 'kubectl' }];
    expect(fed([p]).policiesFor('shop')[0]?.metadata).not.toHaveProperty('managedFields');
  });

  it('logs the list and each change, naming the policy', () => {
    const log = memoryLogger();
    const s = new PolicyStore(log);
    s.replace([policy('shop', 'a')], '5');
    s.apply('ADDED', policy('custom-system', 'g', '6'));
    s.apply('DELETED', policy('shop', 'a', '7'));
    expect(log.lines.map(({ msg, count, policy: p, resourceVersion }) => ({ msg, count, policy: p, resourceVersion }))).toEqual([
      { msg: 'gate policies listed', count: 1, policy: undefined, resourceVersion: '5' },
      { msg: 'gate policy added', count: undefined, policy: 'custom-system/g', resourceVersion: '6' },
      { msg: 'gate policy deleted', count: undefined, policy: 'shop/a', resourceVersion: '7' },
    ]);
  });

  it('feeds effectiveGates: a cluster-wide policy and the namespace\'s own gate an object; another namespace\'s does not', () => {
    const s = fed([policy('custom-system', 'global', '1', 1), policy('shop', 'strict', '1', 2), policy('web', 'stricter', '1', 5)]);
    const gates = effectiveGates({ metadata: { namespace: 'shop' }, spec: { name: 'x', states: ['dev', 'prod'] } }, s.policiesFor('shop'));
    expect(gates.requiredApprovals.get('prod')).toEqual({ count: 2, sources: [{ kind: 'GatePolicy', namespace: 'shop', name: 'strict' }] });
  });
});
