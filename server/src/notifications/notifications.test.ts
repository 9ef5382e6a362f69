// CloudEvents, signatures and Slack messages of notifications (issue 22),
// checked against independent references: the CloudEvents JavaScript SDK's
// validation of the event, and the Standard Webhooks reference library
// (`standardwebhooks`) verifying our signature and signing what we verify.
import { CloudEvent as SdkEvent } from 'cloudevents';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import type { HistoryEntry } from '../../../api/src/types.ts';
import { cloudEvent, eventOf } from './cloudevent.ts';
import { sign, verify } from './signature.ts';
import { slackMessage } from './slack-message.ts';

const entry: HistoryEntry = { seq: 7, action: 'promote', from: 'staging', to: 'prod', user: 'alice', time: '2026-12-07T10:00:00Z', reason: 'release 42', hash: 'b1946ac92492d2347c6235b4d2611184' };
const object = { namespace: 'shop', name: 'checkout', uid: '5f0c-1' };
const PATH = ['dev', 'staging', 'prod'];

describe('notification events', () => {
  it('each entry of the trail is the event people subscribe to; a set-state backwards is a rollback', () => {
    expect(eventOf(entry, PATH)).toBe('promoted');
    expect(eventOf({ ...entry, action: 'set-state', from: 'prod', to: 'staging' }, PATH)).toBe('rolled-back');
    expect(eventOf({ ...entry, action: 'set-state', from: 'dev', to: 'prod' }, PATH)).toBe('promoted');
    expect(eventOf({ ...entry, action: 'override' }, PATH)).toBe('overridden');
    expect(eventOf({ ...entry, action: 'approve' }, PATH)).toBe('approved');
    expect(eventOf({ ...entry, action: 'deleted' }, PATH)).toBe('deleted');
    expect(eventOf({ ...entry, action: 'revoke' }, PATH)).toBeUndefined();
  });

  it('a CloudEvent 1.0 that the CloudEvents SDK validates: id the entry hash (receivers drop retries by it), source the object path', () => {
    const e = cloudEvent(object, entry, 'promoted');
    expect(e).toMatchObject({ specversion: '1.0', id: entry.hash, source: '/apis/custom.example.com/v1/namespaces/shop/customresources/checkout', type: 'com.example.custom.promoted', subject: 'shop/checkout', time: entry.time });
    expect(new SdkEvent(JSON.parse(JSON.stringify(e)) as ConstructorParameters<typeof SdkEvent>[0]).validate()).toBe(true);
    expect(() => cloudEvent(object, { ...entry, hash: undefined }, 'promoted')).toThrow('has no hash');
  });
});

describe('signatures, as the Standard Webhooks reference library reads and writes them', () => {
  const secret = `whsec_${Buffer.from('a key of 32 bytes for the tests!!').toString('base64')}`;
  const body = JSON.stringify(cloudEvent(object, entry, 'promoted'));
  const now = new Date();

  it('the reference library verifies what we sign', () => {
    const headers = sign(secret, entry.hash!, body, now);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('we verify what the reference library signs, and refuse a changed body, another key, or an old timestamp', () => {
    const ts = new Date(Math.floor(now.getTime() / 1000) * 1000);
    const signature = new Webhook(secret).sign(entry.hash!, ts, body);
    const headers = { 'webhook-id': entry.hash!, 'webhook-timestamp': String(ts.getTime() / 1000), 'webhook-signature': signature };
    expect(verify(secret, headers, body, now)).toBe(true);
    expect(verify(secret, headers, body.replace('alice', 'mallory'), now)).toBe(false);
    expect(verify(`whsec_${Buffer.from('another key of 32 bytes, quite!!').toString('base64')}`, headers, body, now)).toBe(false);
    expect(verify(secret, headers, body, new Date(now.getTime() + 10 * 60_000))).toBe(false);
  });
});

describe('Slack messages', () => {
  it('who, what, from → to, why, and how to look closer', () => {
    const m = slackMessage(cloudEvent(object, entry, 'promoted'));
    expect(m.text).toBe('alice promoted shop/checkout staging → prod: “release 42”');
    expect(JSON.stringify(m.blocks)).toContain('kubectl custom describe-state checkout -n shop');
  });

  it('a reason cannot ping a channel or forge a link', () => {
    const m = slackMessage(cloudEvent(object, { ...entry, reason: '<!channel> see <https://evil.example|the fix>' }, 'rolled-back'));
    expect(m.text).toBe('alice rolled back shop/checkout staging → prod: “&lt;!channel&gt; see &lt;https://evil.example|the fix&gt;”');
  });
});
