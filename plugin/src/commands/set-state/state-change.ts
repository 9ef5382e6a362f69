// set-state and promote share this: read the state the user sees, send the
// change with that `from` (so two people pressing at once never move an
// object two steps), and say plainly what happened.
import { objectPath } from '../../../../api/src/names.ts';
import type { CustomResourceState } from '../../../../api/src/types.ts';
import { statePalette } from '../../output/color.ts';
import type { CommandContext } from '../context.ts';

export interface ChangeOptions {
  name: string;
  reason?: string;
  dryRun: boolean;
}

export async function runStateChange(ctx: CommandContext, action: 'promote' | 'set-state', opts: ChangeOptions & { state?: string }): Promise<void> {
  const client = await ctx.client();
  const ns = client.config.namespace;
  const seen = await client.json<CustomResourceState>('GET', objectPath(ns, opts.name, 'state'));
  const body = { ...(opts.state !== undefined ? { state: opts.state } : {}), from: seen.state, ...(opts.reason !== undefined ? { reason: opts.reason } : {}) };
  const query = opts.dryRun ? { dryRun: 'All' } : {};
  const after = action === 'promote'
    ? await client.json<CustomResourceState>('POST', objectPath(ns, opts.name, 'promote'), { body, query })
    : await client.json<CustomResourceState>('PUT', objectPath(ns, opts.name, 'state'), { body, query });
  const p = statePalette(ctx.chalk);
  const colour = (s: string) => p.state(s, after.path, after.protectedStates);
  const verb = action === 'promote' ? 'promoted' : 'moved';
  ctx.deps.streams.out.write(`${opts.name} ${verb}: ${colour(seen.state)} → ${colour(after.state)}${opts.dryRun ? ' (server dry run)' : ''}\n`);
}
