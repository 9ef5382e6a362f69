import { describe, expect, it } from 'vitest';
import { humanDuration } from './human-duration.ts';

const s = 1000;
const m = 60 * s;
const h = 60 * m;
const d = 24 * h;

describe('humanDuration', () => {
  it.each([
    { name: 'slightly negative (clock skew)', ms: -500, want: '0s' },
    { name: 'negative', ms: -5 * s, want: '<invalid>' },
    { name: 'zero', ms: 0, want: '0s' },
    { name: 'seconds', ms: 119 * s, want: '119s' },
    { name: 'two minutes', ms: 2 * m, want: '2m' },
    { name: 'minutes and seconds', ms: 9 * m + 5 * s, want: '9m5s' },
    { name: 'minutes only past ten', ms: 10 * m + 30 * s, want: '10m' },
    { name: 'under three hours in minutes', ms: 179 * m, want: '179m' },
    { name: 'hours and minutes', ms: 3 * h + 20 * m, want: '3h20m' },
    { name: 'whole hours', ms: 5 * h, want: '5h' },
    { name: 'hours only past eight', ms: 47 * h + 59 * m, want: '47h' },
    { name: 'days and hours', ms: 2 * d + 3 * h, want: '2d3h' },
    { name: 'whole days', ms: 3 * d, want: '3d' },
    { name: 'days only past eight', ms: 100 * d + 5 * h, want: '100d' },
    { name: 'years and days', ms: 800 * d, want: '2y70d' },
    { name: 'years only past eight', ms: 3000 * d, want: '8y' },
  ])('$name', ({ ms, want }) => {
    expect(humanDuration(ms)).toBe(want);
  });
});
