import { describe, expect, it } from 'vitest';
import { canonicalJson, entryHash, verifyChain } from './history-chain.ts';
import type { HistoryEntry } from './types.ts';

function chain(n: number): HistoryEntry[] {
  const out: HistoryEntry[] = [];
  let prev = '';
  for (let seq = 1; seq <= n; seq++) {
    const e: HistoryEntry = { seq, action: seq % 2 ? 'promote' : 'set-state', from: 'a', to: 'b', user: `u${seq}`, time: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString() };
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
