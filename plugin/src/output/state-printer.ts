// describe-state, for people: where the object stands on its path, what
// stands between it and the next state, what the caller may do, and its
// history as a table.
import type { ChalkInstance } from 'chalk';
import { humanDuration } from '../../../api/src/human-duration.ts';
import type { CustomResourceState } from '../../../api/src/types.ts';
import { statePalette } from './color.ts';
import { layout } from './table-printer.ts';

export interface RenderOptions {
  chalk: ChalkInstance;
  now: Date;
}

function yesNo(c: ChalkInstance, v: boolean): string {
  return v ? c.green('yes') : c.red('no');
}

const BLOCKERS: Record<string, string> = {
  'invalid-state': 'the current state is not in the path',
  'last-state': 'already at the last state',
  soak: 'soak time not served',
  permission: 'no permission to promote',
  'enter-permission': 'no permission to enter the next state',
};

/** `dev → [staging] → prod*`: the current state in brackets, protected states starred. */
export function renderPath(v: Pick<CustomResourceState, 'path' | 'state' | 'protectedStates' | 'valid'>, c: ChalkInstance): string {
  const palette = statePalette(c);
  const parts = v.path.map((s) => {
    const name = palette.state(s, v.path, v.protectedStates) + (v.protectedStates.includes(s) ? '*' : '');
    return s === v.state ? c.bold(`[${name}]`) : name;
  });
  const line = parts.join(' → ');
  return v.valid ? line : `${line}   (current: ${c.red(v.state)}, not in the path)`;
}

export function renderStateView(v: CustomResourceState, o: RenderOptions): string {
  const c = o.chalk;
  const palette = statePalette(c);
  const lines: [string, string][] = [];
  lines.push(['Name:', v.metadata.name]);
  lines.push(['Namespace:', v.metadata.namespace]);
  lines.push(['Display Name:', v.displayName]);
  const since = v.stateSince ? ` for ${humanDuration(o.now.getTime() - Date.parse(v.stateSince))} (since ${v.stateSince})` : '';
  lines.push(['State:', `${v.valid ? palette.state(v.state, v.path, v.protectedStates) : c.red(`${v.state} (invalid)`)}${since}`]);
  lines.push(['Path:', renderPath(v, c) + (v.protectedStates.length ? c.dim('   (* protected)') : '')]);
  if (!v.valid && v.message) lines.push(['Problem:', c.red(v.message)]);
  lines.push(['Next:', v.nextState ? palette.state(v.nextState, v.path, v.protectedStates) + (v.gates.nextStateProtected ? ' (protected: needs the enter permission and a reason)' : '') : '<none>']);
  const gates: string[] = [];
  if (v.gates.minSoakSeconds > 0) {
    const need = humanDuration(v.gates.minSoakSeconds * 1000);
    gates.push(v.gates.soakRemainingSeconds > 0 ? c.yellow(`soak: ${humanDuration(v.gates.soakRemainingSeconds * 1000)} left of ${need}`) : `soak: ${need} served`);
  }
  if (v.gates.reasonRequired) gates.push('reason required');
  lines.push(['Gates:', gates.length ? gates.join(', ') : '<none>']);
  const blocked = v.gates.promoteBlockedBy.map((b) => BLOCKERS[b] ?? b);
  lines.push(['You May:', `promote: ${yesNo(c, v.allowed.promote)}${blocked.length ? ` (${blocked.join('; ')})` : ''}, set-state: ${yesNo(c, v.allowed.setState)}`]);
  const width = Math.max(...lines.map(([k]) => k.length)) + 2;
  let out = lines.map(([k, val]) => `${k.padEnd(width)}${val}`).join('\n') + '\n';
  out += 'History:';
  if (v.history.length === 0) return out + ' <none>\n';
  const rows: string[][] = [['AGE', 'TIME', 'ACTION', 'FROM', 'TO', 'USER', 'REASON']];
  for (const h of [...v.history].reverse()) {
    rows.push([
      humanDuration(o.now.getTime() - Date.parse(h.time)),
      h.time,
      h.action,
      h.from ? palette.state(h.from, v.path, v.protectedStates) : '',
      h.to ? palette.state(h.to, v.path, v.protectedStates) : '',
      h.user,
      h.reason ?? '',
    ]);
  }
  return out + ' (newest first)\n' + layout(rows).split('\n').map((l) => (l ? `  ${l}` : l)).join('\n');
}
