// What custom.example.com/v1 serves, described once: discovery (legacy and
// aggregated) and OpenAPI are generated from this, so they can only
// advertise what the router really serves.
import { GROUP, HISTORY_DOCUMENT_KIND, KIND, RESOURCE, SINGULAR, STATE_KIND, VERSION } from '../../../../api/src/names.ts';

export interface SubresourceDef {
  name: string;
  kind: string;
  verbs: string[];
}

export interface ResourceDef {
  name: string;
  singularName: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  subresources: SubresourceDef[];
}

export const CUSTOMRESOURCES: ResourceDef = {
  name: RESOURCE,
  singularName: SINGULAR,
  kind: KIND,
  namespaced: true,
  // No create/update/delete: objects are written through the storage CRD.
  // Advertising only what is served matters: the namespace controller and
  // the garbage collector call every API that advertises delete or list.
  verbs: ['get', 'list', 'watch'],
  subresources: [
    { name: 'state', kind: STATE_KIND, verbs: ['get', 'update'] },
    { name: 'promote', kind: STATE_KIND, verbs: ['create'] },
    { name: 'approve', kind: STATE_KIND, verbs: ['create'] },
    { name: 'history', kind: HISTORY_DOCUMENT_KIND, verbs: ['get'] },
  ],
};

export const API_GROUP = { name: GROUP, version: VERSION, resources: [CUSTOMRESOURCES] };
