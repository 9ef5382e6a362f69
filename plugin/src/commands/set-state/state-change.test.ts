import { describe, expect, it } from 'vitest';
import type { CustomResourceState, HistoryEntry } from '../../../../api/src/types.ts';
import { run } from '../../root-command.ts';
import { apiError, fakeClient, harness } from '../../testing/harness.ts';

const OBJ = '/apis/custom.example.com/v1/namespaces/shop/customresources/checkout';

function view(state: string, history: HistoryEntry[] = []): CustomResourceState {
  return {
    kind: 'CustomResourceState',
    apiVersion: 'custom.example.com/v1',
    metadata: { name: 'checkout', namespace: 'shop' },
    displayName: 'Checkout',
    state,
    path: ['dev', 'staging', 'prod'],
    position: ['dev', 'staging', 'prod'].indexOf(state),
    valid: true,
    protectedStates: ['prod'],
    gates: { minSoakSeconds: 0, soakRemainingSeconds: 0, nextStateProtected: false, reasonRequired: false, promoteBlockedBy: [] },
    allowed: { promote: true, promoteVerb: true, setState: true, enterNextState: true },
    history,
  };
}

const overrideEntry = (overrode?: string[]): HistoryEntry => ({ seq: 7, action: 'override', from: 'staging', to: 'prod', user: 'carol', time: '2025-06-01T12:00:00Z', reason: 'incident', ...(overrode ? { overrode } : {}), hash: 'h7' });
const promoteEntry: HistoryEntry = { seq: 7, action: 'promote', from: 'staging', to: 'prod', user: 'carol', time: '2025-06-01T12:00:00Z', hash: 'h7' };

describe('promote and set-state', () => {
  it.each<{ name: string; argv: string[]; method: string; sub: string; after: CustomResourceState; body: Record<string, unknown>; query: Record<string, string>; want: string }>([
    {
      name: 'promote: from is the state seen, no override key',
      argv: ['promote', 'checkout', '--reason', 'tests green'],
      method: 'POST', sub: 'promote', after: view('prod', [promoteEntry]),
      body: { from: 'staging', reason: 'tests green' }, query: {},
      want: 'checkout promoted: staging → prod\n',
    },
    {
      name: 'promote --override: sent as override: true, the line names the gates passed',
      argv: ['promote', 'checkout', '--override', '--reason', 'incident'],
      method: 'POST', sub: 'promote', after: view('prod', [overrideEntry(['soak', 'approvals'])]),
      body: { from: 'staging', reason: 'incident', override: true }, query: {},
      want: 'checkout promoted: staging → prod (override of soak, approvals)\n',
    },
    {
      name: 'set-state --override with no gate named',
      argv: ['set-state', 'checkout', 'prod', '--override', '--reason', 'incident'],
      method: 'PUT', sub: 'state', after: view('prod', [overrideEntry()]),
      body: { state: 'prod', from: 'staging', reason: 'incident', override: true }, query: {},
      want: 'checkout moved: staging → prod (override)\n',
    },
    {
      name: 'set-state --override --dry-run: nothing recorded, both said',
      argv: ['set-state', 'checkout', 'prod', '--override', '--reason', 'incident', '--dry-run'],
      method: 'PUT', sub: 'state', after: view('prod', [overrideEntry(['soak'])]),
      body: { state: 'prod', from: 'staging', reason: 'incident', override: true }, query: { dryRun: 'All' },
      want: 'checkout moved: staging → prod (override; server dry run)\n',
    },
    {
      name: 'states from the server are escaped',
      argv: ['set-state', 'checkout', 'prod'],
      method: 'PUT', sub: 'state', after: { ...view('prod\x1b[2J'), path: ['dev'] },
      body: { state: 'prod', from: 'staging' }, query: {},
      want: 'checkout moved: staging → prod\\x1b[2J\n',
    },
  ])('$name', async ({ argv, method, sub, after, body, query, want }) => {
    const client = fakeClient({ [`GET ${OBJ}/state`]: view('staging'), [`${method} ${OBJ}/${sub}`]: after });
    const h = harness({ client });
    expect(await run([...argv, '-n', 'shop'], h.deps)).toBe(0);
    expect(h.out()).toBe(want);
    expect(h.err()).toBe('');
    expect(client.calls[1]).toEqual({ method, path: `${OBJ}/${sub}`, opts: { body, query } });
  });

  it('a refused override says why in one line per gate, escaped', async () => {
    const refusal = apiError(422, 'Invalid', 'invalid', `${OBJ}/promote`, {
      name: 'checkout', kind: 'CustomResource', causes: [{ field: 'reason', message: 'Invalid value: "\x1b[2J": control characters are not allowed' }],
    });
    const client = fakeClient({ [`GET ${OBJ}/state`]: view('staging'), [`POST ${OBJ}/promote`]: () => { throw refusal; } });
    const h = harness({ client });
    expect(await run(['promote', 'checkout', '--override', '--reason', '\x1b[2J'], h.deps)).toBe(1);
    expect(h.err()).toBe('The CustomResource "checkout" is invalid: reason: Invalid value: "\\x1b[2J": control characters are not allowed\n');
  });

  it('--override is in the help of both verbs', async () => {
    for (const verb of ['promote', 'set-state']) {
      const h = harness();
      expect(await run([verb, '--help'], h.deps)).toBe(0);
      expect(h.out()).toContain('--override');
    }
  });
});
