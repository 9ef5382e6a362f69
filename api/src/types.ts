// The wire types of custom.example.com/v1 (served by the backend) and of the
// storage CRD example.com/v1. Field names are spelled exactly as on the wire.
import type { CheckRuns, CheckSpec, Measurement, RecordedCheck, RunPhase } from './checks.ts';
import type { GROUP_VERSION, KIND, STATE_KIND } from './names.ts';

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

export interface Spec {
  name: string;
  states: string[];
  protectedStates?: string[];
  minSoakSeconds?: Record<string, number>;
  /** Approvals by people other than the mover that a move into the state needs. */
  requiredApprovals?: Record<string, number>;
  /** Checks a forward move into the state needs, keyed by that state: measured by the backend while the object is in the state before it (api/src/checks.ts). */
  checks?: Record<string, CheckSpec[]>;
}

export type HistoryAction = 'promote' | 'set-state' | 'override' | 'approve' | 'revoke' | 'deleted';

/**
 * One entry of the trail. `seq` counts from 1 over the object's life and
 * `hash` chains each entry to the one before (api/src/history-chain.ts);
 * both are absent only on entries written before they existed, or by an
 * older backend during a rolling upgrade, until the next change numbers them.
 */
export interface HistoryEntry {
  seq?: number;
  action: HistoryAction;
  from?: string;
  to?: string;
  user: string;
  time: string;
  reason?: string;
  /** The move's approvers, when its target required approvals. */
  approvers?: string[];
  /** For an override: the gates it passed (GATES). */
  overrode?: string[];
  /** For an override: the freeze it broke (namespace/name). */
  freeze?: string;
  /** For a forward move into a state with checks: each check's result as recorded when the move was made (passed or overridden). */
  checks?: RecordedCheck[];
  /** A move's direction in the path as it was then (backward: a rollback); absent in entries older than it. */
  direction?: 'forward' | 'backward';
  /** After a move whose target's next move needed approvals, by the gates then: that state and how many. Recorded with `direction`, so its absence there means none. */
  next?: { state: string; approvals: number };
  hash?: string;
}

/** The gates a move can be refused by, as `overrode` and describe-state name them. */
export const GATES = ['soak', 'protection', 'approvals', 'freeze', 'checks', 'skipped-states'] as const;
export type Gate = (typeof GATES)[number];

/** An approval of the move from the current state into `to`. */
export interface Approval {
  to: string;
  from: string;
  user: string;
  time: string;
  reason?: string;
  /** The spec generation approved: an approval given before a spec change no longer counts. */
  generation?: number;
  /**
   * A fingerprint of the labels the object had when approved (a short
   * SHA-256 of its sorted labels); absent when it had none. An approval
   * counts only while the labels are the same.
   */
  labelsHash?: string;
  /** Given by a ServiceAccount: it counts only where a GatePolicy rule says serviceAccountApprovals: true. */
  serviceAccount?: boolean;
}

/** Who asked for the object's deletion, recorded by the backend's admission webhook for the `deleted` entry. */
export interface DeletionRecord {
  user: string;
  time: string;
}

/** status as the backend stores it in the CRD. */
export interface StoredStatus {
  /** Set by the backend's admission webhook when someone asks for the deletion. */
  deletion?: DeletionRecord;
  state?: string;
  stateSince?: string;
  observedGeneration?: number;
  /** Approvals of moves out of the current state; dropped when the state changes, and counted only for the spec and labels approved. */
  approvals?: Approval[];
  /** The newest entries of the trail, oldest first; older ones are in StateHistory segments. */
  history?: HistoryEntry[];
  /** The runs of the checks of the move out of the current state into the next, written by the backend only. */
  checks?: CheckRuns;
}

/** An object of the storage CRD, as kube-apiserver returns it. */
export interface StoredObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: Spec;
  status?: StoredStatus;
}

/** status as custom.example.com serves it: the stored fields plus computed ones. */
export interface Status extends StoredStatus {
  /** The current state: status.state, or spec.states[0] for an object never moved. */
  state: string;
  /** The state `promote` moves to; absent at the last state or when the state is not in spec.states. */
  nextState?: string;
  /** Whole seconds since the object entered its current state. */
  secondsInState?: number;
  /** Seconds until `minSoakSeconds` of the current state is served; 0 when promote is allowed by soak. */
  soakRemainingSeconds?: number;
  /** False when the current state is no longer listed in spec.states; only set-state can repair it. */
  valid: boolean;
  /** Why the object is invalid, when it is. */
  message?: string;
  /** The gates of the move into nextState as they stand now, from the spec and GatePolicies, and the Freezes holding it. */
  nextGates?: {
    protected?: boolean;
    approvals?: { needed: number; given: number };
    /** Active freezes of the next state (namespace/name). */
    frozenBy?: string[];
    /** The next move's checks: how many there are, and how many let it through now. */
    checks?: { passed: number; total: number };
  };
}

