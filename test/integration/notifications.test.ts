// Notifications (issue 22) on a stack of its own (a test kills the backend),
// with real HTTP receivers on 127.0.0.1: a CloudEvents webhook that checks
// each event with the CloudEvents SDK and its signature with the Standard
// Webhooks reference library (not our code), and a Slack-shaped endpoint.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudEvent as SdkEvent } from 'cloudevents';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserName } from '../../cluster/pki.ts';
import { restartBackend, startBackend } from '../../cluster/backend.ts';
import { isAlive, stopProcess } from '../../cluster/processes.ts';
import { startStack, type Stack } from '../../cluster/stack.ts';
import { entryHash } from '../../api/src/history-chain.ts';
import { HISTORY_LABELS } from '../../api/src/names.ts';
import type { HistoryEntry, NotificationPolicy, StateHistorySegment } from '../../api/src/types.ts';
import { apiOn, CUSTOM, eventually, STORAGE } from './harness.ts';
import { PLUGIN } from './plugin-cli.ts';
import { runCommand } from './run-command.ts';

const NS = 'notify';
const KEY = `whsec_${Buffer.from('the receivers key, 32 bytes long').toString('base64')}`;

interface Received {
  id: string;
  type: string;
  seq: number;
  hash: string;
  previousHash?: string;
  object: string;
  verified: boolean;
}

/** A receiver on 127.0.0.1: answers `fail` times with 503 (or holds while `hold` is set), then 200. */
class Receiver {
  readonly events: Received[] = [];
  readonly slack: { text: string }[] = [];
  /** check-failed events: id, subject and the check. */
  readonly checks: { id: string; subject: string; check: { name: string; phase: string; attempt: number; from: string; to: string } }[] = [];
  /** Freeze events (frozen, unfrozen): type, subject and id. */
  readonly freezes: { id: string; type: string; subject: string; reason?: string }[] = [];
  /** Every delivered webhook body, as sent: what a receiver keeps as its witness of the trail. */
  readonly raw: string[] = [];
  attempts = 0;
  /** The webhook-id of every attempt, failed ones too. */
  readonly ids: string[] = [];
  fail = 0;
  hold = false;
  /** Answers this much later (a slow receiver). */
  delayMs = 0;
  private readonly held: ServerResponse[] = [];
  private server!: Server;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    this.attempts++;
    this.ids.push(String(req.headers['webhook-id']));
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.hold) {
      this.held.push(res);
      return;
    }
    if (this.fail > 0) {
      this.fail--;
      res.writeHead(503).end('try later');
      return;
    }
    if (req.url === '/slack') {
      this.slack.push(JSON.parse(body) as { text: string });
    } else {
      let verified: boolean;
      try {
        new Webhook(KEY).verify(body, { 'webhook-id': String(req.headers['webhook-id']), 'webhook-timestamp': String(req.headers['webhook-timestamp']), 'webhook-signature': String(req.headers['webhook-signature']) });
        verified = true;
      } catch {
        verified = false;
      }
      this.raw.push(body);
      const ev = JSON.parse(body) as { id: string; type: string; subject: string; data: { entry: HistoryEntry; previousHash?: string; freeze?: { reason?: string } } };
      // Throws when it is not a valid CloudEvent 1.0.
      new SdkEvent(ev as unknown as ConstructorParameters<typeof SdkEvent>[0]).validate();
      const check = (ev.data as { check?: Receiver['checks'][number]['check'] }).check;
      if (check) {
        this.checks.push({ id: ev.id, subject: ev.subject, check });
        res.writeHead(verified ? 200 : 401).end();
        return;
      }
      if (ev.data.freeze) {
        this.freezes.push({ id: ev.id, type: ev.type, subject: ev.subject, ...(ev.data.freeze.reason ? { reason: ev.data.freeze.reason } : {}) });
        res.writeHead(verified ? 200 : 401).end();
        return;
      }
      this.events.push({ id: ev.id, type: ev.type, seq: ev.data.entry.seq!, hash: ev.data.entry.hash!, ...(ev.data.previousHash !== undefined ? { previousHash: ev.data.previousHash } : {}), object: ev.subject, verified });
    }
    res.writeHead(200).end('ok');
  }

  /** Drops held requests (their sender was killed). */
  release(): void {
    this.hold = false;
    for (const r of this.held.splice(0)) r.destroy();
  }

  stop(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }

  of(object: string): Received[] {
    return this.events.filter((e) => e.object === `${NS}/${object}`);
  }
}

let stack: Stack;
let dir: string;
const receivers: Receiver[] = [];

const api = <T = Record<string, unknown>>(method: string, path: string, body?: unknown, user: UserName = 'admin') => apiOn<T>(stack.cluster, user, method, path, body);
const policyPath = (ns: string, name = '') => `${STORAGE}/namespaces/${ns}/notificationpolicies${name ? `/${name}` : ''}`;

async function receiver(): Promise<Receiver> {
  const r = new Receiver();
  await r.start();
  receivers.push(r);
  return r;
}

