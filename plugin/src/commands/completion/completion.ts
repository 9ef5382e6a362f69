// Shell completion. Every script asks `kubectl-custom __complete <words…>`,
// which answers in cobra's format (one candidate per line, then
// `:<directive>`), so kubectl's own plugin completion can use it too through
// the `kubectl_complete-custom` helper next to the executable.
import { collectionPath, objectPath } from '../../api/paths.ts';
import type { CommandContext } from '../context.ts';

export const VERBS = ['list', 'describe-state', 'set-state', 'promote', 'version', 'install-certs', 'completion'];
const GLOBAL_FLAGS = ['--kubeconfig', '--context', '--cluster', '--user', '--namespace', '-n', '--as', '--as-group', '--request-timeout', '--server', '--token', '--insecure-skip-tls-verify', '--no-color', '--help'];
const VERB_FLAGS: Record<string, string[]> = {
  list: ['--all-namespaces', '-A', '--selector', '-l', '--output', '-o', '--watch', '-w', '--no-headers'],
  'describe-state': ['--output', '-o'],
  'set-state': ['--reason', '--dry-run'],
  promote: ['--reason', '--dry-run'],
  version: ['--client'],
  'install-certs': ['--renew', '--dry-run'],
  completion: [],
};
const VALUE_FLAGS = new Set(['--kubeconfig', '--context', '--cluster', '--user', '--namespace', '-n', '--as', '--as-group', '--request-timeout', '--server', '--token', '--selector', '-l', '--output', '-o', '--reason']);
/** cobra's ShellCompDirectiveNoFileComp: never fall back to file names. */
const NO_FILE = 4;

export function completionScript(shell: string): string {
  const bash = `# bash completion for kubectl-custom; load with: source <(kubectl-custom completion bash)
_kubectl_custom() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  local out
  out=$(kubectl-custom __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return 0
  out=$(printf '%s\\n' "$out" | sed '$d')
  local IFS=$'\\n'
  COMPREPLY=( $(compgen -W "$out" -- "$cur") )
}
complete -F _kubectl_custom kubectl-custom
`;
  switch (shell) {
    case 'bash':
      return bash;
    case 'zsh':
      return `#compdef kubectl-custom
# zsh completion for kubectl-custom; load with: source <(kubectl-custom completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bash}`;
    case 'fish':
      return `# fish completion for kubectl-custom; load with: kubectl-custom completion fish | source
function __kubectl_custom_complete
    set -l words (commandline -opc)
    set -e words[1]
    kubectl-custom __complete $words (commandline -ct) 2>/dev/null | sed '$d'
end
complete -c kubectl-custom -f -a '(__kubectl_custom_complete)'
`;
    default:
      throw new Error(`unsupported shell "${shell}": use bash, zsh or fish`);
  }
}

interface Parsed {
  positionals: string[];
  flags: Record<string, string>;
  /** The flag whose value is being completed, if the word before the cursor takes one. */
  valueFor?: string;
}

function parseWords(words: string[]): Parsed {
  const positionals: string[] = [];
  const flags: Record<string, string> = {};
  for (let i = 0; i < words.length - 1; i++) {
    const w = words[i]!;
    if (w.startsWith('-')) {
      const eq = w.indexOf('=');
      if (eq > 0) flags[w.slice(0, eq)] = w.slice(eq + 1);
      else if (VALUE_FLAGS.has(w)) {
        if (i + 1 < words.length - 1) flags[w] = words[++i]!;
        else return { positionals, flags, valueFor: w };
      } else flags[w] = 'true';
    } else positionals.push(w);
  }
  return { positionals, flags };
}

/** Candidates for the last word of `words` (the word under the cursor, possibly empty). */
export async function complete(ctx: CommandContext, words: string[]): Promise<string> {
  const cur = words[words.length - 1] ?? '';
  const p = parseWords(words);
  const done = (xs: string[]) => [...xs.filter((x) => x.startsWith(cur)), `:${NO_FILE}`].join('\n') + '\n';
  if (p.valueFor === '-o' || p.valueFor === '--output') return done(p.positionals[0] === 'describe-state' ? ['json', 'yaml'] : ['wide', 'json', 'yaml', 'name']);
  const ns = p.flags['-n'] ?? p.flags['--namespace'];
  Object.assign(ctx.flags, {
    ...(ns ? { namespace: ns } : {}),
    ...(p.flags['--context'] ? { context: p.flags['--context'] } : {}),
    ...(p.flags['--kubeconfig'] ? { kubeconfig: p.flags['--kubeconfig'] } : {}),
  });
  try {
    if (p.valueFor === '-n' || p.valueFor === '--namespace') {
      const client = await ctx.client();
      const { body } = await client.json<{ items: { metadata: { name: string } }[] }>('GET', '/api/v1/namespaces');
      return done(body.items.map((i) => i.metadata.name));
    }
    if (p.valueFor) return done([]);
    if (cur.startsWith('-')) return done([...(VERB_FLAGS[p.positionals[0] ?? ''] ?? []), ...GLOBAL_FLAGS]);
    const verb = p.positionals[0];
    if (verb === undefined) return done(VERBS);
    if (verb === 'completion') return done(p.positionals.length === 1 ? ['bash', 'zsh', 'fish'] : []);
    if (!['describe-state', 'set-state', 'promote'].includes(verb)) return done([]);
    const client = await ctx.client();
    if (p.positionals.length === 1) {
      const { body } = await client.json<{ items: { metadata: { name: string } }[] }>('GET', collectionPath(client.config.namespace));
      return done(body.items.map((i) => i.metadata.name));
    }
    if (verb === 'set-state' && p.positionals.length === 2) {
      const { body } = await client.json<{ spec: { states: string[] }; status: { state: string } }>('GET', objectPath(client.config.namespace, p.positionals[1]!));
      return done(body.spec.states.filter((s) => s !== body.status.state));
    }
    return done([]);
  } catch {
    // Completion must never print errors into the user's command line.
    return done([]);
  }
}
