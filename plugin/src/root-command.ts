// The command line: kubectl's connection flags plus one command per verb.
// yargs parses; the selected verb runs afterwards, so every failure goes
// through one error path (errors/to-exit-code.ts) and help text goes to the
// injected output stream.
import yargs, { type Argv } from 'yargs';
import type { CommandContext } from './commands/context.ts';
import type { Deps } from './deps.ts';
import { UsageError } from './errors/errors.ts';
import { toExitCode } from './errors/to-exit-code.ts';
import type { KubeClient } from './kube/client.ts';
import type { ConnectionFlags } from './kube/kubeconfig.ts';

// Each verb's module (and chalk, cli-table3, yaml with it) is imported only
// when that verb runs: --help and completion of verbs stay fast.
const listCommand = () => import('./commands/list/list.ts');
const completionCommand = () => import('./commands/completion/completion.ts');

type Args = Record<string, unknown> & { _: (string | number)[] };
type Run = (ctx: CommandContext) => Promise<void>;

const EPILOG = 'Connection flags are kubectl\'s: --kubeconfig, --context, --cluster, --user, -n, --as, --as-group, --request-timeout, --server, --token.';

function globalFlags(y: Argv): Argv {
  return y
    .option('kubeconfig', { type: 'string', requiresArg: true, describe: 'Path to the kubeconfig file to use (else KUBECONFIG, else ~/.kube/config)', global: true })
    .option('context', { type: 'string', requiresArg: true, describe: 'The name of the kubeconfig context to use', global: true })
    .option('cluster', { type: 'string', requiresArg: true, describe: 'The name of the kubeconfig cluster to use', global: true })
    .option('user', { type: 'string', requiresArg: true, describe: 'The name of the kubeconfig user to use', global: true })
    .option('namespace', { alias: 'n', type: 'string', requiresArg: true, describe: 'If present, the namespace scope for this request', global: true })
    .option('as', { type: 'string', requiresArg: true, describe: 'Username to impersonate for the operation', global: true })
    .option('as-group', { type: 'string', nargs: 1, requiresArg: true, describe: 'Group to impersonate for the operation; repeat for more', global: true })
    .option('request-timeout', { type: 'string', requiresArg: true, describe: 'How long to wait for a single server request (e.g. 1s, 2m); 0 waits forever', global: true })
    .option('server', { alias: 's', type: 'string', requiresArg: true, describe: 'The address and port of the Kubernetes API server', global: true })
    .option('token', { type: 'string', requiresArg: true, describe: 'Bearer token for authentication to the API server', global: true })
    .option('insecure-skip-tls-verify', { type: 'boolean', describe: 'Do not check the server certificate (insecure)', global: true })
    .option('no-color', { type: 'boolean', describe: 'Never colour the output (also: NO_COLOR=1)', global: true })
    .group(['kubeconfig', 'context', 'cluster', 'user', 'namespace', 'as', 'as-group', 'request-timeout', 'server', 'token', 'insecure-skip-tls-verify', 'no-color'], 'Global flags (as kubectl\'s):');
}

/** A repeated flag keeps its last value, as kubectl (pflag) does. */
function last(v: unknown): unknown {
  return Array.isArray(v) ? v[v.length - 1] : v;
}

