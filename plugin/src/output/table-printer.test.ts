import { describe, expect, it } from 'vitest';
import { newChalk } from './color.ts';
import { headerTexts, layout, printTable, rowTexts, visibleColumns, type TableColumn } from './table-printer.ts';

const COLS: TableColumn[] = [
  { name: 'Name', type: 'string', format: 'name', priority: 0 },
  { name: 'Extra', type: 'string', priority: 1 },
  { name: 'State', type: 'string', priority: 0 },
];

describe('layout', () => {
  it.each([
    { name: 'nothing', lines: [], want: '' },
    { name: 'one cell', lines: [['a']], want: 'a\n' },
    { name: 'three spaces between columns, none trailing', lines: [['NAME', 'X'], ['longer-name', ''], ['b', 'yy']], want: 'NAME          X\nlonger-name\nb             yy\n' },
    { name: 'wide characters count by display width', lines: [['→→', 'x'], ['abc', 'y']], want: '→→    x\nabc   y\n' },
  ])('$name', ({ lines, want }) => {
    expect(layout(lines)).toBe(want);
  });
});

describe('columns', () => {
  it.each([
    { name: 'priority 0 only', wide: false, want: [0, 2] },
    { name: 'wide: all', wide: true, want: [0, 1, 2] },
  ])('visibleColumns: $name', ({ wide, want }) => {
    expect(visibleColumns(COLS, wide)).toEqual(want);
  });

  it.each([
    { name: 'plain', allNamespaces: false, want: ['NAME', 'STATE'] },
    { name: 'all namespaces', allNamespaces: true, want: ['NAMESPACE', 'NAME', 'STATE'] },
  ])('headerTexts: $name', ({ allNamespaces, want }) => {
    expect(headerTexts(COLS, { wide: false, allNamespaces })).toEqual(want);
  });

  it.each([
    { name: 'strings, numbers, null', cells: ['a', 7, null], object: undefined, allNamespaces: false, want: ['a', ''] },
    { name: 'number and boolean cells', cells: [1, 'x', true], object: undefined, allNamespaces: false, want: ['1', 'true'] },
    { name: 'object cells as JSON', cells: [{ a: 1 }, 'x', ['p']], object: undefined, allNamespaces: false, want: ['{"a":1}', '["p"]'] },
    { name: 'namespace from the object', cells: ['a', 'x', 'dev'], object: { metadata: { namespace: 'shop' } }, allNamespaces: true, want: ['shop', 'a', 'dev'] },
    { name: 'no object: empty namespace', cells: ['a', 'x', 'dev'], object: null, allNamespaces: true, want: ['', 'a', 'dev'] },
    // list -w prints each change as rowTexts laid out on one line: a cell must not break or recolour it.
    { name: 'escaped (the lines of list -w)', cells: ['a\n', 'x', 'dev\x1b[0m'], object: { metadata: { namespace: 'shop\r' } }, allNamespaces: true, want: ['shop\\r', 'a\\n', 'dev\\x1b[0m'] },
  ])('rowTexts: $name', ({ cells, object, allNamespaces, want }) => {
    expect(rowTexts({ cells, object }, COLS, { wide: false, allNamespaces })).toEqual(want);
  });
});

describe('printTable', () => {
  const chalk = newChalk(false);
  it('a Table without columns or rows prints nothing without headers', () => {
    expect(printTable({ kind: 'Table', columnDefinitions: null, rows: null }, { wide: false, allNamespaces: false, noHeaders: true, chalk })).toBe('');
  });

  it('colours State by the row object\'s path, and leaves rows without one plain', () => {
    const text = printTable(
      {
        kind: 'Table',
        columnDefinitions: COLS,
        rows: [
          { cells: ['a', '', 'dev'], object: { spec: { states: ['dev', 'prod'] } } },
          { cells: ['b', '', 'dev'], object: null },
        ],
      },
      { wide: false, allNamespaces: false, noHeaders: true, chalk: newChalk(true) },
    );
    expect(text).toBe('\x1b[1ma\x1b[22m   \x1b[36mdev\x1b[39m\n\x1b[1mb\x1b[22m   dev\n');
  });

  // A crafted Display Name must not clear the screen, draw a fake row or turn the rest of the table red.
  it('escapes headers, cells and namespaces from the server', () => {
    const text = printTable(
      {
        kind: 'Table',
        columnDefinitions: [{ name: 'Name', type: 'string', format: 'name', priority: 0 }, { name: 'Display\x1b[8m Name', type: 'string', priority: 0 }, { name: 'State', type: 'string', priority: 0 }],
        rows: [{ cells: ['a', 'Evil\x1b[2J\x1b[1;1H\nfake   row\r', 'dev'], object: { metadata: { namespace: 'shop\u202e' } } }, { cells: ['b', { x: '\u009b' }, 'dev\x07'], object: null }],
      },
      { wide: false, allNamespaces: true, noHeaders: false, chalk: newChalk(false) },
    );
    expect(text).toBe(
      'NAMESPACE    NAME   DISPLAY\\x1b[8M NAME                  STATE\n'
      + 'shop\\u202e   a      Evil\\x1b[2J\\x1b[1;1H\\nfake   row\\r   dev\n'
      + '             b      {"x":"\\x9b"}                         dev\\x07\n',
    );
  });
});
