// kubectl custom dashboard in a real browser (Debian's chromium, driven by
// playwright-core) against the real control plane and backend: the built
// executable run through kubectl as alice (an editor) and bob (a viewer),
// each with their own kubeconfig. The page lists the objects; alice
// promotes through the page with the keyboard and the cluster records her;
// a second page sees it without a reload; bob's buttons are disabled and
// his forged POST is refused by the API server itself; requests without
// the token or with a foreign Host are refused by the dashboard. search's
// move into beta has a verification check (issue 21) of an HTTP endpoint of
// the test's own, which the panel shows under its gate.
import { createServer as createHttpServer, request, type Server } from 'node:http';
import { connect, createServer, type Socket } from 'node:net';
import { statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { CustomResourceState } from '../../api/src/types.ts';
import { freePort } from '../../cluster/processes.ts';
import { CHROMIUM_ARGS } from './chromium.ts';
import { api, bindClusterRole, createObject, CUSTOM, eventually, STORAGE, useNamespace, waitServed } from './harness.ts';
import { kubectlCustomSpawn } from './plugin-cli.ts';

const ns = useNamespace(import.meta.filename);
// The README's picture: written to docs/ with UPDATE_SCREENSHOT=1 (the namespace is random, so every run would
// change it); otherwise to a temporary file, still taken and checked.
const SCREENSHOT = process.env['UPDATE_SCREENSHOT'] === '1' ? fileURLToPath(new URL('../../docs/dashboard.png', import.meta.url)) : join(tmpdir(), `kubectl-custom-dashboard-${process.pid}.png`);
const obj = (name: string, sub?: string) => `${CUSTOM}/namespaces/${ns()}/customresources/${name}${sub ? `/${sub}` : ''}`;

interface Running {
  url: string;
  origin: string;
  port: number;
  stop(): void;
  err(): string;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
}

const running: Running[] = [];
let browser: Browser | undefined;
const contexts: BrowserContext[] = [];

const bind = (user: string, clusterRole: string) => bindClusterRole(ns(), user, clusterRole);

/** `kubectl custom dashboard -n NS --no-open` as `user`, until it prints its URL. */
async function dashboard(user: 'alice' | 'bob'): Promise<Running> {
  const p = kubectlCustomSpawn(user, ['dashboard', '-n', ns(), '--no-open']);
  let url = '';
  await eventually(`${user}'s dashboard prints its URL`, async () => {
    url = /http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]+/.exec(p.out())?.[0] ?? '';
    if (p.child.exitCode !== null) throw new Error(`the dashboard exited: ${p.err()}`);
    return url !== '';
  });
  const u = new URL(url);
  const exited = new Promise<number | null>((resolve) => (p.child.exitCode !== null ? resolve(p.child.exitCode) : p.child.once('exit', (code) => resolve(code))));
  const r = { url, origin: u.origin, port: Number(u.port), stop: () => p.kill(), err: p.err, exited };
  running.push(r);
  return r;
}

async function newPage(): Promise<Page> {
  const context = await browser!.newContext({ viewport: { width: 1200, height: 720 }, deviceScaleFactor: 1, reducedMotion: 'reduce' });
  contexts.push(context);
  return context.newPage();
}

