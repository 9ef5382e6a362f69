// The read side of custom.example.com through kube-apiserver: lists with
// selectors and pages, computed fields, watches (from a resourceVersion,
// with bookmarks, initial events, 410), Tables, discovery, OpenAPI, metrics.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { backend, proxied } from './backend-client.ts';
import { api, cluster, createObject, CUSTOM, eventually, kubectl, STORAGE, useNamespace, waitServed, watch } from './harness.ts';

const ns = useNamespace(import.meta.filename);
const other = useNamespace(import.meta.filename + '-other');
const paged = useNamespace(import.meta.filename + '-pages');
const list = (n = ns()) => `${CUSTOM}/namespaces/${n}/customresources`;
type Item = { metadata: { name: string; namespace: string; resourceVersion: string; labels?: Record<string, string> }; status: Record<string, unknown>; spec: Record<string, unknown> };
type List = { kind: string; metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number }; items: Item[] };
const names = (l: List) => l.items.map((i) => i.metadata.name);

beforeAll(async () => {
  for (const [n, team] of [['alpha', 'a'], ['bravo', 'b'], ['charlie', 'a'], ['delta', 'b'], ['echo', 'a']] as const) {
    await createObject(ns(), n, { name: n.toUpperCase(), states: ['dev', 'staging', 'prod'], minSoakSeconds: { dev: 120 } }, { team });
  }
  await createObject(other(), 'foxtrot', { name: 'F', states: ['dev', 'prod'] }, { team: 'a' });
  await Promise.all([...['alpha', 'bravo', 'charlie', 'delta', 'echo'].map((n) => waitServed(ns(), n)), waitServed(other(), 'foxtrot')]);
  // dev's soak is not served: break glass (admin holds override), so bravo is in staging for the tests below.
  expect((await api('admin', 'PUT', `${list()}/bravo/state`, { state: 'staging', from: 'dev', override: true, reason: 'test setup' })).status).toBe(200);
});

