// What each watch-fed cache says of itself for the backend's BackendStatus:
// what it reflects, whether it has listed, how many objects it holds, and
// its reflector's progress (the resourceVersion reached and when it last
// heard from kube-apiserver).
import type { BackendCacheStatus } from '../../../api/src/types.ts';
import type { ReflectorProgress } from '../../../client/src/reflector.ts';

export interface CacheReport {
  /** resource.group (resource alone for the core group). */
  resource: string;
  namespace?: string;
  name?: string;
  synced: boolean;
  objects: number;
  progress: ReflectorProgress;
}

export interface ReportsCache {
  readonly report: CacheReport;
}

/** The wire form at `now` (ms since the epoch): the time since the cache last heard counted here, on the backend's clock. */
export function cacheStatus(r: CacheReport, now: number): BackendCacheStatus {
  const heard = r.progress.lastHeardAt;
  return {
    resource: r.resource,
    ...(r.namespace ? { namespace: r.namespace } : {}),
    ...(r.name ? { name: r.name } : {}),
    synced: r.synced,
    watching: r.progress.watching,
    resourceVersion: r.progress.resourceVersion,
    objects: r.objects,
    ...(heard === undefined ? {} : { lastEventTime: new Date(heard).toISOString(), secondsSinceLastEvent: Math.max(0, Math.floor((now - heard) / 1000)) }),
  };
}
