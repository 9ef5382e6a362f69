// A replica's BackendStatus, computed when it is read, as kube-apiserver
// computes componentstatuses: its version and start, each watch-fed cache
// (synced, the resourceVersion it has reached, objects, when it last heard
// from kube-apiserver), the watches it serves, requests in flight against
// its limits and their latency over the last minutes, and its memory against
// the container's limit. Only about itself: the name is its pod's.
import { BACKEND_STATUS_KIND, GROUP_VERSION } from '../../../../api/src/names.ts';
import type { BackendStatus, BackendStatusDetail } from '../../../../api/src/types.ts';
import type { RecentSummary } from '../../metrics/recent-activity.ts';
import { cacheStatus, type ReportsCache } from '../../store/cache-report.ts';

export interface BackendStatusSources {
  /** The replica: its pod's name (POD_NAME from the downward API), else the hostname. */
  name: string;
  version: string;
  startTime: Date;
  caches: readonly ReportsCache[];
  /** Open watches of customresources. */
  watches(): number;
  recent: { summary(): Promise<RecentSummary> };
  memory(): BackendStatusDetail['memory'];
}

/** RFC 3339 to the second, as metav1.Time is written. */
const rfc3339 = (d: Date) => new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');

export async function backendStatus(s: BackendStatusSources, now: Date): Promise<BackendStatus> {
  const recent = await s.recent.summary();
  const started = rfc3339(s.startTime);
  return {
    apiVersion: GROUP_VERSION,
    kind: BACKEND_STATUS_KIND,
    metadata: { name: s.name, creationTimestamp: started },
    status: {
      version: s.version,
      startTime: started,
      caches: s.caches.map((c) => cacheStatus(c.report, now.getTime())),
      watches: s.watches(),
      inFlight: recent.inFlight,
      latency: recent.latency,
      memory: s.memory(),
    },
  };
}

/** The replica's name: the pod's, as the Deployment passes it (POD_NAME), else the host's (a pod's hostname is its name). */
export function replicaName(env: NodeJS.ProcessEnv, hostname: string): string {
  return env['POD_NAME']?.trim() || hostname;
}
