// What a failed send says (issue 22): never the Slack URL, which is a Secret,
// whether fetch names it in an error, a receiver echoes it, or it carries a
// user name and password. The Secret comes from a fake of our RestClient.
import { describe, expect, it } from 'vitest';
import type { NotificationSink } from '../../../api/src/types.ts';
import type { RestClient } from '../../../client/src/rest-client.ts';
import { cloudEvent } from './cloudevent.ts';
import { SinkSender, type Post } from './sink-sender.ts';

const TOKEN = 'T000/B000/XXXXsecretXXXX';
const chat: NotificationSink = { name: 'chat', slack: { urlSecretRef: { name: 'chat-url' } } };
const ev = cloudEvent({ namespace: 'shop', name: 'cart', uid: 'u1' }, { seq: 1, action: 'promote', from: 'dev', to: 'prod', user: 'alice', time: '2026-12-07T10:00:00Z', hash: 'h1' }, 'promoted');

function sender(url: string, post?: Post): SinkSender {
  const client = { json: () => Promise.resolve({ data: { url: Buffer.from(url).toString('base64') } }) } as unknown as RestClient;
  return new SinkSender({ client, now: () => new Date('2026-12-07T10:00:00Z'), ...(post ? { post } : {}) });
}

async function failure(s: SinkSender, signal?: AbortSignal): Promise<string> {
  try {
    await s.send('shop', chat, ev, signal);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the send did not fail');
}

describe('a Slack sink that fails says why without its URL', () => {
  it('a URL with a user name and password is refused in fixed words, before any request (fetch would name the URL)', async () => {
    let posted = 0;
    const m = await failure(sender(`https://bot:hunter2@hooks.slack.example/services/${TOKEN}`, () => (posted++, Promise.resolve({ status: 200, text: '' }))));
    expect(m).toBe('Secret shop/chat-url key "url" is a URL with a user name or password, which is not sent');
    expect(posted).toBe(0);
  });

  it('with the real fetch, a URL with credentials still gives no part of it', async () => {
    const m = await failure(sender(`https://bot:hunter2@127.0.0.1:9/services/${TOKEN}`));
    expect(m).not.toMatch(/hunter2|secret|127\.0\.0\.1/);
  });

  it.each([
    { name: 'not a URL', url: `hooks.slack.example/${TOKEN}`, want: 'Secret shop/chat-url key "url" is not a URL' },
    { name: 'another scheme', url: `ftp://hooks.slack.example/${TOKEN}`, want: 'Secret shop/chat-url key "url" is not an http or https URL' },
  ])('$name', async ({ url, want }) => {
    expect(await failure(sender(url))).toBe(want);
  });

  it.each([
    { name: 'an error whose message names the URL', err: Object.assign(new TypeError(`fetch failed for https://hooks.slack.example/services/${TOKEN}`), { cause: { message: `connect https://hooks.slack.example/services/${TOKEN}` } }), want: 'the connection failed' },
    { name: 'a refused connection (its code)', err: Object.assign(new TypeError(`fetch failed ${TOKEN}`), { cause: { code: 'ECONNREFUSED', message: TOKEN } }), want: 'ECONNREFUSED' },
    { name: 'a timeout', err: Object.assign(new Error(TOKEN), { name: 'TimeoutError' }), want: 'no answer in time' },
    { name: 'a code that is not one', err: Object.assign(new Error('x'), { code: `https://hooks.slack.example/${TOKEN}` }), want: 'the connection failed' },
  ])('$name', async ({ err, want }) => {
    const m = await failure(sender(`https://hooks.slack.example/services/${TOKEN}`, () => Promise.reject(err)));
    expect(m).toBe(`the Slack webhook could not be reached: ${want}`);
  });

  it('with the real fetch, a link-local address (cloud metadata) is never posted to, and says so', async () => {
    expect(await failure(sender('http://169.254.169.254/latest/meta-data/'))).toBe("the Slack webhook could not be reached: the receiver's address is link-local (where clouds serve instance metadata and credentials): notifications are not sent there");
  });

  it('an answer that echoes the URL is not quoted', async () => {
    const m = await failure(sender(`https://hooks.slack.example/services/${TOKEN}`, () => Promise.resolve({ status: 404, text: `no_service https://hooks.slack.example/services/${TOKEN}` })));
    expect(m).toBe('the Slack webhook answered 404');
  });

  it('a send stopped by its signal (leadership lost) passes the signal to the post and says it was stopped', async () => {
    const stop = new AbortController();
    let posted!: () => void;
    const postStarted = new Promise<void>((r) => (posted = r));
    const m = failure(sender(`https://hooks.slack.example/services/${TOKEN}`, (_url, init) => new Promise((_resolve, reject) => {
      init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
      posted();
    })), stop.signal);
    await postStarted;
    stop.abort();
    expect(await m).toBe('the Slack webhook could not be reached: the send was stopped');
  });
});
