// `kubectl custom history NAME --verify --against FILE` (issue 22): the
// cluster's trail compared with a copy kept outside it, the CloudEvents a
// notification receiver stored (JSON lines, one event each). A cluster admin
// can delete an archived segment and re-create it with an entry changed and
// every later hash recomputed: the chain then verifies, but no longer equals
// what was sent at the time. The first seq where the two differ is the
// divergence.
//
// The file may hold other objects' events, retries (the same id twice),
// approval-needed events (the same entry again) and test events; only this
// object's entries count, once per seq per life (uid). Each witnessed entry
// is first checked against its own previous hash, so a file that was itself
// edited is not taken as evidence.
import { entryHash } from '../../../../api/src/history-chain.ts';
import type { HistoryEntry, HistoryLife } from '../../../../api/src/types.ts';

interface WitnessedEvent {
  type?: string;
  data?: { object?: { namespace?: string; name?: string; uid?: string }; entry?: HistoryEntry; previousHash?: string };
}

export interface Witness {
  /** Entries by life (uid), then by seq. */
  lives: Map<string, Map<number, { entry: HistoryEntry; previousHash?: string; line: number }>>;
  /** Problems of the file itself (a line that is not an event, two entries for one seq, an entry that does not hash to its hash). */
  problems: string[];
}

/** The witnessed entries of namespace/name in `text` (JSON lines of CloudEvents). */
export function readWitness(text: string, namespace: string, name: string): Witness {
  const w: Witness = { lives: new Map(), problems: [] };
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    let ev: WitnessedEvent;
    try {
      ev = JSON.parse(line) as WitnessedEvent;
    } catch {
      w.problems.push(`line ${i + 1} is not JSON`);
      return;
    }
    const { object, entry, previousHash } = ev.data ?? {};
    if (!object || !entry || ev.type === 'com.example.custom.test') return;
    if (object.namespace !== namespace || object.name !== name || !object.uid || typeof entry.seq !== 'number' || !entry.hash) return;
    let life = w.lives.get(object.uid);
    if (!life) w.lives.set(object.uid, (life = new Map()));
    const seen = life.get(entry.seq);
    if (seen && seen.entry.hash !== entry.hash) {
      w.problems.push(`line ${i + 1} has seq ${entry.seq} with another hash than line ${seen.line}`);
      return;
    }
    if (previousHash !== undefined && entryHash(previousHash, entry) !== entry.hash) {
      w.problems.push(`line ${i + 1}: seq ${entry.seq} does not hash to its hash (the file was edited)`);
      return;
    }
    if (!seen) life.set(entry.seq, { entry, ...(previousHash !== undefined ? { previousHash } : {}), line: i + 1 });
  });
  return w;
}

export type LifeComparison =
  | { ok: true; uid: string; matched: number; firstSeq?: number; lastSeq?: number; notKept: number[] }
  | { ok: false; uid: string; seq: number; problem: string; matched: number };

/**
 * A life of the cluster against the witness: the first seq where they
 * differ, or how many entries agree. Only witnessed seqs before the first
 * the cluster keeps count as removed by retention (segments are deleted
 * oldest first); one missing after it, or after the last it keeps (a cut
 * tail), is a divergence. Each witnessed entry's previous hash is compared
 * with the cluster's entry before it first: an entry the witness never got
 * (a revoke is not sent) that was rewritten shows there, at seq − 1.
 */
export function compareLife(life: HistoryLife | undefined, uid: string, witnessed: Map<number, { entry: HistoryEntry; previousHash?: string }>): LifeComparison {
  const seqs = [...witnessed.keys()].sort((a, b) => a - b);
  const bySeq = new Map((life?.entries ?? []).map((e) => [e.seq ?? 0, e] as const));
  const kept = [...bySeq.keys()];
  const firstKept = kept.length ? Math.min(...kept) : undefined;
  const lastKept = kept.length ? Math.max(...kept) : undefined;
  const notKept: number[] = [];
  let matched = 0;
  for (const seq of seqs) {
    const w = witnessed.get(seq)!;
    const c = bySeq.get(seq);
    if (!life || firstKept === undefined || lastKept === undefined) return { ok: false, uid, seq, matched, problem: 'the cluster keeps no trail of this life, which the witness saw' };
    if (!c) {
      if (seq < firstKept) {
        notKept.push(seq);
        continue;
      }
      const problem = seq > lastKept
        ? `the cluster's trail ends at seq ${lastKept}, the witness saw seq ${seq} (its tail was cut)`
        : `the cluster has no seq ${seq} between seq ${firstKept} and ${lastKept}, the witness saw ${describe(w.entry)} (hash ${short(w.entry.hash)})`;
      return { ok: false, uid, seq, matched, problem };
    }
    // The entry before it, as the witness saw it: where a rewrite begins when that entry was never sent.
    const before = bySeq.get(seq - 1);
    if (w.previousHash !== undefined && before && before.hash !== w.previousHash) {
      return { ok: false, uid, seq: seq - 1, matched, problem: `the cluster's seq ${seq - 1} is ${describe(before)} (hash ${short(before.hash)}), not the entry the witness's seq ${seq} follows (hash ${short(w.previousHash)})` };
    }
    if (c.hash !== w.entry.hash) {
      return { ok: false, uid, seq, matched, problem: `the cluster has ${describe(c)} (hash ${short(c.hash)}), the witness ${describe(w.entry)} (hash ${short(w.entry.hash)})` };
    }
    matched++;
  }
  return { ok: true, uid, matched, ...(seqs.length ? { firstSeq: seqs[0]!, lastSeq: seqs.at(-1)! } : {}), notKept };
}

function short(hash: string | undefined): string {
  return hash ? hash.slice(0, 12) : '(none)';
}

function describe(e: HistoryEntry): string {
  const move = e.from || e.to ? ` ${e.from ?? '?'}→${e.to ?? '?'}` : '';
  return `${e.action}${move} by ${e.user} at ${e.time}${e.reason !== undefined ? ` (${JSON.stringify(e.reason)})` : ''}`;
}
