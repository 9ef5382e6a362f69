// Small statistics for benchmarks: medians and percentiles of samples taken
// side by side, so that machines' noise cancels out in the ratios.
export interface Summary {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  min: number;
  max: number;
}

export function summarize(xs: ArrayLike<number>): Summary {
  const s = Float64Array.from(xs).sort();
  const at = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]! : NaN);
  return { n: s.length, p50: at(50), p90: at(90), p99: at(99), min: s.length ? s[0]! : NaN, max: s.length ? s[s.length - 1]! : NaN };
}

/**
 * Runs each function once per round, `n` rounds (after `warmup` rounds), the
 * order rotating every round so that none always goes first (or always
 * follows the same one). Each function resolves with its own measured time in
 * ms, so that set-up inside it (a write before a read) is not timed.
 */
export async function measureRounds<K extends string>(n: number, fns: Record<K, () => Promise<number>>, opts: { warmup?: number; pauseMs?: number } = {}): Promise<Record<K, number[]>> {
  const keys = Object.keys(fns) as K[];
  const pause = () => (opts.pauseMs ? new Promise((r) => setTimeout(r, opts.pauseMs)) : undefined);
  for (let i = 0; i < (opts.warmup ?? 3); i++) {
    for (const k of keys) {
      await fns[k]();
      await pause();
    }
  }
  const out = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < keys.length; j++) {
      const k = keys[(i + j) % keys.length]!;
      out[k].push(await fns[k]());
      await pause();
    }
  }
  return out;
}

/** measureRounds of functions timed whole (wall time of each call). */
export function interleave<K extends string>(n: number, fns: Record<K, () => Promise<unknown>>, warmup = 3): Promise<Record<K, number[]>> {
  const timed = Object.fromEntries(Object.entries<() => Promise<unknown>>(fns).map(([k, f]) => [k, async () => {
    const t = performance.now();
    await f();
    return performance.now() - t;
  }])) as Record<K, () => Promise<number>>;
  return measureRounds(n, timed, { warmup });
}
