// kubectl custom dashboard: a local web page of where everything stands,
// live, served from this process with the user's own kubeconfig, context and
// flags (the client every verb uses); it never holds broader credentials.
// Checks first that the user may list what the page will show (so a missing
// backend or permission fails here, in kubectl's words), then listens,
// prints the URL with its token, opens the browser where there is a display,
// and serves until interrupted.
import { isIP } from 'node:net';
import { collectionPath } from '../../../../api/src/names.ts';
import type { RestClient } from '../../../../client/src/rest-client.ts';
import { startDashboard } from '../../dashboard/dashboard-server.ts';
import { isLoopback, isUnspecified } from '../../dashboard/host-check.ts';
import { loadPageAssets, type PageAssets } from '../../dashboard/page-assets.ts';
import { newToken } from '../../dashboard/session.ts';
import { UsageError } from '../../errors/errors.ts';
import { escapeTerminal } from '../../output/escape.ts';
import type { CommandContext } from '../context.ts';
import { browserCommand, openBrowser } from './open-browser.ts';

export interface DashboardOptions {
  address: string;
  port: number;
  open: boolean;
  allNamespaces: boolean;
}

export function parseDashboardOptions(a: { address: string | undefined; port: string | undefined; noOpen: boolean; allNamespaces: boolean }): DashboardOptions {
  const address = a.address ?? '127.0.0.1';
  // The Host check accepts IP literals and localhost only, so a host name would lock everyone out.
  if (address !== 'localhost' && isIP(address.replace(/^\[|\]$/g, '')) === 0) throw new UsageError(`--address takes an IP address (e.g. 127.0.0.1, ::1, 0.0.0.0) or localhost, not ${JSON.stringify(address)}`);
  const port = a.port === undefined ? 0 : Number(a.port);
  if (!/^\d+$/.test(a.port ?? '0') || !Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port takes a number from 0 to 65535 (0: any free port), not ${JSON.stringify(a.port)}`);
  return { address: address.replace(/^\[|\]$/g, ''), port, open: !a.noOpen, allNamespaces: a.allNamespaces };
}

/** What tests replace: the page's files, how the browser is opened, when to stop. */
export interface DashboardHooks {
  assets?: PageAssets;
  platform?: NodeJS.Platform;
  openBrowser?: (command: [string, string[]]) => Promise<boolean>;
  /** Resolves when the dashboard should stop; by default at one of stopSignals(). */
  stopped?: Promise<void>;
  /** Called once the server listens, with its URL. */
  ready?: (url: string) => void;
}

/**
 * The signals that stop the dashboard. Unix: Ctrl+C and SIGTERM. Windows has
 * no SIGTERM to receive; there, as Go's os/signal maps the console's events
 * for kubectl port-forward, Ctrl+C and Ctrl+Break (SIGBREAK), and closing
 * the console window (Node's SIGHUP, with a few seconds to close).
 */
export function stopSignals(platform: NodeJS.Platform): NodeJS.Signals[] {
  return platform === 'win32' ? ['SIGINT', 'SIGBREAK', 'SIGHUP'] : ['SIGINT', 'SIGTERM'];
}

function untilSignal(platform: NodeJS.Platform): Promise<void> {
  const signals = stopSignals(platform);
  return new Promise((resolve) => {
    const stop = () => {
      for (const s of signals) process.off(s, stop);
      resolve();
    };
    for (const s of signals) process.on(s, stop);
  });
}

/** The user the cluster sees (SelfSubjectReview, as kubectl auth whoami); undefined when the cluster does not say. */
async function whoAmI(client: RestClient): Promise<string | undefined> {
  try {
    const r = await client.json<{ status?: { userInfo?: { username?: string } } }>('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
    });
    return r.status?.userInfo?.username;
  } catch {
    return undefined;
  }
}

export async function runDashboard(ctx: CommandContext, opts: DashboardOptions, hooks: DashboardHooks = {}): Promise<void> {
  const { out, err } = ctx.deps.streams;
  const client = await ctx.client();
  const namespace = opts.allNamespaces ? undefined : client.config.namespace;
  // The page shows this collection: if the user may not list it, or the backend is not there, say so now.
  await client.json('GET', collectionPath(namespace), { query: { limit: '1' } });
  const [user, assets] = await Promise.all([whoAmI(client), hooks.assets ?? loadPageAssets()]);
  const token = newToken();
  const dashboard = await startDashboard({
    client,
    assets,
    token,
    address: opts.address,
    port: opts.port,
    namespace,
    ...(user ? { user } : {}),
    log: {
      info: () => {},
      warn: (msg, fields) => err.write(`warning: ${escapeTerminal(msg)}${typeof fields?.['error'] === 'string' ? `: ${escapeTerminal(fields['error'])}` : ''}\n`),
    },
  });
  try {
    const scope = namespace === undefined ? 'all namespaces' : `namespace ${namespace}`;
    out.write(`Serving the dashboard for ${escapeTerminal(scope)}${user ? ` as ${escapeTerminal(user)}` : ''} at\n\n  ${dashboard.url}\n\nThe URL's token is the key: anyone who has it acts as you. Press Ctrl+C to stop.\n`);
    if (!isLoopback(opts.address)) {
      err.write(`warning: listening on ${opts.address}${isUnspecified(opts.address) ? ' (every interface)' : ''}, not loopback: anyone who can reach this port and learns the URL acts in the cluster with your credentials\n`);
    }
    hooks.ready?.(dashboard.url);
    const platform = hooks.platform ?? process.platform;
    if (opts.open) {
      const command = browserCommand(dashboard.url, platform, ctx.deps.env);
      if (!command) err.write('No display found (DISPLAY and WAYLAND_DISPLAY are unset): open the URL above in a browser.\n');
      else if (!(await (hooks.openBrowser ?? openBrowser)(command))) err.write(`Could not start ${command[0]}: open the URL above in a browser.\n`);
    }
    await (hooks.stopped ?? untilSignal(platform));
  } finally {
    await dashboard.close();
  }
}
