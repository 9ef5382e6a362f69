// Runs the checks of every object's next move, on their schedule, and records
// each measurement in the object's status.checks, which the write path
// decides from (state/check-gates.ts). A run starts when the object enters
// the state before the checked one (the controller sees the change within
// moments) and measures `count` times `intervalSeconds` apart, as Argo
// Rollouts' analysis controller measures a metric.
//
// Every replica runs it. A measurement is written with the resourceVersion
// it was planned on as precondition; a replica that loses the race reads the
// object again and keeps its measurement only if the run still wanted one
// (none was recorded meanwhile), so two replicas never count twice and a
// crash loses at most a measurement in flight, which is taken again.
//
// planChecks is pure and takes `now`: the schedule is tested with a fake
// clock, and no test waits for an interval to pass.
import { CHECK_DEFAULTS, CONSECUTIVE_ERROR_LIMIT, type CheckRun, type CheckRuns, type Measurement } from '../../../api/src/checks.ts';
import { canonicalJson } from '../../../api/src/history-chain.ts';
import type { StoredObject, StoredStatus } from '../../../api/src/types.ts';
import { nextMeasurementAt, runPhase } from '../checks/analysis.ts';
import type { CheckSecrets } from '../checks/providers.ts';
import type { TemplateVars } from '../checks/template.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log/logger.ts';
import { checkSourceName, runKey, runsOfMove, templateVars, type EffectiveCheck } from '../state/check-gates.ts';
import type { GateSources } from '../state/gate-sources.ts';
import { nextStateOf, positionOf } from '../state/position.ts';
import { WriteConflict } from '../store/status-store.ts';

/** A measurement due: which run (by its index in the planned runs) and of which check. */
export interface DueMeasurement {
  index: number;
  check: EffectiveCheck;
  vars: TemplateVars;
  /** The run's key (runKey of the check and vars). */
  key: string;
}

export interface CheckPlan {
  /** What status.checks should hold now (undefined: nothing to check; the field goes). */
  runs: CheckRuns | undefined;
  /** Whether status.checks differs from `runs` (a new move, a changed check): written even without a measurement. */
  changed: boolean;
  due: DueMeasurement[];
  /** The next time a measurement falls due (epoch ms), when there is one after `now`. */
  wake?: number;
}

