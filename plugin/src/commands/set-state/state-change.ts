// set-state and promote share this: read the state the user sees, send the
// change with that `from` (so two people pressing at once never move an
// object two steps), and say plainly what happened. With --override the
// server lets the move pass the gates that would refuse it and records it
// as an `override` entry naming them; the line printed says so.
import { objectPath } from '../../../../api/src/names.ts';
import type { CustomResourceState, HistoryEntry } from '../../../../api/src/types.ts';
import { statePalette } from '../../output/color.ts';
import { escapeTerminal } from '../../output/escape.ts';
import type { CommandContext } from '../context.ts';

export interface ChangeOptions {
  name: string;
  reason?: string;
  /** Break glass: sent as `override: true`. */
  override: boolean;
  dryRun: boolean;
}

/** What the success line adds in brackets: an override and the gates it passed, a dry run. */
function notes(opts: ChangeOptions, recorded: HistoryEntry | undefined): string {
  const parts: string[] = [];
  if (opts.override) {
    // The entry this change wrote; a dry run writes none.
    const gates = recorded?.action === 'override' ? recorded.overrode ?? [] : [];
    parts.push(gates.length ? `override of ${escapeTerminal(gates.join(', '))}` : 'override');
  }
  if (opts.dryRun) parts.push('server dry run');
  return parts.length ? ` (${parts.join('; ')})` : '';
}

export async function runStateChange(ctx: CommandContext, action: 'promote' | 'set-state', opts: ChangeOptions & { state?: string }): Promise<void> {
  const client = await ctx.client();
  const ns = client.config.namespace;
  const seen = await client.json<CustomResourceState>('GET', objectPath(ns, opts.name, 'state'));
  const body = {
    ...(opts.state !== undefined ? { state: opts.state } : {}),
    from: seen.state,
    ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
    ...(opts.override ? { override: true } : {}),
  };
  const query = opts.dryRun ? { dryRun: 'All' } : {};
  const after = action === 'promote'
    ? await client.json<CustomResourceState>('POST', objectPath(ns, opts.name, 'promote'), { body, query })
    : await client.json<CustomResourceState>('PUT', objectPath(ns, opts.name, 'state'), { body, query });
  const p = statePalette(ctx.chalk);
  const colour = (s: string) => p.state(s, after.path, after.protectedStates);
  const verb = action === 'promote' ? 'promoted' : 'moved';
  const recorded = opts.dryRun ? undefined : after.history.at(-1);
  ctx.deps.streams.out.write(`${escapeTerminal(opts.name)} ${verb}: ${colour(seen.state)} → ${colour(after.state)}${notes(opts, recorded)}\n`);
}
