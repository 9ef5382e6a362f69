// Routes for customresources and its subresources. Rules live in the
// storage and the state REST objects; this file only decodes requests and
// encodes answers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GROUP_RESOURCE, GROUP_VERSION, LIST_KIND } from '../../../../api/src/names.ts';
import type { CustomResource, ListMeta, StoredObject } from '../../../../api/src/types.ts';
import type { UserInfo } from '../../auth/user.ts';
import { negotiate, OBJECT_TARGETS, PLAIN_TARGETS, type Target } from '../../http/negotiate.ts';
import { writeObject } from '../../http/respond.ts';
import type { RequestInfo } from '../../request/request-info.ts';
import { newBadRequest, newMethodNotAllowed, newMethodNotSupported, newPathNotFound } from '../../status/status-error.ts';
import { parseListOptions, SUPPORTED_FIELDS, type ListOptions } from './list-options.ts';
import { escapeFieldValue, parseFieldSelector } from '../../selectors/field-selector.ts';
import type { CustomResourceStorage } from './storage.ts';
import { COLUMNS, table, tableRow, type IncludeObject } from './table-columns.ts';
import { writeStreamedList } from '../../http/stream-list.ts';
import { serveWatch, type WatchDeps } from './watch-handler.ts';

/** The write side (describe-state, set-state, promote): registered by the state REST objects. */
export interface SubresourceHandler {
  verbs: string[];
  /** `fresh`: the object as a GET without resourceVersion reads it (a quorum read), when the read was made for the handler (fresh-gates.ts). */
  handle(req: IncomingMessage, res: ServerResponse, info: RequestInfo, user: UserInfo, url: URL, fresh?: StoredObject): Promise<void>;
}

export interface ResourceHandlerDeps {
  storage: CustomResourceStorage;
  watch: Omit<WatchDeps, 'storage'>;
  subresources: Record<string, SubresourceHandler>;
}

/**
 * A list or watch of one object (its name in the path, or a metadata.name
 * selector, which is how it was authorized): only that object, as upstream
 * serves it. A field selector must then name the same object (400 otherwise).
 */
function byName(opts: ListOptions, name: string): ListOptions {
  if (!name) return opts;
  if (!opts.fieldSelector.empty && opts.fieldSelector.requiresExactMatch('metadata.name') !== name) throw newBadRequest('fieldSelector metadata.name doesn\'t match requested name');
  if (!opts.fieldSelector.empty) return opts;
  return { ...opts, fieldSelector: parseFieldSelector(`metadata.name=${escapeFieldValue(name)}`, SUPPORTED_FIELDS) };
}

/** A GET's resourceVersion: undefined for the newest, 0 for any, N for not older than N. */
function getResourceVersion(url: URL): number | undefined {
  const v = url.searchParams.get('resourceVersion');
  if (v === null || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw newBadRequest(`invalid value for resourceVersion: ${JSON.stringify(v)}: must be a resourceVersion this server returned (a non-negative integer)`);
  return Number(v);
}

function includeObjectOf(url: URL): IncludeObject {
  const v = url.searchParams.get('includeObject') ?? '';
  if (v === '' || v === 'Metadata') return 'Metadata';
  if (v === 'Object' || v === 'None') return v;
  throw newBadRequest(`Unable to convert to Table as requested: includeObject: Invalid value: ${JSON.stringify(v)}: must be 'Metadata', 'Object', 'None', or empty`);
}

export async function handleResource(req: IncomingMessage, res: ServerResponse, info: RequestInfo, user: UserInfo, url: URL, deps: ResourceHandlerDeps): Promise<void> {
  const { storage } = deps;
  const now = storage.clock.now();
  if (info.subresource) {
    // The name comes from the URL: own keys only ("constructor" is no handler).
    const sub = Object.hasOwn(deps.subresources, info.subresource) ? deps.subresources[info.subresource] : undefined;
    if (!sub || !info.name || !info.namespace) throw newPathNotFound();
    if (!sub.verbs.includes(info.verb)) throw newMethodNotAllowed();
    return sub.handle(req, res, info, user, url);
  }
  if (info.verb === 'get' && info.name) {
    if (!info.namespace) throw newPathNotFound();
    const target = negotiate(req.headers.accept, OBJECT_TARGETS);
    const obj = await storage.get(info.namespace, info.name, getResourceVersion(url));
    return writeOne(res, target, url, obj, now);
  }
  if (info.verb === 'list') {
    const target = negotiate(req.headers.accept, OBJECT_TARGETS);
    const opts = byName(parseListOptions(url.searchParams), info.name);
    const list = await storage.list(info.namespace || undefined, opts);
    return writeList(res, target, url, list.objects, now, list.metadata, storage.view);
  }
  if (info.verb === 'watch') {
    const target = negotiate(req.headers.accept, new Set(['json', 'table']));
    const opts = byName(parseListOptions(url.searchParams), info.name);
    const include = target.kind === 'table' ? includeObjectOf(url) : 'Metadata';
    return serveWatch(req, res, { storage, ...deps.watch }, info.namespace || undefined, opts, target, include);
  }
  if (['create', 'update', 'patch', 'delete', 'deletecollection'].includes(info.verb)) {
    // Objects are written through the storage CRD; here they only change state.
    throw newMethodNotSupported(GROUP_RESOURCE, info.verb);
  }
  throw newMethodNotAllowed();
}

const partial = (version: string, metadata: unknown) => ({ kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${version}`, metadata });

function writeOne(res: ServerResponse, target: Target, url: URL, obj: CustomResource, now: Date): void {
  if (target.kind === 'table') return writeObject(res, 200, table([obj], now, includeObjectOf(url), target.version, { resourceVersion: obj.metadata.resourceVersion }), { kind: 'json' });
  if (target.kind === 'partial') return writeObject(res, 200, partial(target.version, obj.metadata), { kind: 'json' });
  writeObject(res, 200, obj, PLAIN_TARGETS.has(target.kind) ? target : { kind: 'json' });
}

/** A list as the client asked for it, converted and written one object at a time (YAML, rarely asked for, whole). */
async function writeList(res: ServerResponse, target: Target, url: URL, objects: StoredObject[], now: Date, metadata: ListMeta, view: (o: StoredObject, now: Date) => CustomResource): Promise<void> {
  const views = function* () {
    for (const o of objects) yield view(o, now);
  };
  if (target.kind === 'table') {
    const include = includeObjectOf(url);
    const rows = function* () {
      for (const v of views()) yield tableRow(v, now, include, target.version);
    };
    return writeStreamedList(res, { kind: 'Table', apiVersion: `meta.k8s.io/${target.version}`, metadata, columnDefinitions: COLUMNS }, 'rows', rows());
  }
  if (target.kind === 'partial') {
    const items = function* () {
      for (const v of views()) yield partial(target.version, v.metadata);
    };
    return writeStreamedList(res, { kind: 'PartialObjectMetadataList', apiVersion: `meta.k8s.io/${target.version}`, metadata }, 'items', items());
  }
  const head = { apiVersion: GROUP_VERSION, kind: LIST_KIND, metadata };
  if (target.kind === 'yaml') return writeObject(res, 200, { ...head, items: [...views()] }, target);
  return writeStreamedList(res, head, 'items', views());
}
