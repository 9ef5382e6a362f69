import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { canonicalJson, entryHash, verifyChain, verifyLife } from './history-chain.ts';
import type { HistoryEntry } from './types.ts';

/** `n` chained entries; with `deleted`, the last is the object's deletion. */
function chain(n: number, deleted = false): HistoryEntry[] {
  const out: HistoryEntry[] = [];
  let prev = '';
  for (let seq = 1; seq <= n; seq++) {
    const time = new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString();
    const e: HistoryEntry = deleted && seq === n ? { seq, action: 'deleted', user: 'root', time } : { seq, action: seq % 2 ? 'promote' : 'set-state', from: 'a', to: 'b', user: `u${seq}`, time };
    e.hash = entryHash(prev, e);
    prev = e.hash;
    out.push(e);
  }
  return out;
}

describe('canonicalJson', () => {
  it.each([
    { name: 'keys sorted at every level', v: { b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } }, want: '{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}' },
    { name: 'undefined keys left out', v: { a: undefined, b: 'x' }, want: '{"b":"x"}' },
    { name: 'strings escaped as JSON', v: { r: 'a"b\n' }, want: '{"r":"a\\"b\\n"}' },
  ])('$name', ({ v, want }) => {
    expect(canonicalJson(v)).toBe(want);
  });
});

describe('entryHash', () => {
  it('does not depend on key order or on the hash field', () => {
    const a: HistoryEntry = { seq: 1, action: 'promote', to: 'b', user: 'u', time: 't' };
    const b = { time: 't', user: 'u', to: 'b', action: 'promote', seq: 1, hash: 'ignored' } as HistoryEntry;
    expect(entryHash('', a)).toBe(entryHash('', b));
    expect(entryHash('', a)).toMatch(/^[0-9a-f]{64}$/);
    expect(entryHash('x', a)).not.toBe(entryHash('', a));
  });
});

describe('verifyChain', () => {
  it('passes an intact chain', () => {
    expect(verifyChain(chain(5))).toEqual({ ok: true, entries: 5, firstSeq: 1 });
  });

  it.each([
    { name: 'an edited reason', edit: (c: HistoryEntry[]) => (c[2]!.reason = 'forged'), seq: 3 },
    { name: 'an edited user with its hash recomputed breaks the next entry', edit: (c: HistoryEntry[]) => { c[1]!.user = 'mallory'; c[1]!.hash = entryHash(c[0]!.hash!, c[1]!); }, seq: 3 },
    { name: 'a removed entry', edit: (c: HistoryEntry[]) => c.splice(2, 1), seq: 3 },
    { name: 'two entries swapped', edit: (c: HistoryEntry[]) => ([c[1], c[2]] = [c[2]!, c[1]!]), seq: 2 },
    { name: 'an entry without a hash', edit: (c: HistoryEntry[]) => delete c[3]!.hash, seq: 4 },
  ])('names the first broken seq: $name', ({ edit, seq }) => {
    const c = chain(5);
    edit(c);
    const got = verifyChain(c);
    expect(got.ok).toBe(false);
    expect(got.ok === false && got.brokenSeq).toBe(seq);
  });

  it('after a retention delete: checks from the first kept entry on and says where it starts', () => {
    const kept = chain(8).slice(3);
    expect(verifyChain(kept)).toEqual({ ok: true, entries: 5, firstSeq: 4 });
    kept[2]!.to = 'prod';
    expect(verifyChain(kept)).toMatchObject({ ok: false, firstSeq: 4, brokenSeq: 6 });
  });
});

describe('verifyLife', () => {
  it.each([
    { name: 'the live object: no deleted entry needed', life: { live: true, entries: chain(5) }, want: { ok: true, entries: 5, firstSeq: 1 } },
    { name: 'a deleted object ending with its deletion', life: { live: false, entries: chain(20, true) }, want: { ok: true, entries: 20, firstSeq: 1 } },
    { name: 'its head cut by retention, its end kept', life: { live: false, entries: chain(20, true).slice(5) }, want: { ok: true, entries: 15, firstSeq: 6 } },
    { name: 'a deleted object whose last segment is gone: the last seq kept', life: { live: false, entries: chain(20, true).slice(0, 14) }, want: { ok: false, entries: 14, firstSeq: 1, brokenSeq: 15, cutAfterSeq: 14 } },
    { name: 'only its deleted entry gone', life: { live: false, entries: chain(20, true).slice(0, 19) }, want: { ok: false, entries: 19, firstSeq: 1, brokenSeq: 20, cutAfterSeq: 19 } },
    { name: 'nothing kept', life: { live: false, entries: [] }, want: { ok: false, entries: 0, firstSeq: 1, brokenSeq: 1, cutAfterSeq: 0 } },
  ])('$name', ({ life, want }) => {
    expect(verifyLife(life)).toMatchObject(want);
  });

  it('a broken chain is reported as such, before a cut tail', () => {
    const entries = chain(20, true).slice(0, 14);
    entries[6]!.user = 'mallory';
    const got = verifyLife({ live: false, entries });
    expect(got).toMatchObject({ ok: false, brokenSeq: 7 });
    expect(got.ok === false && got.cutAfterSeq).toBeUndefined();
  });
});

// A known answer, fixed once: the canonical bytes written out by hand and
// their hashes computed by coreutils (`printf '%s%s' "$prev" "$canonical" |
// sha256sum`), not by this code. A change of the canonical form or of the
// hash breaks every stored trail, and fails here.
describe('the chain format: a known answer', () => {
  const first: HistoryEntry = { seq: 1, action: 'promote', from: 'dev', to: 'staging', user: 'alice', time: '2026-11-25T10:00:00Z', reason: 'tests green' };
  const second: HistoryEntry = { user: 'alice', to: 'prod', time: '2026-11-26T09:30:00Z', seq: 2, reason: 'release 2.4 é', from: 'staging', approvers: ['bob', 'carol'], action: 'promote' };
  const FIRST_CANONICAL = '{"action":"promote","from":"dev","reason":"tests green","seq":1,"time":"2026-11-25T10:00:00Z","to":"staging","user":"alice"}';
  const SECOND_CANONICAL = '{"action":"promote","approvers":["bob","carol"],"from":"staging","reason":"release 2.4 é","seq":2,"time":"2026-11-26T09:30:00Z","to":"prod","user":"alice"}';
  const FIRST_HASH = '1ea506746d6cdf4a7896ee876ceb448356a8ad4db1ffa0c4cc96b38de03109ae';
  const SECOND_HASH = '409e45e67487797ad1eda98110721e5ab0db2dae77bb84cf8648f2cb021e0ab1';

  it('canonical JSON: keys sorted, no spaces, UTF-8 as is', () => {
    expect(canonicalJson(first)).toBe(FIRST_CANONICAL);
    expect(canonicalJson(second)).toBe(SECOND_CANONICAL);
  });

  it('the hashes of the first entry and of the one chained to it', () => {
    expect(entryHash('', first)).toBe(FIRST_HASH);
    expect(entryHash(FIRST_HASH, second)).toBe(SECOND_HASH);
    expect(verifyChain([{ ...first, hash: FIRST_HASH }, { ...second, hash: SECOND_HASH }])).toEqual({ ok: true, entries: 2, firstSeq: 1 });
  });

  it('sha256sum agrees on the same bytes, now', () => {
    const sum = (input: string) => execFileSync('sha256sum', { input }).toString().split(' ')[0];
    expect(sum(FIRST_CANONICAL)).toBe(FIRST_HASH);
    expect(sum(FIRST_HASH + SECOND_CANONICAL)).toBe(SECOND_HASH);
  });
});
