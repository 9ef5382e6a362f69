import { describe, expect, it } from 'vitest';
import type { HistoryEntry, StoredStatus } from '../../../api/src/types.ts';
import { statusPatch } from './status-store.ts';

const entry = (seq: number): HistoryEntry => ({ action: 'promote', from: 'dev', to: 'prod', user: 'alice', time: `2026-01-01T00:00:0${seq}Z`, seq, hash: `h${seq}` });

describe('statusPatch: the merge patch of a status change', () => {
  it.each<{ name: string; before: StoredStatus | undefined; after: StoredStatus; want: Record<string, unknown> }>([
    { name: 'the first change of an object never moved', before: undefined, after: { state: 'prod', stateSince: 't1', history: [entry(1)] }, want: { state: 'prod', stateSince: 't1', history: [entry(1)] } },
    {
      name: 'a move: state, stateSince and the whole window (a list is replaced whole); approvals dropped are null',
      before: { state: 'dev', stateSince: 't0', history: [entry(1)], approvals: [{ to: 'prod', from: 'dev', user: 'bob', time: 't', generation: 1 }], observedGeneration: 1 },
      after: { state: 'prod', stateSince: 't1', history: [entry(1), entry(2)], observedGeneration: 1 },
      want: { state: 'prod', stateSince: 't1', history: [entry(1), entry(2)], approvals: null },
    },
    {
      name: 'unchanged fields are left out, whatever the order of their keys as kube-apiserver wrote them',
      before: { history: [{ user: 'alice', action: 'promote', from: 'dev', to: 'prod', time: 't', seq: 1, hash: 'h' } as HistoryEntry], state: 'prod' },
      after: { state: 'prod', history: [{ action: 'promote', from: 'dev', to: 'prod', user: 'alice', time: 't', seq: 1, hash: 'h' }], approvals: [] },
      want: { approvals: [] },
    },
  ])('$name', ({ before, after, want }) => {
    expect(statusPatch(before, after)).toEqual(want);
  });
});