async function secret(name: string, data: Record<string, string>, ns = NS): Promise<void> {
  const r = await api('POST', `/api/v1/namespaces/${ns}/secrets`, { metadata: { name }, stringData: data });
  expect(r.status, r.text).toBe(201);
}

async function policy(name: string, spec: Record<string, unknown>, ns = NS, user: UserName = 'admin'): Promise<{ status: number; text: string; body: Record<string, unknown> }> {
  return api('POST', policyPath(ns), { apiVersion: 'example.com/v1', kind: 'NotificationPolicy', metadata: { name }, spec }, user);
}

async function readPolicy(name: string, ns = NS): Promise<NotificationPolicy> {
  return (await api<NotificationPolicy>('GET', policyPath(ns, name))).body;
}

async function create(name: string, labels: Record<string, string>, spec: Record<string, unknown> = {}): Promise<void> {
  const r = await api('POST', `${STORAGE}/namespaces/${NS}/customresources`, { apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name, labels }, spec: { name, states: ['dev', 'staging', 'prod'], ...spec } });
  expect(r.status, r.text).toBe(201);
}

async function move(name: string, from: string, to: string, user: UserName = 'admin'): Promise<void> {
  const r = await api('PUT', `${CUSTOM}/namespaces/${NS}/customresources/${name}/state`, { state: to, from, reason: `${from} to ${to}` }, user);
  expect(r.status, r.text).toBe(200);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kubectl-custom-notify-'));
  stack = await startStack({ dir });
  expect((await api('POST', '/api/v1/namespaces', { metadata: { name: NS } })).status).toBe(201);
  // The namespace lets the backend read its Secrets (rbac-secrets.yaml).
  const rb = await api('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings`, { metadata: { name: 'kubectl-custom-notifications' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'kubectl-custom-secrets' }, subjects: [{ kind: 'ServiceAccount', name: 'kubectl-custom-backend', namespace: 'custom-system' }] });
  expect(rb.status, rb.text).toBe(201);
  await secret('hook', { secret: KEY });
}, 120_000);

afterAll(async () => {
  for (const r of receivers) await r.stop();
  await stack?.stop();
  if (dir && !process.env['KEEP_CLUSTER_DIR']) rmSync(dir, { recursive: true, force: true });
});

describe('who may write a NotificationPolicy (the admission policy kubectl-custom-notifications)', () => {
  it('one whose author may not read the objects it would select is refused, naming what is missing', async () => {
    // bob may write policies in the namespace, but not read its objects.
    const role = await api('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/roles`, { metadata: { name: 'policy-writer' }, rules: [{ apiGroups: ['example.com'], resources: ['notificationpolicies'], verbs: ['create', 'get'] }] });
    expect(role.status, role.text).toBe(201);
    const rb = await api('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings`, { metadata: { name: 'bob-policy-writer' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'policy-writer' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'bob' }] });
    expect(rb.status, rb.text).toBe(201);
    const spec = { sinks: [{ name: 'hook', webhook: { url: 'http://127.0.0.1:9/x', secretRef: { name: 'hook' } } }] };
    let refused!: { status: number; text: string; body: Record<string, unknown> };
    await eventually('bob may create policies', async () => (refused = await policy('bobs', spec, NS, 'bob')).status !== 403 || String(refused.body['message']).includes('ValidatingAdmissionPolicy'));
    expect(refused.status, refused.text).toBe(403);
    expect(refused.body['message']).toContain(`ValidatingAdmissionPolicy 'kubectl-custom-notifications'`);
    expect(refused.body['message']).toContain(`writing one needs "get" on customresources.custom.example.com and customresources/history in namespace "${NS}"`);
    // alice, admin of the namespace (kubectl-custom-admin), may; in custom-system (every namespace) she may not.
    const admin = await api('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings`, { metadata: { name: 'alice-admin' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'kubectl-custom-admin' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' }] });
    expect(admin.status, admin.text).toBe(201);
    const mine = { ...spec, selector: { matchLabels: { team: 'nobody' } } };
    // kubectl-custom-admin gives no Secret: she may not have the backend sign with one she cannot read.
    let noSecret!: { status: number; text: string; body: Record<string, unknown> };
    await eventually('alice is held by the admission policy', async () => String((noSecret = await policy('alices', mine, NS, 'alice')).body['message']).includes('ValidatingAdmissionPolicy'));
    expect(noSecret.status, noSecret.text).toBe(403);
    expect(noSecret.body['message']).toContain(`sink "hook" uses Secret "hook": writing a NotificationPolicy needs "get" on the Secrets its sinks name, in namespace "${NS}"`);
    // get on that Secret by name (a Role with resourceNames) lets her; a second sink naming another Secret is refused, naming it.
    const reader = await api('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/roles`, { metadata: { name: 'hook-reader' }, rules: [{ apiGroups: [''], resources: ['secrets'], resourceNames: ['hook'], verbs: ['get'] }] });
    expect(reader.status, reader.text).toBe(201);
    const rr = await api('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings`, { metadata: { name: 'alice-hook-reader' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'hook-reader' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' }] });
    expect(rr.status, rr.text).toBe(201);
    await eventually('alice may create a policy in her namespace', async () => (await policy('alices', mine, NS, 'alice')).status === 201);
    const two = await policy('alices-two', { ...mine, sinks: [...spec.sinks, { name: 'chat', slack: { urlSecretRef: { name: 'team-chat' } } }] }, NS, 'alice');
    expect(two.status, two.text).toBe(403);
    expect(two.body['message']).toContain(`sink "chat" uses Secret "team-chat"`);
    const wide = await policy('alices', spec, 'custom-system', 'alice');
    expect(wide.status, wide.text).toBe(403);
    expect((await api('DELETE', policyPath(NS, 'alices'), undefined, 'alice')).status).toBe(200);
  });

  it('the schema refuses a sink that is both or neither, a bad URL and an unknown event', async () => {
    const r = await policy('bad', { events: ['promoted', 'exploded'], sinks: [{ name: 'x', webhook: { url: 'ftp://host/x', secretRef: { name: 'hook' } }, slack: { urlSecretRef: { name: 's' } } }] });
    expect(r.status, r.text).toBe(422);
    expect(r.text).toContain('Unsupported value: \\"exploded\\"');
  });
});

