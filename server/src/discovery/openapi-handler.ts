// OpenAPI v3 (root index and the group-version document) and v2, built once
// at start from the schemas. kube-aggregator fetches /openapi/v3 and then each
// serverRelativeURL; `kubectl explain` reads the group-version document and
// finds our kinds by their x-kubernetes-group-version-kind.
import { createHash } from 'node:crypto';
import { GROUP, VERSION } from '../../../api/src/names.ts';
import { API_GROUP } from '../registry/api-group.ts';
import { META, PREFIX, SCHEMAS } from './openapi-schemas.ts';

const GV_PATH = `apis/${GROUP}/${VERSION}`;
const base = `/${GV_PATH}`;
const opGvk = (kind: string) => ({ group: GROUP, version: VERSION, kind });
const ID = 'CustomExampleComV1';

type Param = { name: string; in: 'path' | 'query'; description: string; required?: boolean; type: 'string' | 'integer' | 'boolean' };

const p = (name: string, inn: Param['in'], type: Param['type'], description: string, required = false): Param => ({ name, in: inn, type, description, ...(required ? { required } : {}) });
const NAMESPACE = p('namespace', 'path', 'string', 'object name and auth scope, such as for teams and projects', true);
const NAME = p('name', 'path', 'string', 'name of the CustomResource', true);
const LIST_QUERY: Param[] = [
  p('labelSelector', 'query', 'string', 'A selector to restrict the list of returned objects by their labels. Defaults to everything.'),
  p('fieldSelector', 'query', 'string', 'A selector to restrict the list of returned objects by their fields: metadata.name, metadata.namespace, status.state.'),
  p('limit', 'query', 'integer', 'The maximum number of items to return; use the continue value of the answer to get the next page.'),
  p('continue', 'query', 'string', 'The continue value of a previous page.'),
  p('resourceVersion', 'query', 'string', 'Serve the list, or start the watch, at this resourceVersion.'),
  p('resourceVersionMatch', 'query', 'string', 'How resourceVersion applies: NotOlderThan or Exact.'),
  p('watch', 'query', 'boolean', 'Watch for changes and return them as a stream of add, update and remove notifications.'),
  p('allowWatchBookmarks', 'query', 'boolean', 'Ask for BOOKMARK events during a watch.'),
  p('sendInitialEvents', 'query', 'boolean', 'Start a watch with the current objects as ADDED events, ended by a bookmark.'),
  p('timeoutSeconds', 'query', 'integer', 'Timeout for the list/watch call.'),
];
const DRY_RUN = p('dryRun', 'query', 'string', 'When present ("All"), the change is checked and authorized but not made.');
const STATUS_NAME = p('name', 'path', 'string', 'name of the BackendStatus: the replica\'s pod', true);
const STATUS_LIST_QUERY: Param[] = [
  p('labelSelector', 'query', 'string', 'A selector to restrict the list of returned objects by their labels (a BackendStatus has none). Defaults to everything.'),
  p('fieldSelector', 'query', 'string', 'A selector to restrict the list of returned objects by their fields: metadata.name.'),
];

interface Op {
  method: 'get' | 'put' | 'post';
  operationId: string;
  description: string;
  action: string;
  kind: string;
  response: string;
  request?: string;
  query?: Param[];
  /** A list that cannot be watched (computed, not stored). */
  noWatch?: true;
}

interface PathDef {
  path: string;
  params: Param[];
  ops: Op[];
}

const R = `${PREFIX}.CustomResource`;
const S = `${PREFIX}.BackendStatus`;
const PATHS: PathDef[] = [
  { path: `${base}/customresources`, params: [], ops: [{ method: 'get', operationId: `list${ID}CustomResourceForAllNamespaces`, description: 'list or watch CustomResources in all namespaces', action: 'list', kind: 'CustomResource', response: `${R}List`, query: LIST_QUERY }] },
  { path: `${base}/namespaces/{namespace}/customresources`, params: [NAMESPACE], ops: [{ method: 'get', operationId: `list${ID}NamespacedCustomResource`, description: 'list or watch CustomResources', action: 'list', kind: 'CustomResource', response: `${R}List`, query: LIST_QUERY }] },
  { path: `${base}/namespaces/{namespace}/customresources/{name}`, params: [NAMESPACE, NAME], ops: [{ method: 'get', operationId: `read${ID}NamespacedCustomResource`, description: 'read the specified CustomResource', action: 'get', kind: 'CustomResource', response: R }] },
  {
    path: `${base}/namespaces/{namespace}/customresources/{name}/state`,
    params: [NAMESPACE, NAME],
    ops: [
      { method: 'get', operationId: `read${ID}NamespacedCustomResourceState`, description: 'describe where the CustomResource stands: path, gates, what you may do, history', action: 'get', kind: 'CustomResourceState', response: `${PREFIX}.CustomResourceState` },
      { method: 'put', operationId: `replace${ID}NamespacedCustomResourceState`, description: 'set the state of the CustomResource (any listed state, also backwards)', action: 'put', kind: 'CustomResourceState', response: `${PREFIX}.CustomResourceState`, request: `${PREFIX}.StateChange`, query: [DRY_RUN] },
    ],
  },
  {
    path: `${base}/namespaces/{namespace}/customresources/{name}/promote`,
    params: [NAMESPACE, NAME],
    ops: [{ method: 'post', operationId: `create${ID}NamespacedCustomResourcePromote`, description: 'promote the CustomResource to its next state', action: 'post', kind: 'CustomResourceState', response: `${PREFIX}.CustomResourceState`, request: `${PREFIX}.Promotion`, query: [DRY_RUN] }],
  },
  {
    path: `${base}/namespaces/{namespace}/customresources/{name}/history`,
    params: [NAMESPACE, NAME],
    ops: [{ method: 'get', operationId: `read${ID}NamespacedCustomResourceHistory`, description: 'read the whole trail of the CustomResource, and of earlier objects of the same name', action: 'get', kind: 'CustomResourceHistory', response: `${PREFIX}.CustomResourceHistory` }],
  },
  { path: `${base}/backendstatuses`, params: [], ops: [{ method: 'get', operationId: `list${ID}BackendStatus`, description: 'list the BackendStatus of the replica that answers (each replica answers about itself)', action: 'list', kind: 'BackendStatus', response: `${S}List`, query: STATUS_LIST_QUERY, noWatch: true }] },
  { path: `${base}/backendstatuses/{name}`, params: [STATUS_NAME], ops: [{ method: 'get', operationId: `read${ID}BackendStatus`, description: 'read the BackendStatus of the named replica (only that replica answers it; the others answer NotFound)', action: 'get', kind: 'BackendStatus', response: S }] },
];

