// Checks as gates, the pure rules: which checks a move into a state has
// (the object's spec.checks for that state, and every GatePolicy rule that
// selects the object and names the state), what identifies a run of one (its
// key), and what the runs recorded in status.checks say of a move now. The
// controller (controllers/check-runner.ts) measures; the write path decides
// with checkVerdicts; admission compares checkKeys before and after an edit.
import { createHash } from 'node:crypto';
import { CHECK_DEFAULTS, type CheckRun, type CheckSpec, type RecordedCheck, type RunPhase } from '../../../api/src/checks.ts';
import { canonicalJson } from '../../../api/src/history-chain.ts';
import type { CheckGateRun, GateSource, StoredStatus } from '../../../api/src/types.ts';
import type { TemplateVars } from '../checks/template.ts';
import type { TransitionCause } from './refusal.ts';

/** A check that gates a move into a state, and where it comes from. */
export interface EffectiveCheck {
  check: CheckSpec;
  source: GateSource;
  /** The namespace its Secrets are read from: the object's for a spec's check, the GatePolicy's for a rule's. */
  secretNamespace: string;
}

/** How the trail and describe-state name a check's source: `spec`, or `GatePolicy NS/NAME`. */
export function checkSourceName(s: GateSource): string {
  return s.kind === 'spec' ? 'spec' : `GatePolicy ${s.namespace}/${s.name}`;
}

/**
 * What identifies a check as written: its source and its definition, and,
 * given the object's labels, the values of those its query or URL names
 * ({{labels.KEY}}): relabelling an object changes what such a check
 * measures (another app's healthy series), so admission counts it as a
 * change of the check.
 */
export function checkIdentity(c: EffectiveCheck, labels?: Readonly<Record<string, string>>): string {
  const id = `${checkSourceName(c.source)}: ${canonicalJson(c.check)}`;
  if (!labels) return id;
  const template = c.check.prometheus?.query ?? c.check.http?.url ?? '';
  const used = [...template.matchAll(/\{\{\s*labels\.([A-Za-z0-9_./-]+)\s*\}\}/g)].map((m) => m[1]!);
  return used.length ? `${id} ${canonicalJson(Object.fromEntries(used.map((k) => [k, labels[k] ?? ''])))}` : id;
}

/**
 * The key of a run: the check as written, its source, the move and the
 * object's labels (which its query or URL may name). A run counts only while
 * its key is the check's key now, so a changed check, a changed label or
 * another move starts a new run.
 */
export function runKey(c: EffectiveCheck, vars: TemplateVars): string {
  const id = canonicalJson({ check: checkIdentity(c), from: vars.from, to: vars.to, labels: vars.labels, name: vars.name, namespace: vars.namespace });
  return createHash('sha256').update(id).digest('hex').slice(0, 16);
}

/** The runs recorded for the move `from` → `to` of a stay in `from` that began at `since`. */
export function runsOfMove(status: StoredStatus | undefined, from: string, to: string, since: string | undefined): CheckRun[] {
  const c = status?.checks;
  if (!c || c.from !== from || c.to !== to || c.since !== (since ?? '')) return [];
  return c.runs;
}

/** What one check says of a move now. */
export interface CheckVerdict {
  check: EffectiveCheck;
  /** Running when no run has begun. */
  phase: RunPhase;
  run?: CheckRun;
}

export function checkVerdicts(checks: readonly EffectiveCheck[], runs: readonly CheckRun[], vars: TemplateVars): CheckVerdict[] {
  return checks.map((check) => {
    const key = runKey(check, vars);
    const run = runs.find((r) => r.key === key && r.name === check.check.name);
    return { check, phase: run?.phase ?? 'Running', ...(run ? { run } : {}) };
  });
}

/** Whether a verdict lets the move through: Successful, or Inconclusive with an approval of the move. */
export function verdictPasses(v: CheckVerdict, approved: boolean): boolean {
  return v.phase === 'Successful' || (v.phase === 'Inconclusive' && approved);
}

function countOf(c: CheckSpec): number {
  return c.count ?? CHECK_DEFAULTS.count;
}

