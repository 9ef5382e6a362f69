// Routes for customresources and its subresources. Rules live in the
// storage and the state REST objects; this file only decodes requests and
// encodes answers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GROUP_RESOURCE } from '../../../../api/src/names.ts';
import type { UserInfo } from '../../auth/user.ts';
import { negotiate, OBJECT_TARGETS, PLAIN_TARGETS, type Target } from '../../http/negotiate.ts';
import { writeObject } from '../../http/respond.ts';
import type { RequestInfo } from '../../request/request-info.ts';
import { newBadRequest, newMethodNotAllowed, newMethodNotSupported, newPathNotFound } from '../../status/status-error.ts';
import { parseListOptions } from './list-options.ts';
import type { CustomResourceStorage } from './storage.ts';
import { table, type IncludeObject } from './table-columns.ts';
import { serveWatch, type WatchDeps } from './watch-handler.ts';

/** The write side (describe-state, set-state, promote): registered by the state REST objects. */
export interface SubresourceHandler {
  verbs: string[];
  handle(req: IncomingMessage, res: ServerResponse, info: RequestInfo, user: UserInfo, url: URL): Promise<void>;
}

export interface ResourceHandlerDeps {
  storage: CustomResourceStorage;
  watch: Omit<WatchDeps, 'storage'>;
  subresources: Record<string, SubresourceHandler>;
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
    const obj = storage.get(info.namespace, info.name);
    return writeTarget(res, target, url, [obj], now, { resourceVersion: obj.metadata.resourceVersion }, obj);
  }
  if (info.verb === 'list') {
    const target = negotiate(req.headers.accept, OBJECT_TARGETS);
    const opts = parseListOptions(url.searchParams);
    const list = await storage.list(info.namespace || undefined, opts);
    return writeTarget(res, target, url, list.items, now, { ...list.metadata }, list);
  }
  if (info.verb === 'watch') {
    const target = negotiate(req.headers.accept, new Set(['json', 'table']));
    const opts = parseListOptions(url.searchParams);
    const include = target.kind === 'table' ? includeObjectOf(url) : 'Metadata';
    return serveWatch(req, res, { storage, ...deps.watch }, info.namespace || undefined, opts, target, include);
  }
  if (['create', 'update', 'patch', 'delete', 'deletecollection'].includes(info.verb)) {
    // Objects are written through the storage CRD; here they only change state.
    throw newMethodNotSupported(GROUP_RESOURCE, info.verb);
  }
  throw newMethodNotAllowed();
}

function writeTarget(
  res: ServerResponse,
  target: Target,
  url: URL,
  items: Parameters<typeof table>[0],
  now: Date,
  listMeta: Record<string, unknown>,
  plain: unknown,
): void {
  if (target.kind === 'table') {
    return writeObject(res, 200, table(items, now, includeObjectOf(url), target.version, listMeta), { kind: 'json' });
  }
  if (target.kind === 'partial') {
    const pom = (m: unknown) => ({ kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${target.version}`, metadata: m });
    const isList = (plain as { kind?: string }).kind?.endsWith('List');
    const body = isList
      ? { kind: 'PartialObjectMetadataList', apiVersion: `meta.k8s.io/${target.version}`, metadata: listMeta, items: items.map((i) => pom(i.metadata)) }
      : pom(items[0]?.metadata);
    return writeObject(res, 200, body, { kind: 'json' });
  }
  return writeObject(res, 200, plain, PLAIN_TARGETS.has(target.kind) ? target : { kind: 'json' });
}