describe('list', () => {
  it('lists a namespace in name order, and all namespaces', async () => {
    const l = (await api<List>('admin', 'GET', list())).body;
    expect(l.kind).toBe('CustomResourceList');
    expect(names(l)).toEqual(['alpha', 'bravo', 'charlie', 'delta', 'echo']);
    const all = (await api<List>('admin', 'GET', `${CUSTOM}/customresources`)).body;
    expect(all.items.filter((i) => [ns(), other()].includes(i.metadata.namespace)).map((i) => i.metadata.name)).toEqual(expect.arrayContaining(['alpha', 'foxtrot']));
  });

  it('serves computed status fields', async () => {
    const alpha = (await api<Item>('admin', 'GET', `${list()}/alpha`)).body;
    expect(alpha.status).toMatchObject({ state: 'dev', nextState: 'staging', valid: true });
    expect(alpha.status['soakRemainingSeconds']).toBeGreaterThan(60);
    expect(alpha.status['secondsInState']).toBeGreaterThanOrEqual(0);
    const bravo = (await api<Item>('admin', 'GET', `${list()}/bravo`)).body;
    expect(bravo.status).toMatchObject({ state: 'staging', nextState: 'prod', soakRemainingSeconds: 0 });
    expect(bravo.metadata).not.toHaveProperty('managedFields');
  });

  it.each([
    { name: 'label equality', q: 'labelSelector=team%3Da', want: ['alpha', 'charlie', 'echo'] },
    { name: 'label set', q: `labelSelector=${encodeURIComponent('team in (b)')}`, want: ['bravo', 'delta'] },
    { name: 'label inequality', q: `labelSelector=${encodeURIComponent('team!=a')}`, want: ['bravo', 'delta'] },
    { name: 'label missing', q: 'labelSelector=%21team', want: [] },
    { name: 'field metadata.name', q: 'fieldSelector=metadata.name%3Dcharlie', want: ['charlie'] },
    { name: 'field status.state', q: 'fieldSelector=status.state%3Dstaging', want: ['bravo'] },
    { name: 'field status.state negated', q: 'fieldSelector=status.state%21%3Ddev', want: ['bravo'] },
    { name: 'fields and labels together', q: `fieldSelector=status.state%3Ddev&labelSelector=team%3Db`, want: ['delta'] },
  ])('selects by $name', async ({ q, want }) => {
    const l = await api<List>('admin', 'GET', `${list()}?${q}`);
    expect(l.status, l.text).toBe(200);
    expect(names(l.body)).toEqual(want);
  });

  it('selects by metadata.namespace across namespaces', async () => {
    const l = (await api<List>('admin', 'GET', `${CUSTOM}/customresources?fieldSelector=metadata.namespace%3D${other()}`)).body;
    expect(names(l)).toEqual(['foxtrot']);
  });

  it('pages with limit and continue', async () => {
    const p1 = (await api<List>('admin', 'GET', `${list()}?limit=2`)).body;
    expect(names(p1)).toEqual(['alpha', 'bravo']);
    expect(p1.metadata.remainingItemCount).toBe(3);
    const p2 = (await api<List>('admin', 'GET', `${list()}?limit=2&continue=${p1.metadata.continue}`)).body;
    expect(names(p2)).toEqual(['charlie', 'delta']);
    expect(p2.metadata.resourceVersion).toBe(p1.metadata.resourceVersion);
    const p3 = (await api<List>('admin', 'GET', `${list()}?limit=2&continue=${p2.metadata.continue}`)).body;
    expect(names(p3)).toEqual(['echo']);
    expect(p3.metadata.continue).toBeUndefined();
    // With a selector, pages hold matching items and no count is promised.
    const s1 = (await api<List>('admin', 'GET', `${list()}?limit=2&labelSelector=team%3Da`)).body;
    expect(names(s1)).toEqual(['alpha', 'charlie']);
    expect(s1.metadata.remainingItemCount).toBeUndefined();
    expect(names((await api<List>('admin', 'GET', `${list()}?limit=2&labelSelector=team%3Da&continue=${s1.metadata.continue}`)).body)).toEqual(['echo']);
  });

  it('serves page 2 from page 1\'s snapshot: an object of page 2 changed in between is shown as it was (issue 23)', async () => {
    for (const n of ['p1', 'p2', 'p3', 'p4']) await createObject(paged(), n, { name: n, states: ['dev', 'prod'] });
    await Promise.all(['p1', 'p2', 'p3', 'p4'].map((n) => waitServed(paged(), n)));
    const before = (await api<Item>('admin', 'GET', `${list(paged())}/p3`)).body;
    const p1 = await api<List>('admin', 'GET', `${list(paged())}?limit=2`);
    expect(p1.status, p1.text).toBe(200);
    expect(names(p1.body)).toEqual(['p1', 'p2']);
    // p3 (on page 2) changes, and the backend's cache hears of it before page 2 is asked for.
    const patched = await api<Item>('admin', 'PATCH', `${STORAGE}/namespaces/${paged()}/customresources/p3`, { metadata: { labels: { changed: 'yes' } } }, { 'Content-Type': 'application/merge-patch+json' });
    expect(patched.status, patched.text).toBe(200);
    await eventually('the backend\'s cache has p3\'s change', async () => (await api<Item>('admin', 'GET', `${list(paged())}/p3?resourceVersion=0`)).body.metadata.resourceVersion === patched.body.metadata.resourceVersion);
    const p2 = await api<List>('admin', 'GET', `${list(paged())}?limit=2&continue=${p1.body.metadata.continue}`);
    expect(p2.status, p2.text).toBe(200);
    expect(p2.body.metadata.resourceVersion).toBe(p1.body.metadata.resourceVersion);
    expect(names(p2.body)).toEqual(['p3', 'p4']);
    const p3 = p2.body.items[0]!;
    expect(p3.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(p3.metadata.labels?.['changed']).toBeUndefined();
    // The same question of the storage CRD gets the same answer.
    const crd1 = (await api<List>('admin', 'GET', `${STORAGE}/namespaces/${paged()}/customresources?limit=2&resourceVersion=${p1.body.metadata.resourceVersion}&resourceVersionMatch=Exact`)).body;
    const crd2 = (await api<List>('admin', 'GET', `${STORAGE}/namespaces/${paged()}/customresources?limit=2&continue=${crd1.metadata.continue}`)).body;
    expect(p2.body.items.map((i) => `${i.metadata.name}@${i.metadata.resourceVersion}`)).toEqual(crd2.items.map((i) => `${i.metadata.name}@${i.metadata.resourceVersion}`));
    // And a whole list now is at least as new as everything in it.
    const now = (await api<List>('admin', 'GET', list(paged()))).body;
    for (const i of now.items) expect(Number(now.metadata.resourceVersion)).toBeGreaterThanOrEqual(Number(i.metadata.resourceVersion));
  });

  it('serves a list at a resourceVersion it has seen, and Exact as kube-apiserver answers it for the storage CRD', async () => {
    const l = (await api<List>('admin', 'GET', list())).body;
    const rv = l.metadata.resourceVersion;
    expect((await api('admin', 'GET', `${list()}?resourceVersion=${rv}&resourceVersionMatch=NotOlderThan`)).status).toBe(200);
    expect((await api('admin', 'GET', `${list()}?resourceVersion=0`)).status).toBe(200);
    const exact = await api<List>('admin', 'GET', `${list()}?resourceVersion=${rv}&resourceVersionMatch=Exact`);
    expect(exact.status).toBe(200);
    expect(exact.body.metadata.resourceVersion).toBe(rv);
    expect(names(exact.body)).toEqual(names(l));
    // A revision etcd has or has compacted away: the same answer as the CRD's (read through, issue 23).
    for (const at of ['1', String(Number(rv) - 1)]) {
      const ours = await api<{ reason?: string }>('admin', 'GET', `${list()}?resourceVersion=${at}&resourceVersionMatch=Exact`);
      const crd = await api<{ reason?: string }>('admin', 'GET', `${list().replace(CUSTOM, STORAGE)}?resourceVersion=${at}&resourceVersionMatch=Exact`);
      expect([ours.status, ours.body.reason], `Exact at ${at}`).toEqual([crd.status, crd.body.reason]);
    }
  });
});

describe('watch', () => {
  it('streams changes after a resourceVersion, and DELETED when an object leaves the selection', async () => {
    const rv = (await api<List>('admin', 'GET', list())).body.metadata.resourceVersion;
    const w = watch('admin', `${list()}?watch=1&resourceVersion=${rv}&labelSelector=team%3Da`);
    expect(await w.status).toBe(200);
    expect((await api('admin', 'POST', `${list()}/alpha/promote?dryRun=All`, { from: 'dev' })).status).toBe(422); // soak: nothing happens
    expect((await api('admin', 'PUT', `${list()}/charlie/state`, { state: 'prod', from: 'dev', reason: 'watch me', override: true })).status).toBe(200);
    const mod = await w.until((e) => e.type === 'MODIFIED' && (e.object as Item).metadata.name === 'charlie');
    expect((mod.object as Item).status).toMatchObject({ state: 'prod' });
    expect((mod.object as Item).metadata.resourceVersion > rv || Number((mod.object as Item).metadata.resourceVersion) > Number(rv)).toBe(true);
    // Relabel echo out of team a: a watcher of team=a sees it go.
    await api('admin', 'PATCH', `${STORAGE}/namespaces/${ns()}/customresources/echo`, { metadata: { labels: { team: 'c' } } }, { 'Content-Type': 'application/merge-patch+json' });
    await w.until((e) => e.type === 'DELETED' && (e.object as Item).metadata.name === 'echo');
    // Nothing about bravo/delta (team b) was sent, and no initial ADDED events.
    expect(w.events.some((e) => ['bravo', 'delta'].includes((e.object as Item).metadata?.name))).toBe(false);
    expect(w.events.some((e) => e.type === 'ADDED')).toBe(false);
    w.close();
  });

  it('sends bookmarks when asked, and initial events ended by an annotated bookmark', async () => {
    const w = watch('admin', `${list(other())}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true`);
    const added = await w.until((e) => e.type === 'ADDED');
    expect((added.object as Item).metadata.name).toBe('foxtrot');
    const end = await w.until((e) => e.type === 'BOOKMARK');
    expect(end.object).toMatchObject({ kind: 'CustomResource', apiVersion: 'custom.example.com/v1', metadata: { annotations: { 'k8s.io/initial-events-end': 'true' } } });
    expect(w.events.indexOf(added)).toBeLessThan(w.events.indexOf(end));
    // A change elsewhere moves the resourceVersion: a plain bookmark follows within the interval.
    await api('admin', 'PATCH', `${STORAGE}/namespaces/${ns()}/customresources/alpha`, { metadata: { labels: { touched: 'yes' } } }, { 'Content-Type': 'application/merge-patch+json' });
    const bm = await w.until((e) => e.type === 'BOOKMARK' && !(e.object as { metadata: { annotations?: unknown } }).metadata.annotations, 10_000);
    expect(Number((bm.object as Item).metadata.resourceVersion)).toBeGreaterThan(Number((end.object as Item).metadata.resourceVersion));
    w.close();
  });

  it('answers a too-old resourceVersion with an Expired ERROR event', async () => {
    const w = watch('admin', `${list()}?watch=1&resourceVersion=1`);
    expect(await w.status).toBe(200);
    await w.ended;
    expect(w.events).toEqual([{ type: 'ERROR', object: expect.objectContaining({ kind: 'Status', code: 410, reason: 'Expired' }) }]);
    expect((w.events[0]?.object as { message: string }).message).toMatch(/^too old resource version: 1 \(\d+\)$/);
  });

  it('ends a watch after timeoutSeconds', async () => {
    const w = watch('admin', `${list()}?watch=1&timeoutSeconds=1`);
    const started = Date.now();
    await w.ended;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(w.events.filter((e) => e.type === 'ADDED').length).toBeGreaterThan(0);
  });

  it('kubectl get -w prints a row when an object changes', async () => {
    const child = spawn(cluster().binaries.kubectl, ['--kubeconfig', cluster().kubeconfigs.admin, 'get', 'customresources.custom.example.com', '-n', ns(), '-w'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await eventually('the initial table', async () => out.includes('delta'));
      expect(out.split('\n')[0]).toMatch(/^NAME\s+DISPLAY NAME\s+STATE\s+NEXT/);
      await api('admin', 'PUT', `${list()}/delta/state`, { state: 'prod', from: 'dev', reason: 'watched', override: true });
      await eventually('a row for delta in prod', async () => /\ndelta\s+DELTA\s+prod\s+<none>/.test(out));
    } finally {
      child.kill();
    }
  });
});

describe('discovery, OpenAPI and operations', () => {
  it('kubectl explain prints field docs from the OpenAPI v3 document', async () => {
    const top = await kubectl('admin', ['explain', 'customresources.custom.example.com']);
    expect(top.stderr).toBe('');
    expect(top.stdout).toContain('KIND:       CustomResource');
    expect(top.stdout).toContain('GROUP:      custom.example.com');
    expect(top.stdout).toContain('moves through an ordered list of states');
    const history = await kubectl('admin', ['explain', 'customresources.custom.example.com.status.history']);
    expect(history.stderr).toBe('');
    expect(history.stdout).toContain('FIELD: history <[]HistoryEntry>');
    expect(history.stdout).toMatch(/user\s+<string> -required-/);
    const checks = await kubectl('admin', ['explain', 'customresources.spec.checks', '--api-version=custom.example.com/v1']);
    expect(checks.stderr).toBe('');
    expect(checks.stdout).toContain('FIELD: checks <map[string][]Check>');
    expect(checks.stdout).toMatch(/measured by the backend\s+while the object is in the state before/);
    expect(checks.stdout).toMatch(/successCondition\t<string> -required-/);
    const status = await kubectl('admin', ['explain', 'backendstatuses.status.caches']);
    expect(status.stderr).toBe('');
    expect(status.stdout).toContain('GROUP:      custom.example.com');
    expect(status.stdout).toContain('KIND:       BackendStatus');
    expect(status.stdout).toMatch(/secondsSinceLastEvent\s+<integer>/);
  });

  it('serves aggregated discovery v2 with an ETag, and 304 for a matching If-None-Match', async () => {
    const accept = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
    const admin = { user: 'root', groups: ['system:masters'] };
    const r = await proxied({ ...admin, path: '/apis', headers: { Accept: accept } });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe(accept);
    const doc = r.json<{ items: { metadata: { name: string }; versions: { resources: { resource: string; verbs: string[]; subresources: { subresource: string; verbs: string[] }[] }[] }[] }[] }>();
    const res = doc.items[0]!.versions[0]!.resources[0]!;
    expect(res).toMatchObject({ resource: 'customresources', verbs: ['get', 'list', 'watch'] });
    expect(res.subresources).toEqual([
      { subresource: 'state', responseKind: { group: 'custom.example.com', version: 'v1', kind: 'CustomResourceState' }, verbs: ['get', 'update'] },
      { subresource: 'promote', responseKind: { group: 'custom.example.com', version: 'v1', kind: 'CustomResourceState' }, verbs: ['create'] },
      { subresource: 'approve', responseKind: { group: 'custom.example.com', version: 'v1', kind: 'CustomResourceState' }, verbs: ['create'] },
      { subresource: 'history', responseKind: { group: 'custom.example.com', version: 'v1', kind: 'CustomResourceHistory' }, verbs: ['get'] },
      { subresource: 'check', responseKind: { group: 'custom.example.com', version: 'v1', kind: 'CustomResourceCheck' }, verbs: ['create'] },
    ]);
    expect(doc.items[0]!.versions[0]!.resources.map((x) => [x.resource, x.verbs.join(',')])).toEqual([['customresources', 'get,list,watch'], ['backendstatuses', 'get,list']]);
    const again = await proxied({ ...admin, path: '/apis', headers: { Accept: accept, 'If-None-Match': String(r.headers['etag']) } });
    expect(again.status).toBe(304);
    const legacy = await proxied({ ...admin, path: '/apis' });
    expect(legacy.json()).toMatchObject({ kind: 'APIGroupList' });
  });

  it('exposes Prometheus metrics to those allowed to read /metrics', async () => {
    const r = await proxied({ user: 'root', groups: ['system:masters'], path: '/metrics' });
    expect(r.status).toBe(200);
    for (const m of ['apiserver_request_total{', 'apiserver_request_duration_seconds_bucket{', 'custom_authorization_cache_total{', 'apiserver_registered_watchers', 'custom_cache_objects', 'custom_state_transitions_total{']) {
      expect(r.body).toContain(m);
    }
    const denied = await proxied({ user: 'bob', path: '/metrics' });
    expect(denied.status).toBe(403);
    expect(denied.json<{ message: string }>().message).toBe('forbidden: User "bob" cannot get path "/metrics"');
  });

  it('logs JSON lines with audit IDs and never a credential', () => {
    const log = readFileSync(backend().logFile, 'utf8');
    const token = /token: (\S+)/.exec(readFileSync(backend().kubeconfig, 'utf8'))?.[1] ?? 'no-token';
    expect(log).not.toContain(token);
    expect(log).not.toMatch(/Bearer|PRIVATE KEY/);
    const lines = log.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => typeof l['ts'] === 'string' && typeof l['level'] === 'string')).toBe(true);
    // Each request line (debug level in tests) carries the audit ID kube-apiserver sent.
    const requests = lines.filter((l) => l['msg'] === 'request');
    expect(requests.length).toBeGreaterThan(10);
    expect(requests.every((l) => typeof l['auditID'] === 'string' && (l['auditID'] as string).length > 0)).toBe(true);
  });
});
