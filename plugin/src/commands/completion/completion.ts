// Shell completion. Every script asks `kubectl-custom __complete <words…>`,
// which answers in cobra's format (one candidate per line, then
// `:<directive>`), so kubectl's own plugin completion can use it too through
// the `kubectl_complete-custom` helper next to the executable. The scripts
// themselves are completion-script.ts's (they need no verb table).
import { collectionPath, freezePath, NOTIFICATION_POLICY_RESOURCE, objectPath, STORAGE_PATH, SYSTEM_NAMESPACE } from '../../../../api/src/names.ts';
import { hasUnsafeCharacters } from '../../output/escape.ts';
import { flagWords, type Completion, type FlagSpec } from '../command-spec.ts';
import type { CommandContext } from '../context.ts';
import { COMMANDS } from '../registry.ts';
import { GLOBAL_FLAGS } from '../shared/global-flags.ts';

/** The verbs, as the parser knows them (their tables in commands/registry.ts). */
export const VERBS = COMMANDS.map((c) => c.name);
const byVerb = new Map(COMMANDS.map((c) => [c.name, c] as const));
const flagsOf = (verb: string | undefined): readonly FlagSpec[] => [...(byVerb.get(verb ?? '')?.flags ?? []), ...GLOBAL_FLAGS];
/** Offered after the flags, as cobra offers it. */
const HELP = '--help';
/** cobra's ShellCompDirectiveNoFileComp: never fall back to file names. */
const NO_FILE = 4;

interface Parsed {
  positionals: string[];
  flags: Record<string, string>;
  /** The flag whose value is being completed, if the word before the cursor takes one. */
  valueFor?: FlagSpec;
}

/** The flag a word names (`--output`, `-o`, `--output=…`), among the verb's and the global ones. */
function flagNamed(word: string, verb: string | undefined): FlagSpec | undefined {
  const w = word.split('=')[0]!;
  return flagsOf(verb).find((f) => flagWords(f).includes(w));
}

function parseWords(words: string[]): Parsed {
  const positionals: string[] = [];
  const flags: Record<string, string> = {};
  for (let i = 0; i < words.length - 1; i++) {
    const w = words[i]!;
    if (w.startsWith('-')) {
      const eq = w.indexOf('=');
      if (eq > 0) flags[w.slice(0, eq)] = w.slice(eq + 1);
      else if (flagNamed(w, positionals[0])?.type === 'string') {
        if (i + 1 < words.length - 1) flags[w] = words[++i]!;
        else return { positionals, flags, valueFor: flagNamed(w, positionals[0])! };
      } else flags[w] = 'true';
    } else positionals.push(w);
  }
  return { positionals, flags };
}

/** What to look up in the cluster for a value, and how. */
async function candidates(ctx: CommandContext, how: Completion | undefined, p: Parsed): Promise<string[]> {
  if (!how) return [];
  if ('values' in how) return [...how.values];
  // Bun's runtime lists UTC among the zones too.
  if (how.lookup === 'timeZones') return [...new Set(['UTC', ...Intl.supportedValuesOf('timeZone')])];
  const { positionals } = p;
  const client = await ctx.client();
  switch (how.lookup) {
    case 'namespaces': {
      const body = await client.json<{ items: { metadata: { name: string } }[] }>('GET', '/api/v1/namespaces');
      return body.items.map((i) => i.metadata.name);
    }
    case 'names': {
      const body = await client.json<{ items: { metadata: { name: string } }[] }>('GET', collectionPath(client.config.namespace));
      return body.items.map((i) => i.metadata.name);
    }
    case 'states': {
      // The states of the object named before, but the one it is in.
      const body = await client.json<{ spec: { states: string[] }; status: { state: string } }>('GET', objectPath(client.config.namespace, positionals[1]!));
      return body.spec.states.filter((s) => s !== body.status.state);
    }
    case 'freezes': {
      const all = p.flags['-A'] === 'true' || p.flags['--all-namespaces'] === 'true';
      const body = await client.json<{ items: { metadata: { name: string } }[] }>('GET', freezePath(all ? SYSTEM_NAMESPACE : client.config.namespace));
      return body.items.map((i) => i.metadata.name);
    }
    case 'notificationPolicies': {
      const body = await client.json<{ items: { metadata: { name: string } }[] }>('GET', `${STORAGE_PATH}/namespaces/${encodeURIComponent(client.config.namespace)}/${NOTIFICATION_POLICY_RESOURCE}`);
      return body.items.map((i) => i.metadata.name);
    }
  }
}

/** Candidates for the last word of `words` (the word under the cursor, possibly empty). */
export async function complete(ctx: CommandContext, words: string[]): Promise<string> {
  const cur = words[words.length - 1] ?? '';
  const p = parseWords(words);
  // A candidate is typed into the user's command line as it is: one with a
  // control character (a name the API server would not accept anyway) is
  // left out rather than escaped into a word that names nothing.
  const done = (xs: string[]) => [...xs.filter((x) => x.startsWith(cur) && !hasUnsafeCharacters(x)), `:${NO_FILE}`].join('\n') + '\n';
  const ns = p.flags['-n'] ?? p.flags['--namespace'];
  Object.assign(ctx.flags, {
    ...(ns ? { namespace: ns } : {}),
    ...(p.flags['--context'] ? { context: p.flags['--context'] } : {}),
    ...(p.flags['--kubeconfig'] ? { kubeconfig: p.flags['--kubeconfig'] } : {}),
  });
  try {
    if (p.valueFor) return done(await candidates(ctx, p.valueFor.complete, p));
    const verb = p.positionals[0];
    if (cur.startsWith('-')) return done([...flagsOf(verb).flatMap(flagWords), HELP]);
    if (verb === undefined) return done(VERBS);
    const positional = byVerb.get(verb)?.positionals[p.positionals.length - 1];
    // A positional with fixed choices (notify's action) offers them.
    return done(await candidates(ctx, positional?.complete ?? (positional?.choices ? { values: positional.choices } : undefined), p));
  } catch {
    // Completion must never print errors into the user's command line.
    return done([]);
  }
}
