// The trail's pure rules: entries are numbered (seq from 1) and chained
// (api/src/history-chain.ts); status.history keeps a window of the newest
// entries and the oldest leave it in batches, to be archived in a
// StateHistory segment before the window is trimmed. Entries written before
// seq and hash existed, or by an older replica during a rolling upgrade, are
// numbered and chained by the next write.
import { entryHash } from '../../../api/src/history-chain.ts';
import type { HistoryEntry } from '../../../api/src/types.ts';

/**
 * The most entries status.history holds. Each change writes the window
 * anew, and the watch cache keeps every object's window in memory (about
 * 230 bytes an entry, its strings shared): 10 entries cost 20,000 objects
 * some 45 MB of heap, where 20 cost twice that and would not fit the
 * Deployment's 320 MiB beside the rest. See README "The trail".
 */
export const HISTORY_WINDOW = 10;
/**
 * How many entries stay when the window overflows; the others (7) leave as
 * one segment: one archive write every 7 changes, not one a change.
 */
export const HISTORY_KEEP = 4;

/** Numbers and chains every entry that lacks seq or hash, after the last one that has both. */
export function normalize(history: readonly HistoryEntry[]): HistoryEntry[] {
  const out: HistoryEntry[] = [];
  let prevSeq = 0;
  let prevHash = '';
  for (const e of history) {
    const seq = e.seq ?? prevSeq + 1;
    const numbered: HistoryEntry = e.seq === seq && e.hash ? e : { ...e, seq, hash: undefined };
    if (!numbered.hash) numbered.hash = entryHash(prevHash, { ...numbered, hash: undefined });
    // Keep the key order stable on the wire: hash last.
    const { hash, ...rest } = numbered;
    out.push({ ...rest, hash });
    prevSeq = seq;
    prevHash = hash!;
  }
  return out;
}

/** The next entry of a trail: numbered after the last and chained to it. */
export function nextEntry(history: readonly HistoryEntry[], entry: Omit<HistoryEntry, 'seq' | 'hash'>): HistoryEntry {
  const last = history[history.length - 1];
  const seq = (last?.seq ?? 0) + 1;
  const numbered: HistoryEntry = { seq, ...entry };
  return { ...numbered, hash: entryHash(last?.hash ?? '', numbered) };
}

export interface Appended {
  /** The new status.history. */
  window: HistoryEntry[];
  /** Entries that leave the window: archive them before writing `window`. */
  archive: HistoryEntry[];
}

/**
 * Appends an entry to a (possibly legacy) window; when the window is over
 * HISTORY_WINDOW, its oldest entries leave it. Only entries already written
 * ever leave, never the new one, so every writer that appends to the same
 * window archives the same segment.
 */
export function append(history: readonly HistoryEntry[], entry: Omit<HistoryEntry, 'seq' | 'hash'>, window = HISTORY_WINDOW, keep = HISTORY_KEEP): Appended {
  const all = normalize(history);
  all.push(nextEntry(all, entry));
  if (all.length <= window) return { window: all, archive: [] };
  const cut = all.length - keep;
  return { window: all.slice(cut), archive: all.slice(0, cut) };
}
