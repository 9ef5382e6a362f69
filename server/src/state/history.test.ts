import { describe, expect, it } from 'vitest';
import { verifyChain } from '../../../api/src/history-chain.ts';
import type { HistoryEntry } from '../../../api/src/types.ts';
import { append, HISTORY_KEEP, HISTORY_WINDOW, normalize } from './history.ts';

const entry = (i: number): Omit<HistoryEntry, 'seq' | 'hash'> => ({ action: 'promote', from: 'a', to: 'b', user: `u${i}`, time: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString() });

function trail(n: number, window = 20, keep = 10): { window: HistoryEntry[]; archived: HistoryEntry[] } {
  let w: HistoryEntry[] = [];
  const archived: HistoryEntry[] = [];
  for (let i = 1; i <= n; i++) {
    const r = append(w, entry(i), window, keep);
    archived.push(...r.archive);
    w = r.window;
  }
  return { window: w, archived };
}

describe('append', () => {
  it('numbers from 1 and chains each entry to the one before', () => {
    const { window } = trail(5);
    expect(window.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(verifyChain(window)).toEqual({ ok: true, entries: 5, firstSeq: 1 });
  });

  it('keeps the window within its size and archives the oldest in batches; nothing lost, nothing twice', () => {
    const { window, archived } = trail(150);
    expect(window.length).toBeLessThanOrEqual(20);
    expect(window.length).toBeGreaterThanOrEqual(10);
    const all = [...archived, ...window];
    expect(all.map((e) => e.seq)).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
    expect(verifyChain(all)).toMatchObject({ ok: true, entries: 150 });
  });

  it('never archives the entry it appends', () => {
    for (let n = 1; n <= 60; n++) {
      const { window } = trail(n - 1);
      const r = append(window, entry(n));
      expect(r.window.at(-1)?.seq).toBe(n);
      expect(r.archive.every((e) => e.seq! < n)).toBe(true);
    }
  });

  it('archives the same segment whoever appends to the same window', () => {
    const { window } = trail(HISTORY_WINDOW, HISTORY_WINDOW, HISTORY_KEEP);
    const a = append(window, { ...entry(HISTORY_WINDOW + 1), user: 'alice' });
    const b = append(window, { ...entry(HISTORY_WINDOW + 1), user: 'bob', action: 'set-state' });
    expect(a.archive).toEqual(b.archive);
    expect(a.archive.map((e) => e.seq)).toEqual(Array.from({ length: HISTORY_WINDOW + 1 - HISTORY_KEEP }, (_, i) => i + 1));
  });
});

describe('normalize: objects from before seq and hash, and a rolling upgrade', () => {
  it('numbers and chains a legacy window', () => {
    const legacy: HistoryEntry[] = [1, 2, 3].map((i) => ({ ...entry(i) }));
    const n = normalize(legacy);
    expect(n.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(verifyChain(n)).toMatchObject({ ok: true });
  });

  it('numbers entries an old replica appended after numbered ones', () => {
    const { window } = trail(25);
    expect(window[0]!.seq).toBe(12);
    const mixed = [...window, { ...entry(26) }, { ...entry(27) }];
    const n = normalize(mixed);
    expect(n.map((e) => e.seq)).toEqual(Array.from({ length: 16 }, (_, i) => i + 12));
    expect(n.slice(0, window.length)).toEqual(window);
    expect(verifyChain(n)).toMatchObject({ ok: true, firstSeq: window[0]!.seq });
  });

  it('leaves a numbered and chained window as it is', () => {
    const { window } = trail(7);
    expect(normalize(window)).toEqual(window);
  });
});
