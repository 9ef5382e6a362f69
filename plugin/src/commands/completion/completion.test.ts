import { describe, expect, it, vi } from 'vitest';
import type { CommandContext } from '../context.ts';
import type { Deps } from '../../deps.ts';
import { newChalk } from '../../output/color.ts';
import { buildParser } from '../../root-command.ts';
import { COMMANDS } from '../registry.ts';
import { GLOBAL_FLAGS } from '../shared/global-flags.ts';
import { fakeClient } from '../../testing/harness.ts';
import { completionScript } from './completion-script.ts';
import { complete, VERBS } from './completion.ts';

function offlineCtx(): CommandContext & { client: ReturnType<typeof vi.fn> } {
  const deps: Deps = {
    streams: { in: { isTTY: false }, out: { write: () => true }, err: { write: () => true } },
    clock: { now: () => new Date(0) },
    env: {},
    version: '0.1.0',
    connect: () => Promise.reject(new Error('no cluster in unit tests')),
  };
  return {
    deps,
    chalk: newChalk(false),
    flags: {},
    client: vi.fn(() => {
      throw new Error('completion must not connect for this');
    }),
  };
}

const answer = (...xs: string[]) => [...xs, ':4'].join('\n') + '\n';

describe('completionScript', () => {
  it.each([
    { name: 'bash', shell: 'bash', want: 'complete -F _kubectl_custom kubectl-custom' },
    { name: 'zsh', shell: 'zsh', want: '#compdef kubectl-custom' },
    { name: 'fish', shell: 'fish', want: "complete -c kubectl-custom -f -a '(__kubectl_custom_complete)'" },
  ])('$name asks kubectl-custom __complete', ({ shell, want }) => {
    const s = completionScript(shell);
    expect(s).toContain('kubectl-custom __complete');
    expect(s).toContain(want);
    expect(s.endsWith('\n')).toBe(true);
  });

  it.each([
    { name: 'tcsh', shell: 'tcsh' },
    { name: 'empty', shell: '' },
    { name: 'powershell', shell: 'powershell' },
  ])('throws for $name', ({ shell }) => {
    expect(() => completionScript(shell)).toThrow(`unsupported shell "${shell}"`);
  });
});