describe('delivery', () => {
  let hook: Receiver;
  let chat: Receiver;

  beforeAll(async () => {
    hook = await receiver();
    chat = await receiver();
    await secret('chat', { url: chat.url('/slack') });
    const r = await policy('pay', { selector: { matchLabels: { team: 'pay' } }, sinks: [{ name: 'hook', webhook: { url: hook.url('/events'), secretRef: { name: 'hook' } } }, { name: 'chat', slack: { urlSecretRef: { name: 'chat' } } }] });
    expect(r.status, r.text).toBe(201);
    await eventually('the backend took the policy up', async () => (await readPolicy('pay')).status?.conditions?.[0]?.status === 'True', 30_000);
  });

  it('each change arrives once, in order, signed, with seq, hash and the previous hash; Slack gets a readable line; other objects are not sent', async () => {
    await create('cart', { team: 'pay' });
    await create('other', { team: 'shop' });
    await move('cart', 'dev', 'staging');
    await move('cart', 'staging', 'prod');
    await move('other', 'dev', 'staging');
    await move('cart', 'prod', 'dev');
    expect((await api('DELETE', `${STORAGE}/namespaces/${NS}/customresources/cart`)).status).toBe(200);
    await eventually('four events of cart arrived', async () => hook.of('cart').length >= 4 && chat.slack.length >= 4, 30_000);
    const got = hook.of('cart');
    expect(got.map((e) => [e.seq, e.type])).toEqual([[1, 'com.example.custom.promoted'], [2, 'com.example.custom.promoted'], [3, 'com.example.custom.rolled-back'], [4, 'com.example.custom.deleted']]);
    expect(got.every((e) => e.verified)).toBe(true);
    expect(got.map((e) => e.id)).toEqual(got.map((e) => e.hash));
    expect(got.map((e) => e.previousHash)).toEqual(['', got[0]!.hash, got[1]!.hash, got[2]!.hash]);
    expect(hook.of('other')).toEqual([]);
    expect(chat.slack.map((m) => m.text)).toEqual([
      `admin promoted ${NS}/cart dev → staging: “dev to staging”`,
      `admin promoted ${NS}/cart staging → prod: “staging to prod”`,
      `admin rolled back ${NS}/cart prod → dev: “prod to dev”`,
      `admin deleted ${NS}/cart (in dev)`,
    ]);
    await eventually('the status counts them', async () => {
      const st = (await readPolicy('pay')).status;
      return st?.sinks?.find((s) => s.name === 'hook')?.delivered === 4 && st.sinks.find((s) => s.name === 'chat')?.delivered === 4;
    });
    // The life is over: its cursor says so (seq 4 is deleted) until the watermark passes it, then it is dropped, so the status stays bounded.
    const hookStatus = (await readPolicy('pay')).status?.sinks?.find((s) => s.name === 'hook');
    expect(hookStatus?.objects?.map((c) => [c.name, c.seq])).toEqual([['cart', 4]]);
    expect(Date.parse(hookStatus?.settledBefore ?? '')).toBeLessThan(Date.parse(hookStatus?.objects?.[0]?.time ?? ''));
  });

  it('a receiver that fails 5 times then recovers gets everything, the first event retried with the same id', async () => {
    const flaky = await receiver();
    flaky.fail = 5;
    expect((await policy('flaky', { selector: { matchLabels: { team: 'flaky' } }, events: ['promoted', 'rolled-back'], sinks: [{ name: 'hook', webhook: { url: flaky.url('/events'), secretRef: { name: 'hook' } } }] })).status).toBe(201);
    await create('basket', { team: 'flaky' });
    await move('basket', 'dev', 'staging');
    await move('basket', 'staging', 'prod');
    await move('basket', 'prod', 'staging');
    await eventually('everything arrived', async () => flaky.of('basket').length >= 3, 60_000);
    expect(flaky.attempts).toBe(8);
    expect(new Set(flaky.ids.slice(0, 6))).toEqual(new Set([flaky.of('basket')[0]!.id]));
    expect(flaky.of('basket').map((e) => [e.seq, e.type])).toEqual([[1, 'com.example.custom.promoted'], [2, 'com.example.custom.promoted'], [3, 'com.example.custom.rolled-back']]);
    await eventually('the status says so', async () => {
      const s = (await readPolicy('flaky')).status?.sinks?.[0];
      return s?.delivered === 3 && s.failed === 5 && s.lastError === undefined;
    });
  });

  it('a receiver down while entries leave the window for the archive still gets every one, in order', async () => {
    const down = await receiver();
    down.fail = 1_000_000;
    expect((await policy('down', { selector: { matchLabels: { team: 'down' } }, events: ['promoted', 'rolled-back'], sinks: [{ name: 'hook', webhook: { url: down.url('/events'), secretRef: { name: 'hook' } } }] })).status).toBe(201);
    await create('crate', { team: 'down' }, { states: ['a', 'b'] });
    for (let i = 0; i < 12; i++) await move('crate', i % 2 === 0 ? 'a' : 'b', i % 2 === 0 ? 'b' : 'a');
    // 12 entries: the window kept the newest; seq 1–7 are only in a StateHistory segment now.
    const window = (await api<{ status: { history: HistoryEntry[] } }>('GET', `${STORAGE}/namespaces/${NS}/customresources/crate`)).body.status.history;
    expect(window[0]!.seq).toBeGreaterThan(1);
    await eventually('the sink says it failed', async () => ((await readPolicy('down')).status?.sinks?.[0]?.failed ?? 0) > 0, 30_000);
    down.fail = 0;
    await eventually('all 12 arrived', async () => down.of('crate').length >= 12, 60_000);
    expect(down.of('crate').map((e) => e.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(down.of('crate').map((e) => e.previousHash)).toEqual(['', ...down.of('crate').slice(0, 11).map((e) => e.hash)]);
  }, 90_000);

  it('a backend killed mid-delivery resumes from the seq recorded in the status: nothing lost, nothing delivered before sent again', async () => {
    const slow = await receiver();
    expect((await policy('resume', { selector: { matchLabels: { team: 'resume' } }, sinks: [{ name: 'hook', webhook: { url: slow.url('/events'), secretRef: { name: 'hook' } } }] })).status).toBe(201);
    await create('till', { team: 'resume' });
    await move('till', 'dev', 'staging');
    await move('till', 'staging', 'prod');
    await eventually('seq 2 is recorded', async () => (await readPolicy('resume')).status?.sinks?.[0]?.objects?.[0]?.seq === 2, 30_000);
    slow.hold = true;
    const attempts = slow.attempts;
    await move('till', 'prod', 'dev');
    await move('till', 'dev', 'staging');
    await eventually('seq 3 is being sent', async () => slow.attempts > attempts, 30_000);
    // SIGKILL: no shutdown, no status flush, the Lease not released.
    process.kill(stack.backend.pid, 'SIGKILL');
    await eventually('the backend is gone', async () => !isAlive(stack.backend.pid));
    slow.release();
    const b = await restartBackend(stack.backend);
    stack.backend.pid = b.pid;
    // The killed replica's Lease runs out (15 s) before the new one delivers.
    await eventually('seq 3 and 4 arrived', async () => slow.of('till').some((e) => e.seq === 4), 60_000);
    expect(slow.of('till').map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    await eventually('the status records seq 4', async () => (await readPolicy('resume')).status?.sinks?.[0]?.objects?.[0]?.seq === 4, 30_000);
  }, 120_000);

  it('an object changed and deleted while no replica held the Lease: its events, deleted last, are sent by the next leader', async () => {
    const late = await receiver();
    expect((await policy('late', { selector: { matchLabels: { team: 'late' } }, events: ['promoted', 'deleted'], sinks: [{ name: 'hook', webhook: { url: late.url('/events'), secretRef: { name: 'hook' } } }] })).status).toBe(201);
    await eventually('the backend took the policy up', async () => (await readPolicy('late')).status?.conditions?.[0]?.status === 'True', 30_000);
    // Another replica takes the Lease (as one that then dies or is cut off would hold it): this backend stops delivering, and nobody delivers.
    const leasePath = '/apis/coordination.k8s.io/v1/namespaces/custom-system/leases/kubectl-custom-notifications';
    const stopped = () => readFileSync(stack.backend.logFile, 'utf8').split('\n').filter((l) => l.includes('stopped leading') && l.includes('kubectl-custom-notifications')).length;
    const stoppedBefore = stopped();
    await eventually('the Lease is held elsewhere', async () => {
      const lease = (await api<{ spec: Record<string, unknown> }>('GET', leasePath)).body;
      const r = await api('PUT', leasePath, { ...lease, spec: { ...lease.spec, holderIdentity: 'a-replica-cut-off', leaseDurationSeconds: 3600, renewTime: new Date().toISOString().replace('Z', '000Z') } });
      return r.status === 200;
    });
    await eventually('this backend stopped delivering', async () => stopped() > stoppedBefore, 15_000);
    // Meanwhile bin is made, promoted and deleted; every replica archives deletions, so it is gone before anyone delivers again.
    await create('bin', { team: 'late' });
    await move('bin', 'dev', 'staging');
    expect((await api('DELETE', `${STORAGE}/namespaces/${NS}/customresources/bin`)).status).toBe(200);
    await eventually('bin is gone', async () => (await api('GET', `${STORAGE}/namespaces/${NS}/customresources/bin`)).status === 404, 30_000);
    const segments = (await api<{ items: StateHistorySegment[] }>('GET', `${STORAGE}/namespaces/custom-system/statehistories?labelSelector=${encodeURIComponent('custom.example.com/deleted-on')}`)).body.items;
    const binSegment = segments.find((s) => s.spec.object.name === 'bin' && s.spec.object.namespace === NS);
    expect(binSegment?.spec.object.labels).toEqual({ team: 'late' });
    expect(binSegment?.metadata.labels?.['custom.example.com/deleted-on']).toBe(binSegment?.spec.entries.at(-1)?.time.slice(0, 10));
    expect(late.of('bin')).toEqual([]);
    // The Lease is free again: this backend leads, and finds bin's life in the archive.
    expect((await api('DELETE', leasePath)).status).toBe(200);
    await eventually('its deleted event arrived', async () => late.of('bin').some((e) => e.type === 'com.example.custom.deleted'), 30_000);
    expect(late.of('bin').map((e) => [e.seq, e.type])).toEqual([[1, 'com.example.custom.promoted'], [2, 'com.example.custom.deleted']]);
    expect(late.of('bin').every((e) => e.verified)).toBe(true);
  }, 120_000);

  it('a Freeze of the namespace starting and ending is frozen, then unfrozen, once each', async () => {
    const r = await receiver();
    const chatR = await receiver();
    await secret('freeze-chat', { url: chatR.url('/slack') });
    expect((await policy('freezes', { events: ['frozen', 'unfrozen'], sinks: [{ name: 'hook', webhook: { url: r.url('/events'), secretRef: { name: 'hook' } } }, { name: 'chat', slack: { urlSecretRef: { name: 'freeze-chat' } } }] })).status).toBe(201);
    await eventually('the backend took the policy up', async () => (await readPolicy('freezes')).status?.conditions?.[0]?.status === 'True', 30_000);
    const now = Date.now();
    const window = { start: new Date(now - 60_000).toISOString().replace(/\.\d+Z$/, 'Z'), end: new Date(now + 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z') };
    const f = await api('POST', `${STORAGE}/namespaces/${NS}/freezes`, { apiVersion: 'example.com/v1', kind: 'Freeze', metadata: { name: 'incident' }, spec: { states: ['prod'], reason: 'incident 4711', ...window } });
    expect(f.status, f.text).toBe(201);
    await eventually('frozen arrived', async () => r.freezes.length >= 1 && chatR.slack.length >= 1, 30_000);
    expect(r.freezes).toMatchObject([{ type: 'com.example.custom.frozen', subject: `${NS}/incident`, reason: 'incident 4711' }]);
    expect(chatR.slack[0]!.text).toBe(`Freeze ${NS}/incident holds moves into prod until ${window.end}: “incident 4711”`);
    await eventually('the status remembers it', async () => ((await readPolicy('freezes')).status?.sinks?.[0]?.freezes ?? []).length === 1);
    expect((await api('DELETE', `${STORAGE}/namespaces/${NS}/freezes/incident`)).status).toBe(200);
    await eventually('unfrozen arrived', async () => r.freezes.length >= 2 && chatR.slack.length >= 2, 30_000);
    expect(r.freezes.map((e) => e.type)).toEqual(['com.example.custom.frozen', 'com.example.custom.unfrozen']);
    expect(chatR.slack[1]!.text).toBe(`Freeze ${NS}/incident no longer holds moves into prod`);
    await eventually('the status forgets it', async () => (await readPolicy('freezes')).status?.sinks?.[0]?.freezes === undefined);
  });

  it('a check of the next move that fails is check-failed, once per run', async () => {
    const r = await receiver();
    // What the check asks: always 503.
    const sick = createServer((_req, res) => res.writeHead(503).end('{"healthy":false}'));
    await new Promise<void>((ok) => sick.listen(0, '127.0.0.1', ok));
    try {
      expect((await policy('checks', { selector: { matchLabels: { team: 'checked' } }, events: ['check-failed'], sinks: [{ name: 'hook', webhook: { url: r.url('/events'), secretRef: { name: 'hook' } } }] })).status).toBe(201);
      await create('probe', { team: 'checked' }, { states: ['dev', 'staging'], checks: { staging: [{ name: 'health', http: { url: `http://127.0.0.1:${(sick.address() as { port: number }).port}/health` }, successCondition: 'status == 200', intervalSeconds: 1 }] } });
      await eventually('a check-failed arrived', async () => r.checks.length >= 1, 30_000);
      expect(r.checks[0]).toMatchObject({ subject: `${NS}/probe`, check: { name: 'health', phase: 'Failed', attempt: 1, from: 'dev', to: 'staging' } });
      // The run starts again a second after and fails again: another event, never the same one twice.
      await eventually('the next run failed too', async () => r.checks.length >= 2, 30_000);
      expect(new Set(r.checks.map((c) => c.id)).size).toBe(r.checks.length);
      expect(r.checks[1]!.check.attempt).toBe(2);
      expect(r.events.filter((e) => e.object === `${NS}/probe`)).toEqual([]);
    } finally {
      sick.closeAllConnections();
      await new Promise((ok) => sick.close(ok));
    }
  }, 90_000);

  it('a refused promote is refused, sent by the replica that refused it; a dry run is not', async () => {
    const r = await receiver();
    const chatR = await receiver();
    await secret('refusal-chat', { url: chatR.url('/slack') });
    expect((await policy('refusals', { selector: { matchLabels: { team: 'refuse' } }, events: ['refused'], sinks: [{ name: 'hook', webhook: { url: r.url('/events'), secretRef: { name: 'hook' } } }, { name: 'chat', slack: { urlSecretRef: { name: 'refusal-chat' } } }] })).status).toBe(201);
    await create('gate', { team: 'refuse' }, { minSoakSeconds: { dev: 3600 } });
    await eventually('the backend has the policy', async () => (await readPolicy('refusals')).status?.conditions?.[0]?.status === 'True', 30_000);
    const dry = await api('POST', `${CUSTOM}/namespaces/${NS}/customresources/gate/promote?dryRun=All`, { from: 'dev', reason: 'dry' });
    expect(dry.status).toBe(422);
    const refused = await api<{ message: string }>('POST', `${CUSTOM}/namespaces/${NS}/customresources/gate/promote`, { from: 'dev', reason: 'ship it' });
    expect(refused.status).toBe(422);
    await eventually('the refusal arrived', async () => r.events.length >= 1 && chatR.slack.length >= 1, 30_000);
    expect(r.events).toMatchObject([{ type: 'com.example.custom.refused', object: `${NS}/gate`, verified: true }]);
    expect(chatR.slack[0]!.text).toBe(`admin was refused moving ${NS}/gate dev → staging: “ship it” — ${refused.body.message.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}`);
    expect(r.events.filter((e) => e.type === 'com.example.custom.refused')).toHaveLength(1);
  });

  it('a policy edited while its sink is sending: each event still once, in order', async () => {
    const slow = await receiver();
    slow.delayMs = 200;
    expect((await policy('edited', { selector: { matchLabels: { team: 'edited' } }, sinks: [{ name: 'hook', webhook: { url: slow.url('/events'), secretRef: { name: 'hook' } } }] })).status).toBe(201);
    await create('shelf', { team: 'edited' });
    for (let i = 0; i < 6; i++) await move('shelf', i % 2 === 0 ? 'dev' : 'staging', i % 2 === 0 ? 'staging' : 'dev');
    await eventually('the first event arrived', async () => slow.of('shelf').length >= 1, 30_000);
    // A new generation while the rest are on their way: the sink's loop is replaced.
    const edit = await apiOn(stack.cluster, 'admin', 'PATCH', policyPath(NS, 'edited'), { spec: { description: 'edited mid-flight' } }, { 'Content-Type': 'application/merge-patch+json' });
    expect(edit.status, edit.text).toBe(200);
    await eventually('all six arrived', async () => slow.of('shelf').length >= 6, 30_000);
    expect(slow.of('shelf').map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    await eventually('the status is of the new generation', async () => (await readPolicy('edited')).status?.observedGeneration === 2);
    expect(slow.attempts).toBe(6);
  });

  it('a bad Secret gives a clear status, and nothing of its value', async () => {
    const r = await receiver();
    await secret('wrong-key', { token: 'hunter2' });
    expect((await policy('bad-secrets', { selector: { matchLabels: { team: 'nobody' } }, sinks: [
      { name: 'missing', webhook: { url: r.url('/events'), secretRef: { name: 'not-there' } } },
      { name: 'key', slack: { urlSecretRef: { name: 'wrong-key' } } },
    ] })).status).toBe(201);
    await create('stall', { team: 'nobody' });
    await move('stall', 'dev', 'staging');
    await eventually('both sinks say what is wrong', async () => {
      const s = (await readPolicy('bad-secrets')).status?.sinks ?? [];
      return s.length === 2 && s.every((x) => x.lastError);
    }, 30_000);
    const st = (await readPolicy('bad-secrets')).status!.sinks!;
    expect(st.find((s) => s.name === 'missing')!.lastError).toBe(`Secret ${NS}/not-there not found`);
    expect(st.find((s) => s.name === 'key')!.lastError).toBe(`Secret ${NS}/wrong-key has no key "url" (it has "token")`);
    expect(JSON.stringify(st)).not.toContain('hunter2');
    expect(r.attempts).toBe(0);
  });

  it('a Secret in a namespace that has not let the backend read its Secrets says how to allow it', async () => {
    const ns = 'notify-closed';
    expect((await api('POST', '/api/v1/namespaces', { metadata: { name: ns } })).status).toBe(201);
    await secret('hook', { secret: KEY }, ns);
    const r = await receiver();
    expect((await policy('closed', { sinks: [{ name: 'hook', webhook: { url: r.url('/events'), secretRef: { name: 'hook' } } }] }, ns)).status).toBe(201);
    const test = await api<{ sinks: { name: string; ok: boolean; message: string }[] }>('POST', `${CUSTOM}/namespaces/${ns}/notificationpolicies/closed/test`, {});
    expect(test.status, test.text).toBe(200);
    expect(test.body.sinks).toEqual([{ name: 'hook', ok: false, message: `the backend may not read Secret ${ns}/hook: bind the ClusterRole kubectl-custom-secrets to the backend in that namespace: kubectl create rolebinding kubectl-custom-secrets -n ${ns} --clusterrole=kubectl-custom-secrets --serviceaccount=custom-system:kubectl-custom-backend` }]);
  });

  it('notify test sends one signed test event to each sink and says what each answered; viewers may not', async () => {
    const before = hook.events.length;
    const r = await api<{ sinks: { name: string; ok: boolean; status: number }[] }>('POST', `${CUSTOM}/namespaces/${NS}/notificationpolicies/pay/test`, {});
    expect(r.status, r.text).toBe(200);
    expect(r.body.sinks).toEqual([{ name: 'hook', ok: true, status: 200, message: 'webhook answered 200' }, { name: 'chat', ok: true, status: 200, message: 'slack answered 200' }]);
    expect(hook.events.slice(before)).toMatchObject([{ type: 'com.example.custom.test', verified: true }]);
    expect((await api('POST', `${CUSTOM}/namespaces/${NS}/notificationpolicies/pay/test`, {}, 'carol')).status).toBe(403);
    expect((await api('POST', `${CUSTOM}/namespaces/${NS}/notificationpolicies/nope/test`, {})).status).toBe(404);
    // The same through the plugin, as users run it: one line per sink, exit 0; a sink that fails makes it exit 1.
    const plugin = (args: string[]) => runCommand(PLUGIN, args, { env: { ...process.env, KUBECONFIG: stack.cluster.kubeconfigs.admin, NO_COLOR: '1' }, timeoutMs: 30_000 });
    const ok = await plugin(['notify', 'test', 'pay', '-n', NS]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe('SINK   RESULT   DETAIL\nhook   sent     webhook answered 200\nchat   sent     slack answered 200\n');
    const bad = await plugin(['notify', 'test', 'bad-secrets', '-n', NS]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(`missing   failed   Secret ${NS}/not-there not found`);
    expect(bad.stderr).toBe(`error: 2 of 2 sinks of NotificationPolicy ${NS}/bad-secrets did not take the test event: missing, key\n`);
  });
});

describe('an outside witness of the trail (history --verify --against)', () => {
  it('a cluster admin who re-creates archived segments with an entry changed and the later hashes recomputed (window too) passes --verify, not --against', async () => {
    const witness = await receiver();
    expect((await policy('audit', { selector: { matchLabels: { team: 'audit' } }, sinks: [{ name: 'hook', webhook: { url: witness.url('/events'), secretRef: { name: 'hook' } } }] })).status).toBe(201);
    await create('ledger', { team: 'audit' }, { states: ['a', 'b'] });
    for (let i = 0; i < 12; i++) await move('ledger', i % 2 === 0 ? 'a' : 'b', i % 2 === 0 ? 'b' : 'a');
    const stored = `${STORAGE}/namespaces/${NS}/customresources/ledger`;
    const obj = (await api<{ metadata: { uid: string }; status: { history: HistoryEntry[] } }>('GET', stored)).body;
    const uid = obj.metadata.uid;
    await eventually('the receiver holds all 12 entries', async () => witness.of('ledger').length >= 12, 30_000);
    expect(witness.of('ledger').map((e) => e.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    const file = join(dir, 'witness.jsonl');
    writeFileSync(file, witness.raw.join('\n') + '\n');
    const history = (args: string[]) => runCommand(PLUGIN, ['history', 'ledger', '-n', NS, ...args], { env: { ...process.env, KUBECONFIG: stack.cluster.kubeconfigs.admin, NO_COLOR: '1' }, timeoutMs: 30_000 });
    const before = await history(['--verify', '--against', file]);
    expect(before.code, before.stdout + before.stderr).toBe(0);
    expect(before.stdout).toContain('against the witness: matches: 12 entries (seq 1–12)');

    // The rewrite: the archived segment (seq 1–7) deleted and made again with seq 2 said otherwise, and every later
    // hash recomputed, in the segment and in the window of status.history (seq 8–12), which a cluster admin may write.
    const segPath = `${STORAGE}/namespaces/custom-system/statehistories`;
    const segs = (await api<{ items: StateHistorySegment[] }>('GET', `${segPath}?labelSelector=${encodeURIComponent(`${HISTORY_LABELS.uid}=${uid}`)}`)).body.items;
    const entries = [...segs.flatMap((sg) => sg.spec.entries), ...obj.status.history].sort((x, y) => x.seq! - y.seq!);
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    let prev = '';
    const forged = new Map<number, HistoryEntry>();
    for (const e of entries) {
      const f: HistoryEntry = { ...e, ...(e.seq === 2 ? { user: 'mallory', reason: 'nothing to see' } : {}) };
      delete f.hash;
      f.hash = entryHash(prev, f);
      prev = f.hash;
      forged.set(e.seq!, f);
    }
    for (const sg of segs) {
      expect((await api('DELETE', `${segPath}/${sg.metadata.name}`)).status).toBe(200);
      const { resourceVersion: _rv, creationTimestamp: _ct, ...meta } = sg.metadata as StateHistorySegment['metadata'] & { uid?: string; managedFields?: unknown; generation?: number };
      delete (meta as { uid?: string }).uid;
      delete (meta as { managedFields?: unknown }).managedFields;
      delete (meta as { generation?: number }).generation;
      const again = await api('POST', segPath, { ...sg, metadata: meta, spec: { ...sg.spec, entries: sg.spec.entries.map((e) => forged.get(e.seq!)!) } });
      expect(again.status, again.text).toBe(201);
    }
    const window = await apiOn(stack.cluster, 'admin', 'PATCH', `${stored}/status`, { status: { history: obj.status.history.map((e) => forged.get(e.seq!)!) } }, { 'Content-Type': 'application/merge-patch+json' });
    expect(window.status, window.text).toBe(200);

    await eventually('the backend serves the rewritten trail', async () => (await history(['--verify'])).stdout.includes('verified: seq 1–12, 12 entries') && (await api<{ lives: { entries: HistoryEntry[] }[] }>('GET', `${CUSTOM}/namespaces/${NS}/customresources/ledger/history`)).body.lives[0]!.entries[1]!.user === 'mallory');
    const verify = await history(['--verify']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    const against = await history(['--verify', '--against', file]);
    expect(against.code).toBe(1);
    expect(against.stdout).toContain('verified: seq 1–12, 12 entries');
    expect(against.stdout).toContain('against the witness: diverges at seq 2: the cluster has set-state b→a by mallory');
    expect(against.stderr).toContain(`error: the history of ledger diverges from ${file} at seq 2 (life ${uid})`);
  }, 120_000);
});

describe('two replicas', () => {
  it('only the holder of the Lease sends (each event once); stopping it hands over at once and nothing is lost', async () => {
    const second = await startBackend({ cluster: stack.cluster, dir: join(dir, 'second'), register: false });
    try {
      const r = await receiver();
      expect((await policy('replicas', { selector: { matchLabels: { team: 'replicas' } }, sinks: [{ name: 'hook', webhook: { url: r.url('/events'), secretRef: { name: 'hook' } } }] })).status).toBe(201);
      await create('drawer', { team: 'replicas' });
      for (let i = 0; i < 4; i++) await move('drawer', i % 2 === 0 ? 'dev' : 'staging', i % 2 === 0 ? 'staging' : 'dev');
      await eventually('four events arrived', async () => r.of('drawer').length >= 4, 30_000);
      const lease = async () => (await api<{ spec: { holderIdentity?: string } }>('GET', '/apis/coordination.k8s.io/v1/namespaces/custom-system/leases/kubectl-custom-notifications')).body.spec.holderIdentity ?? '';
      const holder = await lease();
      expect(holder).not.toBe('');
      // The first replica held the Lease before the second started; stopping it (SIGTERM) releases it.
      await stopProcess(stack.backend.pid);
      await eventually('the second replica took the Lease', async () => (await lease()) !== holder && (await lease()) !== '', 15_000);
      const taken = await lease();
      // The first comes back to serve the API (the APIService points at it); the second keeps the Lease and delivers.
      const b = await restartBackend(stack.backend);
      stack.backend.pid = b.pid;
      // kube-apiserver's proxy reaches the restarted replica a moment after it is ready (its connection to the stopped one is dropped first).
      await eventually('the API is served through kube-apiserver again', async () => (await api('GET', `${CUSTOM}/namespaces/${NS}/customresources/drawer`)).status === 200, 30_000);
      for (let i = 4; i < 6; i++) await move('drawer', i % 2 === 0 ? 'dev' : 'staging', i % 2 === 0 ? 'staging' : 'dev');
      await eventually('six events arrived', async () => r.of('drawer').length >= 6, 30_000);
      expect(r.of('drawer').map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(await lease()).toBe(taken);
    } finally {
      await stopProcess(second.pid);
    }
  }, 120_000);
});
