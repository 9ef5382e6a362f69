// The events that are not trail entries (issue 22): freezes, failed check
// runs and refusals — their ids (the same for every retry and replica, but
// for refusals), what a policy hears of them, and their Slack lines.
import { describe, expect, it } from 'vitest';
import type { Freeze, NotificationPolicy, StoredObject } from '../../../api/src/types.ts';
import { newInvalid } from '../status/status-error.ts';
import { checkFailedEvents, failedRunsOf, sendsCheckEvent } from './check-events.ts';
import { cursorOf, freezeEvent, hearsFreezesOf, sendsFreezeEvent } from './freeze-events.ts';
import { refusedEvent } from './refusal-events.ts';
import { slackMessage } from './slack-message.ts';

const NOW = new Date('2026-12-07T10:00:00Z');
const policy = (ns: string, spec: Partial<NotificationPolicy['spec']> = {}): NotificationPolicy => ({ apiVersion: 'example.com/v1', kind: 'NotificationPolicy', metadata: { name: 'p', namespace: ns }, spec: { sinks: [], ...spec } });
const freeze: Freeze = { apiVersion: 'example.com/v1', kind: 'Freeze', metadata: { name: 'holidays', namespace: 'shop', uid: 'f-1' }, spec: { states: ['prod'], reason: 'no <!channel> deploys', start: '2026-12-24T00:00:00Z', end: '2027-01-02T00:00:00Z' }, status: { active: true, currentWindow: { start: '2026-12-24T00:00:00Z', end: '2027-01-02T00:00:00Z' } } };
const obj = (status: StoredObject['status']): StoredObject => ({ apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name: 'cart', namespace: 'shop', uid: 'u-1', labels: { team: 'pay' } }, spec: { name: 'Cart', states: ['dev', 'staging', 'prod'] }, status } as StoredObject);

describe('freezes', () => {
  it.each([
    { name: 'a policy of the Freeze\'s namespace', policyNs: 'shop', freezeNs: 'shop', want: true },
    { name: 'a policy of another namespace', policyNs: 'web', freezeNs: 'shop', want: false },
    { name: 'a cluster-wide Freeze, every policy', policyNs: 'web', freezeNs: 'custom-system', want: true },
    { name: 'a policy in custom-system, every Freeze', policyNs: 'custom-system', freezeNs: 'shop', want: true },
  ])('$name', ({ policyNs, freezeNs, want }) => {
    expect(hearsFreezesOf(policy(policyNs), freezeNs)).toBe(want);
  });

  it('frozen and unfrozen of one window have ids of their own, the same each time; Slack says what, until when and why, escaped', () => {
    const c = cursorOf(freeze, 'frozen');
    expect(c).toEqual({ namespace: 'shop', name: 'holidays', uid: 'f-1', start: '2026-12-24T00:00:00Z', states: ['prod'], event: 'frozen' });
    const on = freezeEvent(c, freeze, 'frozen', NOW);
    expect(on.id).toBe('f-1.2026-12-24T00:00:00Z.frozen');
    expect(freezeEvent(c, undefined, 'unfrozen', NOW).id).toBe('f-1.2026-12-24T00:00:00Z.unfrozen');
    expect(slackMessage(on).text).toBe('Freeze shop/holidays holds moves into prod until 2027-01-02T00:00:00Z: “no &lt;!channel&gt; deploys”');
    // Gone: what the cursor kept still says which states it held.
    expect(slackMessage(freezeEvent(c, undefined, 'unfrozen', NOW)).text).toBe('Freeze shop/holidays no longer holds moves into prod');
    expect(sendsFreezeEvent(policy('shop', { events: ['frozen'] }), freezeEvent(c, undefined, 'unfrozen', NOW))).toEqual({ send: false });
    expect(sendsFreezeEvent(policy('shop', { condition: 'event == "frozen" || entry.to == "prod"' }), on)).toEqual({ send: true });
  });
});

describe('failed check runs', () => {
  const run = (name: string, phase: 'Running' | 'Failed' | 'Error' | 'Successful', attempt: number) => ({ name, source: 'spec', key: 'k', phase, startedAt: '2026-12-07T09:00:00Z', attempt, measurements: [{ phase: phase === 'Error' ? ('Error' as const) : ('Failed' as const), time: '2026-12-07T09:01:00Z', value: '[0.2]', ...(phase === 'Error' ? { message: 'connection refused' } : {}) }] });
  const o = obj({ state: 'staging', checks: { from: 'staging', to: 'prod', since: '2026-12-07T08:00:00Z', runs: [run('error-rate', 'Failed', 2), run('latency', 'Running', 1), run('ticket', 'Error', 1)] } });

  it('one event per run that ended Failed or Error, its id naming the stay, the check and the attempt', () => {
    const evs = checkFailedEvents(o);
    expect(evs.map((e) => e.id)).toEqual(['u-1.2026-12-07T08:00:00Z.error-rate.2.check-failed', 'u-1.2026-12-07T08:00:00Z.ticket.1.check-failed']);
    expect(failedRunsOf(o)).toBe('2026-12-07T08:00:00Z/error-rate/2 2026-12-07T08:00:00Z/ticket/1');
    expect(slackMessage(evs[0]!).text).toBe('check error-rate of shop/cart (staging → prod) failed: measured [0.2]');
    expect(slackMessage(evs[1]!).text).toBe('check ticket of shop/cart (staging → prod) could not measure: connection refused');
    expect(sendsCheckEvent(policy('shop', { condition: 'check.name == "ticket"' }), evs[1]!, o.metadata.labels)).toEqual({ send: true });
    expect(sendsCheckEvent(policy('shop', { events: ['promoted'] }), evs[1]!, o.metadata.labels)).toEqual({ send: false });
  });
});

describe('refusals', () => {
  it("the move asked for, who asked, why it was refused; Slack escapes the server's words too", () => {
    const err = newInvalid({ group: 'custom.example.com', kind: 'CustomResource' }, 'cart', [{ field: 'status.stateSince', message: 'staging needs 1h <soak>' }]);
    const ev = refusedEvent(obj({ state: 'staging' }), { name: 'alice', groups: [], extra: {} }, { action: 'promote', reason: 'ship' }, err, NOW);
    expect(ev).toMatchObject({ type: 'com.example.custom.refused', subject: 'shop/cart', data: { event: 'refused', entry: { action: 'promote', from: 'staging', to: 'prod', user: 'alice', reason: 'ship' }, refusal: { code: 422, reason: 'Invalid' } } });
    expect(ev.id).toMatch(/^refused-[0-9a-f-]{36}$/);
    expect(slackMessage(ev).text).toBe(`alice was refused moving shop/cart staging → prod: “ship” — ${err.status.message.replace(/</g, '&lt;').replace(/>/g, '&gt;')}`);
  });
});
