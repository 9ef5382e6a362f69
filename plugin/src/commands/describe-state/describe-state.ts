// kubectl custom describe-state NAME: the path, the gates, what you may do, the history.
import { stringify } from 'yaml';
import { objectPath } from '../../../../api/src/names.ts';
import type { CustomResourceState } from '../../../../api/src/types.ts';
import { UsageError } from '../../errors/errors.ts';
import { renderStateView } from '../../output/state-printer.ts';
import type { CommandContext } from '../context.ts';

export async function runDescribeState(ctx: CommandContext, name: string, output: string | undefined): Promise<void> {
  if (output !== undefined && output !== 'json' && output !== 'yaml') throw new UsageError(`unable to match a printer suitable for the output format "${output}", allowed formats are: json, yaml`);
  const client = await ctx.client();
  const body = await client.json<CustomResourceState>('GET', objectPath(client.config.namespace, name, 'state'));
  const { out } = ctx.deps.streams;
  if (output === 'json') out.write(JSON.stringify(body, null, 2) + '\n');
  else if (output === 'yaml') out.write(stringify(body));
  else out.write(renderStateView(body, { chalk: ctx.chalk, now: ctx.deps.clock.now() }));
}
