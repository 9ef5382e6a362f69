import { describe, expect, it } from 'vitest';
import { run } from '../../root-command.ts';
import { apiError, fakeClient, harness } from '../../testing/harness.ts';

const TEST_PATH = '/apis/custom.example.com/v1/namespaces/shop/notificationpolicies/releases/test';
const result = (sinks: { name: string; ok: boolean; status?: number; message: string }[]) => ({ apiVersion: 'custom.example.com/v1', kind: 'NotificationTestResult', metadata: { name: 'releases', namespace: 'shop' }, sinks });

async function notify(args: string[], routes: Record<string, unknown>) {
  const client = fakeClient(routes);
  const h = harness({ client });
  const code = await run(['notify', ...args], h.deps);
  return { code, out: h.out(), err: h.err(), calls: client.calls.map((c) => `${c.method} ${c.path}`) };
}

describe('notify test', () => {
  it('asks the backend to send a test event to each sink and prints what each answered', async () => {
    const r = await notify(['test', 'releases', '-n', 'shop'], { [`POST ${TEST_PATH}`]: result([{ name: 'hook', ok: true, status: 200, message: 'webhook answered 200' }, { name: 'team-chat', ok: true, status: 200, message: 'slack answered 200' }]) });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.calls).toEqual([`POST ${TEST_PATH}`]);
    expect(r.out).toBe('SINK        RESULT   DETAIL\nhook        sent     webhook answered 200\nteam-chat   sent     slack answered 200\n');
  });

  it('a sink that failed: its line says why, and the command fails naming it', async () => {
    const r = await notify(['test', 'releases', '-n', 'shop'], { [`POST ${TEST_PATH}`]: result([{ name: 'hook', ok: false, message: 'Secret shop/hook not found' }, { name: 'chat', ok: true, status: 200, message: 'slack answered 200' }]) });
    expect(r.code).toBe(1);
    expect(r.out).toBe('SINK   RESULT   DETAIL\nhook   failed   Secret shop/hook not found\nchat   sent     slack answered 200\n');
    expect(r.err).toBe('error: 1 of 2 sinks of NotificationPolicy shop/releases did not take the test event: hook\n');
  });

  it('no such policy, or not allowed: the server\'s words', async () => {
    const r = await notify(['test', 'releases', '-n', 'shop'], { [`POST ${TEST_PATH}`]: () => {
      throw apiError(404, 'NotFound', 'notificationpolicies.example.com "releases" not found', TEST_PATH, { name: 'releases', group: 'example.com', kind: 'notificationpolicies' });
    } });
    expect(r.code).toBe(1);
    expect(r.err).toBe('Error from server (NotFound): notificationpolicies.example.com "releases" not found\n');
  });

  it('only the test action exists', async () => {
    const r = await notify(['send', 'releases'], {});
    expect(r.code).toBe(1);
    expect(r.calls).toEqual([]);
  });
});