/** A raw request to a dashboard, as any local program (or a rebinding page) could send it. */
function raw(d: Running, path: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: d.port, path, headers: { Host: `127.0.0.1:${d.port}`, ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** expect.poll with room for a loaded machine (its default gives up after a second). */
const poll = <T>(fn: () => Promise<T>, o: { timeout?: number; interval?: number } = {}) => expect.poll(fn, { timeout: 15_000, ...o });

const card = (page: Page, name: string) => page.locator(`article[data-key="${ns()}/${name}"]`);

/** Presses Tab until `selector` has the focus: the page is usable without a mouse. */
async function tabTo(page: Page, selector: string, max = 40): Promise<void> {
  for (let i = 0; i < max; i++) {
    // Evaluated in the page (this file is type-checked without the DOM's types).
    if (await page.evaluate(`document.activeElement?.matches(${JSON.stringify(selector)}) ?? false`)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`${selector} is not reachable with Tab`);
}

let alice: Running;
let bob: Running;
/** What search's check asks: always healthy. */
let health: Server | undefined;

beforeAll(async () => {
  const browserPath = inject('chromium');
  if ('error' in browserPath) throw new Error(browserPath.error);
  await createObject(ns(), 'checkout', { name: 'Checkout service', states: ['dev', 'staging', 'prod'], protectedStates: ['prod'], requiredApprovals: { prod: 2 } }, { team: 'payments' });
  await createObject(ns(), 'cart', { name: 'Shopping cart', states: ['dev', 'staging', 'prod'], protectedStates: ['prod'], minSoakSeconds: { staging: 3600 } }, { team: 'storefront' });
  health = createHttpServer((_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}'));
  const healthPort = await freePort();
  await new Promise<void>((r) => health!.listen(healthPort, '127.0.0.1', r));
  const check = { name: 'health', http: { url: `http://127.0.0.1:${healthPort}/healthz` }, successCondition: 'status == 200 && body.ok' };
  await createObject(ns(), 'search', { name: 'Search', states: ['draft', 'beta', 'ga'], checks: { beta: [check] } }, { team: 'storefront' });
  await Promise.all(['checkout', 'cart', 'search'].map((n) => waitServed(ns(), n)));
  // cart soaks in staging; search's next state is frozen.
  expect((await api('admin', 'POST', obj('cart', 'promote'), { from: 'dev', reason: 'canary green' })).status).toBe(201);
  const now = Date.now();
  const freeze = { apiVersion: 'example.com/v1', kind: 'Freeze', metadata: { name: 'beta-freeze' }, spec: { states: ['beta'], reason: 'launch week', start: new Date(now - 60_000).toISOString().replace(/\.\d+Z$/, 'Z'), end: new Date(now + 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z') } };
  expect((await api('admin', 'POST', `${STORAGE}/namespaces/${ns()}/freezes`, freeze)).status).toBe(201);
  await bind('alice', 'kubectl-custom-editor');
  await bind('bob', 'kubectl-custom-viewer');
  await eventually('RBAC in force for alice and bob', async () => (await api('alice', 'GET', obj('checkout', 'state'))).status === 200 && (await api('bob', 'GET', obj('checkout', 'state'))).status === 200);
  await eventually('the backend sees the freeze', async () => (await api<CustomResourceState>('admin', 'GET', obj('search', 'state'))).body.gates.promoteBlockedBy.includes('freeze'));
  await eventually("the backend measured search's check", async () => (await api<CustomResourceState>('admin', 'GET', obj('search', 'state'))).body.checks?.some((c) => c.check?.phase === 'Successful') === true);
  [alice, bob, browser] = await Promise.all([dashboard('alice'), dashboard('bob'), chromium.launch({ executablePath: browserPath.path, args: CHROMIUM_ARGS })]);
}, 120_000);

afterAll(async () => {
  for (const c of contexts) await c.close();
  await browser?.close();
  for (const r of running) r.stop();
  await new Promise<void>((r) => (health ? health.close(() => r()) : r()));
});

describe('kubectl custom dashboard in a browser', () => {
  let page: Page;

  it('loads with the token, drops it from the address, and lists the objects by namespace, live', async () => {
    page = await newPage();
    await page.goto(alice.url);
    expect(page.url()).toBe(`${alice.origin}/`);
    await poll(() => page.locator('#feed-status').textContent()).toBe('● live · 3 objects');
    expect(await page.locator('section.namespace h2').textContent()).toBe(`namespace ${ns()} (3)`);
    expect(await page.locator('article.object button.open').allTextContents()).toEqual(['cart', 'checkout', 'search']);
    expect(await page.locator('#who').textContent()).toBe(`as alice · context alice@kubectl-custom-local · namespace ${ns()}`);
    // The path as steps, the current one marked in text too; the gates of the next move as badges that say what they are.
    expect(await card(page, 'cart').locator('.step').allTextContents()).toEqual(['dev', '[staging] (current state)', 'prod* (next) (protected)']);
    expect(await card(page, 'cart').locator('.step[aria-current="step"]').count()).toBe(1);
    expect(await card(page, 'cart').locator('.badge').allTextContents()).toEqual([expect.stringMatching(/^✗ soak (59m|60m) left: /), 'prod protected: entering prod needs the enter permission and a reason']);
    expect(await card(page, 'checkout').locator('.meta').textContent()).toMatch(/^in dev for \d+s · never moved$/);
  });

  it('filters by label (matched by the API server) and by state; every filter has a label', async () => {
    await page.getByLabel('Labels', { exact: true }).fill('team=storefront');
    await page.getByLabel('Labels', { exact: true }).press('Enter');
    await poll(() => page.locator('article.object button.open').allTextContents()).toEqual(['cart', 'search']);
    await page.getByLabel('State', { exact: true }).selectOption('draft');
    await poll(() => page.locator('article.object button.open').allTextContents()).toEqual(['search']);
    await page.getByLabel('State', { exact: true }).selectOption('');
    // A selector the API would refuse is said in its words, and the feed waits for a better one.
    await page.getByLabel('Labels', { exact: true }).fill('team in (');
    await page.getByLabel('Labels', { exact: true }).press('Enter');
    await poll(() => page.locator('#feed-status').textContent()).toMatch(/^✗ stopped: label selector: /);
    await page.getByLabel('Labels', { exact: true }).fill('');
    await page.getByLabel('Labels', { exact: true }).press('Enter');
    await poll(() => page.locator('article.object button.open').allTextContents()).toEqual(['cart', 'checkout', 'search']);
    expect(await page.getByLabel('Namespace', { exact: true }).inputValue()).toBe('');
  });

  it('alice promotes through the page with the keyboard; the cluster records her; a second page sees it without a reload', async () => {
    const watcher = await newPage();
    await watcher.goto(alice.url);
    await poll(() => card(watcher, 'checkout').locator('.step.current').textContent()).toBe('[dev] (current state)');

    await page.locator('body').focus();
    await tabTo(page, `#open-${ns()}_checkout`);
    await page.keyboard.press('Enter');
    await poll(() => page.locator('#detail-title').textContent()).toBe(`${ns()}/checkoutCheckout service`);
    expect(await page.locator('#detail .may').textContent()).toBe('promote: yesset-state: yesapprove: nooverride: no');
    await tabTo(page, '#do-promote');
    expect(await page.locator('#do-promote').textContent()).toBe('Promote to staging');
    await page.keyboard.press('Enter');
    await poll(() => page.locator('#action-dialog').getAttribute('open')).toBe('');
    await page.getByLabel(/^Reason/).pressSequentially('tests green');
    await tabTo(page, '#action-confirm');
    const clicked = Date.now();
    await page.keyboard.press('Enter');
    await poll(() => page.locator('#action-result').textContent()).toBe('checkout promoted: dev → staging');
    const answered = Date.now();
    // The second page follows the watch: no reload.
    await poll(() => card(watcher, 'checkout').locator('.step.current').textContent(), { timeout: 10_000, interval: 20 }).toBe('[staging] (current state)');
    const seen = Date.now();
    console.log(`[dashboard] a second page showed alice's promote ${seen - clicked} ms after the click (${seen - answered} ms after the page had the API's answer)`);
    expect(seen - clicked).toBeLessThan(10_000);

    const state = await api<CustomResourceState>('admin', 'GET', obj('checkout', 'state'));
    expect(state.body.state).toBe('staging');
    expect(state.body.history.at(-1)).toMatchObject({ action: 'promote', from: 'dev', to: 'staging', user: 'alice', reason: 'tests green' });
    // The page's history names her too, and the next move's gates are in the list.
    await poll(() => page.locator('#detail table.history tbody tr').first().locator('td').allTextContents()).toEqual(['1', expect.stringMatching(/ ago$/), 'promote', 'dev → staging', 'alice', 'tests green']);
    await poll(() => card(watcher, 'checkout').locator('.badge').allTextContents()).toEqual([
      'prod protected: entering prod needs the enter permission and a reason',
      '✗ approvals 0/2: 0 of 2 approvals of the move into prod given',
    ]);
    await page.screenshot({ path: SCREENSHOT });
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
    // The whole trail, on request.
    await page.locator('#show-trail').click();
    await poll(() => page.locator('#trail caption').first().textContent()).toMatch(/^Current life \(uid [0-9a-f-]+\): 1 entry, oldest first$/);
  });

  it("alice's refused change shows the API's Status in the dialog", async () => {
    await page.locator(`#open-${ns()}_cart`).click();
    await poll(() => page.locator('#detail-title').textContent()).toBe(`${ns()}/cartShopping cart`);
    // Soak not served and no enter on prod: promote is disabled, with the reasons in words.
    expect(await page.locator('#do-promote').isDisabled()).toBe(true);
    expect(await page.locator('#do-promote-why').textContent()).toBe('soak time not served; no permission to enter the next state');
    await page.locator('#do-set-state').click();
    await page.getByLabel('Target state').selectOption('prod');
    await page.getByRole('button', { name: 'Set state', exact: true }).click();
    // Refused by the backend, which names the gate or the permission missing.
    await poll(() => page.locator('#action-error').textContent()).toMatch(/^Error from server \((Forbidden|Invalid)\): customresources\.custom\.example\.com "cart"/);
    await page.keyboard.press('Escape');
    expect((await api<CustomResourceState>('admin', 'GET', obj('cart', 'state'))).body.state).toBe('staging');
  });

  it('shows a frozen next state: the gate with its freeze in the panel, promote disabled, and a badge where the server counts it', async () => {
    await page.locator(`#open-${ns()}_search`).click();
    await poll(() => page.locator('#detail .gates li.unmet').allTextContents()).toEqual([expect.stringMatching(new RegExp(`^✗ not met: freeze: frozen by ${ns()}/beta-freeze until \\S+: launch week$`))]);
    expect(await page.locator('#do-promote-why').textContent()).toBe('the next state is frozen');
    // status.nextGates of the list's objects (where the server sends it) carries the freeze to the card.
    const served = await api<{ status: { nextGates?: unknown } }>('alice', 'GET', obj('search'));
    if (served.body.status.nextGates !== undefined) {
      await poll(() => card(page, 'search').locator('.badge.frozen').textContent()).toBe(`✗ beta frozen: moves into beta are frozen by ${ns()}/beta-freeze`);
    }
    await page.locator('#detail button.close').click();
    await poll(() => page.evaluate('document.activeElement?.id')).toBe(`open-${ns()}_search`);
  });

  it("shows each check of the next move under its gate: its result in words, what it measured and when (issue 21)", async () => {
    await page.locator(`#open-${ns()}_search`).click();
    const gate = page.locator('#detail .gates li.met', { hasText: 'checks:' });
    await poll(() => gate.locator('.check-run').textContent()).toMatch(/^pass 1 of 1 measured; last value \{"status":200,"body":\{"ok":true\}\}, \d+s ago$/);
    expect(await gate.locator('strong').textContent()).toBe('checks');
    expect(await gate.locator('.source').textContent()).toBe(' (from spec)');
    expect(await gate.locator('.check-result').getAttribute('class')).toBe('check-result successful');
    await page.locator('#detail button.close').click();
  });

  it('reconnects by itself when the connection drops, and shows what changed meanwhile', async () => {
    // The page reaches alice's dashboard through a TCP relay of the test's own, on 127.0.0.2 with
    // the same port (a loopback address, so the Host check lets it in): closing the relay drops the
    // page's connections, as a suspended laptop or a restarted proxy would.
    const sockets = new Set<Socket>();
    const relay = createServer((c) => {
      const upstream = connect(alice.port, '127.0.0.1');
      for (const [a, b] of [[c, upstream], [upstream, c]] as const) {
        sockets.add(a);
        a.on('error', () => {});
        a.on('close', () => b.destroy());
        a.pipe(b);
      }
    });
    const listen = () => new Promise<void>((resolve, reject) => relay.once('error', reject).listen(alice.port, '127.0.0.2', () => resolve()));
    await listen();
    try {
      const watcher = await newPage();
      await watcher.goto(alice.url.replace('127.0.0.1', '127.0.0.2'));
      await poll(() => card(watcher, 'cart').locator('.step.current').textContent()).toBe('[staging] (current state)');
      await new Promise<void>((r) => {
        relay.close(() => r());
        for (const s of sockets) s.destroy();
      });
      await poll(() => watcher.locator('#feed-status').textContent()).toMatch(/^○ reconnecting…/);
      expect((await api('admin', 'PUT', obj('cart', 'state'), { state: 'dev', from: 'staging', reason: 'roll back' })).status).toBe(200);
      await listen();
      await poll(() => card(watcher, 'cart').locator('.step.current').textContent()).toBe('[dev] (current state)');
      expect(await watcher.locator('#feed-status').textContent()).toBe('● live · 3 objects');
    } finally {
      relay.close();
      for (const s of sockets) s.destroy();
    }
  });

  it('bob (a viewer) sees every button disabled, and the API server refuses his forged POST', async () => {
    const bobPage = await newPage();
    await bobPage.goto(bob.url);
    await poll(() => bobPage.locator('article.object').count()).toBe(3);
    await bobPage.locator(`#open-${ns()}_checkout`).click();
    await poll(() => bobPage.locator('#detail .may').textContent()).toBe('promote: noset-state: noapprove: nooverride: no');
    for (const id of ['#do-promote', '#do-set-state', '#do-approve']) expect(await bobPage.locator(id).isDisabled(), id).toBe(true);
    expect(await bobPage.locator('#do-promote-why').textContent()).toContain('no permission to promote');
    // What a page (or bob himself) can send with his cookie and token: the dashboard forwards it with bob's credentials, and kube-apiserver's RBAC says no.
    const forged = await bobPage.evaluate(async (path) => {
      const session = (await (await fetch('/api/session')).json()) as { token: string };
      const r = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Dashboard-Token': session.token }, body: JSON.stringify({ from: 'staging', reason: 'forged' }) });
      return { status: r.status, body: (await r.json()) as { kind: string; reason: string; message: string } };
    }, `/api/namespaces/${ns()}/customresources/checkout/promote`);
    expect(forged.status).toBe(403);
    expect(forged.body).toMatchObject({ kind: 'Status', reason: 'Forbidden' });
    expect(forged.body.message).toBe(`customresources.custom.example.com "checkout" is forbidden: User "bob" cannot create resource "customresources/promote" in API group "custom.example.com" in the namespace "${ns()}"`);
    expect((await api<CustomResourceState>('admin', 'GET', obj('checkout', 'state'))).body.state).toBe('staging');
  });

  it('refuses requests without the token, with a wrong one, with a foreign Host, and changes without the token header', async () => {
    expect((await raw(alice, '/')).status).toBe(401);
    const session = await raw(alice, '/api/session');
    expect(session.status).toBe(401);
    expect(JSON.parse(session.text)).toMatchObject({ kind: 'Status', reason: 'Unauthorized' });
    expect((await raw(alice, '/?token=guessed')).status).toBe(403);
    const token = new URL(alice.url).searchParams.get('token')!;
    const cookie = `kubectl-custom-dashboard-${alice.port}=${token}`;
    expect((await raw(alice, '/', { Cookie: cookie })).status).toBe(200);
    // DNS rebinding: a page of another name that resolves to 127.0.0.1, even with the cookie.
    expect((await raw(alice, '/', { Cookie: cookie, Host: `rebound.example:${alice.port}` })).status).toBe(403);
    expect((await raw(alice, `/?token=${token}`, { Host: `rebound.example:${alice.port}` })).status).toBe(403);
    // The page's headers: only its own assets, no frames, no CORS.
    const page = await newPage();
    const res = await page.goto(alice.url);
    const headers = await (await res!.request().redirectedFrom()!.response())!.allHeaders();
    expect(headers['set-cookie']).toBe(`kubectl-custom-dashboard-${alice.port}=${token}; HttpOnly; SameSite=Strict; Path=/`);
    const h = await res!.allHeaders();
    expect(h['content-security-policy']).toContain("default-src 'self'");
    expect(h['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(h['x-content-type-options']).toBe('nosniff');
    expect(Object.keys(h).filter((k) => k.startsWith('access-control-'))).toEqual([]);
    // A change without the token header is refused before it reaches the cluster.
    const csrf = await page.evaluate(async (path) => (await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })).status, `/api/namespaces/${ns()}/customresources/checkout/promote`);
    expect(csrf).toBe(403);
  });

  it('says the page size it serves', async () => {
    const page = await newPage();
    let bytes = 0;
    page.on('response', (r) => void r.body().then((b) => (bytes += b.length), () => {}));
    await page.goto(alice.url);
    await poll(() => page.locator('#feed-status').textContent()).toMatch(/^● live/);
    console.log(`[dashboard] the page with its assets: ${(bytes / 1024).toFixed(1)} KiB (uncompressed), from ${join('dist', 'kubectl-custom')}`);
    expect(bytes).toBeLessThan(100 * 1024);
    expect(alice.err()).toBe('');
  });

  it('stops on SIGTERM (as on Ctrl+C) with its page still open: exit code 0, the port closed', async () => {
    const page = await newPage();
    await page.goto(bob.url);
    await poll(() => page.locator('#feed-status').textContent()).toMatch(/^● live/);
    bob.stop();
    expect(await bob.exited).toBe(0);
    await expect(raw(bob, '/')).rejects.toThrow(/ECONNREFUSED/);
    await poll(() => page.locator('#feed-status').textContent()).toMatch(/^○ reconnecting…/);
  });
});
