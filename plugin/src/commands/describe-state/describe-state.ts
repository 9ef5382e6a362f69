// kubectl custom describe-state NAME: the path, the gates, what you may do, the history.
import { objectPath } from '../../../../api/src/names.ts';
import type { CustomResourceState } from '../../../../api/src/types.ts';
import { printDocument } from '../../output/document-printer.ts';
import { renderStateView } from '../../output/state-printer.ts';
import type { CommandContext } from '../context.ts';
import { documentFormat } from '../shared/document-output.ts';

export async function runDescribeState(ctx: CommandContext, name: string, output: string | undefined): Promise<void> {
  const format = documentFormat(output);
  const client = await ctx.client();
  const body = await client.json<CustomResourceState>('GET', objectPath(client.config.namespace, name, 'state'));
  const { out } = ctx.deps.streams;
  out.write(format ? printDocument(body, format) : renderStateView(body, { chalk: ctx.chalk, now: ctx.deps.clock.now() }));
}
