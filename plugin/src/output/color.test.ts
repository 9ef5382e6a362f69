import { describe, expect, it } from 'vitest';
import { colorEnabled, newChalk, statePalette } from './color.ts';

describe('colorEnabled', () => {
  it.each<{ name: string; tty: boolean; env: NodeJS.ProcessEnv; noColor?: boolean; want: boolean }>([
    { name: 'a terminal', tty: true, env: {}, want: true },
    { name: 'a terminal with TERM=xterm', tty: true, env: { TERM: 'xterm-256color' }, want: true },
    { name: 'not a terminal', tty: false, env: {}, want: false },
    { name: 'NO_COLOR on a terminal', tty: true, env: { NO_COLOR: '1' }, want: false },
    { name: 'empty NO_COLOR is unset (no-color.org)', tty: true, env: { NO_COLOR: '' }, want: true },
    { name: '--no-color on a terminal', tty: true, env: {}, noColor: true, want: false },
    { name: '--no-color beats FORCE_COLOR', tty: true, env: { FORCE_COLOR: '1' }, noColor: true, want: false },
    { name: 'NO_COLOR beats FORCE_COLOR', tty: false, env: { NO_COLOR: '1', FORCE_COLOR: '1' }, want: false },
    { name: 'FORCE_COLOR=1 on a pipe', tty: false, env: { FORCE_COLOR: '1' }, want: true },
    { name: 'FORCE_COLOR=0 on a pipe', tty: false, env: { FORCE_COLOR: '0' }, want: false },
    { name: 'FORCE_COLOR=false on a pipe', tty: false, env: { FORCE_COLOR: 'false' }, want: false },
    { name: 'TERM=dumb on a terminal', tty: true, env: { TERM: 'dumb' }, want: false },
    { name: 'FORCE_COLOR beats TERM=dumb', tty: true, env: { TERM: 'dumb', FORCE_COLOR: '1' }, want: true },
  ])('$name → $want', ({ tty, env, noColor, want }) => {
    expect(colorEnabled({ write: () => true, isTTY: tty }, env, noColor ?? false)).toBe(want);
  });
});

describe('newChalk', () => {
  it.each([
    { name: 'enabled', enabled: true, want: '\x1b[31mx\x1b[39m' },
    { name: 'disabled', enabled: false, want: 'x' },
  ])('$name', ({ enabled, want }) => {
    expect(newChalk(enabled).red('x')).toBe(want);
  });
});

describe('statePalette', () => {
  const p = statePalette(newChalk(true));
  const path = ['dev', 'staging', 'prod'];
  it.each<{ name: string; state: string; path: string[] | undefined; prot?: string[]; want: string }>([
    { name: 'first state cyan', state: 'dev', path, want: '\x1b[36mdev\x1b[39m' },
    { name: 'middle state yellow', state: 'staging', path, want: '\x1b[33mstaging\x1b[39m' },
    { name: 'last state green', state: 'prod', path, want: '\x1b[32mprod\x1b[39m' },
    { name: 'protected magenta, even last', state: 'prod', path, prot: ['prod'], want: '\x1b[35mprod\x1b[39m' },
    { name: 'not on the path red', state: 'qa', path, want: '\x1b[31mqa\x1b[39m' },
    { name: 'no path: plain', state: 'qa', path: undefined, want: 'qa' },
    { name: 'escaped, not on the path', state: 'qa\x1b[0m', path, want: '\x1b[31mqa\\x1b[0m\x1b[39m' },
    { name: 'escaped, no path', state: 'qa\u202e', path: undefined, want: 'qa\\u202e' },
  ])('$name', ({ state, path: p2, prot, want }) => {
    expect(p.state(state, p2, prot)).toBe(want);
  });
});
