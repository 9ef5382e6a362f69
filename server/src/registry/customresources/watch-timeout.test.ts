import { describe, expect, it } from 'vitest';
import { MAX_TIMER_MS, watchTimeoutMs } from './watch-timeout.ts';

describe('watchTimeoutMs', () => {
  it.each<{ name: string; timeoutSeconds: number | undefined; random: number; want: number }>([
    { name: 'given: that many seconds', timeoutSeconds: 5, random: 0.5, want: 5_000 },
    { name: 'not given: 1800 s at the least', timeoutSeconds: undefined, random: 0, want: 1_800_000 },
    { name: 'not given: up to 3600 s', timeoutSeconds: undefined, random: 0.75, want: 3_150_000 },
    { name: '0 means the default, as upstream', timeoutSeconds: 0, random: 0.5, want: 2_700_000 },
    { name: 'the last value a timer holds', timeoutSeconds: 2_147_483, random: 0, want: 2_147_483_000 },
    { name: 'one more second is held to the timer bound (Node would fire after 1 ms)', timeoutSeconds: 2_147_484, random: 0, want: MAX_TIMER_MS },
    { name: 'far beyond', timeoutSeconds: 9_223_372_036, random: 0, want: MAX_TIMER_MS },
  ])('$name', ({ timeoutSeconds, random, want }) => {
    expect(watchTimeoutMs(timeoutSeconds, () => random)).toBe(want);
  });
});
