// The shell completion scripts `kubectl custom completion SHELL` prints:
// each asks `kubectl-custom __complete <words…>` (completion.ts) for the
// candidates, so the script needs nothing of the verbs' tables.

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
