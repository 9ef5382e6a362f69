// How a watch's events are framed: one JSON WatchEvent per line, the object
// as served or, for a Table watch, a one-row Table whose column definitions
// travel with the first event only (later ones have null), as kube-apiserver
// sends them. Bookmarks carry only a resourceVersion.
import { GROUP_VERSION, KIND } from '../../../../api/src/names.ts';
import type { CustomResource } from '../../../../api/src/types.ts';
import type { Target } from '../../http/negotiate.ts';
import { COLUMNS, tableRow, type IncludeObject } from './table-columns.ts';

/** The annotation of the bookmark that ends a watch's initial events (sendInitialEvents). */
export const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';

export class WatchEncoder {
  private readonly asTable: boolean;
  private readonly tableVersion: string;
  private readonly include: IncludeObject;
  private firstTable = true;

  constructor(target: Target, include: IncludeObject) {
    this.asTable = target.kind === 'table';
    this.tableVersion = target.kind === 'table' ? target.version : 'v1';
    this.include = include;
  }

  private frame(type: string, object: unknown): string {
    return JSON.stringify({ type, object }) + '\n';
  }

  private table(rv: string | undefined, row: unknown) {
    const t = { kind: 'Table', apiVersion: `meta.k8s.io/${this.tableVersion}`, metadata: { resourceVersion: rv }, columnDefinitions: this.firstTable ? COLUMNS : null, rows: [row] };
    this.firstTable = false;
    return t;
  }

  object(type: string, o: CustomResource, now: Date): string {
    return this.frame(type, this.asTable ? this.table(o.metadata.resourceVersion, tableRow(o, now, this.include, this.tableVersion)) : o);
  }

  bookmark(rv: number, initialEnd = false): string {
    const metadata = { resourceVersion: String(rv), ...(initialEnd ? { annotations: { [INITIAL_EVENTS_END]: 'true' } } : {}) };
    if (!this.asTable) return this.frame('BOOKMARK', { kind: KIND, apiVersion: GROUP_VERSION, metadata });
    const row = { cells: COLUMNS.map(() => ''), object: { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${this.tableVersion}`, metadata } };
    return this.frame('BOOKMARK', this.table(metadata.resourceVersion, row));
  }

  error(status: unknown): string {
    return this.frame('ERROR', status);
  }
}
