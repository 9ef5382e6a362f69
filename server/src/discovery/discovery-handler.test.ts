// Discovery advertises exactly what the router serves: customresources with
// its subresources, and backendstatuses (cluster-scoped, get and list only,
// so neither the garbage collector nor the namespace controller calls it).
import { describe, expect, it } from 'vitest';
import { aggregatedDiscovery, apiResourceList } from './discovery-handler.ts';

describe('discovery', () => {
  it('legacy APIResourceList: every resource and subresource with its scope, kind and verbs', () => {
    const list = apiResourceList();
    expect(list).toMatchObject({ kind: 'APIResourceList', groupVersion: 'custom.example.com/v1' });
    expect(list.resources.map((r) => [r.name, r.namespaced, r.kind, r.verbs.join(',')])).toEqual([
      ['customresources', true, 'CustomResource', 'get,list,watch'],
      ['customresources/state', true, 'CustomResourceState', 'get,update'],
      ['customresources/promote', true, 'CustomResourceState', 'create'],
      ['customresources/approve', true, 'CustomResourceState', 'create'],
      ['customresources/history', true, 'CustomResourceHistory', 'get'],
      ['customresources/check', true, 'CustomResourceCheck', 'create'],
      ['backendstatuses', false, 'BackendStatus', 'get,list'],
    ]);
    expect(list.resources.find((r) => r.name === 'backendstatuses')).toMatchObject({ singularName: 'backendstatus' });
  });

  it('aggregated discovery v2: backendstatuses is Cluster-scoped, without subresources', () => {
    const doc = JSON.parse(aggregatedDiscovery('v2').body) as { items: { versions: { resources: { resource: string; scope: string; verbs: string[]; responseKind: { kind: string }; subresources: unknown[] }[] }[] }[] };
    const resources = doc.items[0]!.versions[0]!.resources;
    expect(resources.map((r) => [r.resource, r.scope])).toEqual([['customresources', 'Namespaced'], ['backendstatuses', 'Cluster']]);
    expect(resources[1]).toMatchObject({ singularResource: 'backendstatus', verbs: ['get', 'list'], responseKind: { group: 'custom.example.com', version: 'v1', kind: 'BackendStatus' }, subresources: [] });
  });
});
