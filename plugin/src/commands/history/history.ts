// kubectl custom history NAME: the whole trail the backend keeps for an
// object (archived StateHistory segments and the window in its status),
// the live object's life first and then earlier lives of the same name, each
// oldest first. --verify recomputes each life's hash chain
// (api/src/history-chain.ts) on this machine, so it does not take the
// server's word for it, and checks that the life of a deleted object ends
// with its `deleted` entry (its tail was not cut). --against FILE then
// compares each life with the copy of the trail a notification receiver
// kept (witness.ts): the first seq where they differ, which --verify alone
// cannot see when a cluster admin rewrote an archived segment and recomputed
// the hashes after it.
import { readFileSync } from 'node:fs';
import { verifyLife, type ChainCheck } from '../../../../api/src/history-chain.ts';
import { objectPath } from '../../../../api/src/names.ts';
import type { CustomResourceHistory, HistoryLife } from '../../../../api/src/types.ts';
import { UsageError } from '../../errors/errors.ts';
import { printDocument } from '../../output/document-printer.ts';
import { escapeTerminal } from '../../output/escape.ts';
import { entriesText, keptTrailNote, lifeTitle, renderHistory } from '../../output/history-printer.ts';
import type { CommandContext } from '../context.ts';
import { documentFormat } from '../shared/document-output.ts';
import { compareLife, readWitness, type LifeComparison } from './witness.ts';

export interface HistoryOptions {
  name: string;
  verify: boolean;
  /** A file of CloudEvents (JSON lines) a notification receiver kept: implies verify. */
  against?: string;
  output?: string;
}

/** A life's trail failed verification: the lines are printed, the message says which and exits non-zero. */
class TrailBrokenError extends Error {
  override name = 'TrailBrokenError';
}

/** The entries that verify: `seq 1–150, 150 entries` (`seq 1–150 verify, …` with `verb`), and where the kept trail starts when above 1. */
function verifiedRange(check: ChainCheck, verb = ''): string {
  const last = check.firstSeq + check.entries - 1;
  const range = check.entries === 1 ? `seq ${check.firstSeq}` : `seq ${check.firstSeq}–${last}`;
  return `${range}${verb}, ${entriesText(check.entries)}${check.firstSeq > 1 ? `; ${keptTrailNote(check.firstSeq)}` : ''}`;
}

/**
 * One line for a life's check: `verified: seq 1–150, 150 entries`, the first
 * broken seq and what is wrong, or, for a deleted object's life without its
 * `deleted` entry, the last seq kept.
 */
function verificationLine(check: ChainCheck): string {
  if (!check.ok && check.cutAfterSeq !== undefined) {
    if (check.entries === 0) return 'cut: the object is gone, but no entry of its life is kept, not even its deleted entry';
    return `cut after seq ${check.cutAfterSeq}: the object is gone, but its life does not end with its deleted entry (${verifiedRange(check, ' verify')}; the entries after seq ${check.cutAfterSeq} are missing)`;
  }
  if (!check.ok) return `broken at seq ${check.brokenSeq}: ${check.problem}`;
  if (check.entries === 0) return 'verified: no entries';
  return `verified: ${verifiedRange(check)}`;
}

/** Where a life is broken, for the error: `broken at seq 4`, or `cut after seq 14, the last seq kept`. */
function whereBroken(check: ChainCheck & { ok: false }): string {
  if (check.cutAfterSeq === undefined) return `broken at seq ${check.brokenSeq}`;
  return check.entries === 0 ? 'cut: no entry is kept' : `cut after seq ${check.cutAfterSeq}, the last seq kept`;
}

/** The report of --verify, one line per life, and the lives that are broken. */
export function verifyLives(lives: readonly HistoryLife[], now: Date): { text: string; broken: { life: HistoryLife; check: ChainCheck & { ok: false } }[] } {
  const broken: { life: HistoryLife; check: ChainCheck & { ok: false } }[] = [];
  let text = '';
  for (const life of lives) {
    const check = verifyLife(life);
    if (!check.ok) broken.push({ life, check });
    text += `${lifeTitle(life, now)}: ${verificationLine(check)}\n`;
  }
  return { text, broken };
}

