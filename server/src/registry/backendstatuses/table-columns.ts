// The columns of `kubectl get backendstatuses`: one row per replica that
// answered, what a person looks at first when the backend is slow or stale.
import { humanDuration, latencyText as latency } from '../../../../api/src/human-duration.ts';
import type { BackendStatus } from '../../../../api/src/types.ts';
import { rowOf, type ColumnDefinition, type IncludeObject } from '../customresources/table-columns.ts';

export const COLUMNS: ColumnDefinition[] = [
  { name: 'Name', type: 'string', format: 'name', description: 'The replica: its pod\'s name.', priority: 0 },
  { name: 'Version', type: 'string', format: '', description: 'The backend\'s version.', priority: 0 },
  { name: 'Caches', type: 'string', format: '', description: 'Watch-fed caches synced and watching, of all.', priority: 0 },
  { name: 'Last Event', type: 'string', format: '', description: 'The longest any cache has gone without an event or bookmark from kube-apiserver (it bookmarks every watch about once a minute).', priority: 0 },
  { name: 'Watches', type: 'integer', format: '', description: 'Open watches of customresources.', priority: 0 },
  { name: 'In Flight', type: 'string', format: '', description: 'Non-mutating requests in flight now, and the limit (--max-requests-inflight).', priority: 0 },
  { name: 'P99', type: 'string', format: '', description: 'The 99th percentile of request latency over the last minutes (watches excluded).', priority: 0 },
  { name: 'Memory', type: 'string', format: '', description: 'RSS, and the container\'s memory limit when there is one.', priority: 0 },
  { name: 'Age', type: 'string', format: '', description: 'Time since the replica started.', priority: 0 },
  { name: 'P50', type: 'string', format: '', description: 'The median request latency over the last minutes.', priority: 1 },
  { name: 'Peak In Flight', type: 'string', format: '', description: 'The most non-mutating and mutating requests at once over the last minutes, and their limits.', priority: 1 },
  { name: 'Rejected', type: 'integer', format: '', description: 'Requests refused with 429 (over a limit) over the last minutes.', priority: 1 },
];

const NONE = '<none>';

/** Latency as people read it (12ms, 1.25s), or <none>. */
export function latencyText(seconds: number | undefined): string {
  return seconds === undefined ? NONE : latency(seconds);
}

/** Bytes in binary units as Kubernetes quantities write them: 95Mi, 1.5Gi. */
export function bytesText(bytes: number): string {
  const units = ['', 'Ki', 'Mi', 'Gi', 'Ti'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : Number(v.toFixed(v < 10 ? 1 : 0))}${units[u]}`;
}

const limitText = (n: number) => (n > 0 ? String(n) : 'none');

export function rowCells(o: BackendStatus, now: Date): (string | number)[] {
  const st = o.status;
  const ready = st.caches.filter((c) => c.synced && c.watching).length;
  const quiet = Math.max(...st.caches.map((c) => c.secondsSinceLastEvent ?? 0), 0);
  const { nonMutating: nm, mutating: m } = st.inFlight;
  return [
    o.metadata.name,
    st.version,
    `${ready}/${st.caches.length}`,
    st.caches.length ? humanDuration(quiet * 1000) : NONE,
    st.watches,
    `${nm.current}/${limitText(nm.limit)}`,
    latencyText(st.latency.p99Seconds),
    st.memory.limitBytes ? `${bytesText(st.memory.rssBytes)}/${bytesText(st.memory.limitBytes)}` : bytesText(st.memory.rssBytes),
    humanDuration(now.getTime() - Date.parse(st.startTime)),
    latencyText(st.latency.p50Seconds),
    `${nm.peak}/${limitText(nm.limit)}, mutating ${m.peak}/${limitText(m.limit)}`,
    nm.rejected + m.rejected,
  ];
}

export function tableRow(o: BackendStatus, now: Date, include: IncludeObject, tableVersion: string) {
  return rowOf(o, rowCells(o, now), include, tableVersion);
}
