// What customresources serves, described once (registry/resource-def.ts).
import { CHECK_REPORT_KIND, HISTORY_DOCUMENT_KIND, KIND, RESOURCE, SINGULAR, STATE_KIND } from '../../../../api/src/names.ts';
import type { ResourceDef } from '../resource-def.ts';

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
    { name: 'check', kind: CHECK_REPORT_KIND, verbs: ['create'] },
  ],
};
