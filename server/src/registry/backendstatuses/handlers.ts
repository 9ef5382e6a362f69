// Routes for backendstatuses: get (this replica, by its name) and list (the
// replica that answered), as JSON, YAML, a Table or PartialObjectMetadata.
// Nothing is stored, so there is nothing to watch and nothing to write.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BACKEND_STATUS_LIST_KIND, BACKEND_STATUS_RESOURCE, GROUP, GROUP_VERSION } from '../../../../api/src/names.ts';
import type { BackendStatus } from '../../../../api/src/types.ts';
import { negotiate, OBJECT_TARGETS, PLAIN_TARGETS, type Target } from '../../http/negotiate.ts';
import { writeObject } from '../../http/respond.ts';
import type { RequestInfo } from '../../request/request-info.ts';
import { parseFieldSelector } from '../../selectors/field-selector.ts';
import { parseLabelSelector } from '../../selectors/label-selector.ts';
import { newBadRequest, newMethodNotAllowed, newMethodNotSupported, newNotFound, newPathNotFound } from '../../status/status-error.ts';
import type { IncludeObject } from '../customresources/table-columns.ts';
import { COLUMNS, tableRow } from './table-columns.ts';

const GR = { group: GROUP, resource: BACKEND_STATUS_RESOURCE } as const;

export interface BackendStatusDeps {
  /** This replica's name: the only object there is. */
  name: string;
  read(now: Date): Promise<BackendStatus>;
}

function includeObjectOf(url: URL): IncludeObject {
  const v = url.searchParams.get('includeObject') ?? '';
  if (v === '' || v === 'Metadata') return 'Metadata';
  if (v === 'Object' || v === 'None') return v;
  throw newBadRequest(`Unable to convert to Table as requested: includeObject: Invalid value: ${JSON.stringify(v)}: must be 'Metadata', 'Object', 'None', or empty`);
}

const partial = (version: string, metadata: unknown) => ({ kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${version}`, metadata });

function write(res: ServerResponse, target: Target, url: URL, items: BackendStatus[], one: boolean, now: Date): void {
  if (target.kind === 'table') {
    const include = includeObjectOf(url);
    return writeObject(res, 200, { kind: 'Table', apiVersion: `meta.k8s.io/${target.version}`, metadata: {}, columnDefinitions: COLUMNS, rows: items.map((o) => tableRow(o, now, include, target.version)) }, { kind: 'json' });
  }
  if (target.kind === 'partial') {
    if (one) return writeObject(res, 200, partial(target.version, items[0]!.metadata), { kind: 'json' });
    return writeObject(res, 200, { kind: 'PartialObjectMetadataList', apiVersion: `meta.k8s.io/${target.version}`, metadata: {}, items: items.map((o) => partial(target.version, o.metadata)) }, { kind: 'json' });
  }
  const plain = PLAIN_TARGETS.has(target.kind) ? target : ({ kind: 'json' } as const);
  writeObject(res, 200, one ? items[0] : { apiVersion: GROUP_VERSION, kind: BACKEND_STATUS_LIST_KIND, metadata: {}, items }, plain);
}

export async function handleBackendStatus(req: IncomingMessage, res: ServerResponse, info: RequestInfo, url: URL, deps: BackendStatusDeps, now: Date): Promise<void> {
  // Cluster-scoped, and without subresources.
  if (info.namespace || info.subresource) throw newPathNotFound();
  if (info.verb === 'get' && info.name) {
    const target = negotiate(req.headers.accept, OBJECT_TARGETS);
    // Each replica answers only about itself: another's name is not here.
    if (info.name !== deps.name) throw newNotFound(GR, info.name);
    return write(res, target, url, [await deps.read(now)], true, now);
  }
  if (info.verb === 'list') {
    const target = negotiate(req.headers.accept, OBJECT_TARGETS);
    const fields = parseFieldSelector(url.searchParams.get('fieldSelector') ?? '', ['metadata.name']);
    const labels = parseLabelSelector(url.searchParams.get('labelSelector') ?? '');
    const selected = fields.matches({ 'metadata.name': deps.name }) && labels.matches(undefined);
    return write(res, target, url, selected ? [await deps.read(now)] : [], false, now);
  }
  if (['watch', 'create', 'update', 'patch', 'delete', 'deletecollection'].includes(info.verb)) throw newMethodNotSupported(GR, info.verb);
  throw newMethodNotAllowed();
}
