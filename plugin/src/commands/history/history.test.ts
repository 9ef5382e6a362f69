import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { entryHash } from '../../../../api/src/history-chain.ts';
import type { CustomResourceHistory, HistoryEntry, HistoryLife } from '../../../../api/src/types.ts';
import { newChalk } from '../../output/color.ts';
import { hasUnsafeCharacters } from '../../output/escape.ts';
import { renderHistory } from '../../output/history-printer.ts';
import { run } from '../../root-command.ts';
import { apiError, fakeClient, harness, NOW } from '../../testing/harness.ts';
import { verifyLives } from './history.ts';

const HISTORY_PATH = '/apis/custom.example.com/v1/namespaces/shop/customresources/checkout/history';
const ago = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000).toISOString();
const plain = newChalk(false);

/** Entries numbered from `firstSeq` and chained as the backend chains them (the one before the first has `prevHash`). */
function chain(entries: Omit<HistoryEntry, 'seq' | 'hash'>[], firstSeq = 1, prevHash = ''): HistoryEntry[] {
  let prev = prevHash;
  return entries.map((e, i) => {
    const entry: HistoryEntry = { seq: firstSeq + i, ...e };
    entry.hash = entryHash(prev, entry);
    prev = entry.hash;
    return entry;
  });
}

/** The live object: five changes, with an approval, an approved promotion and an override. */
function current(): HistoryLife {
  return {
    uid: '6f1c2a9e-0d1b-4c55-9a57-1f0f2b9d7c31',
    live: true,
    entries: chain([
      { action: 'promote', from: 'dev', to: 'staging', user: 'alice', time: ago(3 * 24 * 60), reason: 'tests green' },
      { action: 'approve', from: 'staging', to: 'prod', user: 'dave', time: ago(26 * 60), reason: 'canary looks fine' },
      { action: 'promote', from: 'staging', to: 'prod', user: 'alice', time: ago(25 * 60), reason: 'release 1.2', approvers: ['dave'] },
      { action: 'set-state', from: 'prod', to: 'dev', user: 'bob', time: ago(5 * 60), reason: 'roll back' },
      { action: 'override', from: 'dev', to: 'prod', user: 'carol', time: ago(45), reason: 'incident 4711', overrode: ['soak', 'skipped-states', 'freeze'], freeze: 'custom-system/quiet-week' },
    ]),
  };
}

/** An earlier life of the same name whose seq 1–40 a cluster admin deleted; it ends with its deletion. */
function earlier(): HistoryLife {
  return {
    uid: '0b7a4f10-5e2c-4d8e-8f43-77c1d2e3f4a5',
    live: false,
    entries: chain([
      { action: 'promote', from: 'dev', to: 'staging', user: 'alice', time: ago(40 * 24 * 60) },
      { action: 'set-state', from: 'staging', to: 'dev', user: 'bob', time: ago(39 * 24 * 60), reason: 'bad build' },
      { action: 'deleted', user: 'system:admin', time: ago(30 * 24 * 60) },
    ], 41, 'the-hash-of-seq-40-which-is-gone'),
  };
}

const doc = (lives: HistoryLife[]): CustomResourceHistory => ({ kind: 'CustomResourceHistory', apiVersion: 'custom.example.com/v1', metadata: { name: 'checkout', namespace: 'shop' }, lives });

async function runWith(argv: string[], answer: unknown): Promise<{ code: number; out: string; err: string; calls: number }> {
  const client = fakeClient({ [`GET ${HISTORY_PATH}`]: answer });
  const h = harness({ client });
  const code = await run([...argv, '-n', 'shop'], h.deps);
  return { code, out: h.out(), err: h.err(), calls: client.calls.length };
}

