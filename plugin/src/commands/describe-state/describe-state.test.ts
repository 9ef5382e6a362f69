import { describe, expect, it } from 'vitest';
import type { CustomResourceState } from '../../../../api/src/types.ts';
import { newChalk } from '../../output/color.ts';
import { hasUnsafeCharacters } from '../../output/escape.ts';
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
      { seq: 1, action: 'promote', from: 'dev', to: 'staging', user: 'alice', time: ago(3 * DAY), hash: 'h1' },
      { seq: 2, action: 'set-state', from: 'staging', to: 'dev', user: 'bob', time: ago(2 * DAY), reason: 'roll back', hash: 'h2' },
      { seq: 3, action: 'promote', from: 'dev', to: 'staging', user: 'carol@example.com', time: ago(45 * MIN), reason: 'fix deployed', hash: 'h3' },
    ],
  };
}

/** In prod after a long life: the window holds seq 41–44, with approvals, an override and a broken freeze. */
function windowed(): CustomResourceState {
  const v = soaking();
  return {
    ...v,
    state: 'prod',
    stateSince: ago(2 * HOUR),
    position: 2,
    nextState: undefined,
    gates: { minSoakSeconds: 0, soakRemainingSeconds: 0, nextStateProtected: false, reasonRequired: false, promoteBlockedBy: ['last-state'] },
    history: [
      { seq: 41, action: 'approve', from: 'staging', to: 'prod', user: 'dave', time: ago(5 * HOUR), reason: 'looked at the canary', hash: 'h41' },
      { seq: 42, action: 'promote', from: 'staging', to: 'prod', user: 'alice', time: ago(4 * HOUR), reason: 'release 1.3', approvers: ['dave', 'erin'], hash: 'h42' },
      { seq: 43, action: 'set-state', from: 'prod', to: 'dev', user: 'bob', time: ago(3 * HOUR), reason: 'roll back', hash: 'h43' },
      { seq: 44, action: 'override', from: 'dev', to: 'prod', user: 'carol', time: ago(2 * HOUR), reason: 'hotfix for incident 4711', overrode: ['soak', 'skipped-states', 'freeze'], freeze: 'custom-system/quiet-week', hash: 'h44' },
    ],
  };
}

/** Waiting for a second approval of the move into prod, which a policy protects and a freeze holds. */
function gated(): CustomResourceState {
  const v = soaking();
  return {
    ...v,
    gates: { minSoakSeconds: 2 * HOUR, soakRemainingSeconds: 0, nextStateProtected: true, reasonRequired: true, promoteBlockedBy: ['approvals', 'freeze'] },
    allowed: { promote: false, promoteVerb: true, setState: true, enterNextState: true, approveNextState: true, overrideNextState: false },
    checks: [
      { gate: 'soak', met: true, message: '2h in staging before moving on: served', sources: [{ kind: 'spec' }], soakRemainingSeconds: 0 },
      { gate: 'protection', met: true, message: 'prod is protected: entering needs the "enter" permission and a reason (you have it)', sources: [{ kind: 'spec' }, { kind: 'GatePolicy', namespace: 'custom-system', name: 'prod-gates' }] },
      { gate: 'approvals', met: false, message: '2 approvals by others: given by bob, 1 more needed', sources: [{ kind: 'GatePolicy', namespace: 'custom-system', name: 'prod-gates' }], approvals: { needed: 2, by: ['bob'] } },
      { gate: 'freeze', met: false, message: 'frozen by custom-system/holiday until 2025-06-02T00:00:00Z: holiday freeze', sources: [], freezes: [{ namespace: 'custom-system', name: 'holiday', reason: 'holiday freeze', end: '2025-06-02T00:00:00Z' }] },
    ],
    approvals: [{ to: 'prod', from: 'staging', user: 'bob', time: ago(20 * MIN), generation: 1 }],
  };
}

/**
 * Soak served, the move into prod held by its checks (issue 21): one gate
 * per check, as the backend's describe-state sends them. error-rate (spec)
 * is mid-run with a failed measurement, no-alerts (a GatePolicy) passed,
 * health errs (Prometheus unreachable) and ticket is inconclusive.
 */
