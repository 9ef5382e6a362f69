// The check runner's schedule with a fake clock (no test waits for an
// interval), two replicas racing over one object, and what it keeps.
import { describe, expect, it } from 'vitest';
import type { CheckSpec, Measurement, MeasurementPhase } from '../../../api/src/checks.ts';
import type { StoredObject, StoredStatus } from '../../../api/src/types.ts';
import { memoryLogger } from '../log/logger.ts';
import { SPEC_ONLY } from '../state/gate-sources.ts';
import { WriteConflict } from '../store/status-store.ts';
import { CheckRunner, checkEndedMessage, planChecks, withMeasurement, type CheckRunnerDeps } from './check-runner.ts';

const T0 = Date.parse('2026-12-07T10:00:00Z');
const errors: CheckSpec = { name: 'errors', successCondition: 'result[0] < 0.01', prometheus: { address: 'http://prom:9090', query: 'x' }, count: 3, intervalSeconds: 60 };

/** One object in a store of our own: writes need the resourceVersion read, as the CRD's do. */
class Store {
  obj: StoredObject;
  writes = 0;
  constructor(obj: StoredObject) {
    this.obj = obj;
  }
  objects: CheckRunnerDeps['objects'] = {
    hasSynced: true,
    list: () => [this.obj],
    get: () => this.obj,
    subscribe: () => () => {},
  };
  store: CheckRunnerDeps['store'] = {
    fetch: async () => this.obj,
    writeStatus: async (obj: StoredObject, status: StoredStatus) => {
      if (obj.metadata.resourceVersion !== this.obj.metadata.resourceVersion) throw new WriteConflict('changed');
      this.writes++;
      this.obj = { ...this.obj, metadata: { ...this.obj.metadata, resourceVersion: String(Number(this.obj.metadata.resourceVersion) + 1) }, status };
      return this.obj;
    },
  };
}

function object(status: StoredStatus = { state: 'staging', stateSince: new Date(T0).toISOString() }): StoredObject {
  return { apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name: 'checkout', namespace: 'shop', resourceVersion: '1', creationTimestamp: '2026-12-01T00:00:00Z' }, spec: { name: 'Checkout', states: ['dev', 'staging', 'prod'], checks: { prod: [errors] } }, status };
}

function runner(s: Store, clock: { t: number }, phases: MeasurementPhase[]): CheckRunner {
  return new CheckRunner({
    objects: s.objects,
    gates: SPEC_ONLY,
    store: s.store,
    clock: { now: () => new Date(clock.t) },
    log: memoryLogger(),
    measure: async (_c, vars, now): Promise<Measurement> => ({ phase: phases.shift() ?? 'Successful', time: now().toISOString(), value: JSON.stringify({ to: vars.to }) }),
  });
}

