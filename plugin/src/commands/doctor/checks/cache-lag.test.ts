// How far behind the backend's caches are, against a fake kube-apiserver
// (its consistent lists and the changes it replays to a watch) and a fake
// backend (its BackendStatus, asked again after the lists, and once more a
// second later when changes are waiting).
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { BackendCacheStatus, BackendStatus } from '../../../../../api/src/types.ts';
import { apiError, fakeClient, type FakeCall } from '../../../testing/harness.ts';
import { Probe } from '../probe.ts';
import { STATUS_PATH } from './backend-status.ts';
import { cacheLag, judgeCache } from './cache-lag.ts';

const NOW = new Date('2026-01-01T12:00:00Z');
const SERVICE = '/api/v1/namespaces/custom-system/services/kubectl-custom-backend';
const CR_LIST = '/apis/example.com/v1/customresources?limit=1';
const CR_WATCH = '/apis/example.com/v1/customresources';
const FREEZE_LIST = '/apis/example.com/v1/freezes?limit=1';
const FREEZE_WATCH = '/apis/example.com/v1/freezes';

const cache = (resource: string, over: Partial<BackendCacheStatus> = {}): BackendCacheStatus => ({ resource, synced: true, watching: true, resourceVersion: '500', objects: 3, secondsSinceLastEvent: 30, ...over });
const status = (caches: BackendCacheStatus[]): BackendStatus => ({
  apiVersion: 'custom.example.com/v1',
  kind: 'BackendStatus',
  metadata: { name: 'backend-a', creationTimestamp: '2026-01-01T10:00:00Z' },
  status: {
    version: 'v0.1.0',
    startTime: '2026-01-01T10:00:00Z',
    caches,
    watches: 0,
    inFlight: { windowSeconds: 300, nonMutating: { current: 1, peak: 1, limit: 400, rejected: 0 }, mutating: { current: 0, peak: 0, limit: 200, rejected: 0 } },
    latency: { windowSeconds: 300, requests: 0 },
    memory: { rssBytes: 1 },
  },
});

/** A watch answer: these events, then kube-apiserver ends it. */
const events = (...evs: { type: string; rv: string; code?: number }[]) => () =>
  Readable.from(evs.map((e) => `${JSON.stringify(e.type === 'ERROR' ? { type: 'ERROR', object: { kind: 'Status', code: e.code, message: 'too old resource version' } } : { type: e.type, object: { metadata: { name: 'x', resourceVersion: e.rv } } })}\n`));

/** The backend's answers in turn (the last one repeated). */
const answers = (...sts: BackendStatus[]) => {
  let i = 0;
  return () => ({ items: [sts[Math.min(i++, sts.length - 1)]] });
};

async function lag(routes: Record<string, unknown>, external = true) {
  const client = fakeClient({ [`GET ${SERVICE}`]: { spec: external ? { type: 'ExternalName', externalName: 'localhost' } : { type: 'ClusterIP' } }, ...routes });
  const result = await cacheLag.run(new Probe(client, 'shop', NOW));
  return { ...result, calls: client.calls };
}

