// What backendstatuses serves, described once (registry/resource-def.ts).
import { BACKEND_STATUS_KIND, BACKEND_STATUS_RESOURCE, BACKEND_STATUS_SINGULAR } from '../../../../api/src/names.ts';
import type { ResourceDef } from '../resource-def.ts';

export const BACKENDSTATUSES: ResourceDef = {
  name: BACKEND_STATUS_RESOURCE,
  singularName: BACKEND_STATUS_SINGULAR,
  kind: BACKEND_STATUS_KIND,
  namespaced: false,
  // Computed on every read, never stored: no watch (nothing to follow), and
  // no write. Neither the garbage collector nor the namespace controller
  // touches a cluster-scoped resource without list, watch and delete.
  verbs: ['get', 'list'],
  subresources: [],
};
