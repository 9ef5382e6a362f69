// The Performance checks against a fake cluster: a BackendStatus as the
// backend serves it and the storage CRD's list as kube-apiserver answers it.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { BackendCacheStatus, BackendStatus } from '../../../../../api/src/types.ts';
import { apiError, fakeClient } from '../../../testing/harness.ts';
import type { CheckResult } from '../check.ts';
import { runChecks } from '../doctor.ts';
import { Probe } from '../probe.ts';
import { STATUS_PATH } from './backend-status.ts';
import { performanceChecks } from './performance.ts';

const NOW = new Date('2026-01-01T12:00:00Z');
const SERVICE = '/api/v1/namespaces/custom-system/services/kubectl-custom-backend';

const cache = (resource: string, over: Partial<BackendCacheStatus> = {}): BackendCacheStatus => ({ resource, synced: true, watching: true, resourceVersion: '500', objects: 3, secondsSinceLastEvent: 20, ...over });

function status(over: Partial<BackendStatus['status']> = {}): BackendStatus {
  return {
    apiVersion: 'custom.example.com/v1',
    kind: 'BackendStatus',
    metadata: { name: 'kubectl-custom-backend-5d8f-abcde', creationTimestamp: '2026-01-01T10:00:00Z' },
    status: {
      version: 'v0.1.0',
      startTime: '2026-01-01T10:00:00Z',
      caches: [cache('customresources.example.com'), cache('gatepolicies.example.com', { objects: 1 }), cache('freezes.example.com', { objects: 0 }), cache('configmaps', { namespace: 'kube-system', name: 'extension-apiserver-authentication', objects: 1 })],
      watches: 2,
      inFlight: { windowSeconds: 300, nonMutating: { current: 1, peak: 4, limit: 400, rejected: 0 }, mutating: { current: 0, peak: 1, limit: 200, rejected: 0 } },
      latency: { windowSeconds: 300, requests: 120, p50Seconds: 0.004, p99Seconds: 0.03 },
      memory: { rssBytes: 96 * 2 ** 20, limitBytes: 320 * 2 ** 20, limitSource: '/sys/fs/cgroup/memory.max' },
      ...over,
    },
  };
}

async function run(routes: Record<string, unknown>): Promise<Record<string, CheckResult>> {
  const client = fakeClient({ [`GET ${SERVICE}`]: { spec: { type: 'ClusterIP' } }, ...routes });
  const results = await runChecks(performanceChecks, new Probe(client, 'shop', NOW));
  return Object.fromEntries(results.map((r) => [r.id.replace('performance.', ''), r]));
}

const LISTS = ['/apis/example.com/v1/customresources?limit=1', '/apis/example.com/v1/gatepolicies?limit=1', '/apis/example.com/v1/freezes?limit=1', '/api/v1/namespaces/kube-system/configmaps?limit=1&fieldSelector=metadata.name%3Dextension-apiserver-authentication'];
const WATCHES = ['/apis/example.com/v1/customresources', '/apis/example.com/v1/gatepolicies', '/apis/example.com/v1/freezes', '/api/v1/namespaces/kube-system/configmaps'];
/** kube-apiserver at 520, with nothing to replay since the caches' 500: they are up to date. */
const healthy = (st = status()) => ({
  [`GET ${STATUS_PATH}`]: { items: [st] },
  ...Object.fromEntries(LISTS.map((l) => [`GET ${l}`, { metadata: { resourceVersion: '520' }, items: [] }])),
  ...Object.fromEntries(WATCHES.map((w) => [`WATCH ${w}`, () => Readable.from([])])),
});

