// Small statistics for benchmarks: medians and percentiles of samples taken
// side by side, so that machines' noise cancels out in the ratios.
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i]!;
}

export const median = (xs: number[]) => percentile(xs, 50);

export interface Summary {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  min: number;
  max: number;
}

export function summarize(xs: number[]): Summary {
  return { n: xs.length, p50: median(xs), p90: percentile(xs, 90), p99: percentile(xs, 99), min: Math.min(...xs), max: Math.max(...xs) };
}

/** Runs `a` and `b` alternately `n` times (after `warmup` rounds), returning each one's wall times in ms. */
export async function interleave(n: number, a: () => Promise<unknown>, b: () => Promise<unknown>, warmup = 3): Promise<{ a: number[]; b: number[] }> {
  for (let i = 0; i < warmup; i++) {
    await a();
    await b();
  }
  const out = { a: [] as number[], b: [] as number[] };
  for (let i = 0; i < n; i++) {
    // Alternate which goes first so neither always gets the warmer cache.
    const order: ['a' | 'b', () => Promise<unknown>][] = i % 2 === 0 ? [['a', a], ['b', b]] : [['b', b], ['a', a]];
    for (const [k, f] of order) {
      const t = performance.now();
      await f();
      out[k].push(performance.now() - t);
    }
  }
  return out;
}
