import { describe, expect, it } from 'vitest';
import type { CustomResourceState } from '../../../../api/src/types.ts';
import { newChalk } from '../../output/color.ts';
import { renderPath, renderStateView } from '../../output/state-printer.ts';

const NOW = new Date('2025-06-01T12:00:00Z');
const ago = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString();
const MIN = 60;
const HOUR = 3600;
const DAY = 24 * HOUR;
const plain = newChalk(false);

/** As state-rest.ts view() answers for an object mid-path, soaking, with a protected next state. */
function soaking(): CustomResourceState {
  return {
    kind: 'CustomResourceState',
    apiVersion: 'custom.example.com/v1',
    metadata: { name: 'checkout', namespace: 'shop', resourceVersion: '42', creationTimestamp: ago(10 * DAY) },
    displayName: 'Checkout Service',
    state: 'staging',
    stateSince: ago(45 * MIN),
    secondsInState: 45 * MIN,
    path: ['dev', 'staging', 'prod'],
    position: 1,
    nextState: 'prod',
    valid: true,
    protectedStates: ['prod'],
    gates: { minSoakSeconds: 2 * HOUR, soakRemainingSeconds: 75 * MIN, nextStateProtected: true, reasonRequired: true, promoteBlockedBy: ['soak'] },
    allowed: { promote: false, promoteVerb: true, setState: true, enterNextState: true },
    history: [
      { action: 'promote', from: 'dev', to: 'staging', user: 'alice', time: ago(3 * DAY) },
      { action: 'set-state', from: 'staging', to: 'dev', user: 'bob', time: ago(2 * DAY), reason: 'roll back' },
      { action: 'promote', from: 'dev', to: 'staging', user: 'carol@example.com', time: ago(45 * MIN), reason: 'fix deployed' },
    ],
  };
}

/** As view() answers when spec.states no longer lists the current state. */
function invalid(): CustomResourceState {
  return {
    kind: 'CustomResourceState',
    apiVersion: 'custom.example.com/v1',
    metadata: { name: 'search', namespace: 'web', resourceVersion: '7', creationTimestamp: ago(30 * DAY) },
    displayName: 'Search',
    state: 'qa',
    stateSince: ago(26 * HOUR),
    secondsInState: 26 * HOUR,
    path: ['dev', 'staging', 'prod'],
    position: -1,
    valid: false,
    message: 'state "qa" is not listed in spec.states; use set-state to move to one of: dev, staging, prod',
    protectedStates: [],
    gates: { minSoakSeconds: 0, soakRemainingSeconds: 0, nextStateProtected: false, reasonRequired: false, promoteBlockedBy: ['invalid-state', 'permission'] },
    allowed: { promote: false, promoteVerb: false, setState: true, enterNextState: true },
    history: [{ action: 'set-state', from: 'dev', to: 'qa', user: 'dave', time: ago(26 * HOUR), reason: 'manual test' }],
  };
}

function noTrailingSpaces(text: string): void {
  for (const l of text.split('\n')) expect(l).toBe(l.trimEnd());
}

describe('renderStateView goldens', () => {
  it('mid-path, soaking, next state protected', async () => {
    const text = renderStateView(soaking(), { chalk: plain, now: NOW });
    noTrailingSpaces(text);
    expect(text).toContain('dev → [staging] → prod*   (* protected)');
    await expect(text).toMatchFileSnapshot('./testdata/describe-state.golden.txt');
  });

  it('invalid state', async () => {
    const text = renderStateView(invalid(), { chalk: plain, now: NOW });
    noTrailingSpaces(text);
    expect(text).toContain('(current: qa, not in the path)');
    await expect(text).toMatchFileSnapshot('./testdata/describe-state-invalid.golden.txt');
  });
});