describe('doctor: Performance', () => {
  it('a healthy replica: every check passes and says what it read', async () => {
    const r = await run(healthy());
    expect(Object.values(r).map((c) => [c.id, c.status])).toEqual([
      ['performance.backend', 'ok'],
      ['performance.caches-synced', 'ok'],
      ['performance.cache-lag', 'ok'],
      ['performance.watches', 'ok'],
      ['performance.latency', 'ok'],
      ['performance.memory', 'ok'],
      ['performance.in-flight', 'ok'],
    ]);
    expect(r['backend']!.message).toBe('replica kubectl-custom-backend-5d8f-abcde answered (v0.1.0, up 120m); each run sees the replica that answers');
    expect(r['caches-synced']!.message).toBe('4 synced and watching: customresources.example.com (3), gatepolicies.example.com (1), freezes.example.com (0), configmaps kube-system/extension-apiserver-authentication (1)');
    expect(r['cache-lag']!.message).toBe('4 caches have every change kube-apiserver has (it is at 520): customresources.example.com at 500, gatepolicies.example.com at 500, freezes.example.com at 500, configmaps kube-system/extension-apiserver-authentication at 500');
    expect(r['watches']!.message).toBe('2 open watches of customresources on kubectl-custom-backend-5d8f-abcde');
    expect(r['latency']!.message).toBe('p50 4ms, p99 30ms over the last 5m (120 requests, watches excluded) on kubectl-custom-backend-5d8f-abcde');
    expect(r['memory']!.message).toBe('RSS 96Mi of a 320Mi limit (30%) on kubectl-custom-backend-5d8f-abcde');
    expect(r['in-flight']!.message).toBe('read 1 of 400 now, peak 4; mutating 0 of 200 now, peak 1 (over the last 5m, on kubectl-custom-backend-5d8f-abcde)');
  });

  it('a cache still listing fails; one whose watch is down for the moment is a warning', async () => {
    const listing = await run(healthy(status({ caches: [cache('gatepolicies.example.com', { synced: false, watching: false })] })));
    expect(listing['caches-synced']).toMatchObject({ status: 'fail', message: 'not synced on kubectl-custom-backend-5d8f-abcde: gatepolicies.example.com (still listing; until then the backend is not ready)' });
    const down = await run(healthy(status({ caches: [cache('freezes.example.com', { watching: false })] })));
    expect(down['caches-synced']).toMatchObject({ status: 'warn', message: 'no watch open on kubectl-custom-backend-5d8f-abcde for freezes.example.com: it is watching again' });
  });

  it('slow requests: a warning past 1 s at p99, a failure from 5 s (the aggregator gives up)', async () => {
    const slow = await run(healthy(status({ latency: { windowSeconds: 300, requests: 50, p50Seconds: 0.2, p99Seconds: 1.5 } })));
    expect(slow['latency']).toMatchObject({ status: 'warn', message: expect.stringMatching(/^p50 200ms, p99 1\.5s .*over Kubernetes' 1 s objective/) });
    const failing = await run(healthy(status({ latency: { windowSeconds: 300, requests: 50, p50Seconds: 3, p99Seconds: 6 } })));
    expect(failing['latency']).toMatchObject({ status: 'fail', hint: expect.stringContaining('top pod') });
    const idle = await run(healthy(status({ latency: { windowSeconds: 40, requests: 0 } })));
    expect(idle['latency']).toMatchObject({ status: 'ok', message: 'no request finished in the last 40s' });
  });

  it('memory: a warning over 80% of the limit; no limit outside a container', async () => {
    const high = await run(healthy(status({ memory: { rssBytes: 290 * 2 ** 20, limitBytes: 320 * 2 ** 20 } })));
    expect(high['memory']).toMatchObject({ status: 'warn', message: expect.stringMatching(/^RSS 290Mi of a 320Mi limit \(91%\)/), hint: expect.stringContaining('resources.limits.memory') });
    const none = await run(healthy(status({ memory: { rssBytes: 80 * 2 ** 20 } })));
    expect(none['memory']!.message).toBe('RSS 80Mi on kubectl-custom-backend-5d8f-abcde, no memory limit (not in a container, or none set)');
  });

  it('in flight: a warning at 80% of a limit or after a 429', async () => {
    const near = await run(healthy(status({ inFlight: { windowSeconds: 300, nonMutating: { current: 10, peak: 330, limit: 400, rejected: 0 }, mutating: { current: 0, peak: 0, limit: 200, rejected: 0 } } })));
    expect(near['in-flight']).toMatchObject({ status: 'warn', hint: expect.stringContaining('--replicas=3') });
    const refused = await run(healthy(status({ inFlight: { windowSeconds: 300, nonMutating: { current: 1, peak: 2, limit: 400, rejected: 0 }, mutating: { current: 0, peak: 200, limit: 200, rejected: 7 } } })));
    expect(refused['in-flight']!.message).toContain('mutating 0 of 200 now, peak 200, 7 refused with 429');
  });

  it('who may not read backendstatuses is told how to get it; the rest of the group is skipped, not failed', async () => {
    const r = await run({ [`GET ${STATUS_PATH}`]: () => { throw apiError(403, 'Forbidden', 'no'); } });
    expect(Object.values(r).every((c) => c.status === 'skip')).toBe(true);
    expect(r['backend']!.message).toBe('you may not list backendstatuses.custom.example.com (kubectl-custom-admin may, bound cluster-wide: kubectl create clusterrolebinding backend-status-readers --clusterrole=kubectl-custom-admin --user=YOU)');
    expect(r['latency']!.message).toMatch(/^no BackendStatus to read: you may not list/);
  });

  it('an API that does not answer, or a backend too old to serve backendstatuses: skipped, saying which', async () => {
    const down = await run({ [`GET ${STATUS_PATH}`]: () => { throw apiError(503, 'ServiceUnavailable', 'the server is currently unable to handle the request'); } });
    expect(down['backend']).toMatchObject({ status: 'skip', message: 'the API did not answer (the server is currently unable to handle the request): see Installed and Available' });
    const old = await run({ [`GET ${STATUS_PATH}`]: () => { throw apiError(404, 'NotFound', 'the server could not find the requested resource'); } });
    expect(old['backend']!.message).toMatch(/older than this plugin/);
  });
});
