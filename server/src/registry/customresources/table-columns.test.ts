import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CustomResource, FreezeRef, HistoryEntry, Spec, StoredObject, StoredStatus } from '../../../../api/src/types.ts';
import type { GateSources } from '../../state/gate-sources.ts';
import { COLUMNS, rowCells, table, tableRow } from './table-columns.ts';
import { toCustomResource } from './view.ts';

const NOW = new Date('2025-06-01T12:00:00Z');
const ago = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString();

const SPEC: Spec = { name: 'Checkout', states: ['dev', 'staging', 'prod'], protectedStates: ['staging', 'prod'], minSoakSeconds: { staging: 7200 } };
const HISTORY: HistoryEntry[] = [
  { action: 'promote', from: 'dev', to: 'staging', user: 'alice', time: ago(7200) },
  { action: 'set-state', from: 'staging', to: 'dev', user: 'bob', time: ago(5400), reason: 'rollback' },
  { action: 'promote', from: 'dev', to: 'staging', user: 'carol', time: ago(2700), reason: 'retry' },
];

function cr(status?: StoredStatus, opts: { spec?: Spec; created?: string | null } = {}): CustomResource {
  const created = opts.created === null ? {} : { creationTimestamp: opts.created ?? ago(3 * 86400) };
  const obj: StoredObject = {
    apiVersion: 'example.com/v1',
    kind: 'CustomResource',
    metadata: { name: 'checkout', namespace: 'shop', ...created },
    spec: opts.spec ?? SPEC,
    ...(status ? { status } : {}),
  };
  return toCustomResource(obj, NOW);
}

describe('COLUMNS', () => {
  it('has one cell per column', () => {
    expect(rowCells(cr(), NOW)).toHaveLength(COLUMNS.length);
    expect(COLUMNS.map((c) => c.name)).toEqual(['Name', 'Display Name', 'State', 'Next', 'In State', 'Last Changed By', 'Age', 'Path', 'Soak Left', 'Protected', 'Approvals', 'Frozen By']);
  });
});

describe('rowCells', () => {
  it.each<{ name: string; obj: () => CustomResource; want: (string | number)[] }>([
    {
      name: 'middle of the path, soaking',
      obj: () => cr({ state: 'staging', stateSince: ago(2700), history: HISTORY }),
      want: ['checkout', 'Checkout', 'staging', 'prod', '45m', 'carol', '3d', 'dev → [staging] → prod', '75m', 'staging,prod', '<none>', '<none>'],
    },
    {
      name: 'middle of the path, soak served',
      obj: () => cr({ state: 'staging', stateSince: ago(3 * 3600), history: HISTORY }),
      want: ['checkout', 'Checkout', 'staging', 'prod', '3h', 'carol', '3d', 'dev → [staging] → prod', '0s', 'staging,prod', '<none>', '<none>'],
    },
    {
      name: 'last state',
      obj: () => cr({ state: 'prod', stateSince: ago(90), history: [...HISTORY, { action: 'promote', from: 'staging', to: 'prod', user: 'dave', time: ago(90) }] }),
      want: ['checkout', 'Checkout', 'prod', '<none>', '90s', 'dave', '3d', 'dev → staging → [prod]', '<none>', 'staging,prod', '<none>', '<none>'],
    },
    {
      name: 'invalid state',
      obj: () => cr({ state: 'qa', stateSince: ago(26 * 3600), history: HISTORY }),
      want: ['checkout', 'Checkout', 'qa (invalid)', '<none>', '26h', 'carol', '3d', 'dev → staging → prod', '<none>', 'staging,prod', '<none>', '<none>'],
    },
    {
      name: 'never moved',
      obj: () => cr(undefined, { spec: { name: 'Payments', states: ['dev', 'prod'] }, created: ago(125) }),
      want: ['checkout', 'Payments', 'dev', 'prod', '2m5s', '<none>', '2m5s', '[dev] → prod', '0s', '<none>', '<none>', '<none>'],
    },
    {
      name: 'never moved, no creation time',
      obj: () => cr(undefined, { created: null }),
      want: ['checkout', 'Checkout', 'dev', 'staging', '<unknown>', '<none>', '<unknown>', '[dev] → staging → prod', '0s', 'staging,prod', '<none>', '<none>'],
    },
    {
      name: 'never moved with soak left counted from creation',
      obj: () => cr(undefined, { spec: { name: 'Payments', states: ['dev', 'prod'], minSoakSeconds: { dev: 3600 } }, created: ago(600) }),
      want: ['checkout', 'Payments', 'dev', 'prod', '10m', '<none>', '10m', '[dev] → prod', '50m', '<none>', '<none>', '<none>'],
    },
    {
      name: 'moved without stateSince',
      obj: () => cr({ state: 'staging' }),
      want: ['checkout', 'Checkout', 'staging', 'prod', '<unknown>', '<none>', '3d', 'dev → [staging] → prod', '120m', 'staging,prod', '<none>', '<none>'],
    },
    {
      name: 'empty protectedStates list',
      obj: () => cr({ state: 'dev', stateSince: ago(1) }, { spec: { name: 'X', states: ['dev', 'prod'], protectedStates: [] } }),
      want: ['checkout', 'X', 'dev', 'prod', '1s', '<none>', '3d', '[dev] → prod', '0s', '<none>', '<none>', '<none>'],
    },
  ])('$name', ({ obj, want }) => {
    expect(rowCells(obj(), NOW)).toEqual(want);
  });

  it('the next move\'s approvals (given/needed) and the freezes holding it: "(frozen)" after Next, their names in Frozen By', () => {
    const obj: StoredObject = {
      apiVersion: 'example.com/v1',
      kind: 'CustomResource',
      metadata: { name: 'checkout', namespace: 'shop', creationTimestamp: ago(86400), generation: 3 },
      spec: { ...SPEC, requiredApprovals: { prod: 3 } },
      status: { state: 'staging', stateSince: ago(3 * 3600), approvals: [{ to: 'prod', from: 'staging', user: 'bob', time: ago(60), generation: 3 }] },
    };
    const gates: GateSources = {
      effective: (o) => ({ spec: o.spec, sources: new Map(), checks: new Map() }),
      freezes: (_o, state) => (state === 'prod' ? [{ namespace: 'shop', name: 'incident', reason: 'incident 42' }, { namespace: 'custom-system', name: 'holiday', reason: 'holiday' }] : []),
      freezesInForce: () => [],
      mayHaveChecks: () => false,
    };
    const cells = rowCells(toCustomResource(obj, NOW, gates), NOW);
    expect(cells[3]).toBe('prod (frozen)');
    expect(cells.slice(-2)).toEqual(['1/3', 'shop/incident,custom-system/holiday']);
    // Without freezes, Next is the bare state.
    expect(rowCells(toCustomResource(obj, NOW), NOW)[3]).toBe('prod');
  });

  it('ages the object by the clock passed in', () => {
    const o = cr({ state: 'dev', stateSince: ago(1) }, { created: ago(60) });
    expect(rowCells(o, NOW)[6]).toBe('60s');
    expect(rowCells(o, new Date(NOW.getTime() + 3600_000))[6]).toBe('61m');
  });
});

