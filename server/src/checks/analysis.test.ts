import { describe, expect, it } from 'vitest';
import type { CheckSpec, Measurement, MeasurementPhase } from '../../../api/src/checks.ts';
import { nextMeasurementAt, runPhase } from './analysis.ts';

const check = (over: Partial<CheckSpec> = {}): CheckSpec => ({ name: 'errors', successCondition: 'result[0] < 0.01', prometheus: { address: 'http://p', query: 'x' }, ...over });
const T0 = Date.parse('2026-12-07T10:00:00Z');
const ms = (...phases: MeasurementPhase[]): Measurement[] => phases.map((phase, i) => ({ phase, time: new Date(T0 + i * 60_000).toISOString() }));

describe('a check run, judged as Argo Rollouts judges a metric', () => {
  it.each([
    ['no measurement yet', {}, [], 'Running'],
    ['one success of one', {}, ['Successful'], 'Successful'],
    ['one failure, no failures tolerated', {}, ['Failed'], 'Failed'],
    ['three of five so far', { count: 5 }, ['Successful', 'Successful', 'Successful'], 'Running'],
    ['five of five', { count: 5 }, ['Successful', 'Successful', 'Successful', 'Successful', 'Successful'], 'Successful'],
    ['a failure within failureLimit', { count: 3, failureLimit: 1 }, ['Successful', 'Failed', 'Successful'], 'Successful'],
    ['failures beyond failureLimit', { count: 5, failureLimit: 1 }, ['Failed', 'Successful', 'Failed'], 'Failed'],
    ['an inconclusive one, none tolerated', { count: 3 }, ['Successful', 'Inconclusive'], 'Inconclusive'],
    ['an inconclusive one within inconclusiveLimit', { count: 2, inconclusiveLimit: 1 }, ['Inconclusive', 'Successful'], 'Successful'],
    ['errors are measured again and never count as a pass', { count: 1 }, ['Error', 'Error'], 'Running'],
    ['five errors in a row: the run errs', {}, ['Error', 'Error', 'Error', 'Error', 'Error'], 'Error'],
    ['four errors then a success', {}, ['Error', 'Error', 'Error', 'Error', 'Successful'], 'Successful'],
  ] as const)('%s', (_name, over, phases, want) => {
    expect(runPhase(check(over), ms(...phases))).toBe(want);
  });

  it('the next measurement: at the start, then intervalSeconds after the last, none once the run is over', () => {
    const c = check({ count: 3, intervalSeconds: 30 });
    expect(nextMeasurementAt(c, [], T0)).toBe(T0);
    expect(nextMeasurementAt(c, ms('Successful'), T0)).toBe(T0 + 30_000);
    expect(nextMeasurementAt(c, ms('Successful', 'Failed'), T0)).toBeUndefined();
    expect(nextMeasurementAt(check({ count: 2 }), ms('Successful'), T0)).toBe(T0 + 60_000);
  });
});
