// The trail's chain: each entry's hash is the SHA-256 (hex) of the previous
// entry's hash followed by this entry's canonical JSON (keys sorted at every
// level, `hash` left out); the first entry's "previous hash" is empty. An
// edited, removed or reordered entry breaks the chain at its seq. The
// backend computes it; `kubectl custom history --verify` recomputes it. A
// life whose object is gone ends with its `deleted` entry: one that does not
// had its tail cut (its last archived segments deleted).
import { createHash } from 'node:crypto';
import type { HistoryEntry, HistoryLife } from './types.ts';

/** JSON with object keys sorted at every level; arrays keep their order. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map((x) => canonicalJson(x === undefined ? null : x)).join(',')}]`;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
}

export function entryHash(prevHash: string, entry: HistoryEntry): string {
  const { hash: _hash, ...rest } = entry;
  return createHash('sha256').update(prevHash).update(canonicalJson(rest)).digest('hex');
}

export type ChainCheck =
  | { ok: true; entries: number; firstSeq: number }
  | {
    ok: false;
    entries: number;
    firstSeq: number;
    brokenSeq: number;
    problem: string;
    /** The life of a deleted object does not end with its `deleted` entry: its last kept seq (0 when none is kept). */
    cutAfterSeq?: number;
  };

/**
 * Checks one life's entries, oldest first. When the kept trail starts above
 * seq 1 (older segments deleted by retention), the first kept entry's own
 * hash cannot be checked (its predecessor is gone); the chain is checked
 * from it on, and `firstSeq` says where it starts.
 */
export function verifyChain(entries: readonly HistoryEntry[]): ChainCheck {
  const firstSeq = entries[0]?.seq ?? 1;
  const fail = (brokenSeq: number, problem: string): ChainCheck => ({ ok: false, entries: entries.length, firstSeq, brokenSeq, problem });
  let prev: string | undefined = firstSeq === 1 ? '' : undefined;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const want = firstSeq + i;
    if (e.seq === undefined || e.hash === undefined) return fail(want, 'the entry has no seq or hash');
    if (e.seq !== want) return fail(want, e.seq > want ? `seq ${want} is missing` : `seq ${e.seq} is out of order`);
    if (prev !== undefined && entryHash(prev, e) !== e.hash) return fail(e.seq, 'its hash does not match its content and the entry before it');
    prev = e.hash;
  }
  return { ok: true, entries: entries.length, firstSeq };
}

/**
 * Checks one life: its chain (verifyChain) and, when its object is gone
 * (an earlier life), that it ends with its `deleted` entry. The backend
 * archives a deletion with that entry before it lets the object go, so a
 * deleted object's life without it lost its tail: the segments that held
 * its last entries were deleted. The live object's life has no `deleted`
 * entry yet; its newest entries are in the object itself.
 */
export function verifyLife(life: Pick<HistoryLife, 'live' | 'entries'>): ChainCheck {
  const check = verifyChain(life.entries);
  if (!check.ok || life.live) return check;
  const last = life.entries.at(-1);
  if (last?.action === 'deleted') return check;
  const lastSeq = last?.seq ?? 0;
  return { ...check, ok: false, brokenSeq: lastSeq + 1, problem: "the life of a deleted object does not end with its 'deleted' entry", cutAfterSeq: lastSeq };
}
