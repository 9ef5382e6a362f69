// The command line: kubectl's connection flags plus one command per verb.
// yargs parses; the selected verb runs afterwards, so every failure goes
// through one error path (errors/to-exit-code.ts) and help text goes to the
// injected output stream.
import yargs, { type Argv, type Options } from 'yargs';
import type { CommandContext } from './commands/context.ts';
import type { CommandSpec, FlagSpec, ParsedArgs } from './commands/command-spec.ts';
import { COMMANDS } from './commands/registry.ts';
import { diagnoseBackend } from './commands/shared/diagnose-backend.ts';
import { connectionFlags, GLOBAL_FLAGS } from './commands/shared/global-flags.ts';
import type { Deps } from './deps.ts';
import { UsageError } from './errors/errors.ts';
import { toExitCode } from './errors/to-exit-code.ts';
import type { RestClient } from '../../client/src/rest-client.ts';
import type { ConnectionFlags } from '../../client/src/kubeconfig.ts';

// Completion is loaded only for __complete.
const completionModule = () => import('./commands/completion/completion.ts');

type Args = ParsedArgs & { _: (string | number)[] };
type Run = (ctx: CommandContext) => Promise<void>;

const EPILOG = 'Connection flags are kubectl\'s: --kubeconfig, --context, --cluster, --user, -n, --as, --as-group, --request-timeout, --server, --token.';

function option(f: FlagSpec, global: boolean): Options {
  return {
    type: f.type,
    describe: f.describe,
    ...(f.short ? { alias: f.short } : {}),
    ...(f.type === 'string' ? { requiresArg: true } : {}),
    ...(f.repeated ? { nargs: 1 } : {}),
    ...(global ? { global: true } : {}),
  };
}

function usageOf(c: CommandSpec): string {
  return [c.name, ...c.positionals.map((p) => `<${p.name}>`)].join(' ');
}

/** `columns`: the terminal's width, if the help goes to one. */
export function buildParser(onRun: (run: Run) => void, columns?: number): Argv {
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
    .wrap(Math.min(110, columns || 100))
    .epilog(EPILOG)
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    });
  for (const f of GLOBAL_FLAGS) y = y.option(f.name, option(f, true));
  y = y.group(GLOBAL_FLAGS.map((f) => f.name), 'Global flags (as kubectl\'s):');
  for (const c of COMMANDS) {
    y = y.command(
      [usageOf(c), ...(c.aliases ?? [])],
      c.describe,
      (b) => {
        for (const p of c.positionals) b = b.positional(p.name, { type: 'string', describe: p.describe, ...(p.choices ? { choices: p.choices } : {}) });
        for (const f of c.flags) b = b.option(f.name, option(f, false));
        for (const [cmd, what] of c.examples ?? []) b = b.example(cmd, what);
        return b;
      },
      (a: Args) => onRun((ctx) => c.run(ctx, a)),
    );
  }
  y = y.demandCommand(1, `name a command: ${COMMANDS.slice(0, -1).map((c) => c.name).join(', ')} or ${COMMANDS[COMMANDS.length - 1]!.name}`);
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
  let client: RestClient | undefined;
  let flags: ConnectionFlags = {};
  let noColor = false;
  try {
    let help = '';
    if (argv[0] === '__complete') {
      // Shell completion (ours and kubectl's): the words verbatim, the last one being completed.
      const words = argv.length > 1 ? argv.slice(1) : [''];
      selected = async (ctx) => {
        ctx.deps.streams.out.write(await (await completionModule()).complete(ctx, words));
      };
    } else {
      const parser = buildParser((r) => (selected = r), out.columns);
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
    return toExitCode(await diagnoseBackend(e, client), (s) => err.write(s));
  } finally {
    client?.close();
  }
}
