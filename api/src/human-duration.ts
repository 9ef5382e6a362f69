// Durations as kubectl prints ages (k8s.io/apimachinery/pkg/util/duration
// HumanDuration): two significant units at most, coarser as it grows.
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  const days = Math.floor(hours / 24);
  if (hours < 24 * 365 * 2) return `${days}d`;
  if (hours < 24 * 365 * 8) {
    const d = days % 365;
    return d === 0 ? `${Math.floor(days / 365)}y` : `${Math.floor(days / 365)}y${d}d`;
  }
  return `${Math.floor(days / 365)}y`;
}

/** A request's latency as people read it: 12ms, 1.25s (kubectl get backendstatuses and doctor write it alike). */
export function latencyText(seconds: number): string {
  return seconds < 1 ? `${Math.round(seconds * 1000)}ms` : `${Number(seconds.toFixed(2))}s`;
}