describe('doctor: Caches up to date', () => {
  it('behind etcd\'s revision but nothing of its collection changed since: up to date (silence says nothing)', async () => {
    const st = status([cache('customresources.example.com', { secondsSinceLastEvent: 900 })]);
    const r = await lag({ [`GET ${STATUS_PATH}`]: { items: [st] }, [`GET ${CR_LIST}`]: { metadata: { resourceVersion: '520' }, items: [] }, [`WATCH ${CR_WATCH}`]: events() });
    expect(r).toMatchObject({ status: 'ok', message: '1 cache has every change kube-apiserver has (it is at 520): customresources.example.com at 500' });
    // kube-apiserver first, then the backend (so what the list saw, a healthy backend had), then the replay from the cache's resourceVersion.
    const order = r.calls.map((c: FakeCall) => `${c.method} ${c.path}`);
    expect(order.indexOf(`GET ${CR_LIST}`)).toBeLessThan(order.lastIndexOf(`GET ${STATUS_PATH}`));
    const watch = r.calls.find((c: FakeCall) => c.method === 'WATCH')!;
    expect(watch.opts?.query).toMatchObject({ watch: 'true', resourceVersion: '500', allowWatchBookmarks: 'false', timeoutSeconds: '1' });
  });

  it('at kube-apiserver\'s resourceVersion: nothing to replay', async () => {
    const st = status([cache('customresources.example.com', { resourceVersion: '520' })]);
    const r = await lag({ [`GET ${STATUS_PATH}`]: { items: [st] }, [`GET ${CR_LIST}`]: { metadata: { resourceVersion: '520' }, items: [] } });
    expect(r.status).toBe('ok');
    expect(r.calls.some((c: FakeCall) => c.method === 'WATCH')).toBe(false);
  });

  it('changes kube-apiserver had that the cache still lacks a second later, nothing heard for over 10 s: stale, with the fix', async () => {
    const st = status([cache('customresources.example.com', { resourceVersion: '400', objects: 1, secondsSinceLastEvent: 30 }), cache('freezes.example.com', { resourceVersion: '510' })]);
    const r = await lag({
      [`GET ${STATUS_PATH}`]: { items: [st] },
      [`GET ${CR_LIST}`]: { metadata: { resourceVersion: '520', continue: 'more', remainingItemCount: 1 }, items: [{}] },
      [`WATCH ${CR_WATCH}`]: events({ type: 'MODIFIED', rv: '450' }, { type: 'ADDED', rv: '460' }, { type: 'MODIFIED', rv: '530' }),
      [`GET ${FREEZE_LIST}`]: { metadata: { resourceVersion: '520' }, items: [] },
      [`WATCH ${FREEZE_WATCH}`]: events(),
    });
    expect(r).toMatchObject({
      status: 'fail',
      message: 'stale on backend-a: customresources.example.com at 400 lacks 2 changes kube-apiserver had by 520 (the first at 450), holds 1 object where kube-apiserver has 2, and last heard from kube-apiserver 30s ago. Its watch is stuck: those changes are not served, and gates are decided on what it saw last',
      hint: "its watch of customresources.example.com is stuck: look at the backend's log, then restart the backend process (it lists everything afresh)",
    });
    // Asked three times: the shared read, after the lists, and a second later.
    expect(r.calls.filter((c: FakeCall) => c.path === STATUS_PATH)).toHaveLength(3);
  });

  it('in a cluster: the pod to look at and to replace', async () => {
    const st = status([cache('gatepolicies.example.com', { resourceVersion: '400' })]);
    const r = await lag({ [`GET ${STATUS_PATH}`]: { items: [st] }, ['GET /apis/example.com/v1/gatepolicies?limit=1']: { metadata: { resourceVersion: '520' }, items: [] }, ['WATCH /apis/example.com/v1/gatepolicies']: events({ type: 'DELETED', rv: '480' }) }, false);
    expect(r.hint).toBe('kubectl -n custom-system logs backend-a\nkubectl -n custom-system delete pod backend-a   (its watch of gatepolicies.example.com is stuck: the Deployment starts a new replica, which lists everything afresh)');
  });

  it('changes in flight that have arrived a second later: up to date', async () => {
    const before = status([cache('customresources.example.com', { resourceVersion: '500', secondsSinceLastEvent: 300 })]);
    const after = status([cache('customresources.example.com', { resourceVersion: '515', secondsSinceLastEvent: 0 })]);
    const r = await lag({ [`GET ${STATUS_PATH}`]: answers(before, before, after), [`GET ${CR_LIST}`]: { metadata: { resourceVersion: '520' }, items: [] }, [`WATCH ${CR_WATCH}`]: events({ type: 'MODIFIED', rv: '515' }) });
    expect(r).toMatchObject({ status: 'ok', message: '1 cache has every change kube-apiserver has (it is at 520): customresources.example.com at 515' });
  });

  it('lacking changes but hearing from kube-apiserver: behind, a warning', async () => {
    const st = status([cache('customresources.example.com', { resourceVersion: '400', secondsSinceLastEvent: 2 })]);
    const r = await lag({ [`GET ${STATUS_PATH}`]: { items: [st] }, [`GET ${CR_LIST}`]: { metadata: { resourceVersion: '520', continue: 'more', remainingItemCount: 2 }, items: [{}] }, [`WATCH ${CR_WATCH}`]: events({ type: 'MODIFIED', rv: '450' }) });
    expect(r).toMatchObject({ status: 'warn', message: 'behind on backend-a: customresources.example.com at 400 lacks 1 change kube-apiserver had by 520 (the first at 450), and last heard from kube-apiserver 2s ago: it hears from kube-apiserver, but late' });
  });

  it('further behind than kube-apiserver keeps changes (410 Gone): stale', async () => {
    const st = status([cache('freezes.example.com', { resourceVersion: '100', secondsSinceLastEvent: 600 })]);
    const r = await lag({ [`GET ${STATUS_PATH}`]: { items: [st] }, [`GET ${FREEZE_LIST}`]: { metadata: { resourceVersion: '9000' }, items: [] }, [`WATCH ${FREEZE_WATCH}`]: events({ type: 'ERROR', rv: '', code: 410 }) });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('freezes.example.com at 100 lacks more changes than kube-apiserver still keeps (it is at 9000)');
  });

  it('a user who may not list a collection cluster-wide: compared in their namespace; one who may not list it at all: not compared', async () => {
    const st = status([cache('customresources.example.com', { resourceVersion: '400' })]);
    const forbidden = () => {
      throw apiError(403, 'Forbidden', 'no');
    };
    const ns = await lag({
      [`GET ${STATUS_PATH}`]: { items: [st] },
      [`GET ${CR_LIST}`]: forbidden,
      ['GET /apis/example.com/v1/namespaces/shop/customresources?limit=1']: { metadata: { resourceVersion: '520' }, items: [] },
      ['WATCH /apis/example.com/v1/namespaces/shop/customresources']: events(),
    });
    expect(ns).toMatchObject({ status: 'ok', message: '1 cache has every change kube-apiserver has (it is at 520): customresources.example.com at 400' });
    const none = await lag({ [`GET ${STATUS_PATH}`]: { items: [st] }, [`GET ${CR_LIST}`]: forbidden, ['GET /apis/example.com/v1/namespaces/shop/customresources?limit=1']: forbidden });
    expect(none).toMatchObject({ status: 'skip', message: 'not compared with kube-apiserver: customresources.example.com (not compared: you may not list customresources.example.com)' });
  });

  it('judges resourceVersions as numbers', () => {
    const c = cache('x', { resourceVersion: '1000', secondsSinceLastEvent: 100 });
    expect(judgeCache(c, { rv: '2000' }, { missed: 1, firstRv: '999', lastRv: '999' }).level).toBe('ok');
    expect(judgeCache(c, { rv: '2000' }, { missed: 1, firstRv: '1500', lastRv: '1500' }).level).toBe('stale');
    expect(judgeCache(c, { rv: '2000' }, { missed: 0 }).level).toBe('ok');
    expect(judgeCache(c, { why: 'no' }, undefined).level).toBe('unknown');
  });
});