function connectionFlags(a: Args): ConnectionFlags {
  const s = (k: string) => {
    const v = last(a[k]);
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  // --as-group repeats: one group per flag.
  const rawGroups = a['as-group'];
  const groups = (Array.isArray(rawGroups) ? rawGroups : rawGroups === undefined ? [] : [rawGroups]).map(String).filter(Boolean);
  const f: ConnectionFlags = {};
  for (const [k, v] of [['kubeconfig', s('kubeconfig')], ['context', s('context')], ['cluster', s('cluster')], ['user', s('user')], ['namespace', s('namespace')], ['server', s('server')], ['token', s('token')], ['as', s('as')], ['requestTimeout', s('request-timeout')]] as const) {
    if (v !== undefined) (f as Record<string, string>)[k] = v;
  }
  if (groups?.length) f.asGroups = groups;
  if (a['insecure-skip-tls-verify'] === true) f.insecureSkipTlsVerify = true;
  return f;
}

function nameArg(a: Args): string {
  const n = a['name'];
  if (typeof n !== 'string' || !n) throw new UsageError('a name is required');
  return n;
}

export function buildParser(onRun: (run: Run) => void): Argv {
  let y = yargs()
    .scriptName('kubectl custom')
    .usage('kubectl custom moves objects through ordered states (dev → staging → prod) with enforced permissions and an audit trail.\n\nUsage: kubectl custom <command> [flags]')
    .exitProcess(false)
    .strict()
    .version(false)
    .help('help')
    .alias('help', 'h')
    .showHelpOnFail(false)
    .parserConfiguration({ 'boolean-negation': false, 'strip-aliased': true })
    .wrap(Math.min(110, process.stdout.columns || 100))
    .epilog(EPILOG)
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    });
  y = globalFlags(y);
  y = y
    .command(
      ['list', 'ls'],
      'List objects and where they stand',
      (c) =>
        c
          .option('all-namespaces', { alias: 'A', type: 'boolean', describe: 'List across all namespaces' })
          .option('selector', { alias: 'l', type: 'string', describe: 'Label selector, e.g. -l team=payments' })
          .option('output', { alias: 'o', type: 'string', describe: 'wide, json, yaml or name' })
          .option('watch', { alias: 'w', type: 'boolean', describe: 'After listing, keep the table current' })
          .option('no-headers', { type: 'boolean', describe: 'Omit the header row' })
          .example('kubectl custom list -n shop', 'Objects in namespace shop')
          .example('kubectl custom list -A -o wide', 'Everything, with the path and gates')
          .example('kubectl custom list -l team=payments -w', 'Watch one team\'s objects'),
      (a: Args) =>
        onRun(async (ctx) => {
          const { parseListOutput, runList } = await listCommand();
          await runList(ctx, {
            allNamespaces: a['all-namespaces'] === true,
            ...(typeof a['selector'] === 'string' ? { selector: a['selector'] } : {}),
            output: parseListOutput(a['output'] as string | undefined),
            watch: a['watch'] === true,
            noHeaders: a['no-headers'] === true,
          });
        }),
    )
    .command(
      'describe-state <name>',
      'Show the path, the current position, the gates, what you may do and the history',
      (c) =>
        c
          .positional('name', { type: 'string', describe: 'Object name' })
          .option('output', { alias: 'o', type: 'string', describe: 'json or yaml' })
          .example('kubectl custom describe-state checkout -n shop', ''),
      (a: Args) => onRun(async (ctx) => (await import('./commands/describe-state/describe-state.ts')).runDescribeState(ctx, nameArg(a), a['output'] as string | undefined)),
    )
    .command(
      'set-state <name> <state>',
      'Move an object to any state on its path (also backwards)',
      (c) =>
        c
          .positional('name', { type: 'string', describe: 'Object name' })
          .positional('state', { type: 'string', describe: 'Target state' })
          .option('reason', { type: 'string', describe: 'Why; required to enter a protected state' })
          .option('dry-run', { type: 'boolean', describe: 'Check and authorize on the server, change nothing' })
          .example('kubectl custom set-state checkout staging --reason "roll back 1.2"', ''),
      (a: Args) =>
        onRun(async (ctx) =>
          (await import('./commands/set-state/set-state.ts')).runSetState(ctx, { name: nameArg(a), state: String(a['state']), ...(typeof a['reason'] === 'string' ? { reason: a['reason'] } : {}), dryRun: a['dry-run'] === true }),
        ),
    )
    .command(
      'promote <name>',
      'Move an object to the next state on its path',
      (c) =>
        c
          .positional('name', { type: 'string', describe: 'Object name' })
          .option('reason', { type: 'string', describe: 'Why; required to enter a protected state' })
          .option('dry-run', { type: 'boolean', describe: 'Check and authorize on the server, change nothing' })
          .example('kubectl custom promote checkout -n shop --reason "tests green"', ''),
      (a: Args) =>
        onRun(async (ctx) => (await import('./commands/promote/promote.ts')).runPromote(ctx, { name: nameArg(a), ...(typeof a['reason'] === 'string' ? { reason: a['reason'] } : {}), dryRun: a['dry-run'] === true })),
    )
    .command(
      'version',
      'Print the plugin and backend versions',
      (c) => c.option('client', { type: 'boolean', describe: 'Only the plugin version; do not contact the server' }),
      (a: Args) => onRun(async (ctx) => (await import('./commands/version/version.ts')).runVersion(ctx, a['client'] === true)),
    )
    .command(
      'install-certs',
      'Make the backend\'s serving certificate and set the APIService caBundle (clusters without cert-manager)',
      (c) =>
        c
          .option('renew', { type: 'boolean', describe: 'Make a new CA and certificate even if the current one is valid' })
          .option('dry-run', { type: 'boolean', describe: 'Check on the server, change nothing' })
          .example('kubectl apply -k manifests/base && kubectl custom install-certs', 'Install the backend in a cluster without cert-manager'),
      (a: Args) => onRun(async (ctx) => (await import('./commands/install-certs/install-certs.ts')).runInstallCerts(ctx, { renew: a['renew'] === true, dryRun: a['dry-run'] === true })),
    )
    .command(
      'completion <shell>',
      'Print a shell completion script (bash, zsh or fish)',
      (c) =>
        c
          .positional('shell', { type: 'string', choices: ['bash', 'zsh', 'fish'] })
          .example('source <(kubectl-custom completion bash)', ''),
      (a: Args) =>
        onRun(async (ctx) => {
          ctx.deps.streams.out.write((await completionCommand()).completionScript(String(a['shell'])));
        }),
    )
    .demandCommand(1, 'name a command: list, describe-state, set-state, promote, version, install-certs or completion');
  // yargs lays out a command's whole help text after running it, to have it
  // ready for a failure message; with showHelpOnFail(false) it is never
  // shown, and the layout (ICU grapheme segmentation) costs tens of
  // milliseconds per run. --help renders its text on demand as before.
  const internals = (y as unknown as { getInternalMethods?: () => { getUsageInstance(): { cacheHelpMessage?: () => void } } }).getInternalMethods?.();
  const usage = internals?.getUsageInstance();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => {};
  return y;
}

