// describe-state, for people: where the object stands on its path, what
// stands between it and the next state, what the caller may do, and the
// newest entries of its history (the window; older ones are archived and
// `kubectl custom history` shows them). Every value from the server is
// escaped for the terminal.
import type { ChalkInstance } from 'chalk';
import { humanDuration } from '../../../api/src/human-duration.ts';
import type { CustomResourceState } from '../../../api/src/types.ts';
import { stateCheckRows } from './check-printer.ts';
import { blockerText, gateSourceText } from './gate-words.ts';
import { statePalette } from './color.ts';
import { escapeTerminal } from './escape.ts';
import { entriesText, historyRows } from './history-printer.ts';
import { layout } from './table-printer.ts';

export interface RenderOptions {
  chalk: ChalkInstance;
  now: Date;
}

function yesNo(c: ChalkInstance, v: boolean): string {
  return v ? c.green('yes') : c.red('no');
}

/** One line per gate of the move into the next state: met or not, what it says, where it comes from. */
function checkLines(v: CustomResourceState, c: ChalkInstance): string[] {
  const rows = (v.checks ?? []).map((k) => [
    k.met ? c.green('✓') : c.red('✗'),
    k.gate,
    escapeTerminal(k.message),
    k.sources.length ? `(${k.sources.map((s) => escapeTerminal(gateSourceText(s))).join(', ')})` : '',
  ]);
  return rows.length ? layout(rows).trimEnd().split('\n').map((l) => `  ${l}`) : [];
}

/** `dev → [staging] → prod*`: the current state in brackets, protected states starred. */
export function renderPath(v: Pick<CustomResourceState, 'path' | 'state' | 'protectedStates' | 'valid'>, c: ChalkInstance): string {
  const palette = statePalette(c);
  const parts = v.path.map((s) => {
    const name = palette.state(s, v.path, v.protectedStates) + (v.protectedStates.includes(s) ? '*' : '');
    return s === v.state ? c.bold(`[${name}]`) : name;
  });
  const line = parts.join(' → ');
  return v.valid ? line : `${line}   (current: ${c.red(escapeTerminal(v.state))}, not in the path)`;
}

export function renderStateView(v: CustomResourceState, o: RenderOptions): string {
  const c = o.chalk;
  const palette = statePalette(c);
  const lines: [string, string][] = [];
  lines.push(['Name:', escapeTerminal(v.metadata.name)]);
  lines.push(['Namespace:', escapeTerminal(v.metadata.namespace)]);
  lines.push(['Display Name:', escapeTerminal(v.displayName)]);
  const since = v.stateSince ? ` for ${humanDuration(o.now.getTime() - Date.parse(v.stateSince))} (since ${escapeTerminal(v.stateSince)})` : '';
  lines.push(['State:', `${v.valid ? palette.state(v.state, v.path, v.protectedStates) : c.red(`${escapeTerminal(v.state)} (invalid)`)}${since}`]);
  lines.push(['Path:', renderPath(v, c) + (v.protectedStates.length ? c.dim('   (* protected)') : '')]);
  if (!v.valid && v.message) lines.push(['Problem:', c.red(escapeTerminal(v.message))]);
  lines.push(['Next:', v.nextState ? palette.state(v.nextState, v.path, v.protectedStates) + (v.gates.nextStateProtected ? ' (protected: needs the enter permission and a reason)' : '') : '<none>']);
  const gates: string[] = [];
  if (v.gates.minSoakSeconds > 0) {
    const need = humanDuration(v.gates.minSoakSeconds * 1000);
    gates.push(v.gates.soakRemainingSeconds > 0 ? c.yellow(`soak: ${humanDuration(v.gates.soakRemainingSeconds * 1000)} left of ${need}`) : `soak: ${need} served`);
  }
  if (v.gates.reasonRequired) gates.push('reason required');
  const checks = checkLines(v, c);
  if (v.checks) lines.push(['Gates:', checks.length ? `of the move to ${escapeTerminal(v.nextState ?? '')}` : '<none>']);
  else lines.push(['Gates:', gates.length ? gates.join(', ') : '<none>']);
  const blocked = v.gates.promoteBlockedBy.map((b) => escapeTerminal(blockerText(b)));
  const may = [`promote: ${yesNo(c, v.allowed.promote)}${blocked.length ? ` (${blocked.join('; ')})` : ''}`, `set-state: ${yesNo(c, v.allowed.setState)}`];
  if (v.allowed.approveNextState !== undefined) may.push(`approve: ${yesNo(c, v.allowed.approveNextState)}`);
  if (v.allowed.overrideNextState !== undefined) may.push(`override: ${yesNo(c, v.allowed.overrideNextState)}`);
  const approvals = (v.approvals ?? []).map((a) => `${escapeTerminal(a.user)} → ${escapeTerminal(a.to)} (${humanDuration(o.now.getTime() - Date.parse(a.time))} ago)`);
  const width = Math.max(...lines.map(([k]) => k.length), 'Approvals:'.length, 'You May:'.length) + 2;
  let out = lines.map(([k, val]) => `${k.padEnd(width)}${val}`).join('\n') + '\n';
  if (checks.length) out += checks.join('\n') + '\n';
  out += checksTable(v, o);
  if (v.approvals) out += `${'Approvals:'.padEnd(width)}${approvals.length ? approvals.join(', ') : '<none>'}\n`;
  out += `${'You May:'.padEnd(width)}${may.join(', ')}\n`;
  out += 'History:';
  if (v.history.length === 0) return out + ' <none>\n';
  const rows = historyRows([...v.history].reverse(), { chalk: c, now: o.now, path: v.path, protectedStates: v.protectedStates });
  out += ' (newest first)\n' + layout(rows).split('\n').map((l) => (l ? `  ${l}` : l)).join('\n');
  return out + earlierEntriesLine(v);
}

/** Each check of the next move, its run so far and when it next measures (after the gates, whose rows carry the server's summary). */
function checksTable(v: CustomResourceState, o: RenderOptions): string {
  const rows = stateCheckRows(v, o.chalk, o.now);
  if (rows.length === 0) return '';
  return 'Checks:\n' + layout(rows).trimEnd().split('\n').map((l) => `  ${l}`).join('\n') + '\n';
}

/** Below the window, when entries before it are archived: how many, and the command that shows them. */
function earlierEntriesLine(v: CustomResourceState): string {
  const first = v.history[0]?.seq;
  if (first === undefined || first <= 1) return '';
  const range = first === 2 ? 'seq 1' : `seq 1–${first - 1}`;
  return `  … and ${entriesText(first - 1)} before these (${range}): kubectl custom history ${escapeTerminal(v.metadata.name)} -n ${escapeTerminal(v.metadata.namespace)}\n`;
}
