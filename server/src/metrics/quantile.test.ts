import { describe, expect, it } from 'vitest';
import { histogramQuantile, subtractBuckets } from './quantile.ts';

const b = (pairs: [number, number][]) => pairs.map(([le, count]) => ({ le, count }));

describe('histogramQuantile, as PromQL estimates it', () => {
  it('interpolates linearly inside the bucket the rank falls in, the first bucket starting at 0', () => {
    // 100 observations: 50 up to 0.1 s, 40 more up to 0.2 s, 10 more up to 0.4 s.
    const h = b([[0.1, 50], [0.2, 90], [0.4, 100], [Infinity, 100]]);
    expect(histogramQuantile(0.5, h)).toBeCloseTo(0.1);
    expect(histogramQuantile(0.25, h)).toBeCloseTo(0.05);
    expect(histogramQuantile(0.7, h)).toBeCloseTo(0.15);
    expect(histogramQuantile(0.99, h)).toBeCloseTo(0.38);
  });

  it('a rank in the +Inf bucket is the highest finite bound; none without observations', () => {
    expect(histogramQuantile(0.99, b([[0.1, 1], [1, 2], [Infinity, 10]]))).toBe(1);
    expect(histogramQuantile(0.5, b([[0.1, 0], [Infinity, 0]]))).toBeUndefined();
    expect(histogramQuantile(0.5, [])).toBeUndefined();
  });

  it('takes buckets in any order', () => {
    expect(histogramQuantile(0.5, b([[Infinity, 4], [1, 4], [0.5, 2]]))).toBeCloseTo(0.5);
  });

  it('a window is the difference of two cumulative snapshots', () => {
    const earlier = b([[0.1, 10], [1, 10], [Infinity, 10]]);
    const later = b([[0.1, 10], [1, 20], [Infinity, 20]]);
    // The window holds only the 10 slow requests.
    expect(subtractBuckets(later, earlier)).toEqual(b([[0.1, 0], [1, 10], [Infinity, 10]]));
    expect(histogramQuantile(0.5, subtractBuckets(later, earlier))).toBeCloseTo(0.55);
  });
});
