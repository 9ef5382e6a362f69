// One table per verb: its positionals, its flags and how it runs. The
// parser (root-command.ts) and shell completion (completion/) are both built
// from these tables, so a flag exists in one place or nowhere.
import type { CommandContext } from './context.ts';

/** What completion offers for a value: fixed values, names looked up in the cluster (freezes: in custom-system with -A), or the IANA time zones this runtime knows. */
export type Completion = { values: readonly string[] } | { lookup: 'namespaces' | 'names' | 'states' | 'freezes' | 'notificationPolicies' | 'timeZones' };

export interface FlagSpec {
  /** The long name, without dashes. */
  name: string;
  /** The one-letter alias, without the dash. */
  short?: string;
  type: 'string' | 'boolean';
  /** A string flag that may be given more than once (each adds a value). */
  repeated?: boolean;
  describe: string;
  complete?: Completion;
}

export interface PositionalSpec {
  name: string;
  describe: string;
  /** yargs' choices: anything else is a usage error. */
  choices?: readonly string[];
  complete?: Completion;
}

/** The parsed command line, as yargs hands it over (flags by long name). */
export type ParsedArgs = Record<string, unknown>;

export interface CommandSpec {
  name: string;
  aliases?: readonly string[];
  describe: string;
  positionals: readonly PositionalSpec[];
  flags: readonly FlagSpec[];
  examples?: readonly (readonly [command: string, description: string])[];
  /** Runs the verb; its module is imported here, so --help and completion load none of it. */
  run(ctx: CommandContext, args: ParsedArgs): Promise<void>;
}

/** `--name` and `-s` of a flag, as typed. */
export function flagWords(f: FlagSpec): string[] {
  return [`--${f.name}`, ...(f.short ? [`-${f.short}`] : [])];
}

/** A string argument as given, or undefined when absent or empty. */
export function stringArg(a: ParsedArgs, name: string): string | undefined {
  const v = a[name];
  // A repeated flag keeps its last value, as kubectl (pflag) does.
  const last = Array.isArray(v) ? v[v.length - 1] : v;
  return typeof last === 'string' && last !== '' ? last : undefined;
}

export function boolArg(a: ParsedArgs, name: string): boolean {
  return a[name] === true;
}