/** Measurements of a run that count toward `count` (errors are measured again). */
function measuredOf(run: CheckRun | undefined): number {
  return (run?.measurements ?? []).filter((m) => m.phase !== 'Error').length;
}

/** The 422 cause of a check that does not let a move into `to` through. */
export function checkCause(to: string, v: CheckVerdict, measuredIn?: string): TransitionCause {
  const { check: c } = v.check;
  const name = `check ${JSON.stringify(c.name)} (${checkSourceName(v.check.source)})`;
  const last = v.run?.measurements.at(-1) ?? v.run?.previous;
  const lastText = last ? `; last measured ${last.time}${last.value !== undefined ? `: ${last.value}` : ''}${last.message ? ` (${last.message})` : ''}` : '';
  const when = v.run?.nextMeasurementAt ? `, next at ${v.run.nextMeasurementAt}` : '';
  let message: string;
  if (measuredIn !== undefined && !v.run) {
    message = `${name} of the move into ${JSON.stringify(to)} is measured while the object is in ${JSON.stringify(measuredIn)}, the state before it: move through ${JSON.stringify(measuredIn)}, or break glass with --override`;
    return { field: 'checks', reason: 'FieldValueForbidden', message: `Forbidden: ${message}` };
  }
  switch (v.phase) {
    case 'Running':
      message = `${name} of the move into ${JSON.stringify(to)} has not passed yet: ${measuredOf(v.run)} of ${countOf(c)} measurement${countOf(c) === 1 ? '' : 's'} of ${c.successCondition} taken${v.run?.attempt ? ` in run ${v.run.attempt} (the one before did not pass)` : ''}${when}${lastText}`;
      break;
    case 'Failed':
      message = `${name} failed: ${c.successCondition} did not hold${lastText}; it runs again${v.run?.nextMeasurementAt ? ` at ${v.run.nextMeasurementAt}` : ''}, and --override breaks glass`;
      break;
    case 'Inconclusive':
      message = `${name} is inconclusive${lastText}: a move past an inconclusive check needs an approval (kubectl custom approve) or --override`;
      break;
    default:
      message = `${name} could not be measured${lastText}; an error never passes a gate: fix the check or what it asks, or break glass with --override`;
  }
  return { field: 'checks', reason: 'FieldValueForbidden', message: `Forbidden: ${message}` };
}

/** The move's checks as its history entry keeps them. */
export function recordedChecks(verdicts: readonly CheckVerdict[]): RecordedCheck[] {
  return verdicts.map((v) => {
    const last = v.run?.measurements.at(-1);
    return {
      name: v.check.check.name,
      source: checkSourceName(v.check.source),
      phase: v.phase,
      ...(last?.value !== undefined ? { value: last.value } : {}),
      ...(last ? { time: last.time } : {}),
    };
  });
}

/** A check as describe-state shows it. */
export function checkGateRun(v: CheckVerdict): CheckGateRun {
  const c = v.check.check;
  const last = v.run?.measurements.at(-1);
  return {
    name: c.name,
    provider: c.prometheus ? 'prometheus' : 'http',
    successCondition: c.successCondition,
    phase: v.phase,
    measured: measuredOf(v.run),
    count: countOf(c),
    ...(last ? { last } : {}),
    ...(v.run?.nextMeasurementAt ? { nextMeasurementAt: v.run.nextMeasurementAt } : {}),
  };
}

/** What a move's checks are measured against: the object and the move. */
export function templateVars(obj: { metadata: { name: string; namespace: string; labels?: Record<string, string> } }, from: string, to: string): TemplateVars {
  return { name: obj.metadata.name, namespace: obj.metadata.namespace, labels: obj.metadata.labels ?? {}, from, to };
}

/** What the checks of `to` say of the move `from` → `to` of an object whose stay in `from` began at `since`. */
export function verdictsOfMove(
  obj: { metadata: { name: string; namespace: string; labels?: Record<string, string> }; status?: StoredStatus },
  checks: ReadonlyMap<string, readonly EffectiveCheck[]>,
  from: string,
  to: string,
  since: string | undefined,
): CheckVerdict[] {
  const list = checks.get(to);
  if (!list?.length) return [];
  return checkVerdicts(list, runsOfMove(obj.status, from, to, since), templateVars(obj, from, to));
}
