// kubectl custom set-state: its command line, and the flags promote shares.
import { boolArg, stringArg, type CommandSpec, type FlagSpec } from '../command-spec.ts';
import type { ChangeOptions } from './state-change.ts';

export const CHANGE_FLAGS: readonly FlagSpec[] = [
  { name: 'reason', type: 'string', describe: 'Why; required to enter a protected state, and with --override' },
  {
    name: 'override',
    type: 'boolean',
    describe: 'Break glass: make the move even though its gates (soak, approvals, freezes, skipped states) refuse it. Needs the override permission on the target state and a --reason; recorded as an override',
  },
  { name: 'dry-run', type: 'boolean', describe: 'Check and authorize on the server, change nothing' },
];

export function changeOptions(a: Record<string, unknown>): ChangeOptions {
  const reason = stringArg(a, 'reason');
  return { name: String(a['name']), ...(reason !== undefined ? { reason } : {}), override: boolArg(a, 'override'), dryRun: boolArg(a, 'dry-run') };
}

export const setStateCommand: CommandSpec = {
  name: 'set-state',
  describe: 'Move an object to any state on its path (also backwards)',
  positionals: [
    { name: 'name', describe: 'Object name', complete: { lookup: 'names' } },
    { name: 'state', describe: 'Target state', complete: { lookup: 'states' } },
  ],
  flags: CHANGE_FLAGS,
  examples: [
    ['kubectl custom set-state checkout staging --reason "roll back 1.2"', ''],
    ['kubectl custom set-state checkout prod --override --reason "incident 4711: hotfix"', 'Jump over gated states (needs override on prod)'],
  ],
  async run(ctx, a) {
    const { runSetState } = await import('./set-state.ts');
    await runSetState(ctx, { ...changeOptions(a), state: String(a['state']) });
  },
};
