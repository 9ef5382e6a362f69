// What doctor prints: the checks grouped, each line ✔, ‼ or × (— when
// skipped) with its message, and under a warning or failure what to do, as
// `linkerd check` lays it out; or every check as JSON (-o json) with id,
// group, status, message and hint. Pure: the tests read it line by line.
import type { ChalkInstance } from 'chalk';
import { escapeTerminal } from '../../output/escape.ts';
import { type CheckResult, type CheckStatus, type Group, GROUP_TITLES } from './check.ts';

const MARK: Record<CheckStatus, string> = { ok: '✔', warn: '‼', fail: '×', skip: '—' };

export interface Summary {
  ok: number;
  warn: number;
  fail: number;
  skip: number;
}

export function summarize(results: readonly CheckResult[]): Summary {
  const s: Summary = { ok: 0, warn: 0, fail: 0, skip: 0 };
  for (const r of results) s[r.status]++;
  return s;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The last line: what the whole run says. */
export function verdict(s: Summary): string {
  if (s.fail) return `× ${plural(s.fail, 'check')} failed${s.warn ? `, ${plural(s.warn, 'warning')}` : ''}: fix what is marked × above, then run kubectl custom doctor again`;
  if (s.warn) return `‼ no check failed, ${plural(s.warn, 'warning')} to look at`;
  return '✔ every check passed';
}

export function renderText(results: readonly CheckResult[], c: ChalkInstance): string {
  const colour: Record<CheckStatus, (s: string) => string> = { ok: c.green, warn: c.yellow, fail: c.red, skip: c.dim };
  const lines: string[] = [];
  let group: Group | undefined;
  for (const r of results) {
    if (r.group !== group) {
      if (group) lines.push('');
      group = r.group;
      lines.push(c.bold(GROUP_TITLES[group]));
      lines.push('-'.repeat(GROUP_TITLES[group].length));
    }
    lines.push(`${colour[r.status](MARK[r.status])} ${escapeTerminal(r.title)}: ${escapeTerminal(r.message)}`);
    if (r.hint && (r.status === 'warn' || r.status === 'fail')) {
      // The fix on the first line; what follows it (log lines, a second command) under it.
      r.hint.split('\n').forEach((h, i) => lines.push(`    ${i === 0 ? c.dim('fix:') : '    '} ${escapeTerminal(h)}`));
    }
  }
  lines.push('', verdict(summarize(results)));
  return lines.join('\n') + '\n';
}

export function renderJson(results: readonly CheckResult[]): string {
  return JSON.stringify({ kind: 'DoctorReport', checks: results.map(({ id, group, title, status, message, hint }) => ({ id, group, title, status, message, ...(hint ? { hint } : {}) })), summary: summarize(results) }, null, 2) + '\n';
}
