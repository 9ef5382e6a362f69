// A check's run, as Argo Rollouts' analysis controller judges an
// AnalysisRun's metric (pkg/analysis: assessMetricStatus, and when the next
// measurement is due): pure, from the check and the measurements so far.
import { CHECK_DEFAULTS, CONSECUTIVE_ERROR_LIMIT, type CheckSpec, type Measurement, type RunPhase } from '../../../api/src/checks.ts';

/** The run's phase: Failed once more than failureLimit failed, Inconclusive once more than inconclusiveLimit were, Error after more than CONSECUTIVE_ERROR_LIMIT errors in a row, Successful once `count` measurements stand, else Running. */
export function runPhase(check: CheckSpec, ms: readonly Measurement[]): RunPhase {
  const failureLimit = check.failureLimit ?? CHECK_DEFAULTS.failureLimit;
  const inconclusiveLimit = check.inconclusiveLimit ?? CHECK_DEFAULTS.inconclusiveLimit;
  const count = check.count ?? CHECK_DEFAULTS.count;
  const n = (p: Measurement['phase']) => ms.filter((m) => m.phase === p).length;
  if (n('Failed') > failureLimit) return 'Failed';
  if (n('Inconclusive') > inconclusiveLimit) return 'Inconclusive';
  let errorsInARow = 0;
  for (let i = ms.length - 1; i >= 0 && ms[i]!.phase === 'Error'; i--) errorsInARow++;
  if (errorsInARow > CONSECUTIVE_ERROR_LIMIT) return 'Error';
  // Unlike Argo, an Error is measured again and does not count towards `count`: an error never passes a gate.
  if (ms.length - n('Error') >= count) return 'Successful';
  return 'Running';
}

/** When the next measurement is due (ms since the epoch), or undefined when the run is over. The first is due at `start`. */
export function nextMeasurementAt(check: CheckSpec, ms: readonly Measurement[], start: number): number | undefined {
  if (runPhase(check, ms) !== 'Running') return undefined;
  const last = ms.at(-1);
  if (!last) return start;
  return Date.parse(last.time) + (check.intervalSeconds ?? CHECK_DEFAULTS.intervalSeconds) * 1000;
}
