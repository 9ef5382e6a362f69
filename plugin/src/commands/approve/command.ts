// kubectl custom approve: its command line.
import { boolArg, stringArg, type CommandSpec } from '../command-spec.ts';

export const approveCommand: CommandSpec = {
  name: 'approve',
  describe: 'Approve the move of an object into its next state (or --to a later one); --revoke takes your approval back',
  positionals: [{ name: 'name', describe: 'Object name', complete: { lookup: 'names' } }],
  flags: [
    { name: 'to', type: 'string', describe: 'The state the approved move goes into (default: the next state)', complete: { lookup: 'states' } },
    { name: 'reason', type: 'string', describe: 'Why' },
    { name: 'revoke', type: 'boolean', describe: 'Take back your approval of that move' },
  ],
  examples: [
    ['kubectl custom approve checkout -n shop --reason "canary looks good"', 'Approve the move into the next state'],
    ['kubectl custom approve checkout -n shop --to prod', 'Approve a set-state jump into prod'],
    ['kubectl custom approve checkout -n shop --revoke', 'Take your approval back'],
  ],
  async run(ctx, a) {
    const { runApprove } = await import('./approve.ts');
    const to = stringArg(a, 'to');
    const reason = stringArg(a, 'reason');
    await runApprove(ctx, { name: String(a['name']), ...(to !== undefined ? { to } : {}), ...(reason !== undefined ? { reason } : {}), revoke: boolArg(a, 'revoke') });
  },
};