export interface CustomResource {
  apiVersion: typeof GROUP_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta;
  spec: Spec;
  status: Status;
}

export interface ListMeta {
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

/** Why promote would be refused now; describe-state lists every one that applies. */
export type PromoteBlocker = 'invalid-state' | 'last-state' | 'soak' | 'approvals' | 'freeze' | 'checks' | 'permission' | 'enter-permission';

/** The describe-state document (kind CustomResourceState): GET …/state, and the answer to every change. */
export interface CustomResourceState {
  kind: typeof STATE_KIND;
  apiVersion: typeof GROUP_VERSION;
  metadata: { name: string; namespace: string; uid?: string; resourceVersion?: string; generation?: number; creationTimestamp?: string };
  displayName: string;
  state: string;
  stateSince?: string;
  secondsInState?: number;
  path: string[];
  position: number;
  nextState?: string;
  valid: boolean;
  message?: string;
  protectedStates: string[];
  gates: {
    minSoakSeconds: number;
    soakRemainingSeconds: number;
    nextStateProtected: boolean;
    reasonRequired: boolean;
    /** PromoteBlocker values; a client shows ones it does not know as they are (a newer server may send more). */
    promoteBlockedBy: string[];
  };
  allowed: { promote: boolean; promoteVerb: boolean; setState: boolean; enterNextState: boolean; approveNextState?: boolean; overrideNextState?: boolean };
  history: HistoryEntry[];
  /** Every gate of the move into the next state, met or not, and where it comes from. */
  checks?: GateCheck[];
  /** Approvals that count now (of moves out of the current state). */
  approvals?: Approval[];
}

/** An active Freeze, as gates name it. */
export interface FreezeRef {
  namespace: string;
  name: string;
  reason: string;
  /** When its current window ends. */
  end?: string;
}

/** Where a gate comes from: the object's own spec, or a GatePolicy. */
export interface GateSource {
  kind: 'spec' | 'GatePolicy';
  namespace?: string;
  name?: string;
}

/** One gate of a move, as describe-state shows it. */
export interface GateCheck {
  gate: Gate;
  met: boolean;
  /** One line for people, e.g. `2 approvals needed: bob (1 more, not from alice)`. */
  message: string;
  sources: GateSource[];
  /** approvals: how many, and by whom so far. */
  approvals?: { needed: number; by: string[] };
  /** freeze: the active freezes. */
  freezes?: FreezeRef[];
  /** soak: seconds still to serve. */
  soakRemainingSeconds?: number;
  /** checks: one GateCheck per check, with its run so far. */
  check?: CheckGateRun;
}

/** A check of the next move as describe-state shows it. */
export interface CheckGateRun {
  name: string;
  /** prometheus or http. */
  provider: 'prometheus' | 'http';
  successCondition: string;
  /** Running (no run yet counts as Running), Successful, Failed, Inconclusive or Error. */
  phase: RunPhase;
  /** Measurements that count toward `count`, and `count`. */
  measured: number;
  count: number;
  /** The newest measurement. */
  last?: Measurement;
  /** When the next measurement is due, while Running. */
  nextMeasurementAt?: string;
}

/** One life of an object: from its creation to its deletion (or now). */
export interface HistoryLife {
  uid: string;
  /** The object exists: this is its current life. */
  live: boolean;
  /** Every entry kept, oldest first. After a retention delete the first seq is above 1. */
  entries: HistoryEntry[];
}

/** GET …/customresources/NAME/history: the live object's whole trail, then earlier lives of the same name, most recent first. */
export interface CustomResourceHistory {
  kind: 'CustomResourceHistory';
  apiVersion: typeof GROUP_VERSION;
  metadata: { name: string; namespace: string };
  lives: HistoryLife[];
}

/** A StateHistory segment (example.com/v1, in custom-system): entries that left an object's window, immutable. */
export interface StateHistorySegment {
  apiVersion: string;
  kind: 'StateHistory';
  metadata: { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string>; creationTimestamp?: string; resourceVersion?: string };
  spec: {
    /** The object; on the segment of its deletion also its labels and states then (what a NotificationPolicy selects by, and what tells a rollback). */
    object: { namespace: string; name: string; uid: string; labels?: Record<string, string>; states?: string[] };
    entries: HistoryEntry[];
  };
}

/** metav1.LabelSelector: matchLabels and matchExpressions, all of which must hold; empty selects everything. */
export interface LabelSelectorSpec {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

/**
 * One rule of a GatePolicy: the least gates of a move into each of `states`
 * for the objects `selector` matches (absent or empty: every object).
 * `minSoakSeconds` is the soak of the state before each named state in the
 * object's own path; it gates nothing for a state first in the path.
 */
export interface GatePolicyRule {
  states: string[];
  selector?: LabelSelectorSpec;
  protected?: boolean;
  requiredApprovals?: number;
  minSoakSeconds?: number;
  /**
   * Approvals by ServiceAccounts count for moves into `states` of the objects
   * selected (elsewhere only people's approvals count: a ServiceAccount is
   * not a second pair of eyes).
   */
  serviceAccountApprovals?: boolean;
  /** Checks every move into `states` of the objects selected needs; a Secret they name is read from the policy's own namespace. */
  checks?: CheckSpec[];
}

/** A GatePolicy (example.com/v1): central gates written by the platform team; one in custom-system applies to every namespace. */
export interface GatePolicy {
  apiVersion: string;
  kind: 'GatePolicy';
  metadata: ObjectMeta;
  spec: {
    /** Why the policy exists, for people. */
    description?: string;
    rules: GatePolicyRule[];
  };
}

/** metav1.Condition. */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

/** When a freeze holds (RFC 3339); a bound is absent when it cannot be known or is more than a year away. */
export interface FreezeWindow {
  start?: string;
  end?: string;
}

/**
 * A change freeze (example.com/v1 Freeze): forward moves into `states` (all
 * when empty) of the objects `selector` picks (all when empty) are refused
 * during a one-off window (`start`, `end`) or a recurring one (`schedule`,
 * `duration`, `timeZone`).
 */
export interface FreezeSpec {
  states?: string[];
  selector?: LabelSelectorSpec;
  start?: string;
  end?: string;
  /** Cron, 5 fields (api/src/cron.ts). */
  schedule?: string;
  /** Go duration: 2h, 90m, 1h30m. */
  duration?: string;
  /** IANA name; UTC when absent. */
  timeZone?: string;
  reason: string;
}

/** Written by the backend only. */
export interface FreezeStatus {
  active?: boolean;
  /** While active: the window it is in. */
  currentWindow?: FreezeWindow;
  /** While inactive: the next window, if there is one. */
  nextWindow?: FreezeWindow;
  observedGeneration?: number;
  /** Ready: False when the spec cannot be evaluated (then the freeze counts as active) or its schedule never fires. */
  conditions?: Condition[];
}

export interface Freeze {
  apiVersion: string;
  kind: 'Freeze';
  metadata: ObjectMeta;
  spec: FreezeSpec;
  status?: FreezeStatus;
}

/** One watch-fed cache of the backend (a reflector's list and watch of one collection). */
export interface BackendCacheStatus {
  /** What it reflects: resource.group (resource alone for the core group)… */
  resource: string;
  /** …in this namespace only, when it is not cluster-wide… */
  namespace?: string;
  /** …and only this object, when it follows one. */
  name?: string;
  /** Its first list has arrived. */
  synced: boolean;
  /** Its watch stream is open (false while it lists again or backs off after a failure). */
  watching: boolean;
  /** The resourceVersion it has reached: of its last list, event or bookmark. */
  resourceVersion: string;
  /** Objects it holds. */
  objects: number;
  /** When it last heard from kube-apiserver: its last list, event or bookmark (RFC 3339). */
  lastEventTime?: string;
  /** Whole seconds since then, counted by the backend when it answered (no clock skew with the reader's). */
  secondsSinceLastEvent?: number;
}

/** Quantiles of the backend's request durations (apiserver_request_duration_seconds; watches excluded). */
export interface LatencySummary {
  /** The window the quantiles are over: the last few minutes, or since start when younger. */
  windowSeconds: number;
  /** Requests finished in the window. */
  requests: number;
  /** Estimated as Prometheus' histogram_quantile does (linear within a bucket); absent without requests. */
  p50Seconds?: number;
  p99Seconds?: number;
}

/** Requests in flight against one limit (--max-requests-inflight, --max-mutating-requests-inflight). */
export interface InFlightSummary {
  current: number;
  /** The most at once in the window. */
  peak: number;
  /** 0: no limit. */
  limit: number;
  /** Requests refused with 429 in the window. */
  rejected: number;
}

export interface BackendStatusDetail {
  version: string;
  /** When the process started (RFC 3339). */
  startTime: string;
  caches: BackendCacheStatus[];
  /** Open watches of customresources.custom.example.com (clients'). */
  watches: number;
  inFlight: { windowSeconds: number; nonMutating: InFlightSummary; mutating: InFlightSummary };
  latency: LatencySummary;
  memory: {
    rssBytes: number;
    /** The container's memory limit (cgroup v2 memory.max or v1 memory.limit_in_bytes); absent without one (outside a container, or unlimited). */
    limitBytes?: number;
    /** The file the limit was read from. */
    limitSource?: string;
  };
}

/** A replica of the backend, about itself (kind BackendStatus, cluster-scoped, read-only, computed when read). */
export interface BackendStatus {
  apiVersion: string;
  kind: 'BackendStatus';
  /** name: the replica's pod (its hostname outside a cluster); creationTimestamp: when it started. Cluster-scoped: no namespace. */
  metadata: { name: string; creationTimestamp: string };
  status: BackendStatusDetail;
}

/** The events a NotificationPolicy may send (issue 22). */
export const NOTIFICATION_EVENTS = ['promoted', 'rolled-back', 'overridden', 'approval-needed', 'approved', 'refused', 'frozen', 'unfrozen', 'check-failed', 'deleted'] as const;
export type NotificationEventName = (typeof NOTIFICATION_EVENTS)[number];

/** A key of a Secret in the policy's own namespace. */
export interface SecretKeyRef {
  name: string;
  key?: string;
}

/** One destination of a NotificationPolicy: exactly one of webhook and slack. */
export interface NotificationSink {
  name: string;
  /** A CloudEvent 1.0 in structured JSON, signed as Standard Webhooks with the key in secretRef (default key "secret"). */
  webhook?: { url: string; secretRef: SecretKeyRef };
  /** A Slack incoming webhook whose URL is in the Secret (default key "url"). */
  slack?: { urlSecretRef: SecretKeyRef };
}

export interface NotificationPolicySpec {
  description?: string;
  selector?: LabelSelectorSpec;
  /** Absent or empty: every event. */
  events?: NotificationEventName[];
  /** CEL over event, object and entry; must be true for an event to be sent. */
  condition?: string;
  sinks: NotificationSink[];
}

/** How far a sink got for one object's life: the last seq delivered. */
export interface NotificationCursor {
  uid: string;
  namespace?: string;
  name?: string;
  seq: number;
  /** The time of the entry at `seq`: once `settledBefore` passes it, the cursor may be dropped. */
  time?: string;
}

export interface NotificationSinkStatus {
  name: string;
  delivered?: number;
  failed?: number;
  pending?: number;
  lastDeliveryTime?: string;
  lastError?: string;
  lastErrorTime?: string;
  /**
   * Every entry older than this, of every object the policy selects, was
   * delivered (or is not one the policy sends): an object without a cursor
   * is sent from here (or `since`, the later).
   */
  settledBefore?: string;
  /** The most recently sent first; bounded. */
  objects?: NotificationCursor[];
  /** What the sink was last told of each Freeze it heard of (frozen ones; an unfrozen drops it). */
  freezes?: NotificationFreezeCursor[];
  /** The ids of the check-failed events sent, oldest first; bounded. */
  checks?: string[];
}

/** The last freeze event a sink got of one Freeze (its uid) and window. */
export interface NotificationFreezeCursor {
  namespace: string;
  name: string;
  uid: string;
  /** The window's start, when it has one. */
  start?: string;
  /** The states it holds (none: all), to say so when it is gone. */
  states?: string[];
  event: 'frozen' | 'unfrozen';
}

export interface NotificationPolicyStatus {
  observedGeneration?: number;
  /** Trail entries from this time on are sent. */
  since?: string;
  sinks?: NotificationSinkStatus[];
  conditions?: Condition[];
}

/** A NotificationPolicy (example.com/v1): which objects' trail goes where; one in custom-system selects every namespace. */
export interface NotificationPolicy {
  apiVersion: string;
  kind: 'NotificationPolicy';
  metadata: ObjectMeta;
  spec: NotificationPolicySpec;
  status?: NotificationPolicyStatus;
}

/** What POST …/notificationpolicies/NAME/test answers: each sink's result. */
export interface NotificationTestResult {
  apiVersion: string;
  kind: 'NotificationTestResult';
  metadata: { name: string; namespace: string };
  sinks: { name: string; ok: boolean; status?: number; message: string }[];
}
