// kubectl custom check NAME: POST …/customresources/NAME/check asks the
// backend to measure each check of the next move once, now, and answers
// with the measurements (a CheckReport). Nothing is recorded: promote
// decides from the runs the backend schedules and keeps in status.checks
// (describe-state shows them), so this verb answers "how do things look
// right now?" and its exit code says it: 0 when every check passed (or
// there are none), 1 when one did not, and 1 with kubectl's one-line error
// for anything else (not found, forbidden, backend unavailable).
import type { CheckReport } from '../../../../api/src/checks.ts';
import { objectPath } from '../../../../api/src/names.ts';
import { ApiError } from '../../../../client/src/errors.ts';
import type { RestClient } from '../../../../client/src/rest-client.ts';
import { renderCheckReport } from '../../output/check-printer.ts';
import { printDocument } from '../../output/document-printer.ts';
import { escapeTerminal } from '../../output/escape.ts';
import { checkResultWord } from '../../output/gate-words.ts';
import type { CommandContext } from '../context.ts';
import { documentFormat } from '../shared/document-output.ts';

export interface CheckOptions {
  name: string;
  output?: string;
}

/** A check did not pass: the report is printed, the message says which and the exit code is 1. */
export class ChecksNotPassedError extends Error {
  override name = 'ChecksNotPassedError';
}

/** The backend answered the subresource as a path it does not serve, while it serves the object: it predates checks. */
export class CheckNotServedError extends Error {
  override name = 'CheckNotServedError';
}

/**
 * POST …/check with an empty body. A 404 without an object's name is a path
 * nobody serves: either the whole group (which the command runner explains
 * from the APIService) or, on a backend older than checks, this subresource
 * alone. describe-state tells them apart: when the object's state is served,
 * only `check` is missing.
 */
async function measure(client: RestClient, ns: string, name: string): Promise<CheckReport> {
  try {
    return await client.json<CheckReport>('POST', objectPath(ns, name, 'check'), { body: {} });
  } catch (e) {
    if (!(e instanceof ApiError) || e.code !== 404 || e.status?.details?.name) throw e;
    await client.json('GET', objectPath(ns, name, 'state'));
    throw new CheckNotServedError('the kubectl-custom backend does not serve customresources/check: it is older than this plugin (checks came with issue 21); upgrade the backend');
  }
}

/** `staging → prod`, or nothing when the object is at its last state. */
function moveText(r: CheckReport): string {
  return r.from !== undefined && r.to !== undefined ? `${escapeTerminal(r.from)} → ${escapeTerminal(r.to)}` : '';
}

export async function runCheck(ctx: CommandContext, opts: CheckOptions): Promise<void> {
  const format = documentFormat(opts.output);
  const client = await ctx.client();
  const report = await measure(client, client.config.namespace, opts.name);
  const { out, err } = ctx.deps.streams;
  const name = escapeTerminal(opts.name);
  const move = moveText(report);
  if (format) out.write(printDocument(report, format));
  else if (report.results.length > 0) out.write(renderCheckReport(report, ctx.chalk));
  else if (move) err.write(`No checks on the move of ${name} from ${move.replace(' → ', ' to ')}.\n`);
  else err.write(`${name} is at its last state: there is no move to check.\n`);
  if (report.passed) return;
  const failing = report.results.filter((r) => r.measurement.phase !== 'Successful');
  const which = failing.map((r) => `${escapeTerminal(r.name)} ${escapeTerminal(checkResultWord(r.measurement.phase))}`).join(', ');
  // A server that says "not passed" with every measurement Successful is believed; the line says so.
  const count = failing.length ? `${failing.length} of ${report.results.length} ${report.results.length === 1 ? 'check' : 'checks'}` : 'the checks';
  throw new ChecksNotPassedError(`${count} of ${name}${move ? ` (${move})` : ''} did not pass${which ? `: ${which}` : ''}`);
}
