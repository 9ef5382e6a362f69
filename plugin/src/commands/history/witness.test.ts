// --against: the cluster's trail compared with the CloudEvents a receiver
// kept. The case it exists for: a cluster admin re-creates an archived
// segment with one entry changed and every later hash recomputed; the chain
// still verifies, the witness does not agree.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { entryHash, verifyLife } from '../../../../api/src/history-chain.ts';
import type { CustomResourceHistory, HistoryEntry, HistoryLife } from '../../../../api/src/types.ts';
import { run } from '../../root-command.ts';
import { fakeClient, harness, NOW } from '../../testing/harness.ts';
import { compareWithWitness } from './history.ts';
import { compareLife, readWitness } from './witness.ts';

const UID = '6f1c2a9e-0d1b-4c55-9a57-1f0f2b9d7c31';
const HISTORY_PATH = '/apis/custom.example.com/v1/namespaces/shop/customresources/checkout/history';
const time = (m: number) => new Date(NOW.getTime() - (60 - m) * 60_000).toISOString();

function chain(entries: Omit<HistoryEntry, 'seq' | 'hash'>[]): HistoryEntry[] {
  let prev = '';
  return entries.map((e, i) => {
    const entry: HistoryEntry = { seq: i + 1, ...e };
    entry.hash = entryHash(prev, entry);
    prev = entry.hash;
    return entry;
  });
}

const MOVES: Omit<HistoryEntry, 'seq' | 'hash'>[] = [
  { action: 'promote', from: 'dev', to: 'staging', user: 'alice', time: time(1), reason: 'tests green' },
  { action: 'promote', from: 'staging', to: 'prod', user: 'alice', time: time(2), reason: 'release 1' },
  { action: 'set-state', from: 'prod', to: 'dev', user: 'bob', time: time(3), reason: 'roll back' },
  { action: 'promote', from: 'dev', to: 'staging', user: 'alice', time: time(4) },
];

/** What a receiver stored: one CloudEvent per line, with a retry and other objects' events among them. */
function witnessFile(entries: readonly HistoryEntry[]): string {
  const ev = (e: HistoryEntry, prev: string, name = 'checkout') => JSON.stringify({ specversion: '1.0', id: e.hash, type: 'com.example.custom.promoted', source: `/apis/custom.example.com/v1/namespaces/shop/customresources/${name}`, data: { object: { namespace: 'shop', name, uid: UID }, event: 'promoted', entry: e, previousHash: prev } });
  const lines = entries.map((e, i) => ev(e, i === 0 ? '' : entries[i - 1]!.hash!));
  return [lines[0], lines[1], lines[1], ev(entries[0]!, '', 'other'), ...lines.slice(2), ''].join('\n');
}

const live = (entries: HistoryEntry[]): HistoryLife => ({ uid: UID, live: true, entries });