const MAX_TEXT = 1024;
const clip = (s: string) => (s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT - 1)}…` : s);

/** The runs the object should have now, from what status.checks holds and the checks of its next move. */
export function planChecks(obj: StoredObject, checks: ReadonlyMap<string, readonly EffectiveCheck[]>, now: Date): CheckPlan {
  const pos = positionOf(obj.spec, obj.status, obj.metadata.creationTimestamp);
  const next = obj.metadata.deletionTimestamp ? undefined : nextStateOf(obj.spec, pos);
  const list = next !== undefined ? (checks.get(next) ?? []) : [];
  if (next === undefined || list.length === 0) return { runs: undefined, changed: obj.status?.checks !== undefined, due: [] };
  const since = pos.since ?? '';
  const recorded = runsOfMove(obj.status, pos.state, next, since);
  const vars = templateVars(obj, pos.state, next);
  const due: DueMeasurement[] = [];
  let wake: number | undefined;
  const runs = list.map((check, index): CheckRun => {
    const key = runKey(check, vars);
    let had = recorded.find((r) => r.key === key && r.name === check.check.name);
    // A run that Failed or erred starts again an interval after its last measurement.
    if (had && (had.phase === 'Failed' || had.phase === 'Error')) {
      const last = had.measurements.at(-1);
      const again = Date.parse(last?.time ?? had.startedAt) + (check.check.intervalSeconds ?? CHECK_DEFAULTS.intervalSeconds) * 1000;
      if (again > now.getTime()) {
        wake = Math.min(wake ?? again, again);
        return { ...had, nextMeasurementAt: new Date(again).toISOString() };
      }
      had = { ...had, startedAt: now.toISOString(), measurements: [], attempt: (had.attempt ?? 1) + 1, ...(last ? { previous: last } : {}) };
    }
    const startedAt = had?.startedAt ?? now.toISOString();
    const measurements = had?.measurements ?? [];
    const at = nextMeasurementAt(check.check, measurements, Date.parse(startedAt));
    if (at !== undefined) {
      if (at <= now.getTime()) due.push({ index, check, vars, key });
      else wake = Math.min(wake ?? at, at);
    }
    return {
      name: check.check.name,
      source: checkSourceName(check.source),
      key,
      phase: runPhase(check.check, measurements),
      startedAt,
      measurements,
      ...(at !== undefined ? { nextMeasurementAt: new Date(at).toISOString() } : {}),
      ...(had?.attempt !== undefined ? { attempt: had.attempt } : {}),
      ...(had?.previous ? { previous: had.previous } : {}),
    };
  });
  const planned: CheckRuns = { from: pos.state, to: next, since, runs };
  return { runs: planned, changed: canonicalJson(planned) !== canonicalJson(obj.status?.checks ?? null), due, ...(wake !== undefined ? { wake } : {}) };
}

/**
 * A run with a new measurement: its phase and next time again. Errors
 * followed by a measurement that is not one are dropped (they no longer
 * count: only errors in a row at the end do), so a run keeps at most the
 * measurements its limits allow.
 */
export function withMeasurement(run: CheckRun, check: EffectiveCheck, m: Measurement): CheckRun {
  const all = [...run.measurements, { ...m, ...(m.value !== undefined ? { value: clip(m.value) } : {}), ...(m.message !== undefined ? { message: clip(m.message) } : {}) }];
  let trailing = 0;
  while (trailing < all.length && all[all.length - 1 - trailing]!.phase === 'Error') trailing++;
  const measurements = [...all.slice(0, all.length - trailing).filter((x) => x.phase !== 'Error'), ...all.slice(all.length - Math.min(trailing, CONSECUTIVE_ERROR_LIMIT + 1))];
  const phase = runPhase(check.check, measurements);
  // A run that Failed or erred starts again an interval after this measurement (planChecks).
  const at = phase === 'Failed' || phase === 'Error' ? Date.parse(m.time) + (check.check.intervalSeconds ?? CHECK_DEFAULTS.intervalSeconds) * 1000 : nextMeasurementAt(check.check, measurements, Date.parse(run.startedAt));
  const { nextMeasurementAt: _old, ...rest } = run;
  return { ...rest, phase, measurements, ...(at !== undefined ? { nextMeasurementAt: new Date(at).toISOString() } : {}) };
}

/** What the runner needs: the objects, their gates, a status writer, and how to measure. */
export interface CheckRunnerDeps {
  objects: {
    readonly hasSynced: boolean;
    list(): readonly StoredObject[];
    get(namespace: string, name: string): StoredObject | undefined;
    subscribe(sub: { onEvent(ev: { object: StoredObject }): void }): () => void;
  };
  gates: GateSources;
  store: {
    fetch(namespace: string, name: string): Promise<StoredObject | undefined>;
    writeStatus(obj: StoredObject, status: StoredStatus): Promise<StoredObject>;
  };
  /** Takes one measurement (checks/measure.ts's measure, with the Secrets read). */
  measure(check: EffectiveCheck, vars: TemplateVars, now: () => Date): Promise<Measurement>;
  clock: Clock;
  log: Logger;
  /** Counts a measurement taken, by provider and phase. */
  counted?(provider: string, phase: string): void;
  /** A run has just ended without passing (Failed, Inconclusive or Error): told once, by the replica whose write recorded it (a Warning Event). */
  runEnded?(obj: StoredObject, runs: CheckRuns, run: CheckRun): void;
  /** The longest time between two looks at every object (new GatePolicy checks, a lost wake-up). */
  resyncMs?: number;
}

/** Measurements taken at once, across objects. */
const CONCURRENCY = 16;

export class CheckRunner {
  private readonly d: CheckRunnerDeps;
  private readonly queue = new Set<string>();
  private pumping: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private wakeAt: number | undefined;
  private stopped = false;

  constructor(deps: CheckRunnerDeps) {
    this.d = deps;
  }

  start(): void {
    this.unsubscribe = this.d.objects.subscribe({
      onEvent: (ev) => {
        if (ev.object.status?.checks || this.d.gates.mayHaveChecks(ev.object)) this.enqueue([`${ev.object.metadata.namespace}/${ev.object.metadata.name}`]);
      },
    });
    this.resync();
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
  }

  /** Resolves when nothing is queued or being measured (tests). */
  async whenIdle(): Promise<void> {
    while (this.pumping) await this.pumping;
  }

  /** Looks at every object. */
  resync(): void {
    if (!this.d.objects.hasSynced) {
      this.schedule(1000);
      return;
    }
    // Only objects that can have checks: most have none, and are not looked at.
    this.enqueue(this.d.objects.list().filter((o) => o.status?.checks || this.d.gates.mayHaveChecks(o)).map((o) => `${o.metadata.namespace}/${o.metadata.name}`));
  }

  enqueue(keys: Iterable<string>): void {
    for (const k of keys) this.queue.add(k);
    if (this.stopped || this.pumping) return;
    this.pumping = (async () => {
      await new Promise((r) => setImmediate(r));
      let wake: number | undefined;
      while (this.queue.size > 0 && !this.stopped) {
        const batch: string[] = [];
        for (const k of this.queue) {
          batch.push(k);
          if (batch.length >= CONCURRENCY) break;
        }
        for (const k of batch) this.queue.delete(k);
        const wakes = await Promise.all(batch.map((k) => this.reconcile(k)));
        for (const w of wakes) if (w !== undefined) wake = Math.min(wake ?? w, w);
      }
      this.schedule(wake !== undefined ? wake - this.d.clock.now().getTime() : undefined);
    })().finally(() => {
      this.pumping = undefined;
      if (this.queue.size > 0) this.enqueue([]);
    });
  }

  /** One object: measures what is due and records it; returns when it next needs a look. */
  async reconcile(key: string): Promise<number | undefined> {
    const slash = key.indexOf('/');
    const obj = this.d.objects.get(key.slice(0, slash), key.slice(slash + 1));
    if (!obj) return undefined;
    // Most objects have no checks: found out without computing their gates.
    if (!obj.status?.checks && !this.d.gates.mayHaveChecks(obj)) return undefined;
    const now = this.d.clock.now();
    const plan = planChecks(obj, this.d.gates.effective(obj).checks, now);
    if (!plan.changed && plan.due.length === 0) return plan.wake;
    const taken = await Promise.all(plan.due.map(async (due) => ({ due, m: await this.takeOne(due) })));
    try {
      return await this.record(obj, taken);
    } catch (err) {
      this.d.log.warn('could not record check measurements; they are taken again', { object: key, error: err instanceof Error ? err.message : String(err) });
      return this.d.clock.now().getTime() + 5_000;
    }
  }

  private async takeOne(due: DueMeasurement): Promise<Measurement> {
    let m: Measurement;
    try {
      m = await this.d.measure(due.check, due.vars, () => this.d.clock.now());
    } catch (err) {
      m = { phase: 'Error', time: this.d.clock.now().toISOString(), message: err instanceof Error ? err.message : String(err) };
    }
    this.d.counted?.(due.check.check.prometheus ? 'prometheus' : 'http', m.phase);
    return m;
  }

  /** Writes the plan with the measurements taken, planned again on the object as it is now when it changed meanwhile. */
  private async record(obj: StoredObject, taken: { due: DueMeasurement; m: Measurement }[], attempt = 0): Promise<number | undefined> {
    const plan = planChecks(obj, this.d.gates.effective(obj).checks, this.d.clock.now());
    const runs = plan.runs?.runs.slice();
    let measured = 0;
    const ended: CheckRun[] = [];
    for (const { due, m } of taken) {
      const i = runs?.findIndex((r) => r.key === due.key && r.name === due.check.check.name) ?? -1;
      // Still wanted: the run is there and another measurement (this replica's or another's) did not come first.
      if (i < 0 || !plan.due.some((d) => d.index === i)) continue;
      runs![i] = withMeasurement(runs![i]!, due.check, m);
      if (runs![i]!.phase !== 'Running' && runs![i]!.phase !== 'Successful') ended.push(runs![i]!);
      measured++;
    }
    if (!plan.changed && measured === 0) return plan.wake;
    const { checks: _old, ...rest } = obj.status ?? {};
    const status: StoredStatus = plan.runs ? { ...rest, checks: { ...plan.runs, runs: runs! } } : rest;
    try {
      await this.d.store.writeStatus(obj, status);
    } catch (err) {
      if (!(err instanceof WriteConflict) || attempt >= 3) throw err;
      const fresh = await this.d.store.fetch(obj.metadata.namespace, obj.metadata.name);
      if (!fresh) return undefined;
      return this.record(fresh, taken, attempt + 1);
    }
    for (const r of ended) this.d.runEnded?.(obj, status.checks!, r);
    let wake: number | undefined;
    for (const r of runs ?? []) if (r.nextMeasurementAt) wake = Math.min(wake ?? Infinity, Date.parse(r.nextMeasurementAt));
    return wake;
  }

  private schedule(inMs?: number): void {
    if (this.stopped) return;
    const resync = this.d.resyncMs ?? 30_000;
    const delay = Math.max(0, Math.min(inMs ?? resync, resync));
    const at = this.d.clock.now().getTime() + delay;
    if (this.timer && this.wakeAt !== undefined && this.wakeAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.wakeAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.wakeAt = undefined;
      this.resync();
    }, delay + 1);
    this.timer.unref();
  }
}

/** Measures one check with its Secrets read from the namespace of what declares it. */
export function measuring(readSecret: (namespace: string, name: string, key: string) => Promise<string>, measureOne: (check: EffectiveCheck['check'], vars: TemplateVars, secrets: CheckSecrets, now: () => Date) => Promise<Measurement>): CheckRunnerDeps['measure'] {
  return async (check, vars, now) => {
    const p = check.check.prometheus ?? check.check.http;
    const secrets: CheckSecrets = {};
    try {
      if (p?.caSecretRef) secrets.ca = await readSecret(check.secretNamespace, p.caSecretRef.name, p.caSecretRef.key);
      if (p?.tokenSecretRef) secrets.token = await readSecret(check.secretNamespace, p.tokenSecretRef.name, p.tokenSecretRef.key);
    } catch (err) {
      return { phase: 'Error', time: now().toISOString(), message: err instanceof Error ? err.message : String(err) };
    }
    return measureOne(check.check, vars, secrets, now);
  };
}

/** The CheckFailed Event's message: which check of which move, how it ended, and what it last saw. */
export function checkEndedMessage(runs: CheckRuns, run: CheckRun): string {
  const last = run.measurements.at(-1);
  const saw = last ? `: ${last.value !== undefined ? last.value : ''}${last.message ? `${last.value !== undefined ? ' ' : ''}(${last.message})` : ''}` : '';
  const what = run.phase === 'Inconclusive' ? 'is inconclusive (an approval or --override lets the move through)' : run.phase === 'Error' ? 'could not be measured' : 'failed';
  return `check ${run.name} (${run.source}) of the move ${runs.from} → ${runs.to} ${what}${saw}`;
}
