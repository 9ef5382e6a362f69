import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { UsageError } from '../../errors/errors.ts';
import { newChalk } from '../../output/color.ts';
import { printTable, type PrintOptions, type ServerTable } from '../../output/table-printer.ts';
import { parseListOutput } from './list.ts';

/**
 * The backend's Tables for a set of objects (api/testdata/tables.json, which
 * the server's table-columns test keeps true), as the plugin receives them.
 */
type TableSet = 'shop' | 'all-namespaces' | 'gates';
const CONTRACT = JSON.parse(readFileSync(new URL('../../../../api/testdata/tables.json', import.meta.url), 'utf8')) as { sets: Record<TableSet, { table: ServerTable }> };
const serverTable = (set: TableSet): ServerTable => structuredClone(CONTRACT.sets[set].table);

const plain = newChalk(false);

function print(opts: Partial<PrintOptions> = {}, set: TableSet = 'shop'): string {
  return printTable(serverTable(set), { wide: false, allNamespaces: false, chalk: plain, ...opts });
}

function checkLayout(text: string): void {
  const lines = text.split('\n');
  expect(lines.pop()).toBe('');
  for (const l of lines) expect(l).toBe(l.trimEnd());
  // Every column starts where its header does, so the header's words line up with the cells.
  const header = lines[0]!;
  const starts = [...header.matchAll(/(?<=^| {3})\S/g)].map((m) => m.index);
  for (const l of lines.slice(1)) for (const s of starts) if (s > 0) expect(l.slice(s - 3, s)).toBe('   ');
}

describe('list output (server columns, plugin layout)', () => {
  it('default columns', async () => {
    const text = print();
    checkLayout(text);
    expect(text).not.toContain('\x1b[');
    await expect(text).toMatchFileSnapshot('./testdata/list.golden.txt');
  });

  it('-o wide adds Path, Soak Left, Protected, Approvals and Frozen By', async () => {
    const text = print({ wide: true });
    checkLayout(text);
    // The current state is bracketed in Path; an invalid state is not on it.
    expect(text).toContain('   [dev] → staging → prod   ');
    expect(text).toContain('   dev → [staging] → prod   ');
    expect(text).toContain('   dev → qa → staging → [prod]   ');
    expect(text).toMatch(/ {3}dev → prod {3}/);
    await expect(text).toMatchFileSnapshot('./testdata/list-wide.golden.txt');
  });

  it('--all-namespaces adds NAMESPACE first', async () => {
    const text = print({ allNamespaces: true }, 'all-namespaces');
    checkLayout(text);
    expect(text.split('\n')[0]).toMatch(/^NAMESPACE {3}NAME /);
    await expect(text).toMatchFileSnapshot('./testdata/list-all-namespaces.golden.txt');
  });

  it('gates: a frozen next state is marked; -o wide counts approvals and names the freezes', async () => {
    const text = print({}, 'gates');
    checkLayout(text);
    expect(text).toMatch(/^payments +Payments +staging +prod \(frozen\) +30m /m);
    expect(text).toMatch(/^search +Search +draft +ga +7d3h /m);
    await expect(text).toMatchFileSnapshot('./testdata/list-gates.golden.txt');
    const wide = print({ wide: true }, 'gates');
    checkLayout(wide);
    expect(wide.split('\n')[0]).toMatch(/ {3}APPROVALS {3}FROZEN BY$/);
    expect(wide).toMatch(/ {3}1\/2 +custom-system\/holiday$/m);
    await expect(wide).toMatchFileSnapshot('./testdata/list-gates-wide.golden.txt');
    // In colour, "(frozen)" stands apart from the state's own colour, and the layout is the same.
    const colour = print({ chalk: newChalk(true) }, 'gates');
    expect(stripVTControlCharacters(colour)).toBe(text);
    expect(colour).toContain('\x1b[36m (frozen)\x1b[39m');
  });

  it('--no-headers drops the header row only', () => {
    const text = print({ noHeaders: true });
    expect(text.split('\n')[0]).toMatch(/^api-gateway /);
    expect(text.split('\n')).toHaveLength(5);
  });

  it('colours: bold names, states by position, red invalid states', async () => {
    const text = print({ chalk: newChalk(true) });
    // Colour codes do not change the layout.
    expect(stripVTControlCharacters(text)).toBe(print());
    expect(text).toContain('\x1b[1mcheckout\x1b[22m');
    expect(text).toContain('\x1b[31mqa (invalid)\x1b[39m');
    await expect(text).toMatchFileSnapshot('./testdata/list-color.golden.txt');
  });
});

describe('parseListOutput', () => {
  it.each([
    { name: 'absent', o: undefined, want: 'table' },
    { name: 'empty', o: '', want: 'table' },
    { name: 'wide', o: 'wide', want: 'wide' },
    { name: 'json', o: 'json', want: 'json' },
    { name: 'yaml', o: 'yaml', want: 'yaml' },
    { name: 'name', o: 'name', want: 'name' },
  ])('$name', ({ o, want }) => {
    expect(parseListOutput(o)).toBe(want);
  });

  it.each([
    { name: 'unknown', o: 'xml' },
    { name: 'kubectl-only format', o: 'jsonpath={.items}' },
    { name: 'upper case', o: 'WIDE' },
  ])('rejects $name', ({ o }) => {
    expect(() => parseListOutput(o)).toThrow(UsageError);
    expect(() => parseListOutput(o)).toThrow(`"${o}"`);
  });
});
