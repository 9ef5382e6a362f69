import { describe, expect, it } from 'vitest';
import type { BackendStatus } from '../../../../api/src/types.ts';
import { bytesText, COLUMNS, latencyText, rowCells } from './table-columns.ts';

const now = new Date('2026-01-01T12:00:00Z');
const status = (over: Partial<BackendStatus['status']> = {}): BackendStatus => ({
  apiVersion: 'custom.example.com/v1',
  kind: 'BackendStatus',
  metadata: { name: 'backend-a', creationTimestamp: '2026-01-01T11:00:00Z' },
  status: {
    version: 'v0.1.0',
    startTime: '2026-01-01T11:00:00Z',
    caches: [
      { resource: 'customresources.example.com', synced: true, watching: true, resourceVersion: '120', objects: 12, secondsSinceLastEvent: 12 },
      { resource: 'freezes.example.com', synced: true, watching: false, resourceVersion: '90', objects: 0, secondsSinceLastEvent: 95 },
    ],
    watches: 3,
    inFlight: { windowSeconds: 300, nonMutating: { current: 2, peak: 9, limit: 400, rejected: 1 }, mutating: { current: 0, peak: 1, limit: 0, rejected: 0 } },
    latency: { windowSeconds: 300, requests: 40, p50Seconds: 0.004, p99Seconds: 1.234 },
    memory: { rssBytes: 100 * 2 ** 20, limitBytes: 320 * 2 ** 20, limitSource: '/sys/fs/cgroup/memory.max' },
    ...over,
  },
});

describe('the columns of kubectl get backendstatuses', () => {
  it('one cell per column, the wide ones last', () => {
    const cells = rowCells(status(), now);
    expect(cells).toHaveLength(COLUMNS.length);
    expect(cells).toEqual(['backend-a', 'v0.1.0', '1/2', '95s', 3, '2/400', '1.23s', '100Mi/320Mi', '60m', '4ms', '9/400, mutating 1/none', 1]);
  });

  it('no limit, no requests, no caches', () => {
    const cells = rowCells(status({ caches: [], latency: { windowSeconds: 5, requests: 0 }, memory: { rssBytes: 1536 * 2 ** 20 } }), now);
    expect(cells.slice(2, 8)).toEqual(['0/0', '<none>', 3, '2/400', '<none>', '1.5Gi']);
  });

  it('latency and bytes as people read them', () => {
    expect([latencyText(0.0004), latencyText(0.012), latencyText(1), latencyText(12.345), latencyText(undefined)]).toEqual(['0ms', '12ms', '1s', '12.35s', '<none>']);
    expect([bytesText(512), bytesText(2048), bytesText(95.4 * 2 ** 20), bytesText(1.25 * 2 ** 30)]).toEqual(['512', '2Ki', '95Mi', '1.3Gi']);
  });
});
