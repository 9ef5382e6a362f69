// backendstatuses through the whole chain in-process: authorized as a
// cluster-scoped resource like any other, computed when read (caches,
// watches, in flight, latency, memory), only about the replica that answers,
// in every representation kubectl asks for, and nothing else served.
import { describe, expect, it } from 'vitest';
import type { BackendStatus } from '../../../../api/src/types.ts';
import { useInProcess } from '../../testing/in-process-server.ts';
import { replicaName } from './status.ts';

const G = '/apis/custom.example.com/v1';
const LIST = `${G}/backendstatuses`;
const json = <T>(body: string) => JSON.parse(body) as T;
const status = (body: string) => json<{ kind: string; code: number; reason: string; message: string }>(body);

describe('backendstatuses', () => {
  const s = useInProcess();

  it('a list is the replica that answered, authorized as list of a cluster-scoped backendstatuses', async () => {
    const r = await s().request({ path: LIST });
    expect(r.status, r.body).toBe(200);
    const list = json<{ kind: string; apiVersion: string; items: BackendStatus[] }>(r.body);
    expect(list).toMatchObject({ kind: 'BackendStatusList', apiVersion: 'custom.example.com/v1' });
    expect(list.items.map((i) => i.metadata.name)).toEqual(['in-process']);
    expect(s().authorizer.asked.at(-1)?.attrs).toEqual({ resource: { verb: 'list', group: 'custom.example.com', version: 'v1', resource: 'backendstatuses' } });
  });

  it('says what the replica is doing: its caches, watches, requests in flight, latency and memory', async () => {
    const watch = await s().open({ path: `${G}/namespaces/shop/customresources?watch=1` });
    const r = await s().request({ path: `${LIST}/in-process` });
    watch.destroy();
    expect(r.status, r.body).toBe(200);
    const st = json<BackendStatus>(r.body);
    expect(st).toMatchObject({ kind: 'BackendStatus', apiVersion: 'custom.example.com/v1', metadata: { name: 'in-process' }, status: { version: 'v0.0.0-test' } });
    expect(st.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(st.status.caches).toEqual([{ resource: 'customresources.example.com', synced: true, watching: true, resourceVersion: '10', objects: 1, lastEventTime: expect.any(String), secondsSinceLastEvent: expect.any(Number) }]);
    expect(st.status.caches[0]!.secondsSinceLastEvent).toBeLessThan(60);
    expect(st.status.watches).toBe(1);
    // This very request is in flight.
    expect(st.status.inFlight.nonMutating).toMatchObject({ current: 1, limit: 400, rejected: 0 });
    expect(st.status.inFlight.mutating).toMatchObject({ current: 0, limit: 200, rejected: 0 });
    expect(st.status.latency.requests).toBeGreaterThanOrEqual(1);
    expect(st.status.latency.p99Seconds).toBeGreaterThan(0);
    expect(st.status.memory.rssBytes).toBeGreaterThan(10 * 2 ** 20);
    expect(st.status.memory.limitBytes).toBeUndefined();
  });

  it("another replica's name is not here: NotFound (each replica answers only about itself)", async () => {
    const r = await s().request({ path: `${LIST}/kubectl-custom-backend-other` });
    expect(r.status).toBe(404);
    expect(status(r.body)).toMatchObject({ reason: 'NotFound', message: 'backendstatuses.custom.example.com "kubectl-custom-backend-other" not found' });
  });

  it('selectors: metadata.name picks this replica or none; no labels to select', async () => {
    const names = async (q: string) => json<{ items: BackendStatus[] }>((await s().request({ path: `${LIST}?${q}` })).body).items.map((i) => i.metadata.name);
    expect(await names('fieldSelector=metadata.name%3Din-process')).toEqual(['in-process']);
    expect(await names('fieldSelector=metadata.name%3Dother')).toEqual([]);
    expect(await names('fieldSelector=metadata.name!%3Dother')).toEqual(['in-process']);
    expect(await names('labelSelector=app%3Dx')).toEqual([]);
    expect(await names('labelSelector=!app')).toEqual(['in-process']);
    const bad = await s().request({ path: `${LIST}?fieldSelector=status.version%3Dv1` });
    expect(bad.status).toBe(400);
    expect(status(bad.body).message).toBe('field label not supported: status.version');
  });

  it('a Table for kubectl get, with the wide columns at priority 1', async () => {
    const r = await s().request({ path: LIST, headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } });
    expect(r.status, r.body).toBe(200);
    const t = json<{ kind: string; columnDefinitions: { name: string; priority: number }[]; rows: { cells: unknown[]; object: { kind: string } }[] }>(r.body);
    expect(t.kind).toBe('Table');
    expect(t.columnDefinitions.filter((c) => c.priority === 0).map((c) => c.name)).toEqual(['Name', 'Version', 'Caches', 'Last Event', 'Watches', 'In Flight', 'P99', 'Memory', 'Age']);
    expect(t.rows).toHaveLength(1);
    expect(t.rows[0]!.cells.slice(0, 3)).toEqual(['in-process', 'v0.0.0-test', '1/1']);
    expect(t.rows[0]!.object.kind).toBe('PartialObjectMetadata');
  });

  it('YAML and PartialObjectMetadata too', async () => {
    const yaml = await s().request({ path: `${LIST}/in-process`, headers: { Accept: 'application/yaml' } });
    expect(yaml.headers['content-type']).toBe('application/yaml');
    expect(yaml.body).toContain('kind: BackendStatus');
    const partial = await s().request({ path: LIST, headers: { Accept: 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io' } });
    expect(json<{ kind: string; items: { metadata: { name: string } }[] }>(partial.body)).toMatchObject({ kind: 'PartialObjectMetadataList', items: [{ metadata: { name: 'in-process' } }] });
  });

  it.each([
    ['a watch: nothing is stored, so nothing to follow', 'GET', `${LIST}?watch=1`, 405],
    ['a write', 'POST', LIST, 405],
    ['a delete', 'DELETE', `${LIST}/in-process`, 405],
    ['in a namespace: it is cluster-scoped', 'GET', `${G}/namespaces/shop/backendstatuses`, 404],
    ['a subresource: it has none', 'GET', `${LIST}/in-process/status`, 404],
  ])('%s is refused', async (_what, method, path, code) => {
    const r = await s().request({ method, path, ...(method === 'POST' ? { body: '{}' } : {}) });
    expect(r.status, r.body).toBe(code);
    expect(status(r.body).kind).toBe('Status');
  });

  it('a denial is 403 naming the resource, as for any other', async () => {
    s().authorizer.decide = async () => ({ allowed: false });
    try {
      const r = await s().request({ path: LIST, headers: { 'X-Remote-User': 'viewer', 'X-Remote-Group': 'system:authenticated' } });
      expect(r.status).toBe(403);
      expect(status(r.body).message).toMatch(/^backendstatuses\.custom\.example\.com is forbidden: User "viewer" cannot list resource "backendstatuses" in API group "custom\.example\.com" at the cluster scope/);
    } finally {
      s().authorizer.decide = async () => ({ allowed: true });
    }
  });
});

describe("a replica's name", () => {
  it("is the pod's (POD_NAME from the downward API), else the hostname (a pod's hostname is its name)", () => {
    expect(replicaName({ POD_NAME: 'kubectl-custom-backend-7d9f-abcde' }, 'host')).toBe('kubectl-custom-backend-7d9f-abcde');
    expect(replicaName({}, 'kubectl-custom-backend-7d9f-xyz12')).toBe('kubectl-custom-backend-7d9f-xyz12');
    expect(replicaName({ POD_NAME: ' ' }, 'host')).toBe('host');
  });
});
