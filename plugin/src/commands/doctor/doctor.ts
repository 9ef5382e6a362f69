// kubectl custom doctor: why kubectl custom does not work, in one command,
// as `linkerd check` and `cmctl check api` answer it for theirs. Every check
// runs with the user's own credentials; one the user may not make is skipped
// and says so. Exit 1 when any check fails (×); with --wait the checks run
// again every two seconds until they pass or the time is up.
import { parseDuration } from '../../../../client/src/kubeconfig.ts';
import { ExitError, UsageError } from '../../errors/errors.ts';
import type { CommandContext } from '../context.ts';
import { type Check, type CheckResult, fail } from './check.ts';
import { admissionChecks } from './checks/admission.ts';
import { backendPermissionChecks } from './checks/backend-permissions.ts';
import { certificateChecks } from './checks/certificates.ts';
import { installedChecks } from './checks/installed.ts';
import { performanceChecks } from './checks/performance.ts';
import { preChecks } from './checks/pre.ts';
import { youChecks } from './checks/you.ts';
import { Probe } from './probe.ts';
import { renderJson, renderText, summarize } from './report.ts';

export interface DoctorOptions {
  pre: boolean;
  output: string | undefined;
  wait: string | undefined;
}

export function checksFor(pre: boolean, pluginVersion: string): Check[] {
  return pre ? preChecks : [...installedChecks(pluginVersion), ...certificateChecks, ...backendPermissionChecks, ...admissionChecks, ...youChecks, ...performanceChecks];
}

/** Runs every check (concurrently; reported in order). A check that throws fails with its error. */
export async function runChecks(checks: readonly Check[], probe: Probe): Promise<CheckResult[]> {
  return Promise.all(
    checks.map(async (c) => {
      const outcome = await c.run(probe).catch((e: unknown) => fail(e instanceof Error ? e.message : String(e)));
      return { id: c.id, group: c.group, title: c.title, ...outcome };
    }),
  );
}

export async function runDoctor(ctx: CommandContext, opts: DoctorOptions): Promise<void> {
  if (opts.output !== undefined && opts.output !== 'json') throw new UsageError(`unable to match a printer suitable for the output format "${opts.output}", allowed formats are: json`);
  const waitMs = opts.wait === undefined ? 0 : parseDuration(opts.wait);
  if (waitMs === undefined) throw new UsageError(`invalid --wait ${JSON.stringify(opts.wait)}: use a duration such as 30s or 2m`);
  const client = await ctx.client();
  const checks = checksFor(opts.pre, ctx.deps.version);
  const deadline = ctx.deps.clock.now().getTime() + waitMs;
  let results: CheckResult[];
  for (;;) {
    results = await runChecks(checks, new Probe(client, client.config.namespace, ctx.deps.clock.now()));
    if (!summarize(results).fail || ctx.deps.clock.now().getTime() >= deadline) break;
    ctx.deps.streams.err.write(`waiting: ${results.filter((r) => r.status === 'fail').map((r) => r.title).join(', ')}\n`);
    await new Promise((r) => setTimeout(r, 2000));
  }
  ctx.deps.streams.out.write(opts.output === 'json' ? renderJson(results) : renderText(results, ctx.chalk));
  if (summarize(results).fail) throw new ExitError(1);
}
