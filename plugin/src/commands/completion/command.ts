// kubectl custom completion: its command line.
import type { CommandSpec } from '../command-spec.ts';

const SHELLS = ['bash', 'zsh', 'fish'] as const;

export const completionCommand: CommandSpec = {
  name: 'completion',
  describe: 'Print a shell completion script (bash, zsh or fish)',
  positionals: [{ name: 'shell', describe: 'bash, zsh or fish', choices: SHELLS, complete: { values: SHELLS } }],
  flags: [],
  examples: [['source <(kubectl-custom completion bash)', '']],
  async run(ctx, a) {
    const { completionScript } = await import('./completion-script.ts');
    ctx.deps.streams.out.write(completionScript(String(a['shell'])));
  },
};
