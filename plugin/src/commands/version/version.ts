// kubectl custom version: this plugin's version and the backend's (sent by
// the backend in a response header, through kube-apiserver).
import { GROUP_PATH } from '../../api/paths.ts';
import type { CommandContext } from '../context.ts';

export const VERSION_HEADER = 'x-kubectl-custom-version';

export async function runVersion(ctx: CommandContext, clientOnly: boolean): Promise<void> {
  const { out } = ctx.deps.streams;
  out.write(`Client Version: v${ctx.deps.version}\n`);
  if (clientOnly) return;
  const client = await ctx.client();
  const { headers } = await client.json<unknown>('GET', GROUP_PATH);
  const { body: kube } = await client.json<{ gitVersion: string }>('GET', '/version');
  out.write(`Server Version: ${headers[VERSION_HEADER] ?? 'unknown'} (custom.example.com/v1)\n`);
  out.write(`Kubernetes Version: ${kube.gitVersion}\n`);
}
