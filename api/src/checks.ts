// Verification checks (issue 21): a state is entered only when the checks say
// the thing is healthy. A check names a provider (a PromQL query against a
// Prometheus, or a GET of a URL) and a CEL condition on what it returns,
// measured `count` times `intervalSeconds` apart, with Argo Rollouts'
// AnalysisTemplate semantics: each measurement is Successful, Failed,
// Inconclusive (both conditions given and neither holds) or Error; the run
// fails once more than `failureLimit` measurements failed, is inconclusive
// once more than `inconclusiveLimit` were, and errs after
// CONSECUTIVE_ERROR_LIMIT errors in a row.

/** A key of a Secret: in custom-system for a GatePolicy's check, in the object's namespace for a spec's. Its value is never echoed. */
export interface SecretKeyRef {
  name: string;
  key: string;
}

export interface PrometheusCheck {
  /** http(s)://host:port of the Prometheus server (its HTTP API under /api/v1). */
  address: string;
  /** PromQL; {{name}}, {{namespace}}, {{labels.KEY}}, {{from}} and {{to}} are filled in, escaped for a PromQL string. */
  query: string;
  /** PEM CA certificates to verify an https address with. */
  caSecretRef?: SecretKeyRef;
  /** A bearer token sent as Authorization. */
  tokenSecretRef?: SecretKeyRef;
}

export interface HttpCheck {
  /** http(s) URL to GET; the same placeholders, percent-encoded. */
  url: string;
  caSecretRef?: SecretKeyRef;
  tokenSecretRef?: SecretKeyRef;
}

export interface CheckSpec {
  /** Unique among the checks of a state; names it in refusals and in the trail. */
  name: string;
  prometheus?: PrometheusCheck;
  http?: HttpCheck;
  /**
   * CEL over the provider's answer: `result` (a list of numbers, one per
   * series of a PromQL vector, or one for a scalar) for prometheus; `status`
   * (a number) and `body` (the JSON body, or its text) for http.
   */
  successCondition: string;
  /** With it, a measurement where neither condition holds is Inconclusive (a human decides: an approval or override). */
  failureCondition?: string;
  /** Measurements per run; 1 by default. */
  count?: number;
  /** Seconds between measurements; 60 by default. */
  intervalSeconds?: number;
  /** Failed measurements a run tolerates; 0 by default. */
  failureLimit?: number;
  /** Inconclusive measurements a run tolerates; 0 by default. */
  inconclusiveLimit?: number;
  /** Seconds a measurement may take; 10 by default. */
  timeoutSeconds?: number;
}

export type MeasurementPhase = 'Successful' | 'Failed' | 'Inconclusive' | 'Error';

export interface Measurement {
  phase: MeasurementPhase;
  /** When it was taken (RFC 3339). */
  time: string;
  /** What the provider answered, as JSON (numbers for prometheus; status and body for http), when it answered. */
  value?: string;
  /** Why it failed or erred, in words. */
  message?: string;
}

export type RunPhase = 'Running' | 'Successful' | 'Failed' | 'Inconclusive' | 'Error';

export const CHECK_DEFAULTS = { count: 1, intervalSeconds: 60, failureLimit: 0, inconclusiveLimit: 0, timeoutSeconds: 10 } as const;
/** As Argo Rollouts' consecutiveErrorLimit default. */
export const CONSECUTIVE_ERROR_LIMIT = 4;

/** Where a check comes from, as describe-state and the trail name it: `spec`, or `GatePolicy NS/NAME`. */
export type CheckSourceName = string;

/** One check's run for one move, as the backend records it in status.checks. */
export interface CheckRun {
  name: string;
  source: CheckSourceName;
  /**
   * What the run measures: a hash of the check as written, its source, the
   * move and the object's labels (which the query may name). A run counts
   * only while its key is the check's key now: a changed check starts anew.
   */
  key: string;
  phase: RunPhase;
  /** When the first measurement was due: when the object entered the state before, or when the check appeared. */
  startedAt: string;
  measurements: Measurement[];
  /** When the next measurement is due: while Running, or when a Failed or Error run starts again. */
  nextMeasurementAt?: string;
  /**
   * Runs of this check in this stay so far, this one included: a run that
   * Failed or erred starts again `intervalSeconds` after its last
   * measurement (the gate stays shut until one succeeds); a Successful run
   * stands for the rest of the stay, an Inconclusive one waits for a person.
   */
  attempt?: number;
  /** The last measurement of the run before this one, which Failed or erred: why the gate is shut while this one runs. */
  previous?: Measurement;
}

/** The checks of the move out of the current state (entered at `since`) into `to`. */
export interface CheckRuns {
  from: string;
  to: string;
  /** status.stateSince of `from` when the runs began: runs of an earlier stay do not count. */
  since: string;
  runs: CheckRun[];
}

/** A check's result as the move's history entry keeps it. */
export interface RecordedCheck {
  name: string;
  source: CheckSourceName;
  phase: RunPhase;
  /** The newest measurement's value and time, when there was one. */
  value?: string;
  time?: string;
}

/** POST …/customresources/NAME/check: the checks of the next move, each measured once now (not recorded: the gate counts only the backend's scheduled runs). */
export interface CheckReport {
  kind: 'CustomResourceCheck';
  apiVersion: 'custom.example.com/v1';
  metadata: { name: string; namespace: string };
  /** The move checked: from the current state into the next; both absent at the last state. */
  from?: string;
  to?: string;
  results: CheckReportItem[];
  /** Every measurement Successful (true with no checks). */
  passed: boolean;
}

export interface CheckReportItem {
  name: string;
  source: CheckSourceName;
  provider: 'prometheus' | 'http';
  successCondition: string;
  failureCondition?: string;
  measurement: Measurement;
}
