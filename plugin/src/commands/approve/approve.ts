// kubectl custom approve NAME [--to STATE] [--reason TEXT] [--revoke]: four
// eyes. Reads the state the approver sees and sends it as `from`, so an
// approval is never given to a move out of a state the object has left;
// then says how many approvals the move has and how many it needs.
import { objectPath } from '../../../../api/src/names.ts';
import type { CustomResourceState } from '../../../../api/src/types.ts';
import { statePalette } from '../../output/color.ts';
import { escapeTerminal } from '../../output/escape.ts';
import type { CommandContext } from '../context.ts';

export interface ApproveOptions {
  name: string;
  to?: string;
  reason?: string;
  revoke: boolean;
}

export async function runApprove(ctx: CommandContext, opts: ApproveOptions): Promise<void> {
  const client = await ctx.client();
  const ns = client.config.namespace;
  const seen = await client.json<CustomResourceState>('GET', objectPath(ns, opts.name, 'state'));
  const to = opts.to ?? seen.nextState;
  const body = { from: seen.state, ...(opts.to !== undefined ? { to: opts.to } : {}), ...(opts.reason !== undefined ? { reason: opts.reason } : {}), ...(opts.revoke ? { revoke: true } : {}) };
  const after = await client.json<CustomResourceState>('POST', objectPath(ns, opts.name, 'approve'), { body });
  const p = statePalette(ctx.chalk);
  const colour = (s: string) => p.state(s, after.path, after.protectedStates);
  const move = `${colour(seen.state)} → ${colour(to ?? '')}`;
  // How the move stands now, told the same to every approver: who has
  // approved it, and (when it is the next move, which describe-state's checks
  // are of) how many it needs. describe-state counts from the caller's side
  // (the caller as the mover), which would hide an approver's own approval.
  const given = (after.approvals ?? []).filter((a) => a.to === to).map((a) => escapeTerminal(a.user));
  const needed = to === after.nextState ? after.checks?.find((c) => c.gate === 'approvals')?.approvals?.needed : undefined;
  const by = `given by ${given.length ? given.join(', ') : 'nobody yet'}`;
  const standing = needed !== undefined ? ` (${needed} needed, not counting the promoter's own; ${by})` : given.length ? ` (${by})` : '';
  const verb = opts.revoke ? 'approval revoked' : 'approved';
  ctx.deps.streams.out.write(`${escapeTerminal(opts.name)} ${verb}: ${move}${standing}\n`);
}
