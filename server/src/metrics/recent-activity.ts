// What the backend has been doing lately, for its BackendStatus: request
// latency (p50, p99) from apiserver_request_duration_seconds and the peak of
// requests in flight and the 429s, over the last five minutes rather than
// since start, so that a backend slow now is not hidden by a week of quiet
// (nor a quiet one blamed for an old storm). A sample every 30 s keeps the
// cumulative counts; a window is the difference from the oldest sample in it.
import type { InFlightSummary, LatencySummary } from '../../../api/src/types.ts';
import { histogramQuantile, subtractBuckets, type Bucket } from './quantile.ts';

type Kinds = { nonMutating: number; mutating: number };

export interface InFlightSource {
  readonly limits: Kinds;
  readonly inFlight: Kinds;
  readonly rejected: Kinds;
  takePeaks(): Kinds;
  peekPeaks(): Kinds;
}

export interface RecentActivityOptions {
  /** The latency histogram's cumulative buckets now, summed over its labels. */
  buckets(): Promise<Bucket[]>;
  inFlight: InFlightSource;
  /** ms since the epoch. */
  now?: () => number;
  windowMs?: number;
  stepMs?: number;
}

interface Sample {
  at: number;
  buckets: Bucket[];
  /** The most in flight during the step that ended here. */
  peaks: Kinds;
  /** 429s since start, at this moment. */
  rejected: Kinds;
}

export interface RecentSummary {
  latency: LatencySummary;
  inFlight: { windowSeconds: number; nonMutating: InFlightSummary; mutating: InFlightSummary };
}

export class RecentActivity {
  private readonly o: Required<Omit<RecentActivityOptions, 'now'>> & { now: () => number };
  private readonly samples: Sample[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly createdAt: number;

  constructor(o: RecentActivityOptions) {
    this.o = { windowMs: 5 * 60_000, stepMs: 30_000, now: Date.now, ...o };
    this.createdAt = this.o.now();
  }

  start(): void {
    if (this.timer) return;
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.o.stepMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes a sample now (the timer does, every step). */
  async sample(): Promise<void> {
    const at = this.o.now();
    const buckets = await this.o.buckets();
    this.samples.push({ at, buckets, peaks: this.o.inFlight.takePeaks(), rejected: this.o.inFlight.rejected });
    // Keep the samples of one window, and the one before it.
    while (this.samples.length > 2 && this.samples[1]!.at <= at - this.o.windowMs) this.samples.shift();
  }

  /** Latency and in-flight over the window: from the oldest sample in it (or start) to now. */
  async summary(): Promise<RecentSummary> {
    const now = this.o.now();
    const base = this.samples.find((s) => s.at >= now - this.o.windowMs);
    const current = await this.o.buckets();
    const window = base ? subtractBuckets(current, base.buckets) : current;
    const windowSeconds = Math.round((now - (base?.at ?? this.createdAt)) / 1000);
    const requests = window.find((b) => b.le === Infinity)?.count ?? 0;
    const p50 = histogramQuantile(0.5, window);
    const p99 = histogramQuantile(0.99, window);
    const later = this.samples.filter((s) => base && s.at > base.at).map((s) => s.peaks);
    const peak = (k: keyof Kinds) => Math.max(this.o.inFlight.inFlight[k], this.o.inFlight.peekPeaks()[k], ...later.map((p) => p[k]));
    const rejected = this.o.inFlight.rejected;
    const summary = (k: keyof Kinds): InFlightSummary => ({ current: this.o.inFlight.inFlight[k], peak: peak(k), limit: this.o.inFlight.limits[k], rejected: rejected[k] - (base?.rejected[k] ?? 0) });
    return {
      latency: { windowSeconds, requests, ...(p50 === undefined ? {} : { p50Seconds: round(p50) }), ...(p99 === undefined ? {} : { p99Seconds: round(p99) }) },
      inFlight: { windowSeconds, nonMutating: summary('nonMutating'), mutating: summary('mutating') },
    };
  }
}

/** Milliseconds are plenty. */
const round = (s: number) => Math.round(s * 1000) / 1000;

/** A prom-client histogram's cumulative buckets (its `_bucket` values), summed over every label set. */
export function bucketsOf(metric: { values: { value: number; labels: Record<string, string | number | undefined>; metricName?: string }[] }): Bucket[] {
  const byLe = new Map<number, number>();
  for (const v of metric.values) {
    if (!v.metricName?.endsWith('_bucket')) continue;
    const le = v.labels['le'] === '+Inf' ? Infinity : Number(v.labels['le']);
    byLe.set(le, (byLe.get(le) ?? 0) + v.value);
  }
  return [...byLe].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
}
