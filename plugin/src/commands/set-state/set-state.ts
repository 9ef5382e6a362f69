// kubectl custom set-state NAME STATE [--reason TEXT]: any listed state, also backwards.
import type { CommandContext } from '../context.ts';
import { runStateChange, type ChangeOptions } from './state-change.ts';

export function runSetState(ctx: CommandContext, opts: ChangeOptions & { state: string }): Promise<void> {
  return runStateChange(ctx, 'set-state', opts);
}
