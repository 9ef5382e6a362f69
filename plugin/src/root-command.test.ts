import { describe, expect, it, vi } from 'vitest';
import { readFileSync } from 'node:fs';
import type { RestClient } from '../../client/src/rest-client.ts';
import type { ConnectionFlags, ResolvedConfig } from '../../client/src/kubeconfig.ts';
import { run } from './root-command.ts';
import { harness } from './testing/harness.ts';

async function flagsOf(argv: string[]): Promise<ConnectionFlags> {
  const h = harness();
  const code = await run(argv, h.deps);
  expect(code).toBe(1);
  expect(h.err()).toBe('error: sentinel: connect was called\n');
  expect(h.connects).toHaveLength(1);
  return h.connects[0]!;
}

describe('run: connection flags reach connect', () => {
  it.each<{ name: string; argv: string[]; want: ConnectionFlags }>([
    {
      name: 'every kubectl flag on list',
      argv: ['list', '-n', 'shop', '--context', 'c', '--as', 'bob', '--as-group', 'g1', '--as-group', 'g2', '--request-timeout', '5s', '--kubeconfig', '/x'],
      want: { namespace: 'shop', context: 'c', as: 'bob', asGroups: ['g1', 'g2'], requestTimeout: '5s', kubeconfig: '/x' },
    },
    { name: 'promote with a quoted reason', argv: ['promote', 'checkout', '--reason', 'r', '-n', 'ns'], want: { namespace: 'ns' } },
    { name: 'flags before the verb', argv: ['--namespace', 'shop', '--context', 'c', 'describe-state', 'checkout'], want: { namespace: 'shop', context: 'c' } },
    { name: '--flag=value', argv: ['set-state', 'checkout', 'dev', '--namespace=shop', '--as-group=g1', '--as-group=g2'], want: { namespace: 'shop', asGroups: ['g1', 'g2'] } },
    {
      name: 'cluster, user, server, token, insecure',
      argv: ['ls', '--cluster', 'cl', '--user', 'u', '-s', 'https://k.example', '--token', 't', '--insecure-skip-tls-verify'],
      want: { cluster: 'cl', user: 'u', server: 'https://k.example', token: 't', insecureSkipTlsVerify: true },
    },
    { name: 'none', argv: ['list'], want: {} },
    { name: 'list flags are not connection flags', argv: ['list', '-A', '-l', 'team=a', '-o', 'wide', '--no-headers', '--no-color'], want: {} },
    { name: 'empty values are absent', argv: ['list', '--namespace=', '--context='], want: {} },
    { name: 'version without --client connects', argv: ['version'], want: {} },
  ])('$name', async ({ argv, want }) => {
    expect(await flagsOf(argv)).toEqual(want);
  });

  it('version prints the client version before connecting', async () => {
    const h = harness();
    expect(await run(['version'], h.deps)).toBe(1);
    expect(h.out()).toBe('Client Version: v0.1.0\n');
    expect(h.connects).toHaveLength(1);
  });

  // kubectl's --as-group takes one value per flag (`kubectl get --as-group g1 pods`);
  // here the option is a greedy yargs array, so it swallows the words after it.
  it('--as-group takes one value, not the verb after it', async () => {
    expect(await flagsOf(['--as-group', 'g1', 'list'])).toEqual({ asGroups: ['g1'] });
  });

  it('--as-group takes one value, not the name after it', async () => {
    expect(await flagsOf(['promote', '--as-group', 'g1', 'checkout'])).toEqual({ asGroups: ['g1'] });
  });

  // kubectl (pflag): a repeated string flag keeps its last value. Here yargs
  // makes an array of it and connectionFlags drops non-strings, so the
  // kubeconfig's current context / namespace is used without a word.
  it('a repeated --context keeps the last value', async () => {
    expect(await flagsOf(['list', '--context', 'prod', '--context', 'dev'])).toEqual({ context: 'dev' });
  });

  it('a repeated -n keeps the last value', async () => {
    expect(await flagsOf(['list', '-n', 'a', '-n', 'b'])).toEqual({ namespace: 'b' });
  });
});

describe('run: usage errors', () => {
  it.each([
    { name: 'no verb', argv: [], want: 'error: name a command' },
    { name: 'unknown verb', argv: ['frobnicate'], want: 'error: Unknown argument: frobnicate' },
    { name: 'unknown flag', argv: ['list', '--bogus'], want: 'error: Unknown argument: bogus' },
    { name: 'missing name', argv: ['describe-state'], want: 'error: Not enough non-option arguments' },
    { name: 'missing state', argv: ['set-state', 'checkout'], want: 'error: Not enough non-option arguments: got 1, need at least 2' },
    { name: 'extra argument', argv: ['promote', 'a', 'b'], want: 'error: Unknown argument: b' },
    { name: 'bad -o for list', argv: ['list', '-o', 'xml'], want: 'error: unable to match a printer suitable for the output format "xml"' },
    { name: 'bad -o for describe-state', argv: ['describe-state', 'checkout', '-o', 'wide'], want: 'error: unable to match a printer suitable for the output format "wide"' },
    { name: '-w with -o json', argv: ['list', '-w', '-o', 'json'], want: 'error: --watch prints tables' },
  ])('$name', async ({ argv, want }) => {
    const h = harness();
    expect(await run(argv, h.deps)).toBe(1);
    const err = h.err();
    expect(err.startsWith(want)).toBe(true);
    expect(err).toMatch(/^error: [^\n]*\(see "kubectl custom --help"\)\n$/);
    expect(h.out()).toBe('');
    expect(h.connects).toEqual([]);
  });

  // to-exit-code.ts promises one line on stderr; yargs' choices error has two.
  it('an unknown shell is a one-line error', async () => {
    const h = harness();
    expect(await run(['completion', 'tcsh'], h.deps)).toBe(1);
    expect(h.err()).toMatch(/^error: [^\n]*\n$/);
  });

  // kubectl: "error: flag needs an argument: 'n' in -n". Here the flag is
  // dropped and the command runs in the context's namespace.
  it('-n without a value is a usage error', async () => {
    const h = harness();
    expect(await run(['list', '-n'], h.deps)).toBe(1);
    expect(h.connects).toEqual([]);
  });
});

