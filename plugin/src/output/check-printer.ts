// Verification checks on the terminal (issue 21): describe-state's Checks
// table, `kubectl custom check`'s report and the DETAILS of a move's history
// entry, in the result words of gate-words.ts, which the dashboard's page
// shares, so a check reads the same everywhere. Values come from Prometheus
// or an HTTP body and are shown escaped for the terminal and cut to
// VALUE_WIDTH in tables (-o json|yaml keep them whole).
import type { ChalkInstance } from 'chalk';
import type { CheckReport, CheckReportItem, RecordedCheck } from '../../../api/src/checks.ts';
import { humanDuration } from '../../../api/src/human-duration.ts';
import type { CheckGateRun, CustomResourceState, GateCheck } from '../../../api/src/types.ts';
import { escapeTerminal } from './escape.ts';
import { checkResultWord, gateSourceText } from './gate-words.ts';
import { layout } from './table-printer.ts';

/** A value longer than this is cut with `…` in check's table (describe-state's, with more columns, cuts shorter). */
export const VALUE_WIDTH = 40;

/** The word coloured: green pass, red fail and error, yellow inconclusive and pending. */
export function colouredResult(phase: string, c: ChalkInstance): string {
  const word = escapeTerminal(checkResultWord(phase));
  if (phase === 'Successful') return c.green(word);
  if (phase === 'Failed' || phase === 'Error') return c.red(word);
  return c.yellow(word);
}

/** `s` escaped for the terminal and, when longer than `width` characters, cut with `…`. */
export function cut(s: string, width = VALUE_WIDTH): string {
  const chars = Array.from(escapeTerminal(s));
  return chars.length > width ? chars.slice(0, width - 1).join('') + '…' : chars.join('');
}

/** `5m ago`, or the time itself when it is not one. */
function ago(time: string, now: Date): string {
  const t = Date.parse(time);
  return Number.isFinite(t) ? `${humanDuration(now.getTime() - t)} ago` : escapeTerminal(time);
}

/** `in 3m` (a part of a second counts as one: never `in 0s`), `due` once the time has come, or the time itself when it is not one. */
function until(time: string, now: Date): string {
  const t = Date.parse(time);
  if (!Number.isFinite(t)) return escapeTerminal(time);
  const left = t - now.getTime();
  return left <= 0 ? 'due' : `in ${humanDuration(Math.ceil(left / 1000) * 1000)}`;
}

/** The checks gates of describe-state that carry a run (one per check of the next move). */
export function checkGates(v: Pick<CustomResourceState, 'checks'>): (GateCheck & { check: CheckGateRun })[] {
  return (v.checks ?? []).filter((g): g is GateCheck & { check: CheckGateRun } => g.gate === 'checks' && g.check !== undefined);
}

const STATE_CHECK_COLUMNS = ['CHECK', 'SOURCE', 'RESULT', 'MEASURED', 'LAST VALUE', 'LAST RUN', 'NEXT RUN', 'MESSAGE'] as const;

/**
 * describe-state's Checks table: per check of the next move, where it comes
 * from, its run's result, measurements so far of `count`, the newest
 * measurement's value, when it was taken and what it said, and when the next
 * is due.
 */
export function stateCheckRows(v: Pick<CustomResourceState, 'checks'>, c: ChalkInstance, now: Date): string[][] {
  const gates = checkGates(v);
  if (gates.length === 0) return [];
  return [
    [...STATE_CHECK_COLUMNS],
    ...gates.map(({ check: k, sources }) => [
      escapeTerminal(k.name),
      escapeTerminal(sources.map(gateSourceText).join(', ')),
      colouredResult(k.phase, c),
      `${k.measured}/${k.count}`,
      k.last?.value !== undefined ? cut(k.last.value, 32) : '',
      k.last ? ago(k.last.time, now) : '',
      k.nextMeasurementAt ? until(k.nextMeasurementAt, now) : '',
      // Last, so never cut: an error's cause is often at its end.
      escapeTerminal(k.last?.message ?? ''),
    ]),
  ];
}

/**
 * What a measurement of `kubectl custom check` says: the server's message
 * when it gave one, else which condition held (Argo Rollouts' semantics: with
 * a failureCondition, Failed means it held and Inconclusive that neither did).
 */
export function measurementText(item: CheckReportItem): string {
  const m = item.measurement;
  if (m.message) return m.message;
  const success = item.successCondition;
  const failure = item.failureCondition;
  switch (m.phase) {
    case 'Successful':
      return `${success} holds`;
    case 'Failed':
      return failure ? `${failure} holds` : `${success} does not hold`;
    case 'Inconclusive':
      return `neither ${success} nor ${failure ?? 'the failure condition'} holds`;
    default:
      return '';
  }
}

const REPORT_COLUMNS = ['CHECK', 'SOURCE', 'RESULT', 'VALUE', 'MESSAGE'] as const;

/** `kubectl custom check`'s table: one row per check, measured once now. */
export function renderCheckReport(r: CheckReport, c: ChalkInstance): string {
  return layout([
    [...REPORT_COLUMNS],
    ...r.results.map((item) => [
      escapeTerminal(item.name),
      escapeTerminal(item.source),
      colouredResult(item.measurement.phase, c),
      item.measurement.value !== undefined ? cut(item.measurement.value) : '',
      escapeTerminal(measurementText(item)),
    ]),
  ]);
}

/** A move's recorded checks in a history entry's DETAILS: `checks error-rate pass [0.004], no-alerts fail`. Escaped. */
export function recordedChecksText(checks: readonly RecordedCheck[] | undefined): string {
  if (!checks?.length) return '';
  const one = (k: RecordedCheck) => `${escapeTerminal(k.name)} ${escapeTerminal(checkResultWord(k.phase))}${k.value !== undefined ? ` ${cut(k.value, 16)}` : ''}`;
  return `checks ${checks.map(one).join(', ')}`;
}
