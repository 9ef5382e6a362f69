// kubectl custom promote: its command line (the flags are set-state's).
import type { CommandSpec } from '../command-spec.ts';
import { CHANGE_FLAGS, changeOptions } from '../set-state/command.ts';

export const promoteCommand: CommandSpec = {
  name: 'promote',
  describe: 'Move an object to the next state on its path',
  positionals: [{ name: 'name', describe: 'Object name', complete: { lookup: 'names' } }],
  flags: CHANGE_FLAGS,
  examples: [
    ['kubectl custom promote checkout -n shop --reason "tests green"', ''],
    ['kubectl custom promote checkout -n shop --override --reason "incident 4711: hotfix"', 'Promote before the soak time is served or the approvals are in (needs override on the next state)'],
  ],
  async run(ctx, a) {
    const { runPromote } = await import('./promote.ts');
    await runPromote(ctx, changeOptions(a));
  },
};