/** A list answer that may also be a watch stream. */
const watchable = (op: Op) => op.action === 'list' && !op.noWatch;

function v3Param(x: Param) {
  return { name: x.name, in: x.in, description: x.description, ...(x.required ? { required: true } : {}), schema: { type: x.type, uniqueItems: true } };
}

function v3Doc() {
  const paths: Record<string, unknown> = {
    [`${base}/`]: { get: { description: 'get available resources', operationId: `get${ID}APIResources`, tags: [`custom_v1`], responses: { '200': { description: 'OK', content: { 'application/json': { schema: { $ref: `#/components/schemas/${META}.APIResourceList` } } } } } } },
  };
  for (const pd of PATHS) {
    const item: Record<string, unknown> = { parameters: pd.params.map(v3Param) };
    for (const op of pd.ops) {
      const json = (name: string) => ({ 'application/json': { schema: { $ref: `#/components/schemas/${name}` } } });
      item[op.method] = {
        description: op.description,
        operationId: op.operationId,
        tags: ['custom_v1'],
        ...(op.query ? { parameters: op.query.map(v3Param) } : {}),
        ...(op.request ? { requestBody: { required: true, content: json(op.request) } } : {}),
        responses: {
          '200': { description: 'OK', content: { ...json(op.response), ...(watchable(op) ? { 'application/json;stream=watch': { schema: { $ref: `#/components/schemas/${op.response}` } } } : {}) } },
          '401': { description: 'Unauthorized' },
        },
        'x-kubernetes-action': op.action,
        'x-kubernetes-group-version-kind': opGvk(op.kind),
      };
    }
    paths[pd.path] = item;
  }
  return { openapi: '3.0.0', info: { title: 'kubectl-custom', version: API_GROUP.version }, paths, components: { schemas: SCHEMAS } };
}

/** v2 from the v3 schemas: refs point at #/definitions, parameters carry their type inline. */
function v2Doc() {
  const definitions = JSON.parse(JSON.stringify(SCHEMAS).replaceAll('#/components/schemas/', '#/definitions/')) as Record<string, unknown>;
  const paths: Record<string, unknown> = {};
  for (const pd of PATHS) {
    const item: Record<string, unknown> = { parameters: pd.params.map((x) => ({ ...x, uniqueItems: true })) };
    for (const op of pd.ops) {
      item[op.method] = {
        description: op.description,
        operationId: op.operationId,
        consumes: ['application/json'],
        produces: ['application/json', 'application/yaml', ...(watchable(op) ? ['application/json;stream=watch'] : [])],
        schemes: ['https'],
        tags: ['custom_v1'],
        parameters: [
          ...(op.query ?? []).map((x) => ({ ...x, uniqueItems: true })),
          ...(op.request ? [{ name: 'body', in: 'body', required: true, schema: { $ref: `#/definitions/${op.request}` } }] : []),
        ],
        responses: { '200': { description: 'OK', schema: { $ref: `#/definitions/${op.response}` } }, '401': { description: 'Unauthorized' } },
        'x-kubernetes-action': op.action,
        'x-kubernetes-group-version-kind': opGvk(op.kind),
      };
    }
    paths[pd.path] = item;
  }
  return { swagger: '2.0', info: { title: 'kubectl-custom', version: API_GROUP.version }, paths, definitions };
}

export interface OpenApiDocs {
  v2: { body: string; etag: string };
  v3: { body: string; hash: string };
  v3Root: { body: string; etag: string };
  v3Path: string;
}

export function buildOpenApi(): OpenApiDocs {
  const v3Body = JSON.stringify(v3Doc());
  const hash = createHash('sha512').update(v3Body).digest('hex').toUpperCase();
  const rootBody = JSON.stringify({ paths: { [GV_PATH]: { serverRelativeURL: `/openapi/v3/${GV_PATH}?hash=${hash}` } } });
  const v2Body = JSON.stringify(v2Doc());
  const etag = (b: string) => `"${createHash('sha512').update(b).digest('hex').toUpperCase().slice(0, 64)}"`;
  return { v2: { body: v2Body, etag: etag(v2Body) }, v3: { body: v3Body, hash }, v3Root: { body: rootBody, etag: etag(rootBody) }, v3Path: `/openapi/v3/${GV_PATH}` };
}