/** Runs the command line; returns the exit code. Never exits the process. */
export async function run(argv: string[], deps: Deps): Promise<number> {
  const { out, err } = deps.streams;
  let selected: Run | undefined;
  let client: KubeClient | undefined;
  let flags: ConnectionFlags = {};
  let noColor = false;
  try {
    let help = '';
    if (argv[0] === '__complete') {
      // Shell completion (ours and kubectl's): the words verbatim, the last one being completed.
      const words = argv.length > 1 ? argv.slice(1) : [''];
      selected = async (ctx) => {
        ctx.deps.streams.out.write(await (await completionCommand()).complete(ctx, words));
      };
    } else {
      const parser = buildParser((r) => (selected = r));
      const wantsHelp = argv.length === 0 || argv.some((a) => a === '--help' || a === '-h' || a === 'help');
      if (wantsHelp) {
        // Only here is yargs' output needed: with a callback it renders and
        // hands over the help text instead of printing it.
        help = await new Promise<string>((resolve, reject) => {
          void parser.parse(argv, {}, (e: Error | null | undefined, _parsed: Args, output: string) => (e ? reject(e) : resolve(output)));
        });
      } else {
        // Without a callback yargs does not lay out the help text in advance,
        // which costs tens of milliseconds (ICU grapheme segmentation) per run.
        const parsed = (await parser.parseAsync(argv)) as Args;
        flags = connectionFlags(parsed);
        noColor = parsed['no-color'] === true;
      }
    }
    if (help) out.write(help.endsWith('\n') ? help : help + '\n');
    if (!selected) return 0;
    const { colorEnabled, newChalk } = await import('./output/color.ts');
    const chalk = newChalk(colorEnabled(out, deps.env, noColor));
    const ctx: CommandContext = {
      deps,
      chalk,
      flags,
      client: async () => (client ??= await deps.connect(ctx.flags)),
    };
    await selected(ctx);
    return 0;
  } catch (e) {
    return toExitCode(e, (s) => err.write(s), client);
  } finally {
    client?.close();
  }
}