describe('history: the table', () => {
  it('each life under its title, oldest entry first; overrides, approvers and freezes shown', async () => {
    const r = await runWith(['history', 'checkout'], doc([current(), earlier()]));
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    for (const l of r.out.split('\n')) expect(l).toBe(l.trimEnd());
    expect(r.out).toMatch(/^Life uid 6f1c2a9e-0d1b-4c55-9a57-1f0f2b9d7c31 \(current\)\nSEQ {3}TIME {3,}AGE {3,}ACTION {3,}FROM {3,}TO {3,}USER {3,}DETAILS {3,}REASON\n1 /);
    expect(r.out).toContain('\n\nLife uid 0b7a4f10-5e2c-4d8e-8f43-77c1d2e3f4a5, deleted at 2025-05-02T12:00:00.000Z (30d ago)\n(the kept trail starts at seq 41; earlier entries were deleted)\nSEQ');
    await expect(r.out).toMatchFileSnapshot('./testdata/history.golden.txt');
  });

  it("a move's recorded checks in DETAILS: result and value of each, beside approvers; an override past a failing check", async () => {
    const life: HistoryLife = {
      uid: 'u-checks',
      live: true,
      entries: chain([
        { action: 'promote', from: 'dev', to: 'staging', user: 'alice', time: ago(3 * 24 * 60), reason: 'tests green' },
        {
          action: 'promote', from: 'staging', to: 'prod', user: 'alice', time: ago(25 * 60), reason: 'release 1.2', approvers: ['dave'],
          checks: [
            { name: 'error-rate', source: 'spec', phase: 'Successful', value: '[0.004]', time: ago(26 * 60) },
            { name: 'no-alerts', source: 'GatePolicy custom-system/prod-gates', phase: 'Successful', value: '[]', time: ago(26 * 60) },
          ],
        },
        { action: 'set-state', from: 'prod', to: 'staging', user: 'bob', time: ago(5 * 60), reason: 'roll back' },
        {
          action: 'override', from: 'staging', to: 'prod', user: 'carol', time: ago(45), reason: 'incident 4711', overrode: ['checks'],
          checks: [
            { name: 'error-rate', source: 'spec', phase: 'Failed', value: '[0.042]', time: ago(50) },
            { name: 'health', source: 'spec', phase: 'Error', time: ago(50) },
            { name: 'ticket', source: 'spec', phase: 'Inconclusive', value: '{"status":200,"body":{"state":"in review"}}', time: ago(50) },
          ],
        },
      ]),
    };
    const r = await runWith(['history', 'checkout'], doc([life]));
    expect(r.code).toBe(0);
    for (const l of r.out.split('\n')) expect(l).toBe(l.trimEnd());
    expect(r.out).toMatch(/^2 .* promote +staging +prod +alice +approved by dave; checks error-rate pass \[0\.004\], no-alerts pass \[\] +release 1\.2$/m);
    expect(r.out).toMatch(/^4 .* override \(checks\) +staging +prod +carol +checks error-rate fail \[0\.042\], health error, ticket inconclusive \{"status":200,"… +incident 4711$/m);
    await expect(r.out).toMatchFileSnapshot('./testdata/history-checks.golden.txt');
  });

  it("escapes a recorded check's name, phase and value", () => {
    const text = renderHistory([{ uid: 'u', live: true, entries: [{ seq: 1, action: 'promote', from: 'a', to: 'b', user: 'x', time: ago(1), checks: [{ name: 'n\x1b[2J', source: 's', phase: 'Failed\u202e' as never, value: '[1]\n2 row' }] }] }], { chalk: plain, now: NOW });
    expect(hasUnsafeCharacters(text.replaceAll('\n', ''))).toBe(false);
    expect(text).toContain('checks n\\x1b[2J Failed\\u202e [1]\\n2 row');
  });

  it('a life without entries', () => {
    expect(renderHistory([{ uid: 'u1', live: true, entries: [] }], { chalk: plain, now: NOW })).toBe('Life uid u1 (current)\nNo changes recorded.\n');
  });

  it('an earlier life whose deletion was not recorded', () => {
    expect(renderHistory([{ uid: 'u1', live: false, entries: [] }], { chalk: plain, now: NOW })).toBe('Life uid u1, deleted\nNo changes recorded.\n');
  });

  it('titles bold, overrides red with colour on', () => {
    const text = renderHistory([current()], { chalk: newChalk(true), now: NOW });
    expect(text).toContain('\x1b[1mLife uid 6f1c2a9e-0d1b-4c55-9a57-1f0f2b9d7c31 (current)\x1b[22m');
    expect(text).toContain('\x1b[31moverride (soak, skipped-states, freeze)\x1b[39m');
  });

  it('escapes every value from the server', () => {
    const crafted: HistoryLife = {
      uid: 'u\x1b[2J',
      live: false,
      entries: [
        { seq: 1, action: 'promote', from: 'dev\u202e', to: 'prod\x7f', user: 'mallory\r\x1b[32malice', time: 't\x07', reason: 'ok\n2   fake row', approvers: ['x\u009b31m'], freeze: 'f\u2066', hash: 'h' },
        { seq: 2, action: 'deleted', user: 'root', time: '2025-06-01T00:00:00Z\x1b[8m' },
      ],
    };
    const text = renderHistory([crafted], { chalk: plain, now: NOW });
    expect(hasUnsafeCharacters(text.replaceAll('\n', ''))).toBe(false);
    for (const want of ['Life uid u\\x1b[2J, deleted at 2025-06-01T00:00:00Z\\x1b[8m', 'dev\\u202e', 'prod\\x7f', 'mallory\\r\\x1b[32malice', 't\\x07', 'ok\\n2   fake row', 'approved by x\\x9b31m; freeze f\\u2066']) {
      expect(text).toContain(want);
    }
  });
});

describe('history --verify', () => {
  it('one line per life; where the kept trail starts after a retention delete', async () => {
    const r = await runWith(['history', 'checkout', '--verify'], doc([current(), earlier()]));
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toBe(
      'Life uid 6f1c2a9e-0d1b-4c55-9a57-1f0f2b9d7c31 (current): verified: seq 1–5, 5 entries\n'
      + 'Life uid 0b7a4f10-5e2c-4d8e-8f43-77c1d2e3f4a5, deleted at 2025-05-02T12:00:00.000Z (30d ago): verified: seq 41–43, 3 entries; the kept trail starts at seq 41; earlier entries were deleted\n',
    );
    await expect(r.out).toMatchFileSnapshot('./testdata/history-verify.golden.txt');
  });

  const tamper = (f: (entries: HistoryEntry[]) => HistoryEntry[]): HistoryLife => ({ ...current(), entries: f(current().entries) });
  it.each<{ name: string; life: () => HistoryLife; want: string }>([
    { name: 'an edited reason', life: () => tamper((es) => es.map((e) => (e.seq === 4 ? { ...e, reason: 'nothing to see' } : e))), want: 'broken at seq 4: its hash does not match its content and the entry before it' },
    { name: 'an edited user on the first entry', life: () => tamper((es) => es.map((e) => (e.seq === 1 ? { ...e, user: 'mallory' } : e))), want: 'broken at seq 1: its hash does not match its content and the entry before it' },
    { name: 'a removed entry', life: () => tamper((es) => es.filter((e) => e.seq !== 3)), want: 'broken at seq 3: seq 3 is missing' },
    { name: 'two entries swapped', life: () => tamper((es) => [es[0]!, es[2]!, es[1]!, ...es.slice(3)]), want: 'broken at seq 2: seq 2 is missing' },
    { name: 'an entry without seq or hash', life: () => tamper((es) => [...es, { action: 'promote', user: 'x', time: ago(1) }]), want: 'broken at seq 6: the entry has no seq or hash' },
    { name: 'a removed approver', life: () => tamper((es) => es.map((e) => (e.seq === 3 ? { ...e, approvers: [] } : e))), want: 'broken at seq 3: its hash does not match its content and the entry before it' },
  ])('$name: names the first broken seq and exits 1', async ({ life, want }) => {
    const r = await runWith(['history', 'checkout', '--verify'], doc([life(), earlier()]));
    expect(r.code).toBe(1);
    expect(r.out.split('\n')[0]).toBe(`Life uid 6f1c2a9e-0d1b-4c55-9a57-1f0f2b9d7c31 (current): ${want}`);
    // The other life is still checked and reported.
    expect(r.out.split('\n')[1]).toMatch(/: verified: seq 41–43, 3 entries/);
    expect(r.err).toBe(`error: the history of checkout does not verify: Life uid 6f1c2a9e-0d1b-4c55-9a57-1f0f2b9d7c31 (current) is broken at seq ${/seq (\d+)/.exec(want)![1]}\n`);
  });

  it('several broken lives: counted, the first named', () => {
    const bad = (l: HistoryLife): HistoryLife => ({ ...l, entries: l.entries.map((e, i) => (i === 1 ? { ...e, reason: 'x' } : e)) });
    const report = verifyLives([bad(current()), bad(earlier())], NOW);
    expect(report.broken.map((b) => b.check.brokenSeq)).toEqual([2, 42]);
  });

  it.each([
    { name: 'no entries', life: { uid: 'u1', live: true, entries: [] }, want: 'Life uid u1 (current): verified: no entries\n' },
    { name: 'one entry', life: { uid: 'u1', live: true, entries: chain([{ action: 'promote', user: 'a', time: ago(1) }]) }, want: 'Life uid u1 (current): verified: seq 1, 1 entry\n' },
  ])('$name', ({ life, want }) => {
    expect(verifyLives([life], NOW).text).toBe(want);
  });
});

describe('history --verify: the tail of a deleted object\'s life', () => {
  /** An earlier life of 20 entries: 19 changes, then its deletion (seq 20). */
  function twentyEntries(): HistoryLife {
    const changes = Array.from({ length: 19 }, (_, i): Omit<HistoryEntry, 'seq' | 'hash'> =>
      i % 2 === 0 ? { action: 'promote', from: 'dev', to: 'staging', user: 'alice', time: ago(60 * 24 * 60 - i * 60), reason: `change ${i + 1}` } : { action: 'set-state', from: 'staging', to: 'dev', user: 'bob', time: ago(60 * 24 * 60 - i * 60), reason: `change ${i + 1}` });
    return { uid: '3c9d2b7e-8a41-4f06-b5d2-9e0c1a7f6b18', live: false, entries: chain([...changes, { action: 'deleted', user: 'carol', time: ago(59 * 24 * 60) }]) };
  }
  const cut = (l: HistoryLife, keep: (e: HistoryEntry) => boolean): HistoryLife => ({ ...l, entries: l.entries.filter(keep) });

  it('its last segment deleted (seq 15–20 gone): the life by uid and the last seq kept, exit 1; the other lives still checked', async () => {
    const r = await runWith(['history', 'checkout', '--verify'], doc([current(), cut(twentyEntries(), (e) => e.seq! <= 14), earlier()]));
    expect(r.code).toBe(1);
    expect(r.out.split('\n')[1]).toBe('Life uid 3c9d2b7e-8a41-4f06-b5d2-9e0c1a7f6b18, deleted: cut after seq 14: the object is gone, but its life does not end with its deleted entry (seq 1–14 verify, 14 entries; the entries after seq 14 are missing)');
    expect(r.err).toBe('error: the history of checkout does not verify: Life uid 3c9d2b7e-8a41-4f06-b5d2-9e0c1a7f6b18, deleted is cut after seq 14, the last seq kept: its deleted entry is missing\n');
    await expect(`${r.out}${r.err}`).toMatchFileSnapshot('./testdata/history-verify-cut-tail.golden.txt');
  });

  it('untouched, it verifies and ends with its deletion', async () => {
    const r = await runWith(['history', 'checkout', '--verify'], doc([current(), twentyEntries()]));
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[1]).toBe('Life uid 3c9d2b7e-8a41-4f06-b5d2-9e0c1a7f6b18, deleted at 2025-04-03T12:00:00.000Z (59d ago): verified: seq 1–20, 20 entries');
  });

  it('the live object\'s life has no deleted entry, and needs none', () => {
    expect(verifyLives([current()], NOW).broken).toEqual([]);
  });

  it.each<{ name: string; life: () => HistoryLife; want: string }>([
    { name: 'only its deleted entry gone', life: () => cut(twentyEntries(), (e) => e.seq !== 20), want: 'cut after seq 19: the object is gone, but its life does not end with its deleted entry (seq 1–19 verify, 19 entries; the entries after seq 19 are missing)' },
    { name: 'head and tail cut', life: () => cut(twentyEntries(), (e) => e.seq! >= 6 && e.seq! <= 14), want: 'cut after seq 14: the object is gone, but its life does not end with its deleted entry (seq 6–14 verify, 9 entries; the kept trail starts at seq 6; earlier entries were deleted; the entries after seq 14 are missing)' },
    { name: 'one entry kept', life: () => cut(twentyEntries(), (e) => e.seq === 1), want: 'cut after seq 1: the object is gone, but its life does not end with its deleted entry (seq 1 verify, 1 entry; the entries after seq 1 are missing)' },
    { name: 'no entry kept', life: () => cut(twentyEntries(), () => false), want: 'cut: the object is gone, but no entry of its life is kept, not even its deleted entry' },
    { name: 'a broken chain is named first', life: () => ({ ...cut(twentyEntries(), (e) => e.seq! <= 14), entries: cut(twentyEntries(), (e) => e.seq! <= 14).entries.map((e) => (e.seq === 7 ? { ...e, user: 'mallory' } : e)) }), want: 'broken at seq 7: its hash does not match its content and the entry before it' },
  ])('$name', ({ life, want }) => {
    const report = verifyLives([life()], NOW);
    expect(report.broken).toHaveLength(1);
    expect(report.text).toBe(`Life uid 3c9d2b7e-8a41-4f06-b5d2-9e0c1a7f6b18, deleted: ${want}\n`);
  });

  it('several broken lives, the first with a cut tail: counted, the first named with its last seq kept', async () => {
    const tampered = { ...current(), entries: current().entries.map((e) => (e.seq === 2 ? { ...e, reason: 'x' } : e)) };
    const r = await runWith(['history', 'checkout', '--verify'], doc([cut(twentyEntries(), (e) => e.seq! <= 14), tampered]));
    expect(r.code).toBe(1);
    expect(r.err).toBe('error: the history of checkout does not verify: 2 of 2 lives are broken, the first: Life uid 3c9d2b7e-8a41-4f06-b5d2-9e0c1a7f6b18, deleted is cut after seq 14, the last seq kept\n');
  });
});

describe('history: -o, errors', () => {
  it.each([
    { name: 'json', o: 'json', read: (t: string): unknown => JSON.parse(t) },
    { name: 'yaml', o: 'yaml', read: (t: string): unknown => parse(t) },
  ])('-o $name prints the document', async ({ o, read }) => {
    const d = doc([current(), earlier()]);
    const r = await runWith(['history', 'checkout', '-o', o], d);
    expect(r.code).toBe(0);
    expect(read(r.out)).toEqual(d);
  });

  it('--verify with -o is a usage error, before any request', async () => {
    const r = await runWith(['history', 'checkout', '--verify', '-o', 'json'], doc([]));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: --verify prints its own report; use it without -o/);
    expect(r.calls).toBe(0);
  });

  it('-o wide is not a format of history', async () => {
    const r = await runWith(['history', 'checkout', '-o', 'wide'], doc([]));
    expect(r.err).toMatch(/^error: unable to match a printer suitable for the output format "wide", allowed formats are: json, yaml/);
  });

  it('no lives at all: said on stderr', async () => {
    const r = await runWith(['history', 'checkout'], doc([]));
    expect(r).toMatchObject({ code: 0, out: '', err: 'No history for checkout.\n' });
  });

  it('neither a live object nor an earlier life: the server\'s NotFound', async () => {
    const r = await runWith(['history', 'checkout'], () => {
      throw apiError(404, 'NotFound', 'customresources.custom.example.com "checkout" not found', HISTORY_PATH, { name: 'checkout', group: 'custom.example.com', kind: 'customresources' });
    });
    expect(r).toMatchObject({ code: 1, out: '', err: 'Error from server (NotFound): customresources.custom.example.com "checkout" not found\n' });
  });
});
