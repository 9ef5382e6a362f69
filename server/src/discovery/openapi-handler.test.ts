// The OpenAPI documents kube-aggregator merges and kubectl explain reads:
// every path served, each operation with its kind, and each kind's schema
// findable by its x-kubernetes-group-version-kind.
import { describe, expect, it } from 'vitest';
import { buildOpenApi } from './openapi-handler.ts';

type Op = { operationId: string; 'x-kubernetes-action': string; 'x-kubernetes-group-version-kind': { kind: string }; responses: { '200': { content: Record<string, unknown> } } };
const v3 = () => JSON.parse(buildOpenApi().v3.body) as { paths: Record<string, { get?: Op; put?: Op; post?: Op }>; components: { schemas: Record<string, { 'x-kubernetes-group-version-kind'?: { kind: string }[]; properties?: Record<string, unknown> }> } };
const G = '/apis/custom.example.com/v1';

describe('OpenAPI', () => {
  it('v3: the paths of customresources and backendstatuses', () => {
    expect(Object.keys(v3().paths)).toEqual([
      `${G}/`,
      `${G}/customresources`,
      `${G}/namespaces/{namespace}/customresources`,
      `${G}/namespaces/{namespace}/customresources/{name}`,
      `${G}/namespaces/{namespace}/customresources/{name}/state`,
      `${G}/namespaces/{namespace}/customresources/{name}/promote`,
      `${G}/namespaces/{namespace}/customresources/{name}/history`,
      `${G}/backendstatuses`,
      `${G}/backendstatuses/{name}`,
    ]);
  });

  it('backendstatuses: list and read of kind BackendStatus; the list is no watch stream', () => {
    const { paths } = v3();
    const list = paths[`${G}/backendstatuses`]!.get!;
    expect(list).toMatchObject({ operationId: 'listCustomExampleComV1BackendStatus', 'x-kubernetes-action': 'list', 'x-kubernetes-group-version-kind': { kind: 'BackendStatus' } });
    expect(Object.keys(list.responses['200'].content)).toEqual(['application/json']);
    expect(Object.keys(paths[`${G}/customresources`]!.get!.responses['200'].content)).toEqual(['application/json', 'application/json;stream=watch']);
    expect(paths[`${G}/backendstatuses/{name}`]!.get).toMatchObject({ operationId: 'readCustomExampleComV1BackendStatus', 'x-kubernetes-action': 'get' });
  });

  it('kubectl explain finds BackendStatus and its list by their group-version-kind', () => {
    const { schemas } = v3().components;
    const byKind = (kind: string) => Object.values(schemas).find((s) => s['x-kubernetes-group-version-kind']?.some((g) => g.kind === kind));
    expect(Object.keys(byKind('BackendStatus')?.properties ?? {})).toEqual(['apiVersion', 'kind', 'metadata', 'status']);
    expect(byKind('BackendStatusList')).toBeDefined();
    expect(Object.keys(schemas['com.example.custom.v1.BackendStatusDetail']?.properties ?? {})).toEqual(['version', 'startTime', 'caches', 'watches', 'inFlight', 'latency', 'memory']);
  });

  it('v2 carries the same paths, the backendstatuses list producing no watch stream', () => {
    const v2 = JSON.parse(buildOpenApi().v2.body) as { paths: Record<string, { get?: { produces: string[] } }> };
    expect(v2.paths[`${G}/backendstatuses`]?.get?.produces).toEqual(['application/json', 'application/yaml']);
    expect(v2.paths[`${G}/backendstatuses/{name}`]).toBeDefined();
  });
});