function checking(): CustomResourceState {
  const v = soaking();
  const policy = { kind: 'GatePolicy' as const, namespace: 'custom-system', name: 'prod-gates' };
  return {
    ...v,
    gates: { ...v.gates, soakRemainingSeconds: 0, promoteBlockedBy: ['checks'] },
    checks: [
      { gate: 'soak', met: true, message: '2h in staging before moving on: served', sources: [{ kind: 'spec' }], soakRemainingSeconds: 0 },
      {
        gate: 'checks', met: false, message: 'error-rate: 2 of 3 measurements, 1 failed (result[0] < 0.01)', sources: [{ kind: 'spec' }],
        check: { name: 'error-rate', provider: 'prometheus', successCondition: 'result[0] < 0.01', phase: 'Running', measured: 2, count: 3, last: { phase: 'Failed', time: ago(4 * MIN), value: '[0.042]' }, nextMeasurementAt: new Date(NOW.getTime() + 3 * MIN * 1000).toISOString() },
      },
      {
        gate: 'checks', met: true, message: 'no-alerts: passed', sources: [policy],
        check: { name: 'no-alerts', provider: 'prometheus', successCondition: 'size(result) == 0', phase: 'Successful', measured: 1, count: 1, last: { phase: 'Successful', time: ago(10 * MIN), value: '[]' } },
      },
      {
        gate: 'checks', met: false, message: 'health: error after 4 errors in a row', sources: [policy],
        check: { name: 'health', provider: 'http', successCondition: 'status == 200', phase: 'Error', measured: 4, count: 5, last: { phase: 'Error', time: ago(2 * MIN), message: 'Get "https://checkout.shop.svc/healthz": connect ECONNREFUSED 10.0.0.7:443' } },
      },
      {
        gate: 'checks', met: false, message: 'ticket: inconclusive: needs an approval', sources: [{ kind: 'spec' }],
        check: { name: 'ticket', provider: 'http', successCondition: 'body.state == "approved"', phase: 'Inconclusive', measured: 1, count: 1, last: { phase: 'Inconclusive', time: ago(30 * MIN), value: '{"status":200,"body":{"state":"in review","comments":["a long body that goes on and on"]}}' } },
      },
      {
        gate: 'checks', met: false, message: 'latency: not measured yet', sources: [{ kind: 'spec' }],
        check: { name: 'latency', provider: 'prometheus', successCondition: 'result[0] < 0.3', phase: 'Running', measured: 0, count: 3, nextMeasurementAt: ago(5) },
      },
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

  it('a window after archiving: seq, override marked with its gates, approvers and freeze, the earlier entries', async () => {
    const text = renderStateView(windowed(), { chalk: plain, now: NOW });
    noTrailingSpaces(text);
    expect(text).toMatch(/^ {2}44 .* override \(soak, skipped-states, freeze\) .* freeze custom-system\/quiet-week .* hotfix for incident 4711$/m);
    expect(text).toMatch(/^ {2}42 .* promote .* approved by dave, erin .* release 1\.3$/m);
    expect(text.endsWith('  … and 40 entries before these (seq 1–40): kubectl custom history checkout -n shop\n')).toBe(true);
    await expect(text).toMatchFileSnapshot('./testdata/describe-state-window.golden.txt');
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

  it('the history columns', () => {
    expect(renderStateView(soaking(), { chalk: plain, now: NOW })).toMatch(/^ {2}SEQ {3}TIME {3,}AGE {3}ACTION {3,}FROM {3,}TO {3,}USER {3,}DETAILS {3}REASON$/m);
  });

  it('one earlier entry', () => {
    const v = { ...soaking(), history: soaking().history.map((h) => ({ ...h, seq: h.seq! + 1 })) };
    expect(renderStateView(v, { chalk: plain, now: NOW })).toContain('\n  … and 1 entry before these (seq 1): kubectl custom history checkout -n shop\n');
  });

  it('no line about earlier entries when the window starts at seq 1, or entries have no seq', () => {
    expect(renderStateView(soaking(), { chalk: plain, now: NOW })).not.toContain('before these');
    expect(renderStateView(invalid(), { chalk: plain, now: NOW })).not.toContain('before these');
  });

  it('an override is red when colour is on', () => {
    expect(renderStateView(windowed(), { chalk: newChalk(true), now: NOW })).toContain('\x1b[31moverride (soak, skipped-states, freeze)\x1b[39m');
  });

  it('escapes what the server sent: names, display name, states, message, blockers, history', () => {
    const v = windowed();
    const text = renderStateView({
      ...v,
      metadata: { ...v.metadata, name: 'checkout\u202e' },
      displayName: 'Checkout\x1b[2J\x1b[H',
      valid: false,
      state: 'qa\x07',
      message: 'state "qa" is gone\nFAKE: line',
      gates: { ...v.gates, promoteBlockedBy: ['new\u009b31m'] },
      history: [{ seq: 45, action: 'promote', from: 'dev\x7f', to: 'prod', user: 'mallory\r\x1b[31malice', time: ago(MIN), reason: 'ok\n  45   fake row', approvers: ['x\u2066'], freeze: 'y\u2069', hash: 'h' }],
    }, { chalk: plain, now: NOW });
    expect(hasUnsafeCharacters(text.replaceAll('\n', ''))).toBe(false);
    for (const want of ['checkout\\u202e', 'Checkout\\x1b[2J\\x1b[H', 'qa\\x07 (invalid)', 'is gone\\nFAKE: line', 'new\\x9b31m', 'dev\\x7f', 'mallory\\r\\x1b[31malice', 'ok\\n  45   fake row', 'approved by x\\u2066; freeze y\\u2069']) {
      expect(text).toContain(want);
    }
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

describe('describe-state with gates from policies, approvals and a freeze', () => {
  it('lists every gate of the next move with its source, the approvals given, and what the caller may do', async () => {
    const text = renderStateView(gated(), { chalk: plain, now: NOW });
    expect(text).toContain('Gates:         of the move to prod\n  ✓   soak ');
    expect(text).toMatch(/✗ +approvals +2 approvals by others: given by bob, 1 more needed +\(GatePolicy custom-system\/prod-gates\)/);
    expect(text).toContain('Approvals:     bob → prod (20m ago)\n');
    expect(text).toContain('You May:       promote: no (approvals missing; the next state is frozen), set-state: yes, approve: yes, override: no\n');
    await expect(text).toMatchFileSnapshot('./testdata/describe-state-gated.golden.txt');
  });
});

describe('describe-state with checks', () => {
  it('a Checks table after the gates: source, result, measured of count, the last value and when, the next run', async () => {
    const text = renderStateView(checking(), { chalk: plain, now: NOW });
    noTrailingSpaces(text);
    expect(text).toMatch(/^ {2}✗ +checks +error-rate: 2 of 3 measurements, 1 failed \(result\[0\] < 0\.01\) +\(spec\)$/m);
    expect(text).toMatch(/^Checks:\n {2}CHECK {8}SOURCE {3,}RESULT {9}MEASURED {3}LAST VALUE {3,}LAST RUN {3}NEXT RUN {3}MESSAGE\n/m);
    expect(text).toMatch(/^ {2}error-rate +spec +pending +2\/3 +\[0\.042\] +4m ago +in 3m$/m);
    expect(text).toMatch(/^ {2}no-alerts +GatePolicy custom-system\/prod-gates +pass +1\/1 +\[\] +10m ago$/m);
    expect(text).toMatch(/^ {2}health +GatePolicy custom-system\/prod-gates +error +4\/5 +2m ago +Get "https:\/\/checkout\.shop\.svc\/healthz": connect ECONNREFUSED 10\.0\.0\.7:443$/m);
    expect(text).toMatch(/^ {2}ticket +spec +inconclusive +1\/1 +\{"status":200,"body":\{"state":"… +30m ago$/m);
    expect(text).toMatch(/^ {2}latency +spec +pending +0\/3 +due$/m);
    expect(text).toContain('You May:       promote: no (checks not passed), set-state: yes\n');
    await expect(text).toMatchFileSnapshot('./testdata/describe-state-checks.golden.txt');
  });

  it('no Checks table without checks, nor for a checks gate without a run (an older server)', () => {
    expect(renderStateView(gated(), { chalk: plain, now: NOW })).not.toContain('Checks:');
    const v = { ...soaking(), checks: [{ gate: 'checks' as const, met: false, message: 'error-rate pending', sources: [] }] };
    const text = renderStateView(v, { chalk: plain, now: NOW });
    expect(text).toContain('  ✗   checks   error-rate pending\n');
    expect(text).not.toContain('Checks:');
  });

  it('a next run less than a second away reads "in 1s", not "in 0s"', () => {
    const v = checking();
    const gate = v.checks![1]!;
    const soon = { ...v, checks: [{ ...gate, check: { ...gate.check!, nextMeasurementAt: new Date(NOW.getTime() + 300).toISOString() } }] };
    expect(renderStateView(soon, { chalk: plain, now: NOW })).toMatch(/^ {2}error-rate +spec +pending +2\/3 +\[0\.042\] +4m ago +in 1s$/m);
  });

  it('results coloured on a terminal', () => {
    const text = renderStateView(checking(), { chalk: newChalk(true), now: NOW });
    for (const want of ['\x1b[33mpending\x1b[39m', '\x1b[32mpass\x1b[39m', '\x1b[31merror\x1b[39m', '\x1b[33minconclusive\x1b[39m']) expect(text).toContain(want);
  });

  it('escapes what the checks carry: names, values from Prometheus or a body, messages, times', () => {
    const v = checking();
    const crafted = { ...v, checks: [{ gate: 'checks' as const, met: false, message: 'm\x1b[2J', sources: [{ kind: 'GatePolicy' as const, namespace: 'n\u202e', name: 'p' }], check: { name: 'rate\x07', provider: 'http' as const, successCondition: 'x', phase: 'Failed\x1b[31m' as never, measured: 1, count: 1, last: { phase: 'Failed' as const, time: 'not a time\r', value: '{"a":"\u2066"}\n  fake   row', message: 'no\x9b2J' }, nextMeasurementAt: 'later\x7f' } }] };
    const text = renderStateView(crafted, { chalk: plain, now: NOW });
    expect(hasUnsafeCharacters(text.replaceAll('\n', ''))).toBe(false);
    for (const want of ['rate\\x07', 'GatePolicy n\\u202e/p', 'Failed\\x1b[31m', '{"a":"\\u2066"}\\n  fake   row', 'not a time\\r', 'later\\x7f', 'no\\x9b2J']) expect(text).toContain(want);
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
