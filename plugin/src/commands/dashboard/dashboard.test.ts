import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../../client/src/errors.ts';
import { apiError, fakeClient, harness } from '../../testing/harness.ts';
import type { CommandContext } from '../context.ts';
import { parseDashboardOptions, runDashboard, stopSignals, type DashboardHooks } from './dashboard.ts';
import { browserCommand } from './open-browser.ts';
import { UsageError } from '../../errors/errors.ts';
import { newChalk } from '../../output/color.ts';

const LIST = 'GET /apis/custom.example.com/v1/namespaces/shop/customresources';
const WHOAMI = 'POST /apis/authentication.k8s.io/v1/selfsubjectreviews';
const ASSETS = { 'index.html': { contentType: 'text/html', body: '' } };

describe('parseDashboardOptions', () => {
  const base = { address: undefined, port: undefined, noOpen: false, allNamespaces: false };
  it.each([
    { name: 'defaults: loopback, any free port, open', args: {}, want: { address: '127.0.0.1', port: 0, open: true, allNamespaces: false } },
    { name: 'a port, no browser, -A', args: { port: '8080', noOpen: true, allNamespaces: true }, want: { address: '127.0.0.1', port: 8080, open: false, allNamespaces: true } },
    { name: 'IPv6 in brackets', args: { address: '[::1]' }, want: { address: '::1' } },
    { name: 'every interface', args: { address: '0.0.0.0' }, want: { address: '0.0.0.0' } },
    { name: 'localhost', args: { address: 'localhost' }, want: { address: 'localhost' } },
  ])('$name', ({ args, want }) => {
    expect(parseDashboardOptions({ ...base, ...args })).toMatchObject(want);
  });

  it.each([
    { name: 'a host name (the Host check would lock everyone out)', args: { address: 'my-laptop.example' }, message: /--address takes an IP address/ },
    { name: 'a port that is not a number', args: { port: '80a' }, message: /--port takes a number from 0 to 65535/ },
    { name: 'a port out of range', args: { port: '65536' }, message: /--port takes a number/ },
    { name: 'a negative port', args: { port: '-1' }, message: /--port takes a number/ },
  ])('refuses $name', ({ args, message }) => {
    expect(() => parseDashboardOptions({ ...base, ...args })).toThrow(UsageError);
    expect(() => parseDashboardOptions({ ...base, ...args })).toThrow(message);
  });
});

describe('browserCommand', () => {
  const url = 'http://127.0.0.1:1/?token=t';
  it.each([
    { name: 'Linux with X', platform: 'linux' as const, env: { DISPLAY: ':0' }, want: ['xdg-open', [url]] },
    { name: 'Linux with Wayland', platform: 'linux' as const, env: { WAYLAND_DISPLAY: 'wayland-0' }, want: ['xdg-open', [url]] },
    { name: 'Linux without a display (SSH, a server)', platform: 'linux' as const, env: {}, want: undefined },
    { name: 'macOS', platform: 'darwin' as const, env: {}, want: ['open', [url]] },
    // No shell: the URL is one argument, & and all.
    { name: 'Windows', platform: 'win32' as const, env: { SystemRoot: 'C:\\WINDOWS' }, want: ['C:\\WINDOWS\\System32\\rundll32.exe', ['url.dll,FileProtocolHandler', 'http://a/?x=1&token=t']], url: 'http://a/?x=1&token=t' },
    { name: 'Windows, SystemRoot named in another case', platform: 'win32' as const, env: { SYSTEMROOT: 'D:\\Win' }, want: ['D:\\Win\\System32\\rundll32.exe', ['url.dll,FileProtocolHandler', url]] },
    { name: 'Windows without SystemRoot', platform: 'win32' as const, env: {}, want: ['C:\\Windows\\System32\\rundll32.exe', ['url.dll,FileProtocolHandler', url]] },
  ])('$name', ({ platform, env, want, url: u }) => {
    expect(browserCommand(u ?? url, platform, env)).toEqual(want);
  });
});

