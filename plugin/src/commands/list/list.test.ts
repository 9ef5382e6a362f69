import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { StoredObject } from '../../../../server/src/api/types.ts';
import { table } from '../../../../server/src/registry/customresources/table-columns.ts';
import { toCustomResource } from '../../../../server/src/registry/customresources/view.ts';
import { UsageError } from '../../errors/errors.ts';
import { newChalk } from '../../output/color.ts';
import { printTable, type PrintOptions, type ServerTable } from '../../output/table-printer.ts';
import { parseListOutput } from './list.ts';

const NOW = new Date('2025-06-01T12:00:00Z');
const ago = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString();
const MIN = 60;
const HOUR = 3600;
const DAY = 24 * HOUR;

function stored(name: string, namespace: string, created: number, spec: StoredObject['spec'], status?: StoredObject['status']): StoredObject {
  return {
    apiVersion: 'example.com/v1',
    kind: 'CustomResource',
    metadata: { name, namespace, uid: `uid-${name}`, resourceVersion: '42', creationTimestamp: ago(created) },
    spec,
    ...(status ? { status } : {}),
  };
}

/** One object in each situation the list shows; `ns` places them for --all-namespaces. */
function objects(ns: (name: string) => string = () => 'shop'): StoredObject[] {
  return [
    // Never moved: the first state since creation.
    stored('api-gateway', ns('api-gateway'), 2 * DAY + 3 * HOUR, { name: 'API Gateway', states: ['dev', 'staging', 'prod'] }),
    // Mid-path, with soak time left before promote.
    stored(
      'checkout',
      ns('checkout'),
      10 * DAY,
      { name: 'Checkout Service', states: ['dev', 'staging', 'prod'], protectedStates: ['prod'], minSoakSeconds: { staging: 2 * HOUR } },
      {
        state: 'staging',
        stateSince: ago(45 * MIN),
        history: [
          { action: 'promote', from: 'dev', to: 'staging', user: 'alice', time: ago(3 * DAY) },
          { action: 'set-state', from: 'staging', to: 'dev', user: 'bob', time: ago(2 * DAY), reason: 'roll back' },
          { action: 'promote', from: 'dev', to: 'staging', user: 'carol@example.com', time: ago(45 * MIN), reason: 'fix deployed' },
        ],
      },
    ),
    // At the last state.
    stored(
      'payments',
      ns('payments'),
      400 * DAY,
      { name: 'Payments', states: ['dev', 'qa', 'staging', 'prod'], protectedStates: ['staging', 'prod'] },
      { state: 'prod', stateSince: ago(90), history: [{ action: 'promote', from: 'staging', to: 'prod', user: 'system:serviceaccount:ci:deployer', time: ago(90), reason: 'release 2.4' }] },
    ),
    // In a state its spec no longer lists.
    stored(
      'search',
      ns('search'),
      30 * DAY,
      { name: 'Search', states: ['dev', 'prod'] },
      { state: 'qa', stateSince: ago(26 * HOUR), history: [{ action: 'set-state', from: 'dev', to: 'qa', user: 'dave', time: ago(26 * HOUR) }] },
    ),
  ];
}

/** The Table the server sends for these objects, as the plugin receives it (through JSON). */
function serverTable(objs: StoredObject[]): ServerTable {
  const t = table(
    objs.map((o) => toCustomResource(o, NOW)),
    NOW,
    'Object',
    'v1',
    { resourceVersion: '42' },
  );
  return JSON.parse(JSON.stringify(t)) as ServerTable;
}

const plain = newChalk(false);

function print(opts: Partial<PrintOptions> = {}, objs = objects()): string {
  return printTable(serverTable(objs), { wide: false, allNamespaces: false, chalk: plain, ...opts });
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

  it('-o wide adds Path, Soak Left and Protected', async () => {
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
    const text = print({ allNamespaces: true }, objects((n) => (n === 'payments' ? 'payments' : n === 'search' ? 'web' : 'shop')));
    checkLayout(text);
    expect(text.split('\n')[0]).toMatch(/^NAMESPACE {3}NAME /);
    await expect(text).toMatchFileSnapshot('./testdata/list-all-namespaces.golden.txt');
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
