// Discovery documents, built once from the resource catalogue: the legacy
// APIGroupList / APIGroup / APIResourceList and aggregated discovery
// (apidiscovery.k8s.io v2 and v2beta1), which kube-aggregator asks for on
// `/apis` and caches by ETag.
import { createHash } from 'node:crypto';
import { API_GROUP } from '../registry/api-group.ts';
import type { ResourceDef } from '../registry/resource-def.ts';

const groupVersion = `${API_GROUP.name}/${API_GROUP.version}`;

export function apiGroup() {
  const v = { groupVersion, version: API_GROUP.version };
  return { kind: 'APIGroup', apiVersion: 'v1', name: API_GROUP.name, versions: [v], preferredVersion: v };
}

export function apiGroupList() {
  const { kind: _k, apiVersion: _a, ...g } = apiGroup();
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [g] };
}

function legacyResources(r: ResourceDef) {
  return [
    {
      name: r.name,
      singularName: r.singularName,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
      ...(r.shortNames ? { shortNames: r.shortNames } : {}),
      ...(r.categories ? { categories: r.categories } : {}),
    },
    ...r.subresources.map((s) => ({ name: `${r.name}/${s.name}`, singularName: '', namespaced: r.namespaced, kind: s.kind, verbs: s.verbs })),
  ];
}

export function apiResourceList() {
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources: API_GROUP.resources.flatMap(legacyResources) };
}

function aggregatedResource(r: ResourceDef) {
  const responseKind = (kind: string) => ({ group: API_GROUP.name, version: API_GROUP.version, kind });
  return {
    resource: r.name,
    responseKind: responseKind(r.kind),
    scope: r.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: r.singularName,
    verbs: r.verbs,
    ...(r.shortNames ? { shortNames: r.shortNames } : {}),
    ...(r.categories ? { categories: r.categories } : {}),
    subresources: r.subresources.map((s) => ({ subresource: s.name, responseKind: responseKind(s.kind), verbs: s.verbs })),
  };
}

export interface Document {
  body: string;
  etag: string;
  contentType: string;
}

function doc(obj: unknown, contentType: string): Document {
  const body = JSON.stringify(obj);
  // Quoted upper-case SHA-512 hex, compared verbatim with If-None-Match, as the Go server does.
  return { body, etag: `"${createHash('sha512').update(body).digest('hex').toUpperCase()}"`, contentType };
}

/** Only v2: Go servers stopped serving v2beta1 in 1.35, and kube-aggregator 1.37 asks only for v2. */
export function aggregatedDiscovery(version: 'v2'): Document {
  return doc(
    {
      kind: 'APIGroupDiscoveryList',
      apiVersion: `apidiscovery.k8s.io/${version}`,
      metadata: {},
      items: [
        {
          metadata: { name: API_GROUP.name },
          versions: [{ version: API_GROUP.version, resources: API_GROUP.resources.map(aggregatedResource), freshness: 'Current' }],
        },
      ],
    },
    `application/json;g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList`,
  );
}
