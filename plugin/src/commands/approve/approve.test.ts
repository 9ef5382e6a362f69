import { describe, expect, it } from 'vitest';
import type { Approval, CustomResourceState } from '../../../../api/src/types.ts';
import { run } from '../../root-command.ts';
import { fakeClient, harness } from '../../testing/harness.ts';

const OBJ = '/apis/custom.example.com/v1/namespaces/shop/customresources/cart';

const approval = (user: string, to = 'prod'): Approval => ({ to, from: 'staging', user, time: '2025-06-01T12:00:00Z', generation: 1 });

/** The state as the server answers the approver `viewer`: describe-state's approvals check leaves the viewer out, as the would-be mover. */
function view(approvals: Approval[], viewer: string, needed = 2): CustomResourceState {
  return {
    kind: 'CustomResourceState',
    apiVersion: 'custom.example.com/v1',
    metadata: { name: 'cart', namespace: 'shop' },
    displayName: 'Cart',
    state: 'staging',
    nextState: 'prod',
    path: ['dev', 'staging', 'prod'],
    position: 1,
    valid: true,
    protectedStates: ['prod'],
    gates: { minSoakSeconds: 0, soakRemainingSeconds: 0, nextStateProtected: true, reasonRequired: true, promoteBlockedBy: ['approvals'] },
    allowed: { promote: false, promoteVerb: true, setState: true, enterNextState: true },
    history: [],
    checks: [{ gate: 'approvals', met: false, message: '', sources: [{ kind: 'spec' }], approvals: { needed, by: approvals.filter((a) => a.to === 'prod' && a.user !== viewer).map((a) => a.user) } }],
    approvals,
  };
}

describe('approve', () => {
  it.each<{ name: string; argv: string[]; viewer: string; after: Approval[]; body: Record<string, unknown>; want: string }>([
    {
      name: 'the first approval: the approver is named, though describe-state would leave them out as the mover',
      argv: ['approve', 'cart', '--reason', 'reviewed'], viewer: 'alice', after: [approval('alice')],
      body: { from: 'staging', reason: 'reviewed' },
      want: 'cart approved: staging → prod (2 needed, not counting the promoter\'s own; given by alice)\n',
    },
    {
      name: 'every approver of the move, in the order given, the same whoever asks',
      argv: ['approve', 'cart'], viewer: 'bob', after: [approval('alice'), approval('bob')],
      body: { from: 'staging' },
      want: 'cart approved: staging → prod (2 needed, not counting the promoter\'s own; given by alice, bob)\n',
    },
    {
      name: 'a revocation that leaves none',
      argv: ['approve', 'cart', '--revoke'], viewer: 'bob', after: [],
      body: { from: 'staging', revoke: true },
      want: 'cart approval revoked: staging → prod (2 needed, not counting the promoter\'s own; given by nobody yet)\n',
    },
    {
      name: 'a move past the next state (a set-state jump): who approved it; the count is for the next move only',
      argv: ['approve', 'cart', '--to', 'later'], viewer: 'bob', after: [approval('bob', 'later'), approval('alice')],
      body: { from: 'staging', to: 'later' },
      want: 'cart approved: staging → later (given by bob)\n',
    },
    {
      name: 'users from the server are escaped',
      argv: ['approve', 'cart'], viewer: 'bob', after: [approval('eve\x1b[2J')],
      body: { from: 'staging' },
      want: 'cart approved: staging → prod (2 needed, not counting the promoter\'s own; given by eve\\x1b[2J)\n',
    },
  ])('$name', async ({ argv, viewer, after, body, want }) => {
    const client = fakeClient({ [`GET ${OBJ}/state`]: view([], viewer), [`POST ${OBJ}/approve`]: view(after, viewer) });
    const h = harness({ client });
    expect(await run([...argv, '-n', 'shop'], h.deps)).toBe(0);
    expect(h.out()).toBe(want);
    expect(h.err()).toBe('');
    expect(client.calls[1]).toEqual({ method: 'POST', path: `${OBJ}/approve`, opts: { body } });
  });
});