describe('complete, offline', () => {
  it.each([
    { name: 'no word yet: every verb', words: [''], want: answer(...VERBS) },
    { name: 'verb prefix', words: ['de'], want: answer('describe-state') },
    { name: 'shared prefix', words: ['s'], want: answer('set-state') },
    { name: 'no verb matches', words: ['x'], want: answer() },
    { name: 'verb after a global flag with its value', words: ['--context', 'prod', 'p'], want: answer('promote') },
    { name: 'verb after --flag=value', words: ['--context=prod', 'l'], want: answer('list') },
    { name: 'list -o', words: ['list', '-o', ''], want: answer('wide', 'json', 'yaml', 'name') },
    { name: 'list --output with a prefix', words: ['list', '--output', 'y'], want: answer('yaml') },
    { name: 'describe-state -o', words: ['describe-state', 'checkout', '-o', ''], want: answer('json', 'yaml') },
    { name: 'list flags', words: ['list', '--w'], want: answer('--watch') },
    { name: 'list short flags and globals', words: ['list', '-'], want: answer('--all-namespaces', '-A', '--selector', '-l', '--output', '-o', '--watch', '-w', '--no-headers', '--kubeconfig', '--context', '--cluster', '--user', '--namespace', '-n', '--as', '--as-group', '--request-timeout', '--server', '-s', '--token', '--insecure-skip-tls-verify', '--no-color', '--help') },
    { name: 'promote flags', words: ['promote', 'checkout', '--r'], want: answer('--reason', '--request-timeout') },
    { name: 'version flags', words: ['version', '--c'], want: answer('--client', '--context', '--cluster') },
    { name: 'global flags before a verb', words: ['--as'], want: answer('--as', '--as-group') },
    { name: 'completion: shells', words: ['completion', ''], want: answer('bash', 'zsh', 'fish') },
    { name: 'completion: shell prefix', words: ['completion', 'f'], want: answer('fish') },
    { name: 'completion: nothing after the shell', words: ['completion', 'bash', ''], want: answer() },
    { name: 'a value for --context: nothing offered', words: ['list', '--context', ''], want: answer() },
    { name: 'a value for --reason: nothing offered', words: ['promote', 'checkout', '--reason', ''], want: answer() },
    { name: 'list takes no names', words: ['list', ''], want: answer() },
    { name: 'version takes no names', words: ['version', ''], want: answer() },
  ])('$name', async ({ words, want }) => {
    const ctx = offlineCtx();
    expect(await complete(ctx, words)).toBe(want);
    expect(ctx.client).not.toHaveBeenCalled();
  });

  it.each([
    { name: 'namespaces for -n', words: ['list', '-n', ''] },
    { name: 'names for promote', words: ['promote', ''] },
    { name: 'states for set-state', words: ['set-state', 'checkout', ''] },
  ])('asks the cluster for $name, and prints no error when it cannot', async ({ words }) => {
    const ctx = offlineCtx();
    expect(await complete(ctx, words)).toBe(answer());
    expect(ctx.client).toHaveBeenCalledTimes(1);
  });

  // The parser and completion are built from the same tables: every flag
  // completion offers for a verb is one the parser takes for it.
  it.each(VERBS.map((verb) => ({ name: verb, verb })))('$name: every flag offered parses', async ({ verb }) => {
    const offered = (await complete(offlineCtx(), [verb, '-'])).split('\n').filter((w) => w.startsWith('-') && w !== '--help');
    expect(offered.length).toBeGreaterThan(0);
    const spec = COMMANDS.find((c) => c.name === verb)!;
    const positionals = spec.positionals.map((p) => p.choices?.[0] ?? 'x');
    for (const flag of offered) {
      const takesValue = [...spec.flags, ...GLOBAL_FLAGS].some((f) => f.type === 'string' && (`--${f.name}` === flag || `-${f.short}` === flag));
      let selected = false;
      await buildParser(() => (selected = true)).parseAsync([verb, ...positionals, flag, ...(takesValue ? ['v'] : [])]);
      expect(selected, `${verb} ${flag}`).toBe(true);
    }
  });

  it('leaves out names with control characters rather than type them into the command line', async () => {
    const ctx = offlineCtx();
    const client = fakeClient({ 'GET /apis/custom.example.com/v1/namespaces/shop/customresources': { items: ['cart', 'checkout\x1b[2J', 'chat\u202e', 'search'].map((name) => ({ metadata: { name } })) } });
    ctx.client.mockResolvedValue(client);
    expect(await complete(ctx, ['promote', '-n', 'shop', ''])).toBe(answer('cart', 'search'));
  });

  it('offers the time zones this runtime knows for --time-zone, without the cluster', async () => {
    const ctx = offlineCtx();
    expect(await complete(ctx, ['freeze', '--time-zone', 'Europe/Be'])).toBe(answer('Europe/Belgrade', 'Europe/Berlin'));
    expect(await complete(ctx, ['freeze', '--time-zone', 'UT'])).toBe(answer('UTC'));
    expect(ctx.client).not.toHaveBeenCalled();
  });

  it.each([
    { name: 'in the namespace', words: ['unfreeze', '-n', 'shop', ''], path: '/apis/example.com/v1/namespaces/shop/freezes' },
    { name: 'cluster-wide with -A', words: ['unfreeze', '-A', ''], path: '/apis/example.com/v1/namespaces/custom-system/freezes' },
  ])('offers freeze names for unfreeze $name', async ({ words, path }) => {
    const ctx = offlineCtx();
    const client = fakeClient({ [`GET ${path}`]: { items: [{ metadata: { name: 'holidays' } }, { metadata: { name: 'incident' } }] } });
    ctx.client.mockResolvedValue(client);
    expect(await complete(ctx, words)).toBe(answer('holidays', 'incident'));
  });

  it('offers the NotificationPolicies of the namespace for notify test', async () => {
    const ctx = offlineCtx();
    const client = fakeClient({ 'GET /apis/example.com/v1/namespaces/shop/notificationpolicies': { items: [{ metadata: { name: 'releases' } }, { metadata: { name: 'pages' } }] } });
    ctx.client.mockResolvedValue(client);
    expect(await complete(ctx, ['notify', 'test', '-n', 'shop', 'r'])).toBe(answer('releases'));
    expect(await complete(ctx, ['notify', ''])).toBe(answer('test'));
  });

  it('offers object names for approve, and for --to the states of the object named, but the one it is in', async () => {
    const ctx = offlineCtx();
    const client = fakeClient({
      'GET /apis/custom.example.com/v1/namespaces/shop/customresources': { items: [{ metadata: { name: 'cart' } }, { metadata: { name: 'checkout' } }] },
      'GET /apis/custom.example.com/v1/namespaces/shop/customresources/cart': { spec: { states: ['dev', 'staging', 'prod'] }, status: { state: 'dev' } },
    });
    ctx.client.mockResolvedValue(client);
    expect(await complete(ctx, ['approve', '-n', 'shop', 'c'])).toBe(answer('cart', 'checkout'));
    expect(await complete(ctx, ['approve', '-n', 'shop', 'cart', '--to', ''])).toBe(answer('staging', 'prod'));
  });

  it('passes -n, --context and --kubeconfig of the words on to the connection', async () => {
    const ctx = offlineCtx();
    await complete(ctx, ['--kubeconfig', '/k', '--context=c', 'promote', '-n', 'shop', '']);
    expect(ctx.flags).toEqual({ kubeconfig: '/k', context: 'c', namespace: 'shop' });
  });
});
