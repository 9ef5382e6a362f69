import { describe, expect, it } from 'vitest';
import type { HistoryEntry, Spec, Status, StoredObject, StoredStatus } from '../../../../api/src/types.ts';
import { toCustomResource } from './view.ts';
import type { GateSources } from '../../state/gate-sources.ts';

const NOW = new Date('2025-06-01T12:00:00Z');
const CREATED = '2025-06-01T10:00:00Z';
const ago = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString();

const SPEC: Spec = { name: 'Checkout', states: ['dev', 'staging', 'prod'], protectedStates: ['prod'], minSoakSeconds: { dev: 600, staging: 7200, qa: 999 } };
const HISTORY: HistoryEntry[] = [{ action: 'promote', from: 'dev', to: 'staging', user: 'alice', time: ago(3600) }];

function stored(status?: StoredStatus, metadata: Record<string, unknown> = {}): StoredObject {
  return {
    apiVersion: 'example.com/v1',
    kind: 'CustomResource',
    metadata: { name: 'checkout', namespace: 'shop', uid: 'u-1', resourceVersion: '17', generation: 2, creationTimestamp: CREATED, ...metadata },
    spec: SPEC,
    ...(status ? { status } : {}),
  };
}

describe('toCustomResource: status', () => {
  it.each<{ name: string; status?: StoredStatus; want: Status }>([
    {
      name: 'never moved: first state since creation, soak served',
      want: { state: 'dev', stateSince: CREATED, nextState: 'staging', secondsInState: 7200, soakRemainingSeconds: 0, valid: true },
    },
    {
      name: 'middle of the path with soak left; stored fields kept',
      status: { state: 'staging', stateSince: ago(3600), observedGeneration: 2, history: HISTORY },
      want: { state: 'staging', stateSince: ago(3600), observedGeneration: 2, history: HISTORY, nextState: 'prod', secondsInState: 3600, soakRemainingSeconds: 3600, valid: true, nextGates: { protected: true } },
    },
    {
      name: 'last state: no next state',
      status: { state: 'prod', stateSince: ago(30) },
      want: { state: 'prod', stateSince: ago(30), secondsInState: 30, soakRemainingSeconds: 0, valid: true },
    },
    {
      name: 'invalid state: no next state, no soak, a message',
      status: { state: 'qa', stateSince: ago(5) },
      want: {
        state: 'qa',
        stateSince: ago(5),
        secondsInState: 5,
        soakRemainingSeconds: 0,
        valid: false,
        message: 'state "qa" is not listed in spec.states; use set-state to move to one of: dev, staging, prod',
      },
    },
    {
      name: 'moved without stateSince: time unknown, whole soak left',
      status: { state: 'dev' },
      want: { state: 'dev', nextState: 'staging', soakRemainingSeconds: 600, valid: true },
    },
    {
      name: 'stateSince in the future reads as 0 s, soak not started',
      status: { state: 'dev', stateSince: ago(-60) },
      want: { state: 'dev', stateSince: ago(-60), nextState: 'staging', secondsInState: 0, soakRemainingSeconds: 600, valid: true },
    },
  ])('$name', ({ status, want }) => {
    expect(toCustomResource(stored(status), NOW).status).toEqual(want);
  });
});

describe('toCustomResource: object', () => {
  it('serves the object on custom.example.com/v1 with the same spec', () => {
    const cr = toCustomResource(stored(), NOW);
    expect(cr.apiVersion).toBe('custom.example.com/v1');
    expect(cr.kind).toBe('CustomResource');
    expect(cr.spec).toEqual(SPEC);
  });

  it('drops managedFields and selfLink, keeps the rest of the metadata', () => {
    const obj = stored(undefined, { managedFields: [{ manager: 'kubectl' }], selfLink: '/apis/x', labels: { tier: 'web' }, annotations: { a: 'b' } });
    const cr = toCustomResource(obj, NOW);
    expect(cr.metadata).toEqual({ name: 'checkout', namespace: 'shop', uid: 'u-1', resourceVersion: '17', generation: 2, creationTimestamp: CREATED, labels: { tier: 'web' }, annotations: { a: 'b' } });
    // The cached object is not touched.
    expect(obj.metadata).toHaveProperty('managedFields');
    expect(obj.metadata).toHaveProperty('selfLink');
  });

  it('does not change the stored status', () => {
    const status: StoredStatus = { state: 'staging', stateSince: ago(10) };
    toCustomResource(stored(status), NOW);
    expect(status).toEqual({ state: 'staging', stateSince: ago(10) });
  });

  it('has no stateSince or secondsInState without a creation time', () => {
    const obj = stored();
    delete obj.metadata.creationTimestamp;
    expect(toCustomResource(obj, NOW).status).toEqual({ state: 'dev', nextState: 'staging', soakRemainingSeconds: 600, valid: true });
  });
});

describe('toCustomResource: the next move\'s gates from policies and freezes', () => {
  it('counts a GatePolicy\'s gates and the freezes holding the next state; serves the spec as written', () => {
    const obj = stored({ state: 'staging', stateSince: ago(60), approvals: [{ to: 'prod', from: 'staging', user: 'bob', time: ago(30), generation: 1 }] });
    obj.metadata.generation = 1;
    const gates: GateSources = {
      effective: (o) => ({ spec: { ...o.spec, requiredApprovals: { prod: 2 }, minSoakSeconds: { staging: 120 } }, sources: new Map(), checks: new Map() }),
      freezes: (_o, state) => (state === 'prod' ? [{ namespace: 'custom-system', name: 'holiday', reason: 'holiday' }] : []),
      freezesInForce: () => [],
      mayHaveChecks: () => false,
    };
    const cr = toCustomResource(obj, NOW, gates);
    expect(cr.spec).toEqual(obj.spec);
    expect(cr.status.soakRemainingSeconds).toBe(60);
    expect(cr.status.nextGates).toEqual({ protected: true, approvals: { needed: 2, given: 1 }, frozenBy: ['custom-system/holiday'] });
  });
});