describe('history --against', () => {
  const sent = chain(MOVES);

  it('the same trail matches, retries and other objects aside', () => {
    const w = readWitness(witnessFile(sent), 'shop', 'checkout');
    expect(w.problems).toEqual([]);
    expect(compareLife(live(sent), UID, w.lives.get(UID)!)).toEqual({ ok: true, uid: UID, matched: 4, firstSeq: 1, lastSeq: 4, notKept: [] });
  });

  it('a rewritten archived entry whose later hashes were recomputed: --verify passes, --against names seq 2', () => {
    const rewritten = chain(MOVES.map((m, i) => (i === 1 ? { ...m, reason: 'release 1 (approved)' } : m)));
    expect(verifyLife(live(rewritten))).toMatchObject({ ok: true });
    const c = compareWithWitness([live(rewritten)], witnessFile(sent), 'shop', 'checkout', NOW);
    expect(c.diverged).toMatchObject({ ok: false, seq: 2 });
    expect(c.text).toContain('diverges at seq 2: the cluster has promote staging→prod by alice');
    expect(c.text).toContain('"release 1 (approved)"');
  });

  it('entries deleted by retention are noted, not a divergence; a life the witness saw and the cluster lost is', () => {
    const kept = live(sent.slice(2));
    expect(compareLife(kept, UID, readWitness(witnessFile(sent), 'shop', 'checkout').lives.get(UID)!)).toMatchObject({ ok: true, matched: 2, notKept: [1, 2] });
    const c = compareWithWitness([], witnessFile(sent), 'shop', 'checkout', NOW);
    expect(c.diverged).toMatchObject({ seq: 1, problem: 'the cluster keeps no trail of this life, which the witness saw' });
  });

  it('a cut tail (the newest entries removed) is a divergence, not retention: only seqs before the first kept are retention', () => {
    const w = readWitness(witnessFile(sent), 'shop', 'checkout').lives.get(UID)!;
    expect(compareLife(live(sent.slice(0, 2)), UID, w)).toMatchObject({ ok: false, seq: 3, matched: 2, problem: "the cluster's trail ends at seq 2, the witness saw seq 3 (its tail was cut)" });
    expect(compareLife(live([sent[0]!, sent[1]!, sent[3]!]), UID, w)).toMatchObject({ ok: false, seq: 3, problem: expect.stringMatching(/^the cluster has no seq 3 between seq 1 and 4, the witness saw set-state prod→dev by bob/) });
  });

  it('an entry the witness never got (a revoke is not sent) rewritten with the later hashes recomputed: diverges at that seq, from the next entry\'s previous hash', () => {
    const withRevoke: Omit<HistoryEntry, 'seq' | 'hash'>[] = [MOVES[0]!, { action: 'approve', from: 'staging', to: 'prod', user: 'carol', time: time(2) }, { action: 'revoke', from: 'staging', to: 'prod', user: 'carol', time: time(3), reason: 'not yet' }, MOVES[1]!];
    const original = chain(withRevoke);
    // The receiver got seq 1, 2 and 4, each with its previous hash (seq 4's is the revoke's).
    const events = [original[0]!, original[1]!, original[3]!].map((e) => JSON.stringify({ specversion: '1.0', id: e.hash, type: 'com.example.custom.promoted', data: { object: { namespace: 'shop', name: 'checkout', uid: UID }, entry: e, previousHash: e.seq === 1 ? '' : original[e.seq! - 2]!.hash } }));
    const rewritten = chain(withRevoke.map((m, i) => (i === 2 ? { ...m, user: 'mallory' } : m)));
    expect(verifyLife(live(rewritten))).toMatchObject({ ok: true });
    const c = compareLife(live(rewritten), UID, readWitness(events.join('\n'), 'shop', 'checkout').lives.get(UID)!);
    expect(c).toMatchObject({ ok: false, seq: 3, matched: 2 });
    expect(c.ok || c.problem).toMatch(/^the cluster's seq 3 is revoke staging→prod by mallory .*not the entry the witness's seq 4 follows/);
  });

  it('a witness file that was itself edited is not taken as evidence', () => {
    const w = readWitness(witnessFile(sent).replace('"reason":"release 1"', '"reason":"release 2"'), 'shop', 'checkout');
    expect(w.problems[0]).toMatch(/^line 2: seq 2 does not hash to its hash \(the file was edited\)$/);
  });

  it('the command: prints each life against the witness and fails on the divergence', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'witness-'));
    const file = join(dir, 'events.jsonl');
    writeFileSync(file, witnessFile(sent));
    const rewritten = chain(MOVES.map((m, i) => (i === 1 ? { ...m, user: 'mallory' } : m)));
    const doc: CustomResourceHistory = { kind: 'CustomResourceHistory', apiVersion: 'custom.example.com/v1', metadata: { name: 'checkout', namespace: 'shop' }, lives: [live(rewritten)] };
    const client = fakeClient({ [`GET ${HISTORY_PATH}`]: doc });
    const h = harness({ client });
    expect(await run(['history', 'checkout', '-n', 'shop', '--verify', '--against', file], h.deps)).toBe(1);
    expect(h.out()).toContain(': verified: seq 1–4, 4 entries\n');
    expect(h.out()).toContain('against the witness: diverges at seq 2: the cluster has promote staging→prod by mallory');
    expect(h.err()).toBe(`error: the history of checkout diverges from ${file} at seq 2 (life ${UID}): the cluster's trail was rewritten, or the witness is another copy\n`);
    // The cluster keeps no life of it at all: not "No history", a divergence.
    const gone = harness({ client: fakeClient({ [`GET ${HISTORY_PATH}`]: { ...doc, lives: [] } }) });
    expect(await run(['history', 'checkout', '-n', 'shop', '--verify', '--against', file], gone.deps)).toBe(1);
    expect(gone.out()).toContain(`life ${UID} (only in the witness): diverges at seq 1: the cluster keeps no trail of this life, which the witness saw`);
    expect(gone.err()).toBe(`error: the history of checkout diverges from ${file} at seq 1 (life ${UID}): the cluster's trail was rewritten, or the witness is another copy\n`);
    const otherFile = join(dir, 'other.jsonl');
    writeFileSync(otherFile, witnessFile(sent).replaceAll('checkout', 'cart'));
    const none = harness({ client: fakeClient({ [`GET ${HISTORY_PATH}`]: { ...doc, lives: [] } }) });
    expect(await run(['history', 'checkout', '-n', 'shop', '--verify', '--against', otherFile], none.deps)).toBe(0);
    expect(none.err()).toBe('No history for checkout.\n');
    const ok = harness({ client: fakeClient({ [`GET ${HISTORY_PATH}`]: { ...doc, lives: [live(sent)] } }) });
    expect(await run(['history', 'checkout', '-n', 'shop', '--against', file], ok.deps)).toBe(0);
    expect(ok.out()).toContain('(current) against the witness: matches: 4 entries (seq 1–4)\n');
  });
});
