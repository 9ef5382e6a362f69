// Go's time.ParseDuration, the one parser of durations both apps use: an
// optional sign, then one or more decimal numbers each with a unit (ns, us,
// µs, μs, ms, s, m, h), e.g. "300ms", "-1.5h", "2h45m"; "0" alone is zero.
// The result is in milliseconds. Callers that allow less (a Freeze's
// duration: h, m and s, as its CRD says) check their own form first.

const UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const GO_DURATION = /^[-+]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+$/;
const TERM = /([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)/g;

/** Milliseconds in a Go duration; undefined when `s` is not one. */
export function parseGoDuration(s: string): number | undefined {
  if (s === '0' || s === '+0' || s === '-0') return 0;
  if (!GO_DURATION.test(s)) return undefined;
  let ms = 0;
  for (const [, n, unit] of s.matchAll(TERM)) ms += Number(n) * UNIT_MS[unit!]!;
  return s.startsWith('-') ? -ms : ms;
}