describe('renderStateView lines', () => {
  const line = (text: string, key: string) => text.split('\n').find((l) => l.startsWith(`${key}:`))?.replace(/^\S[^:]*:\s+/, '');

  it.each<{ name: string; view: () => CustomResourceState; key: string; want: string }>([
    { name: 'history newest first', view: soaking, key: 'History', want: '(newest first)' },
    { name: 'no history', view: () => ({ ...soaking(), history: [] }), key: 'History', want: '<none>' },
    {
      name: 'last state',
      view: () => ({ ...soaking(), state: 'prod', position: 2, nextState: undefined, gates: { ...soaking().gates, minSoakSeconds: 0, soakRemainingSeconds: 0, nextStateProtected: false, reasonRequired: false, promoteBlockedBy: ['last-state'] } }),
      key: 'Next',
      want: '<none>',
    },
    {
      name: 'last state: why promote is refused',
      view: () => ({ ...soaking(), state: 'prod', position: 2, nextState: undefined, gates: { ...soaking().gates, promoteBlockedBy: ['last-state'] } }),
      key: 'You May',
      want: 'promote: no (already at the last state), set-state: yes',
    },
    { name: 'soak served', view: () => ({ ...soaking(), gates: { ...soaking().gates, soakRemainingSeconds: 0, promoteBlockedBy: [] } }), key: 'Gates', want: 'soak: 120m served, reason required' },
    { name: 'soak left', view: soaking, key: 'Gates', want: 'soak: 75m left of 120m, reason required' },
    { name: 'no gates', view: invalid, key: 'Gates', want: '<none>' },
    { name: 'every blocker', view: () => ({ ...soaking(), gates: { ...soaking().gates, promoteBlockedBy: ['soak', 'permission', 'enter-permission', 'something-new'] } }), key: 'You May', want: 'promote: no (soak time not served; no permission to promote; no permission to enter the next state; something-new), set-state: yes' },
    { name: 'allowed', view: () => ({ ...soaking(), allowed: { ...soaking().allowed, promote: true }, gates: { ...soaking().gates, promoteBlockedBy: [] } }), key: 'You May', want: 'promote: yes, set-state: yes' },
    { name: 'protected next state', view: soaking, key: 'Next', want: 'prod (protected: needs the enter permission and a reason)' },
    { name: 'state with time in it', view: soaking, key: 'State', want: `staging for 45m (since ${ago(45 * MIN)})` },
    { name: 'state without stateSince', view: () => ({ ...soaking(), stateSince: undefined }), key: 'State', want: 'staging' },
    { name: 'invalid state', view: invalid, key: 'State', want: `qa (invalid) for 26h (since ${ago(26 * HOUR)})` },
    { name: 'problem of an invalid state', view: invalid, key: 'Problem', want: 'state "qa" is not listed in spec.states; use set-state to move to one of: dev, staging, prod' },
  ])('$name', ({ view, key, want }) => {
    const text = renderStateView(view(), { chalk: plain, now: NOW });
    expect(line(text, key)).toBe(want);
  });

  it('a valid object has no Problem line', () => {
    expect(renderStateView(soaking(), { chalk: plain, now: NOW })).not.toContain('Problem:');
  });

  it('aligns values one column past the longest key', () => {
    const lines = renderStateView(soaking(), { chalk: plain, now: NOW }).split('\n');
    const starts = new Set(lines.filter((l) => /^[A-Z][A-Za-z ]*: /.test(l) && !l.startsWith('History:')).map((l) => l.search(/(?<=: +)\S/)));
    expect([...starts]).toEqual(['Display Name:'.length + 2]);
  });
});

describe('renderPath', () => {
  it.each([
    { name: 'first state', v: { path: ['dev', 'prod'], state: 'dev', protectedStates: [], valid: true }, want: '[dev] → prod' },
    { name: 'protected states starred', v: { path: ['dev', 'staging', 'prod'], state: 'prod', protectedStates: ['staging', 'prod'], valid: true }, want: 'dev → staging* → [prod*]' },
    { name: 'invalid', v: { path: ['dev', 'prod'], state: 'qa', protectedStates: [], valid: false }, want: 'dev → prod   (current: qa, not in the path)' },
  ])('$name', ({ v, want }) => {
    expect(renderPath(v, plain)).toBe(want);
  });

  it('colours by position: cyan first, yellow middle, magenta protected, bold current', () => {
    expect(renderPath({ path: ['dev', 'staging', 'prod'], state: 'staging', protectedStates: ['prod'], valid: true }, newChalk(true))).toBe(
      '\x1b[36mdev\x1b[39m → \x1b[1m[\x1b[33mstaging\x1b[39m]\x1b[22m → \x1b[35mprod\x1b[39m*',
    );
  });
});
