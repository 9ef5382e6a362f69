// kubectl custom freeze: creates a Freeze (freezes.example.com) with the
// user's own credentials, so RBAC decides who may freeze (create on
// freezes.example.com: the kubectl-custom-admin role). In the namespace, or
// with -A in custom-system, where a Freeze holds every namespace. Prints
// what kubectl create prints, then what is frozen and when, computed as the
// backend computes it.
import { evaluateFreeze } from '../../../../api/src/freeze-schedule.ts';
import { humanDuration } from '../../../../api/src/human-duration.ts';
import { FREEZE_KIND, freezePath, SYSTEM_NAMESPACE } from '../../../../api/src/names.ts';
import type { Freeze, FreezeSpec } from '../../../../api/src/types.ts';
import { UsageError } from '../../errors/errors.ts';
import { escapeTerminal } from '../../output/escape.ts';
import { createdLine } from '../../output/object-lines.ts';
import type { CommandContext } from '../context.ts';
import { FREEZE_API_VERSION, withCrdHint } from '../shared/freeze-api.ts';
import { freezeSpec, type FreezeFlags } from './freeze-spec.ts';

export interface FreezeOptions extends FreezeFlags {
  allNamespaces: boolean;
  name?: string | undefined;
}

/** The prefix of a generated name, `freeze-20261124-`; the API server adds five random characters. */
function generateNamePrefix(now: Date): string {
  return `freeze-${now.toISOString().slice(0, 10).replaceAll('-', '')}-`;
}

/** When the freeze holds, as the backend computes it. */
function when(spec: FreezeSpec, now: Date): string {
  const e = evaluateFreeze(spec, now);
  const until = (end: string | undefined) => (end === undefined ? 'with no end within a year' : `until ${end} (${humanDuration(Date.parse(end) - now.getTime())} from now)`);
  if (spec.schedule === undefined) return e.active ? `from now ${until(e.current?.end)}` : `from ${e.next?.start} ${until(e.next?.end)}`;
  const every = `for ${spec.duration} each time "${spec.schedule}" fires in ${spec.timeZone ?? 'UTC'}`;
  if (e.active) return `${every}; frozen now, ${until(e.current?.end)}`;
  const next = e.next!;
  return `${every}; next from ${next.start} (in ${humanDuration(Date.parse(next.start!) - now.getTime())})${next.end ? ` until ${next.end}` : ', with no end within a year'}`;
}

/** What is frozen and when, in one line: `Moves into prod in namespace shop are frozen from now until … (2h from now).` */
export function describeFreeze(spec: FreezeSpec, namespace: string, selector: string | undefined, now: Date): string {
  const what = spec.states?.length ? `Moves into ${spec.states.join(', ')}` : 'Moves into every state';
  const whose = selector ? ` of objects matching ${selector}` : '';
  const where = namespace === SYSTEM_NAMESPACE ? 'in every namespace' : `in namespace ${namespace}`;
  return escapeTerminal(`${what}${whose} ${where} are frozen ${when(spec, now)}.`);
}

export async function runFreeze(ctx: CommandContext, opts: FreezeOptions): Promise<void> {
  if (opts.allNamespaces && ctx.flags.namespace !== undefined) throw new UsageError('-A freezes every namespace (the Freeze goes in custom-system): leave out -n');
  // To the second, as the window's start is written.
  const now = new Date(Math.floor(ctx.deps.clock.now().getTime() / 1000) * 1000);
  // Checked before connecting: a mistake is named without a round trip.
  const spec = freezeSpec(opts, now);
  const client = await ctx.client();
  const namespace = opts.allNamespaces ? SYSTEM_NAMESPACE : client.config.namespace;
  const body = { apiVersion: FREEZE_API_VERSION, kind: FREEZE_KIND, metadata: opts.name !== undefined ? { name: opts.name } : { generateName: generateNamePrefix(now) }, spec };
  let created: Freeze;
  try {
    created = await client.json<Freeze>('POST', freezePath(namespace), { body });
  } catch (e) {
    throw withCrdHint(e);
  }
  const { out } = ctx.deps.streams;
  out.write(createdLine({ apiVersion: FREEZE_API_VERSION, kind: FREEZE_KIND, name: created.metadata.name }) + '\n');
  out.write(describeFreeze(created.spec ?? spec, namespace, opts.selector, now) + '\n');
}
