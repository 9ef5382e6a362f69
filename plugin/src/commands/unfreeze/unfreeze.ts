// kubectl custom unfreeze NAME: deletes a Freeze with the user's own
// credentials (delete on freezes.example.com: the kubectl-custom-admin
// role), in the namespace or, with -A, in custom-system.
import { FREEZE_KIND, freezePath, SYSTEM_NAMESPACE } from '../../../../api/src/names.ts';
import { ApiError } from '../../../../client/src/errors.ts';
import type { RestClient } from '../../../../client/src/rest-client.ts';
import { UsageError } from '../../errors/errors.ts';
import { escapeTerminal } from '../../output/escape.ts';
import { deletedLine } from '../../output/object-lines.ts';
import type { CommandContext } from '../context.ts';
import { FREEZE_API_VERSION, withCrdHint } from '../shared/freeze-api.ts';

export interface UnfreezeOptions {
  name: string;
  allNamespaces: boolean;
}

/** Whether a cluster-wide Freeze of that name exists (to say so when the user left out -A). */
async function clusterWide(client: RestClient, name: string): Promise<boolean> {
  try {
    await client.json('GET', freezePath(SYSTEM_NAMESPACE, name));
    return true;
  } catch {
    return false;
  }
}

export async function runUnfreeze(ctx: CommandContext, opts: UnfreezeOptions): Promise<void> {
  if (opts.allNamespaces && ctx.flags.namespace !== undefined) throw new UsageError('-A names a cluster-wide Freeze (in custom-system): leave out -n');
  const client = await ctx.client();
  const namespace = opts.allNamespaces ? SYSTEM_NAMESPACE : client.config.namespace;
  try {
    await client.json('DELETE', freezePath(namespace, opts.name));
  } catch (e) {
    const missing = e instanceof ApiError && e.code === 404 && e.status?.details?.name !== undefined;
    if (missing && namespace !== SYSTEM_NAMESPACE && (await clusterWide(client, opts.name))) {
      throw new Error(`there is no freeze ${escapeTerminal(opts.name)} in namespace ${escapeTerminal(namespace)}, but there is a cluster-wide one: kubectl custom unfreeze ${escapeTerminal(opts.name)} -A`, { cause: e });
    }
    throw withCrdHint(e);
  }
  ctx.deps.streams.out.write(deletedLine({ apiVersion: FREEZE_API_VERSION, kind: FREEZE_KIND, name: opts.name, namespace }) + '\n');
}
