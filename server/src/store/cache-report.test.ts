import { describe, expect, it } from 'vitest';
import { cacheStatus } from './cache-report.ts';

describe("a cache's status", () => {
  it('counts the seconds since it last heard from kube-apiserver on the clock it is given', () => {
    const report = { resource: 'configmaps', namespace: 'kube-system', name: 'extension-apiserver-authentication', synced: true, objects: 1, progress: { resourceVersion: '42', lastHeardAt: Date.parse('2026-01-01T00:00:00Z'), watching: true } };
    expect(cacheStatus(report, Date.parse('2026-01-01T00:01:05.900Z'))).toEqual({
      resource: 'configmaps',
      namespace: 'kube-system',
      name: 'extension-apiserver-authentication',
      synced: true,
      watching: true,
      resourceVersion: '42',
      objects: 1,
      lastEventTime: '2026-01-01T00:00:00.000Z',
      secondsSinceLastEvent: 65,
    });
  });

  it('before its first list: nothing heard, nothing to count', () => {
    expect(cacheStatus({ resource: 'freezes.example.com', synced: false, objects: 0, progress: { resourceVersion: '', lastHeardAt: undefined, watching: false } }, 0)).toEqual({ resource: 'freezes.example.com', synced: false, watching: false, resourceVersion: '', objects: 0 });
  });
});
