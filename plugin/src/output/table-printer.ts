// Prints a server-side Table (meta.k8s.io/v1) the way kubectl does: columns
// of priority 0 (and the rest with -o wide), upper-case headers, a
// NAMESPACE column for --all-namespaces, no borders. The columns are the
// server's; this file only lays them out, with every header and cell escaped
// for the terminal (output/escape.ts).
import type { ChalkInstance } from 'chalk';
import { statePalette } from './color.ts';
import { displayWidth } from './display-width.ts';
import { escapeTerminal } from './escape.ts';

export interface TableColumn {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority: number;
}

export interface TableRowObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  spec?: { states?: string[]; protectedStates?: string[] };
  status?: { state?: string; valid?: boolean };
}

export interface TableRow {
  cells: unknown[];
  object?: TableRowObject | null;
}

export interface ServerTable {
  kind: 'Table';
  metadata?: { resourceVersion?: string };
  columnDefinitions: TableColumn[] | null;
  rows: TableRow[] | null;
}

export interface PrintOptions {
  wide: boolean;
  allNamespaces: boolean;
  noHeaders?: boolean;
  chalk: ChalkInstance;
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return escapeTerminal(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return escapeTerminal(JSON.stringify(v));
}

/** Column indexes to show, in order. */
export function visibleColumns(columns: TableColumn[], wide: boolean): number[] {
  return columns.map((c, i) => ({ c, i })).filter(({ c }) => c.priority === 0 || wide).map(({ i }) => i);
}

/** The cells of one row as printed (without colour), including NAMESPACE when asked. */
export function rowTexts(row: TableRow, columns: TableColumn[], opts: Pick<PrintOptions, 'wide' | 'allNamespaces'>): string[] {
  const cells = visibleColumns(columns, opts.wide).map((i) => cellText(row.cells[i]));
  return opts.allNamespaces ? [escapeTerminal(row.object?.metadata?.namespace ?? ''), ...cells] : cells;
}

export function headerTexts(columns: TableColumn[], opts: Pick<PrintOptions, 'wide' | 'allNamespaces'>): string[] {
  const names = visibleColumns(columns, opts.wide).map((i) => escapeTerminal(columns[i]!.name.toUpperCase()));
  return opts.allNamespaces ? ['NAMESPACE', ...names] : names;
}

function colour(row: TableRow, columns: TableColumn[], texts: string[], opts: PrintOptions): string[] {
  const palette = statePalette(opts.chalk);
  const vis = visibleColumns(columns, opts.wide);
  const offset = opts.allNamespaces ? 1 : 0;
  const path = row.object?.spec?.states;
  const prot = row.object?.spec?.protectedStates;
  return texts.map((t, i) => {
    const col = i >= offset ? columns[vis[i - offset]!] : undefined;
    if (!col) return t;
    if (col.name === 'State') {
      const m = /^(\S+)( \(invalid\))?$/.exec(t);
      if (m?.[2]) return opts.chalk.red(t);
      return m ? palette.state(m[1]!, path, prot) : t;
    }
    if (col.name === 'Next' && t !== '<none>') {
      const m = /^(\S+)( \(frozen\))?$/.exec(t);
      if (!m) return t;
      return palette.state(m[1]!, path, prot) + (m[2] ? opts.chalk.cyan(m[2]) : '');
    }
    if (col.name === 'Name' && col.format === 'name') return opts.chalk.bold(t);
    return t;
  });
}

/** Lays out rows with the widths of all of them, kubectl style (3 spaces between columns, no trailing space). */
export function layout(lines: string[][]): string {
  if (lines.length === 0) return '';
  const widths: number[] = [];
  const cellWidths = lines.map((l) =>
    l.map((cell, i) => {
      const w = displayWidth(cell);
      if (w > (widths[i] ?? 0)) widths[i] = w;
      return w;
    }),
  );
  return lines.map((l, r) => l.map((cell, i) => cell + ' '.repeat(widths[i]! - cellWidths[r]![i]!)).join('   ').trimEnd()).join('\n') + '\n';
}

export function printTable(t: ServerTable, opts: PrintOptions): string {
  const columns = t.columnDefinitions ?? [];
  const rows = t.rows ?? [];
  const lines: string[][] = [];
  if (!opts.noHeaders) lines.push(headerTexts(columns, opts));
  for (const r of rows) lines.push(colour(r, columns, rowTexts(r, columns, opts), opts));
  return layout(lines);
}
