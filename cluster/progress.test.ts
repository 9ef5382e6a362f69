import { describe, expect, it } from 'vitest';
import { minutesSeconds, ProgressLine, type ProgressStream } from './progress.ts';

function setup(tty: boolean, columns?: number) {
  let t = 0;
  let drawn = '';
  const logged: string[] = [];
  const stream: ProgressStream = { isTTY: tty, ...(columns !== undefined ? { columns } : {}), write: (s) => ((drawn += s), true) };
  const p = new ProgressLine({ stream, log: (l) => logged.push(l), now: () => t });
  return { p, tick: (ms: number) => (t += ms), drawn: () => drawn, logged };
}

describe('ProgressLine', () => {
  it('on a terminal: one line rewritten in place, at most 5 times a second, truncated to the width, cleared when done', () => {
    const s = setup(true, 30);
    s.p.update('compiling: 1 of ~2378 packages');
    s.tick(100);
    s.p.update('compiling: 2 of ~2378 packages');
    s.tick(150);
    s.p.update('compiling: 3 of ~2378 packages (0%), 1s: k8s.io/api/core/v1');
    s.p.done();
    expect(s.drawn()).toBe('\r\x1b[Kcompiling: 1 of ~2378 packag…\r\x1b[Kcompiling: 3 of ~2378 packag…\r\x1b[K');
    expect(s.logged).toEqual([]);
  });

  it('on a terminal that tells no width: 80 columns', () => {
    const s = setup(true, 0);
    s.p.update('x'.repeat(100));
    expect(s.drawn()).toBe(`\r\x1b[K${'x'.repeat(78)}…`);
  });

  it('elsewhere, with milestones: a line when the milestone changes, at once, whatever the time', () => {
    const s = setup(false);
    s.p.update('downloading 1', 'download');
    s.p.update('downloading 2', 'download');
    s.p.update('compiling 0%', 'compile 0');
    s.tick(300_000);
    s.p.update('compiling 9%', 'compile 0');
    s.p.update('compiling 10%', 'compile 1');
    s.p.done();
    expect(s.logged).toEqual(['downloading 1', 'compiling 0%', 'compiling 10%']);
    expect(s.drawn()).toBe('');
  });

  it('on a terminal, milestones change nothing: the line follows every update (5 a second at most)', () => {
    const s = setup(true, 80);
    s.p.update('a', 'm1');
    s.tick(250);
    s.p.update('b', 'm1');
    expect(s.drawn()).toBe('\r\x1b[Ka\r\x1b[Kb');
  });

  it('elsewhere, without milestones: a line a minute through log, none at the start, nothing to clear', () => {
    const s = setup(false);
    s.p.update('a');
    s.tick(59_000);
    s.p.update('b');
    s.tick(2_000);
    s.p.update('c');
    s.tick(30_000);
    s.p.update('d');
    s.p.done();
    expect(s.logged).toEqual(['c']);
    expect(s.drawn()).toBe('');
  });
});

describe('minutesSeconds', () => {
  it.each([
    [0, '0s'],
    [42_400, '42s'],
    [60_000, '1m00s'],
    [185_000, '3m05s'],
  ])('%d ms is %s', (ms, want) => expect(minutesSeconds(ms)).toBe(want));
});
