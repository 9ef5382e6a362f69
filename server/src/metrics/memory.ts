// The backend's memory against its container's limit: RSS from the process,
// the limit from the cgroup the container runtime put it in — cgroup v2's
// memory.max, or v1's memory.limit_in_bytes — as the container sees its own
// cgroup at /sys/fs/cgroup. Outside a container those files are the root
// cgroup's (v1: a limit of about 2^63, v2: no memory.max at all): no limit.
import { readFileSync } from 'node:fs';
import type { BackendStatusDetail } from '../../../api/src/types.ts';

export const CGROUP_V2_MAX = '/sys/fs/cgroup/memory.max';
export const CGROUP_V1_LIMIT = '/sys/fs/cgroup/memory/memory.limit_in_bytes';

/** v1 writes "no limit" as the largest page-aligned int64 (9223372036854771712); anything this large is none. */
const UNLIMITED = 2 ** 60;

export interface MemoryLimit {
  bytes: number;
  /** The file it was read from. */
  source: string;
}

/** The container's memory limit, or undefined when there is none; `read` answers a file's text or undefined. */
export function memoryLimit(read: (path: string) => string | undefined = readText): MemoryLimit | undefined {
  for (const source of [CGROUP_V2_MAX, CGROUP_V1_LIMIT]) {
    const text = read(source)?.trim();
    if (text === undefined || text === '') continue;
    // v2's "max": this cgroup sets none.
    if (text === 'max') return undefined;
    const bytes = Number(text);
    if (!Number.isFinite(bytes) || bytes <= 0) continue;
    return bytes >= UNLIMITED ? undefined : { bytes, source };
  }
  return undefined;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** RSS now, against the limit (read once: a container's limit does not change while it runs). */
export function memoryStatus(limit: MemoryLimit | undefined, rss: () => number = () => process.memoryUsage.rss()): BackendStatusDetail['memory'] {
  return { rssBytes: rss(), ...(limit ? { limitBytes: limit.bytes, limitSource: limit.source } : {}) };
}
