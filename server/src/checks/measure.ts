// One measurement of a check: ask its provider, then judge the answer with
// its conditions, as Argo Rollouts judges a metric's measurement:
// Successful when successCondition holds; Failed when failureCondition holds
// or, without one, when successCondition does not; Inconclusive when both are
// given and neither holds. Anything that goes wrong (the provider cannot be
// reached, the query fails, the answer is not a number, a condition cannot
// be evaluated) is an Error with its reason: recorded, and never a pass.
import { CHECK_DEFAULTS, type CheckSpec, type Measurement } from '../../../api/src/checks.ts';
import { evaluateCondition } from './condition.ts';
import { type CheckSecrets, measureHttp, measurePrometheus } from './providers.ts';
import type { TemplateVars } from './template.ts';

export async function measure(check: CheckSpec, vars: TemplateVars, secrets: CheckSecrets, now: () => Date): Promise<Measurement> {
  const time = () => now().toISOString();
  const timeoutMs = (check.timeoutSeconds ?? CHECK_DEFAULTS.timeoutSeconds) * 1000;
  let answer: Record<string, unknown>;
  try {
    if (check.prometheus) answer = await measurePrometheus(check, vars, secrets, timeoutMs);
    else if (check.http) answer = await measureHttp(check, vars, secrets, timeoutMs);
    else return { phase: 'Error', time: time(), message: `check ${check.name} names no provider (prometheus or http)` };
  } catch (e) {
    return { phase: 'Error', time: time(), message: e instanceof Error ? e.message : String(e) };
  }
  const value = JSON.stringify(answer);
  try {
    if (evaluateCondition(check.successCondition, answer)) return { phase: 'Successful', time: time(), value };
    if (check.failureCondition === undefined) return { phase: 'Failed', time: time(), value, message: `${check.successCondition} is false` };
    if (evaluateCondition(check.failureCondition, answer)) return { phase: 'Failed', time: time(), value, message: `${check.failureCondition} is true` };
    return { phase: 'Inconclusive', time: time(), value, message: `neither ${check.successCondition} nor ${check.failureCondition} holds` };
  } catch (e) {
    return { phase: 'Error', time: time(), value, message: `the condition cannot be evaluated on ${value}: ${e instanceof Error ? e.message : String(e)}` };
  }
}
