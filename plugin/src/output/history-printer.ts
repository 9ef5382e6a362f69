// The trail as people read it: one table layout for describe-state's
// window and for `kubectl custom history`, so an entry reads the same in
// both. An override is marked in ACTION with the gates it passed (it is the
// entry an auditor looks for); approvers and a broken freeze go in DETAILS,
// a column of its own that is always there (the audit facts are never
// hidden behind -o wide), and so do the results of the move's checks as
// they were when it was made (`checks error-rate pass [0.004]`: an override
// past a failing check shows the value it passed); REASON is last because
// it is free text of up to 1024 characters. Every value is escaped for the
// terminal.
import type { ChalkInstance } from 'chalk';
import { humanDuration } from '../../../api/src/human-duration.ts';
import type { HistoryEntry, HistoryLife } from '../../../api/src/types.ts';
import { recordedChecksText } from './check-printer.ts';
import { statePalette } from './color.ts';
import { escapeTerminal } from './escape.ts';
import { layout } from './table-printer.ts';

export interface HistoryPrintOptions {
  chalk: ChalkInstance;
  now: Date;
  /** The object's path and protected states, to colour states by position (describe-state knows them; archived lives do not). */
  path?: string[];
  protectedStates?: string[];
}

const HISTORY_COLUMNS = ['SEQ', 'TIME', 'AGE', 'ACTION', 'FROM', 'TO', 'USER', 'DETAILS', 'REASON'] as const;

/** `1 entry`, `3 entries`. */
export function entriesText(n: number): string {
  return `${n} ${n === 1 ? 'entry' : 'entries'}`;
}

/** How long ago `time` was, kubectl style (`45m`). */
function ageOf(time: string, now: Date): string {
  return humanDuration(now.getTime() - Date.parse(time));
}

/** ACTION: the action, and for an override the gates it passed: `override (soak, skipped-states)`. */
function actionText(h: HistoryEntry, c: ChalkInstance): string {
  if (h.action !== 'override') return escapeTerminal(h.action);
  return c.red(escapeTerminal(h.overrode?.length ? `override (${h.overrode.join(', ')})` : 'override'));
}

/** DETAILS: who approved the move, the freeze an override broke, and the move's checks. */
function detailsText(h: HistoryEntry): string {
  const parts: string[] = [];
  if (h.approvers?.length) parts.push(escapeTerminal(`approved by ${h.approvers.join(', ')}`));
  if (h.freeze) parts.push(escapeTerminal(`freeze ${h.freeze}`));
  if (h.checks?.length) parts.push(recordedChecksText(h.checks));
  return parts.join('; ');
}

/** The header and one row per entry, in the order given. */
export function historyRows(entries: readonly HistoryEntry[], o: HistoryPrintOptions): string[][] {
  const palette = statePalette(o.chalk);
  const state = (s: string | undefined) => (s ? palette.state(s, o.path, o.protectedStates) : '');
  return [
    [...HISTORY_COLUMNS],
    ...entries.map((h) => [
      h.seq === undefined ? '' : String(h.seq),
      escapeTerminal(h.time),
      ageOf(h.time, o.now),
      actionText(h, o.chalk),
      state(h.from),
      state(h.to),
      escapeTerminal(h.user),
      detailsText(h),
      escapeTerminal(h.reason ?? ''),
    ]),
  ];
}

/** Said where a life's kept entries start above seq 1 (a cluster admin deleted older segments). */
export function keptTrailNote(firstSeq: number): string {
  return `the kept trail starts at seq ${firstSeq}; earlier entries were deleted`;
}

/** `Life uid … (current)`, or `Life uid …, deleted at TIME (AGE ago)` for an earlier life. */
export function lifeTitle(life: HistoryLife, now: Date): string {
  const uid = `Life uid ${escapeTerminal(life.uid)}`;
  if (life.live) return `${uid} (current)`;
  const deleted = life.entries.findLast((e) => e.action === 'deleted');
  return deleted ? `${uid}, deleted at ${escapeTerminal(deleted.time)} (${ageOf(deleted.time, now)} ago)` : `${uid}, deleted`;
}

/** Every life, as `kubectl custom history` prints it: a title, then its entries oldest first. */
export function renderHistory(lives: readonly HistoryLife[], o: HistoryPrintOptions): string {
  return lives
    .map((life) => {
      let text = o.chalk.bold(lifeTitle(life, o.now)) + '\n';
      const first = life.entries[0]?.seq;
      if (first !== undefined && first > 1) text += `(${keptTrailNote(first)})\n`;
      if (life.entries.length === 0) return text + 'No changes recorded.\n';
      return text + layout(historyRows(life.entries, o));
    })
    .join('\n');
}
