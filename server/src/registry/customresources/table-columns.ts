// The one definition of the columns people see, for `kubectl get
// customresources.custom.example.com` and for `kubectl custom list` alike
// (the plugin asks for a Table and prints what comes back).
import type { CustomResource } from '../../../../api/src/types.ts';
import { humanDuration } from '../../../../api/src/human-duration.ts';

export interface ColumnDefinition {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format: string;
  description: string;
  priority: number;
}

export const COLUMNS: ColumnDefinition[] = [
  { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 },
  { name: 'Display Name', type: 'string', format: '', description: 'spec.name: the display name.', priority: 0 },
  { name: 'State', type: 'string', format: '', description: 'The current state; "(invalid)" is appended when spec.states no longer lists it.', priority: 0 },
  { name: 'Next', type: 'string', format: '', description: 'The state `promote` moves to; <none> at the last state; "(frozen)" while a Freeze holds it; "(checks P/T)" while only P of its T checks let it through.', priority: 0 },
  { name: 'In State', type: 'string', format: '', description: 'Time since the object entered its current state.', priority: 0 },
  { name: 'Last Changed By', type: 'string', format: '', description: 'The user who made the latest state change.', priority: 0 },
  { name: 'Age', type: 'string', format: '', description: 'Time since the object was created.', priority: 0 },
  { name: 'Path', type: 'string', format: '', description: 'spec.states in order, the current state in brackets.', priority: 1 },
  { name: 'Soak Left', type: 'string', format: '', description: 'Time left before promote is allowed by minSoakSeconds.', priority: 1 },
  { name: 'Protected', type: 'string', format: '', description: 'spec.protectedStates.', priority: 1 },
  { name: 'Approvals', type: 'string', format: '', description: 'Approvals of the move into the next state: given/needed (spec and GatePolicies).', priority: 1 },
  { name: 'Frozen By', type: 'string', format: '', description: 'The Freezes holding the next state.', priority: 1 },
];

const NONE = '<none>';

export function rowCells(o: CustomResource, now: Date): (string | number)[] {
  const st = o.status;
  const created = o.metadata.creationTimestamp ? Date.parse(o.metadata.creationTimestamp) : NaN;
  const last = st.history?.[st.history.length - 1];
  const path = o.spec.states.map((s) => (s === st.state ? `[${s}]` : s)).join(' → ');
  return [
    o.metadata.name,
    o.spec.name,
    st.valid ? st.state : `${st.state} (invalid)`,
    st.nextState ? `${st.nextState}${st.nextGates?.frozenBy?.length ? ' (frozen)' : ''}${st.nextGates?.checks && st.nextGates.checks.passed < st.nextGates.checks.total ? ` (checks ${st.nextGates.checks.passed}/${st.nextGates.checks.total})` : ''}` : NONE,
    st.secondsInState === undefined ? '<unknown>' : humanDuration(st.secondsInState * 1000),
    last?.user ?? NONE,
    Number.isNaN(created) ? '<unknown>' : humanDuration(now.getTime() - created),
    path,
    st.soakRemainingSeconds ? humanDuration(st.soakRemainingSeconds * 1000) : st.nextState ? '0s' : NONE,
    o.spec.protectedStates?.length ? o.spec.protectedStates.join(',') : NONE,
    st.nextGates?.approvals ? `${st.nextGates.approvals.given}/${st.nextGates.approvals.needed}` : NONE,
    st.nextGates?.frozenBy?.length ? st.nextGates.frozenBy.join(',') : NONE,
  ];
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** A Table row of any object: its cells, and the object as `includeObject` asks (whole, its metadata, or none). */
export function rowOf(o: { metadata: unknown }, cells: (string | number)[], include: IncludeObject, tableVersion: string) {
  const row: { cells: (string | number)[]; object?: unknown } = { cells };
  if (include === 'Object') row.object = o;
  else if (include === 'Metadata') row.object = { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${tableVersion}`, metadata: o.metadata };
  return row;
}

export function tableRow(o: CustomResource, now: Date, include: IncludeObject, tableVersion: string) {
  return rowOf(o, rowCells(o, now), include, tableVersion);
}

export function table(items: CustomResource[], now: Date, include: IncludeObject, tableVersion: string, listMeta: Record<string, unknown>, withColumns = true) {
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${tableVersion}`,
    metadata: listMeta,
    ...(withColumns ? { columnDefinitions: COLUMNS } : { columnDefinitions: [] }),
    rows: items.map((o) => tableRow(o, now, include, tableVersion)),
  };
}
