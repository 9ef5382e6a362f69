// kubectl custom history NAME: the whole trail the backend keeps for an
// object (archived StateHistory segments and the window in its status),
// the live object's life first and then earlier lives of the same name, each
// oldest first. --verify recomputes each life's hash chain
// (api/src/history-chain.ts) on this machine, so it does not take the
// server's word for it.
import { verifyChain, type ChainCheck } from '../../../../api/src/history-chain.ts';
import { objectPath } from '../../../../api/src/names.ts';
import type { CustomResourceHistory, HistoryLife } from '../../../../api/src/types.ts';
import { UsageError } from '../../errors/errors.ts';
import { printDocument } from '../../output/document-printer.ts';
import { escapeTerminal } from '../../output/escape.ts';
import { entriesText, keptTrailNote, lifeTitle, renderHistory } from '../../output/history-printer.ts';
import type { CommandContext } from '../context.ts';
import { documentFormat } from '../shared/document-output.ts';

export interface HistoryOptions {
  name: string;
  verify: boolean;
  output?: string;
}

/** A life's trail failed verification: the lines are printed, the message says which and exits non-zero. */
export class TrailBrokenError extends Error {
  override name = 'TrailBrokenError';
}

/** One line for a life's check: `verified: seq 1–150, 150 entries`, or the first broken seq and what is wrong. */
export function verificationLine(check: ChainCheck): string {
  if (!check.ok) return `broken at seq ${check.brokenSeq}: ${check.problem}`;
  if (check.entries === 0) return 'verified: no entries';
  const last = check.firstSeq + check.entries - 1;
  const range = check.entries === 1 ? `seq ${check.firstSeq}` : `seq ${check.firstSeq}–${last}`;
  return `verified: ${range}, ${entriesText(check.entries)}${check.firstSeq > 1 ? `; ${keptTrailNote(check.firstSeq)}` : ''}`;
}

/** The report of --verify, one line per life, and the lives that are broken. */
export function verifyLives(lives: readonly HistoryLife[], now: Date): { text: string; broken: { life: HistoryLife; check: ChainCheck & { ok: false } }[] } {
  const broken: { life: HistoryLife; check: ChainCheck & { ok: false } }[] = [];
  let text = '';
  for (const life of lives) {
    const check = verifyChain(life.entries);
    if (!check.ok) broken.push({ life, check });
    text += `${lifeTitle(life, now)}: ${verificationLine(check)}\n`;
  }
  return { text, broken };
}

export async function runHistory(ctx: CommandContext, opts: HistoryOptions): Promise<void> {
  const format = documentFormat(opts.output);
  if (format && opts.verify) throw new UsageError('--verify prints its own report; use it without -o');
  const client = await ctx.client();
  const doc = await client.json<CustomResourceHistory>('GET', objectPath(client.config.namespace, opts.name, 'history'));
  const { out, err } = ctx.deps.streams;
  if (format) {
    out.write(printDocument(doc, format));
    return;
  }
  const now = ctx.deps.clock.now();
  const lives = doc.lives ?? [];
  if (lives.length === 0) {
    err.write(`No history for ${escapeTerminal(opts.name)}.\n`);
    return;
  }
  if (!opts.verify) {
    out.write(renderHistory(lives, { chalk: ctx.chalk, now }));
    return;
  }
  const report = verifyLives(lives, now);
  out.write(report.text);
  const first = report.broken[0];
  if (first) {
    const which = report.broken.length === 1 ? `${lifeTitle(first.life, now)} is broken at seq ${first.check.brokenSeq}` : `${report.broken.length} of ${lives.length} lives are broken, the first at seq ${first.check.brokenSeq}`;
    throw new TrailBrokenError(`the history of ${opts.name} does not verify: ${which}`);
  }
}