describe('stopSignals', () => {
  it('is Ctrl+C and SIGTERM on Unix; Ctrl+C, Ctrl+Break and closing the console on Windows', () => {
    expect(stopSignals('linux')).toEqual(['SIGINT', 'SIGTERM']);
    expect(stopSignals('darwin')).toEqual(['SIGINT', 'SIGTERM']);
    expect(stopSignals('win32')).toEqual(['SIGINT', 'SIGBREAK', 'SIGHUP']);
  });
});

function context(routes: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) {
  const client = fakeClient(routes);
  const h = harness({ client, env });
  const ctx: CommandContext = { deps: h.deps, chalk: newChalk(false), flags: {}, client: async () => client };
  return { ctx, h, client };
}

/** Runs the dashboard until it is ready, then stops it; returns the URL it served. */
async function runOnce(ctx: CommandContext, opts: Partial<Parameters<typeof runDashboard>[1]>, hooks: DashboardHooks = {}): Promise<string> {
  let url = '';
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  await runDashboard(ctx, { address: '127.0.0.1', port: 0, open: false, allNamespaces: false, ...opts }, {
    assets: ASSETS,
    platform: 'linux',
    stopped,
    ...hooks,
    ready: (u) => {
      url = u;
      stop();
    },
  });
  return url;
}

describe('runDashboard', () => {
  it('checks the list first, prints the URL with its token and who the user is', async () => {
    const { ctx, h, client } = context({ [LIST]: { metadata: {}, items: [] }, [WHOAMI]: { status: { userInfo: { username: 'alice' } } } });
    const url = await runOnce(ctx, {});
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
    expect(h.out()).toBe(`Serving the dashboard for namespace shop as alice at\n\n  ${url}\n\nThe URL's token is the key: anyone who has it acts as you. Press Ctrl+C to stop.\n`);
    expect(h.err()).toBe('');
    expect(client.calls[0]).toMatchObject({ method: 'GET', opts: { query: { limit: '1' } } });
  });

  it('-A shows every namespace', async () => {
    const { ctx, h } = context({ 'GET /apis/custom.example.com/v1/customresources': { metadata: {}, items: [] }, [WHOAMI]: () => { throw apiError(403, 'Forbidden', 'no'); } });
    await runOnce(ctx, { allNamespaces: true });
    expect(h.out()).toMatch(/^Serving the dashboard for all namespaces at\n/);
  });

  it('fails, as every verb does, when the user may not list what it would show', async () => {
    const { ctx } = context({ [LIST]: () => { throw apiError(403, 'Forbidden', 'customresources.custom.example.com is forbidden: User "bob" cannot list resource'); } });
    await expect(runOnce(ctx, {})).rejects.toBeInstanceOf(ApiError);
  });

  it('warns when it listens beyond loopback', async () => {
    const { ctx, h } = context({ [LIST]: { metadata: {}, items: [] }, [WHOAMI]: {} });
    await runOnce(ctx, { address: '0.0.0.0' });
    expect(h.err()).toBe('warning: listening on 0.0.0.0 (every interface), not loopback: anyone who can reach this port and learns the URL acts in the cluster with your credentials\n');
  });

  it('opens the browser where there is a display, and says so where there is none', async () => {
    const opened: [string, string[]][] = [];
    const withDisplay = context({ [LIST]: { metadata: {}, items: [] }, [WHOAMI]: {} }, { DISPLAY: ':0' });
    const url = await runOnce(withDisplay.ctx, { open: true }, { openBrowser: async (c) => (opened.push(c), true) });
    expect(opened).toEqual([['xdg-open', [url]]]);
    const headless = context({ [LIST]: { metadata: {}, items: [] }, [WHOAMI]: {} });
    await runOnce(headless.ctx, { open: true }, { openBrowser: async (c) => (opened.push(c), true) });
    expect(opened).toHaveLength(1);
    expect(headless.h.err()).toBe('No display found (DISPLAY and WAYLAND_DISPLAY are unset): open the URL above in a browser.\n');
  });
});