describe('run: help and version', () => {
  it.each([
    { name: '--help', argv: ['--help'], want: ['Usage: kubectl custom <command> [flags]', 'describe-state <name>', 'set-state <name> <state>', 'promote <name>', '--kubeconfig'] },
    { name: '-h', argv: ['-h'], want: ['Usage: kubectl custom <command> [flags]'] },
    { name: 'list --help', argv: ['list', '--help'], want: ['List objects and where they stand', '--all-namespaces', '--selector', '--context'] },
    { name: 'promote --help', argv: ['promote', '--help'], want: ['--reason', '--dry-run', '--namespace'] },
  ])('$name writes help to out and exits 0', async ({ argv, want }) => {
    const h = harness();
    expect(await run(argv, h.deps)).toBe(0);
    for (const w of want) expect(h.out()).toContain(w);
    expect(h.out().endsWith('\n')).toBe(true);
    expect(h.err()).toBe('');
    expect(h.connects).toEqual([]);
  });

  it('version --client prints the client version without connecting', async () => {
    const h = harness();
    expect(await run(['version', '--client'], h.deps)).toBe(0);
    expect(h.out()).toBe('Client Version: v0.1.0\n');
    expect(h.err()).toBe('');
    expect(h.connects).toEqual([]);
  });

  it('completion bash prints the script without connecting', async () => {
    const h = harness();
    expect(await run(['completion', 'bash'], h.deps)).toBe(0);
    expect(h.out()).toContain('kubectl-custom __complete');
    expect(h.connects).toEqual([]);
  });

  it.each([
    { name: 'a verb', argv: ['__complete', 'pro'], want: 'promote\n:4\n' },
    { name: 'an -o value', argv: ['__complete', 'list', '-o', ''], want: 'wide\njson\nyaml\nname\n:4\n' },
    { name: 'a flag', argv: ['__complete', 'list', '--w'], want: '--watch\n:4\n' },
  ])('__complete $name without connecting', async ({ argv, want }) => {
    const h = harness();
    expect(await run(argv, h.deps)).toBe(0);
    expect(h.out()).toBe(want);
    expect(h.connects).toEqual([]);
  });
});

describe('run: colour of list output', () => {
  const config: ResolvedConfig = { server: 'https://k.example', namespace: 'shop', namespaceExplicit: true, tls: { insecure: false }, auth: {}, timeoutMs: 0 };
  // The backend's Table for a few objects in shop (api/testdata/tables.json, kept true by the server's tests).
  const serverTable = () => (JSON.parse(readFileSync(new URL('../../api/testdata/tables.json', import.meta.url), 'utf8')) as { sets: { shop: { table: unknown } } }).sets.shop.table;
  const fakeClient = () => {
    const c = {
      config,
      json: vi.fn(async () => serverTable()),
      stream: vi.fn(async () => {
        throw new Error('no watch in this test');
      }),
      close: vi.fn(),
    };
    return c;
  };

  it.each([
    { name: 'not a terminal: plain', argv: ['list'], env: {}, colour: false },
    { name: 'FORCE_COLOR: coloured', argv: ['list'], env: { FORCE_COLOR: '1' }, colour: true },
    { name: 'FORCE_COLOR with --no-color: plain', argv: ['list', '--no-color'], env: { FORCE_COLOR: '1' }, colour: false },
  ])('$name', async ({ argv, env, colour }) => {
    const client = fakeClient();
    const h = harness({ env, client: client as unknown as RestClient });
    expect(await run(argv, h.deps)).toBe(0);
    expect(h.out()).toContain('checkout');
    expect(h.out().includes('\x1b[')).toBe(colour);
    expect(client.json).toHaveBeenCalledWith('GET', '/apis/custom.example.com/v1/namespaces/shop/customresources', expect.objectContaining({ query: { includeObject: colour ? 'Object' : 'Metadata' } }));
    expect(client.close).toHaveBeenCalledTimes(1);
  });
});

// buildParser turns off yargs' eager help layout through its internals
// (getInternalMethods().getUsageInstance().cacheHelpMessage): a yargs upgrade
// that renames them would silently bring the cost back. This fails instead.
describe('the yargs internals the parser relies on', () => {
  type Internals = { getInternalMethods?: () => { getUsageInstance(): { cacheHelpMessage?: () => void } } };
  it('a plain yargs parser still has getInternalMethods().getUsageInstance().cacheHelpMessage', async () => {
    const { default: yargs } = await import('yargs');
    const y = yargs([]) as unknown as Internals;
    expect(typeof y.getInternalMethods).toBe('function');
    expect(typeof y.getInternalMethods!().getUsageInstance().cacheHelpMessage).toBe('function');
  });

  it('buildParser replaces it with a no-op', async () => {
    const { buildParser } = await import('./root-command.ts');
    const y = buildParser(() => {}) as unknown as Internals;
    const cache = y.getInternalMethods!().getUsageInstance().cacheHelpMessage!;
    expect(cache.toString()).toMatch(/^\(\) => \{\s*\}$/);
  });
});