describe('the check runner', () => {
  it('measures count times intervalSeconds apart from when the object entered the state before, and not before each is due', async () => {
    const s = new Store(object());
    const clock = { t: T0 + 500 };
    const r = runner(s, clock, ['Successful', 'Successful', 'Successful']);
    expect(await r.reconcile('shop/checkout')).toBe(clock.t + 60_000);
    expect(s.obj.status!.checks).toMatchObject({ from: 'staging', to: 'prod', since: new Date(T0).toISOString(), runs: [{ name: 'errors', source: 'spec', phase: 'Running', measurements: [{ phase: 'Successful' }] }] });
    // Not due again yet: nothing measured or written.
    clock.t += 59_000;
    await r.reconcile('shop/checkout');
    expect(s.writes).toBe(1);
    clock.t += 1_000;
    await r.reconcile('shop/checkout');
    clock.t += 60_000;
    expect(await r.reconcile('shop/checkout')).toBeUndefined();
    expect(s.writes).toBe(3);
    expect(s.obj.status!.checks!.runs[0]).toMatchObject({ phase: 'Successful' });
    expect(s.obj.status!.checks!.runs[0]!.nextMeasurementAt).toBeUndefined();
    expect(s.obj.status!.checks!.runs[0]!.measurements).toHaveLength(3);
  });

  it('a failure beyond failureLimit ends the run Failed; a new run starts an interval later, keeping what failed', async () => {
    const s = new Store(object());
    const clock = { t: T0 };
    const ended: string[] = [];
    const r = new CheckRunner({
      objects: s.objects,
      gates: SPEC_ONLY,
      store: s.store,
      clock: { now: () => new Date(clock.t) },
      log: memoryLogger(),
      measure: async (_c, _v, now) => ({ phase: ended.length ? 'Successful' : 'Failed', time: now().toISOString(), value: '{"result":[0.5]}' }),
      runEnded: (_o, runs, run) => ended.push(checkEndedMessage(runs, run)),
    });
    expect(await r.reconcile('shop/checkout')).toBe(T0 + 60_000);
    expect(ended).toEqual(['check errors (spec) of the move staging → prod failed: {"result":[0.5]}']);
    expect(s.obj.status!.checks!.runs[0]).toMatchObject({ phase: 'Failed', nextMeasurementAt: new Date(T0 + 60_000).toISOString() });
    clock.t += 30_000;
    await r.reconcile('shop/checkout');
    expect(s.writes).toBe(1);
    clock.t += 30_000;
    await r.reconcile('shop/checkout');
    expect(s.obj.status!.checks!.runs[0]).toMatchObject({ phase: 'Running', attempt: 2, previous: { phase: 'Failed', time: new Date(T0).toISOString() }, measurements: [{ phase: 'Successful' }] });
  });

  it('two replicas measuring at once record one measurement: the second write conflicts, and the run no longer wants its measurement', async () => {
    const s = new Store(object());
    const clock = { t: T0 };
    const a = runner(s, clock, ['Successful']);
    const b = runner(s, clock, ['Failed']);
    await Promise.all([a.reconcile('shop/checkout'), b.reconcile('shop/checkout')]);
    expect(s.writes).toBe(1);
    expect(s.obj.status!.checks!.runs[0]!.measurements).toHaveLength(1);
  });

  it('a new stay starts new runs; a state with nothing to check next has none', async () => {
    const s = new Store(object());
    const clock = { t: T0 };
    const r = runner(s, clock, ['Failed', 'Successful']);
    await r.reconcile('shop/checkout');
    expect(s.obj.status!.checks!.runs[0]!.phase).toBe('Failed');
    // Rolled back to dev and promoted to staging again: a new stay.
    clock.t += 120_000;
    s.obj = { ...s.obj, status: { ...s.obj.status, state: 'staging', stateSince: new Date(clock.t).toISOString() } };
    await r.reconcile('shop/checkout');
    expect(s.obj.status!.checks).toMatchObject({ since: new Date(clock.t).toISOString(), runs: [{ phase: 'Running', measurements: [{ phase: 'Successful' }] }] });
    s.obj = { ...s.obj, status: { ...s.obj.status, state: 'prod' } };
    await r.reconcile('shop/checkout');
    expect(s.obj.status!.checks).toBeUndefined();
  });

  it('a measurement that throws is recorded as an Error, never a pass', async () => {
    const s = new Store(object());
    const r = new CheckRunner({ objects: s.objects, gates: SPEC_ONLY, store: s.store, clock: { now: () => new Date(T0) }, log: memoryLogger(), measure: () => Promise.reject(new Error('connection refused')) });
    await r.reconcile('shop/checkout');
    expect(s.obj.status!.checks!.runs[0]!.measurements[0]).toMatchObject({ phase: 'Error', message: 'connection refused' });
    expect(s.obj.status!.checks!.runs[0]!.phase).toBe('Running');
  });
});

describe('what a run keeps', () => {
  it('errors followed by a measurement are dropped; trailing ones (which count) are kept, and texts are cut to 1,024 characters', () => {
    const obj = object();
    const plan = planChecks(obj, SPEC_ONLY.effective(obj).checks, new Date(T0));
    const c = SPEC_ONLY.effective(obj).checks.get('prod')![0]!;
    let run = plan.runs!.runs[0]!;
    const at = (i: number) => new Date(T0 + i * 60_000).toISOString();
    run = withMeasurement(run, c, { phase: 'Error', time: at(0), message: 'x'.repeat(5000) });
    expect(run.measurements[0]!.message).toHaveLength(1024);
    run = withMeasurement(run, c, { phase: 'Successful', time: at(1) });
    expect(run.measurements.map((m) => m.phase)).toEqual(['Successful']);
    for (let i = 2; i < 9; i++) run = withMeasurement(run, c, { phase: 'Error', time: at(i) });
    expect(run.measurements.map((m) => m.phase)).toEqual(['Successful', 'Error', 'Error', 'Error', 'Error', 'Error']);
    expect(run.phase).toBe('Error');
  });
});