describe('tableRow and table', () => {
  const o = cr({ state: 'staging', stateSince: ago(2700) });
  it.each<{ name: string; include: 'None' | 'Metadata' | 'Object'; object: unknown }>([
    { name: 'None', include: 'None', object: undefined },
    { name: 'Metadata', include: 'Metadata', object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata } },
    { name: 'Object', include: 'Object', object: o },
  ])('includeObject=$name', ({ include, object }) => {
    const row = tableRow(o, NOW, include, 'v1');
    expect(row.cells).toEqual(rowCells(o, NOW));
    expect(row.object).toEqual(object);
    expect('object' in row).toBe(object !== undefined);
  });

  it('builds a Table with columns, list metadata and one row per item', () => {
    const t = table([o, cr()], NOW, 'None', 'v1beta1', { resourceVersion: '5' });
    expect(t).toMatchObject({ kind: 'Table', apiVersion: 'meta.k8s.io/v1beta1', metadata: { resourceVersion: '5' }, columnDefinitions: COLUMNS });
    expect(t.rows.map((r) => r.cells[2])).toEqual(['staging', 'dev']);
  });

  it('leaves the columns out when asked (watch events after the first)', () => {
    expect(table([o], NOW, 'None', 'v1', {}, false).columnDefinitions).toEqual([]);
  });
});

// api/testdata/tables.json holds stored objects and the Tables served for
// them; the plugin's printer tests print those Tables. This keeps both sides
// of that contract in step: change a column and this fails until the file is
// regenerated (vitest -u), which then shows in the plugin's golden files.
describe('the Tables in api/testdata/tables.json', () => {
  const file = new URL('../../../../api/testdata/tables.json', import.meta.url);
  type Freeze = FreezeRef & { states: string[] };
  const contract = JSON.parse(readFileSync(file, 'utf8')) as { now: string; note: string; sets: Record<string, { freezes?: Freeze[]; objects: StoredObject[]; table: unknown }> };
  // The Freezes active at `now`, holding the states they name; the spec as written.
  const gatesOf = (freezes: Freeze[] | undefined): GateSources | undefined =>
    freezes && {
      effective: (o) => ({ spec: o.spec, sources: new Map(), checks: new Map() }),
      freezes: (_o, state) => freezes.filter((f) => f.states.includes(state)).map(({ states: _, ...ref }) => ref),
      freezesInForce: () => [],
      mayHaveChecks: () => false,
    };

  it('are what the server serves for their objects', async () => {
    const now = new Date(contract.now);
    const sets = Object.fromEntries(
      Object.entries(contract.sets).map(([name, { freezes, objects }]) => [
        name,
        { ...(freezes ? { freezes } : {}), objects, table: JSON.parse(JSON.stringify(table(objects.map((o) => toCustomResource(o, now, gatesOf(freezes))), now, 'Object', 'v1', { resourceVersion: '42' }))) as unknown },
      ]),
    );
    expect(Object.keys(sets).length).toBeGreaterThan(0);
    await expect(JSON.stringify({ ...contract, sets }, null, 2) + '\n').toMatchFileSnapshot(fileURLToPath(file));
  });
});
