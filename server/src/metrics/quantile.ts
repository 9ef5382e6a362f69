// A quantile of a Prometheus histogram, estimated as PromQL's
// histogram_quantile estimates it: find the bucket the rank falls in and
// interpolate linearly inside it (the first bucket starts at 0); a rank in
// the +Inf bucket is answered with the highest finite bound, as Prometheus
// does, since nothing better is known.

/** One cumulative bucket: how many observations were at most `le` seconds. */
export interface Bucket {
  le: number;
  count: number;
}

/** The q-quantile (0 ≤ q ≤ 1) of cumulative buckets; undefined without observations. */
export function histogramQuantile(q: number, buckets: readonly Bucket[]): number | undefined {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted[sorted.length - 1]?.count ?? 0;
  if (total <= 0 || sorted.length === 0) return undefined;
  const rank = q * total;
  const i = sorted.findIndex((b) => b.count >= rank);
  const b = sorted[i]!;
  const prev = i > 0 ? sorted[i - 1]! : { le: 0, count: 0 };
  if (b.le === Infinity) return i > 0 ? prev.le : undefined;
  if (b.count === prev.count) return b.le;
  return prev.le + ((b.le - prev.le) * (rank - prev.count)) / (b.count - prev.count);
}

/** The buckets of `later` minus those of `earlier` (a window of a cumulative histogram); missing bounds count as 0. */
export function subtractBuckets(later: readonly Bucket[], earlier: readonly Bucket[]): Bucket[] {
  const before = new Map(earlier.map((b) => [b.le, b.count]));
  return later.map((b) => ({ le: b.le, count: Math.max(0, b.count - (before.get(b.le) ?? 0)) }));
}
