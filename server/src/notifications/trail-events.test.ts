// What a NotificationPolicy sends of a trail: pure, as a table.
import { describe, expect, it } from 'vitest';
import type { HistoryEntry, NotificationPolicy } from '../../../api/src/types.ts';
import { conditionProblem, plan, selects, type TrailObject } from './trail-events.ts';

const policy = (ns: string, spec: Partial<NotificationPolicy['spec']> = {}): NotificationPolicy => ({ apiVersion: 'example.com/v1', kind: 'NotificationPolicy', metadata: { name: 'p', namespace: ns }, spec: { sinks: [{ name: 'hook', webhook: { url: 'https://x', secretRef: { name: 's' } } }], ...spec } });
const obj: TrailObject = { uid: 'u1', namespace: 'shop', name: 'cart', labels: { team: 'pay' }, states: ['dev', 'staging', 'prod'], approvalsInto: (s) => (s === 'prod' ? 2 : 0) };
// Hashes are opaque here: the events name entries by them.
const e = (seq: number, action: HistoryEntry['action'], from: string | undefined, to: string | undefined, reason?: string): HistoryEntry => ({ seq, action, ...(from ? { from } : {}), ...(to ? { to } : {}), user: 'alice', time: `2026-12-07T10:0${seq}:00Z`, ...(reason ? { reason } : {}), hash: `h${seq}` });
const TRAIL = [e(1, 'promote', 'dev', 'staging'), e(2, 'approve', 'staging', 'prod'), e(3, 'revoke', 'staging', 'prod'), e(4, 'set-state', 'staging', 'dev', 'oops'), e(5, 'override', 'dev', 'prod'), e(6, 'deleted', 'prod', undefined)];

describe('selects', () => {
  it.each([
    { name: 'its own namespace, any labels', ns: 'shop', selector: undefined, objNs: 'shop', want: true },
    { name: 'another namespace', ns: 'shop', selector: undefined, objNs: 'other', want: false },
    { name: 'custom-system selects every namespace', ns: 'custom-system', selector: undefined, objNs: 'other', want: true },
    { name: 'by labels', ns: 'shop', selector: { matchLabels: { team: 'pay' } }, objNs: 'shop', want: true },
    { name: 'labels that do not match', ns: 'shop', selector: { matchLabels: { team: 'ops' } }, objNs: 'shop', want: false },
  ])('$name', ({ ns, selector, objNs, want }) => {
    expect(selects(policy(ns, selector ? { selector } : {}), objNs, { team: 'pay' })).toBe(want);
  });
});

describe('plan', () => {
  it.each([
    // Entry 1 moves into staging, whose next move (into prod) needs approvals: promoted, then approval-needed.
    { name: 'every event, revokes aside', spec: {}, after: 0, want: [[1, ['h1', 'h1.approval-needed']], [2, ['h2']], [3, []], [4, ['h4']], [5, ['h5']], [6, ['h6']]] },
    { name: 'only rollbacks', spec: { events: ['rolled-back' as const] }, after: 0, want: [[1, []], [2, []], [3, []], [4, ['h4']], [5, []], [6, []]] },
    { name: 'after a cursor', spec: { events: ['deleted' as const, 'overridden' as const] }, after: 4, want: [[5, ['h5']], [6, ['h6']]] },
    { name: 'a condition', spec: { condition: 'entry.to == "prod" && event != "approved"' }, after: 0, want: [[1, []], [2, []], [3, []], [4, []], [5, ['h5']], [6, []]] },
  ])('$name', ({ spec, after, want }) => {
    expect(plan(policy('shop', spec), obj, TRAIL, after).map((p) => [p.seq, p.events.map((ev) => ev.id)])).toEqual(want);
  });

  it('an entry that recorded its move judges by what was recorded, not by the path and gates of today', () => {
    // Today prod needs approvals and staging comes after dev; when these moves were made, the gates and the path were otherwise.
    const recorded = [
      { ...e(1, 'promote', 'dev', 'staging'), direction: 'forward' as const },
      { ...e(2, 'set-state', 'prod', 'dev'), direction: 'forward' as const, next: { state: 'staging', approvals: 1 } },
      { ...e(3, 'set-state', 'dev', 'staging'), direction: 'backward' as const },
    ];
    const got = plan(policy('shop'), obj, recorded, 0).map((p) => p.events.map((ev) => ev.type.replace('com.example.custom.', '')));
    expect(got).toEqual([['promoted'], ['promoted', 'approval-needed'], ['rolled-back']]);
  });

  it('each event carries the previous hash: "" for seq 1, the entry before it when known', () => {
    const got = plan(policy('shop'), obj, TRAIL, 3);
    expect(got.map((p) => p.events.map((ev) => ev.data.previousHash))).toEqual([['h3'], ['h4'], ['h5']]);
    expect(plan(policy('shop'), obj, TRAIL, 0)[0]!.events[0]!.data.previousHash).toBe('');
    expect(plan(policy('shop'), obj, TRAIL.slice(4), 4)[0]!.events[0]!.data.previousHash).toBeUndefined();
  });

  it('a condition that fails on an event skips it and says why; one that does not parse is a problem of the policy', () => {
    const got = plan(policy('shop', { condition: 'entry.reason.size() > 2' }), obj, TRAIL.slice(3, 4), 0);
    expect(got).toEqual([{ seq: 4, events: [expect.objectContaining({ id: 'h4' })], problems: [] }]);
    const failing = plan(policy('shop', { condition: 'entry.reason.size() > 2' }), obj, TRAIL.slice(0, 1), 0);
    expect(failing[0]!.events).toEqual([]);
    expect(failing[0]!.problems[0]).toMatch(/^the condition failed on seq 1 \(promoted\): /);
    expect(conditionProblem(policy('shop', { condition: 'entry.to ==' }))).toBeDefined();
    expect(conditionProblem(policy('shop', { condition: 'entry.to == "prod"' }))).toBeUndefined();
  });
});
