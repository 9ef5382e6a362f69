// Everything custom.example.com/v1 serves: discovery and OpenAPI list these
// resources, in this order.
import { GROUP, VERSION } from '../../../api/src/names.ts';
import { BACKENDSTATUSES } from './backendstatuses/resource.ts';
import { CUSTOMRESOURCES } from './customresources/resource.ts';

export const API_GROUP = { name: GROUP, version: VERSION, resources: [CUSTOMRESOURCES, BACKENDSTATUSES] };
