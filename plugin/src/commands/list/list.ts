// kubectl custom list: the server's Table, laid out like kubectl get; -w
// keeps it current (redrawn in place on a terminal, one line per change
// otherwise); -o json|yaml|name for scripts.
import { collectionPath } from '../../../../api/src/names.ts';
import { ApiError } from '../../../../client/src/errors.ts';
import { UsageError } from '../../errors/errors.ts';
import { readWatchStream } from '../../../../client/src/watch-stream.ts';
import { printDocument } from '../../output/document-printer.ts';
import { escapeTerminal } from '../../output/escape.ts';
import { headerTexts, layout, printTable, rowTexts, type ServerTable, type TableRow } from '../../output/table-printer.ts';
import type { CommandContext } from '../context.ts';

/** A server-side Table, as kubectl get asks for one (with the plain object as fallback). */
const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';

export type ListOutput = 'table' | 'wide' | 'json' | 'yaml' | 'name';

export interface ListOptions {
  allNamespaces: boolean;
  selector?: string;
  output: ListOutput;
  watch: boolean;
  noHeaders: boolean;
}

export function parseListOutput(o: string | undefined): ListOutput {
  if (o === undefined || o === '') return 'table';
  if (['wide', 'json', 'yaml', 'name'].includes(o)) return o as ListOutput;
  throw new UsageError(`unable to match a printer suitable for the output format "${o}", allowed formats are: json, name, wide, yaml`);
}

export async function runList(ctx: CommandContext, opts: ListOptions): Promise<void> {
  if (opts.watch && (opts.output === 'json' || opts.output === 'yaml' || opts.output === 'name')) {
    throw new UsageError('--watch prints tables; use -o wide or no -o with -w');
  }
  const client = await ctx.client();
  const ns = opts.allNamespaces ? undefined : client.config.namespace;
  const path = collectionPath(ns);
  const query = { ...(opts.selector ? { labelSelector: opts.selector } : {}) };
  const { out, err } = ctx.deps.streams;
  if (opts.output === 'json' || opts.output === 'yaml' || opts.output === 'name') {
    const body = await client.json<{ items: { metadata: { name: string } }[] }>('GET', path, { query });
    if (opts.output === 'name') for (const i of body.items) out.write(`customresource.custom.example.com/${escapeTerminal(i.metadata.name)}\n`);
    else out.write(printDocument(body, opts.output));
    return;
  }
  // Rows carry whole objects only when states are coloured by their place on
  // the path (spec.states); otherwise the default metadata is enough and the
  // answer is a third of the size.
  const include = ctx.chalk.level > 0 ? 'Object' : 'Metadata';
  const table = await client.json<ServerTable>('GET', path, { query: { ...query, includeObject: include }, accept: TABLE_ACCEPT });
  const print = { wide: opts.output === 'wide', allNamespaces: opts.allNamespaces, noHeaders: opts.noHeaders, chalk: ctx.chalk };
  if (!opts.watch) {
    if (!table.rows?.length) {
      err.write(ns === undefined ? 'No resources found\n' : `No resources found in ${ns} namespace.\n`);
      return;
    }
    out.write(printTable(table, print));
    return;
  }
  await watchTable(ctx, path, { ...query, includeObject: include }, table, print);
}

const keyOf = (r: TableRow) => `${r.object?.metadata?.namespace ?? ''}/${r.object?.metadata?.name ?? ''}`;

async function watchTable(ctx: CommandContext, path: string, query: Record<string, string>, first: ServerTable, print: Parameters<typeof printTable>[1]): Promise<void> {
  const client = await ctx.client();
  const { out } = ctx.deps.streams;
  const tty = !!out.isTTY;
  const columns = first.columnDefinitions ?? [];
  const rows = new Map<string, TableRow>();
  let rv = first.metadata?.resourceVersion ?? '';
  let drawnLines = 0;
  const load = (t: ServerTable) => {
    rows.clear();
    for (const r of t.rows ?? []) rows.set(keyOf(r), r);
    rv = t.metadata?.resourceVersion ?? rv;
  };
  const sorted = () => [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
  const redraw = () => {
    const text = printTable({ kind: 'Table', columnDefinitions: columns, rows: sorted() }, print);
    // Move to where the last drawing started and clear below it: the table stays in place instead of scrolling away.
    out.write((drawnLines ? `\x1b[${drawnLines}F\x1b[J` : '') + text);
    drawnLines = text.split('\n').length - 1;
  };
  // Non-terminal: each change is one line, aligned with the table printed first.
  const widthRows = [headerTexts(columns, print), ...(first.rows ?? []).map((r) => rowTexts(r, columns, print))];
  const line = (r: TableRow) => {
    const laid = layout([...widthRows, rowTexts(r, columns, print)]).trimEnd().split('\n');
    out.write(laid[laid.length - 1] + '\n');
  };
  load(first);
  if (tty) redraw();
  else out.write(printTable(first, print));
  // The watch's resourceVersion is too old (410, before or inside the stream): list again and show the result.
  const relist = async () => {
    const body = await client.json<ServerTable>('GET', path, { query, accept: TABLE_ACCEPT });
    load(body);
    if (tty) redraw();
    else for (const r of sorted()) line(r);
  };
  for (;;) {
    let res;
    try {
      res = await client.stream(path, { query: { ...query, watch: '1', resourceVersion: rv, allowWatchBookmarks: 'true' }, accept: TABLE_ACCEPT });
    } catch (e) {
      if (e instanceof ApiError && e.code === 410) {
        await relist();
        continue;
      }
      throw e;
    }
    let expired = false;
    await readWatchStream(res, (raw) => {
      const ev = raw as { type: string; object: ServerTable & { code?: number; message?: string } };
      if (ev.type === 'ERROR') {
        if (ev.object.code === 410) {
          expired = true;
          return false;
        }
        throw new ApiError(ev.object.code ?? 500, ev.object as never, ev.object.message ?? 'watch error', path);
      }
      rv = ev.object.metadata?.resourceVersion ?? rv;
      if (ev.type === 'BOOKMARK') return;
      for (const r of ev.object.rows ?? []) {
        if (ev.type === 'DELETED') rows.delete(keyOf(r));
        else rows.set(keyOf(r), r);
        if (!tty) line(r);
      }
      if (tty) redraw();
    });
    if (expired) await relist();
    // The server ended the watch (its timeout): watch again from where we were.
  }
}