/** The error's account of the broken lives: the one, or how many and the first. */
function brokenSummary(broken: readonly { life: HistoryLife; check: ChainCheck & { ok: false } }[], lives: number, now: Date): string {
  const first = broken[0]!;
  const which = `${lifeTitle(first.life, now)} is ${whereBroken(first.check)}`;
  if (broken.length > 1) return `${broken.length} of ${lives} lives are broken, the first: ${which}`;
  return first.check.cutAfterSeq !== undefined ? `${which}: its deleted entry is missing` : which;
}

/** One line for a life compared with the witness. */
function witnessLine(c: LifeComparison): string {
  if (!c.ok) return `diverges at seq ${c.seq}: ${c.problem}`;
  if (c.matched === 0 && c.notKept.length === 0) return 'not in the witness';
  const kept = c.notKept.length ? `; ${entriesText(c.notKept.length)} the witness holds not kept here (seq ${c.notKept[0]}${c.notKept.length > 1 ? `–${c.notKept.at(-1)}` : ''}, retention)` : '';
  return `matches: ${entriesText(c.matched)} (seq ${c.firstSeq}–${c.lastSeq})${kept}`;
}

/** The report of --against: one line per life of either side, and the first divergence. */
export function compareWithWitness(lives: readonly HistoryLife[], text: string, namespace: string, name: string, now: Date): { text: string; problems: string[]; diverged?: LifeComparison & { ok: false } } {
  const w = readWitness(text, namespace, name);
  let out = '';
  let diverged: (LifeComparison & { ok: false }) | undefined;
  for (const life of lives) {
    const c = compareLife(life, life.uid, w.lives.get(life.uid) ?? new Map());
    if (!c.ok) diverged ??= c;
    out += `${lifeTitle(life, now)} against the witness: ${witnessLine(c)}\n`;
  }
  for (const [uid, entries] of w.lives) {
    if (lives.some((l) => l.uid === uid)) continue;
    const c = compareLife(undefined, uid, entries);
    if (!c.ok) diverged ??= c;
    out += `life ${uid} (only in the witness): ${witnessLine(c)}\n`;
  }
  if (w.lives.size === 0) out += `the witness holds no entry of ${namespace}/${name}\n`;
  for (const p of w.problems) out += `witness: ${p}\n`;
  return { text: out, problems: w.problems, ...(diverged ? { diverged } : {}) };
}

export async function runHistory(ctx: CommandContext, opts: HistoryOptions): Promise<void> {
  const format = documentFormat(opts.output);
  if (format && opts.verify) throw new UsageError('--verify prints its own report; use it without -o');
  if (format && opts.against !== undefined) throw new UsageError('--against prints its own report; use it without -o');
  let witness: string | undefined;
  if (opts.against !== undefined) {
    try {
      witness = readFileSync(opts.against, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read ${opts.against}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
  }
  const client = await ctx.client();
  const doc = await client.json<CustomResourceHistory>('GET', objectPath(client.config.namespace, opts.name, 'history'));
  const { out, err } = ctx.deps.streams;
  if (format) {
    out.write(printDocument(doc, format));
    return;
  }
  const now = ctx.deps.clock.now();
  const lives = doc.lives ?? [];
  // No trail in the cluster is no history only when the witness saw none either: a trail it saw and the cluster lost is a divergence.
  if (lives.length === 0 && (witness === undefined || readWitness(witness, client.config.namespace, opts.name).lives.size === 0)) {
    err.write(`No history for ${escapeTerminal(opts.name)}.\n`);
    return;
  }
  if (!opts.verify && witness === undefined) {
    out.write(renderHistory(lives, { chalk: ctx.chalk, now }));
    return;
  }
  const report = verifyLives(lives, now);
  out.write(report.text);
  const against = witness === undefined ? undefined : compareWithWitness(lives, witness, client.config.namespace, opts.name, now);
  if (against) out.write(against.text.split('\n').map((l) => escapeTerminal(l)).join('\n'));
  if (report.broken.length) throw new TrailBrokenError(`the history of ${opts.name} does not verify: ${brokenSummary(report.broken, lives.length, now)}`);
  if (against?.diverged) throw new TrailBrokenError(`the history of ${opts.name} diverges from ${opts.against} at seq ${against.diverged.seq} (life ${against.diverged.uid}): the cluster's trail was rewritten, or the witness is another copy`);
  if (against?.problems.length) throw new TrailBrokenError(`${opts.against} is not a trustworthy witness: ${against.problems[0]}`);
}
