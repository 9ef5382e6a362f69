// kubectl custom promote NAME [--reason TEXT]: to the next state on the path.
import { runStateChange, type ChangeOptions } from '../set-state/state-change.ts';
import type { CommandContext } from '../context.ts';

export function runPromote(ctx: CommandContext, opts: ChangeOptions): Promise<void> {
  return runStateChange(ctx, 'promote', opts);
}
