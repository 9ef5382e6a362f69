import { describe, expect, it } from 'vitest';
import { parseGoDuration } from './go-duration.ts';

// The answers are Go's: time.ParseDuration of each input, in milliseconds.
describe('parseGoDuration', () => {
  it.each([
    { name: 'zero', s: '0', ms: 0 },
    { name: 'seconds', s: '5s', ms: 5000 },
    { name: 'a fraction of an hour', s: '1.5h', ms: 5_400_000 },
    { name: 'several units', s: '2h45m30s', ms: 9_930_000 },
    { name: 'milliseconds', s: '300ms', ms: 300 },
    { name: 'microseconds, both spellings', s: '1500us', ms: 1.5 },
    { name: 'the micro sign', s: '1500µs', ms: 1.5 },
    { name: 'nanoseconds', s: '2000000ns', ms: 2 },
    { name: 'a sign', s: '-1.5h', ms: -5_400_000 },
    { name: 'a plus sign', s: '+90m', ms: 5_400_000 },
    { name: 'a leading dot', s: '.5s', ms: 500 },
    { name: 'a trailing dot', s: '1.s', ms: 1000 },
    { name: 'units in any order', s: '1s1h', ms: 3_601_000 },
  ])('$name: $s', ({ s, ms }) => {
    expect(parseGoDuration(s)).toBeCloseTo(ms, 9);
  });

  it.each(['', '1', '1.5', 'h', '1d', '1 h', '1hh', '--1s', '1s ', 's1', '.s', '1e3s'])('%j is no Go duration', (s) => {
    expect(parseGoDuration(s)).toBeUndefined();
  });
});
