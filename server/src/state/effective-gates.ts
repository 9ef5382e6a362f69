// The gates an object really has: the strongest of its own spec and of every
// GatePolicy rule that selects it, each with where it comes from (describe-
// state shows the sources). Pure: the policies are passed in (the gate engine
// takes them from store/policy-cache.ts).
//
// A policy applies to an object when it lives in the object's namespace or
// in custom-system (cluster-wide), and one of its rules names a state of the
// object's path and selects the object's labels. A rule's states that are not
// in the path gate nothing. A rule's `minSoakSeconds` for state S is the soak
// of the state BEFORE S in the object's own path (the time spent there before
// moving into S), so it lands on that state here, as spec.minSoakSeconds
// keys it; for the first state of the path there is no state before, and
// such a soak gates nothing.
import { SYSTEM_NAMESPACE } from '../../../api/src/names.ts';
import type { GatePolicy, GateSource, Spec } from '../../../api/src/types.ts';
import { selectorMatches } from '../selectors/label-selector-spec.ts';
import type { EffectiveCheck } from './check-gates.ts';

export interface EffectiveGates {
  /** States protected (entering needs `enter` and a reason), in path order, each with every source that protects it. */
  protected: Map<string, GateSource[]>;
  /**
   * Approvals a move into a state needs: the highest count asked for, with
   * the sources that ask for exactly that many (those asking for fewer are
   * outweighed and not listed).
   */
  requiredApprovals: Map<string, { count: number; sources: GateSource[] }>;
  /**
   * Soak of a state before it may be left, keyed by the state left: the
   * longest asked for, with the sources that ask for exactly that long. Only
   * soaks above 0 are gates.
   */
  minSoakSeconds: Map<string, { seconds: number; sources: GateSource[] }>;
  /**
   * States whose approvals by ServiceAccounts count, in path order, each with
   * the GatePolicies whose rules (selecting the object, naming the state) say
   * `serviceAccountApprovals: true`. Only a GatePolicy allows them, never the
   * spec; a state absent here counts people's approvals alone. (Optional
   * only for gates built by hand; effectiveGates always sets it.)
   */
  serviceAccountApprovals?: Map<string, GateSource[]>;
  /**
   * Checks a move into a state needs, in path order: the spec's for that
   * state, then each selecting GatePolicy rule's (a check of every source
   * holds; none outweighs another). Optional only for gates built by hand.
   */
  checks?: Map<string, EffectiveCheck[]>;
}

export interface GatedObject {
  metadata: { namespace: string; labels?: Record<string, string> };
  spec: Spec;
}

const SPEC: GateSource = { kind: 'spec' };

/** Whether `policy` can gate objects in `namespace`: its own namespace, or cluster-wide from custom-system. */
function policyAppliesIn(policy: GatePolicy, namespace: string): boolean {
  return policy.metadata.namespace === namespace || policy.metadata.namespace === SYSTEM_NAMESPACE;
}

/** The highest value asked for a state, with the sources asking for exactly that. */
interface Strongest {
  value: number;
  sources: GateSource[];
}

export function effectiveGates(obj: GatedObject, policies: readonly GatePolicy[]): EffectiveGates {
  const { spec } = obj;
  const path = spec.states;
  const protect = new Map<string, GateSource[]>();
  const approvals = new Map<string, Strongest>();
  const soaks = new Map<string, Strongest>();
  const serviceAccounts = new Map<string, GateSource[]>();
  const checks = new Map<string, EffectiveCheck[]>();
  const addChecks = (s: string, list: readonly EffectiveCheck['check'][] | undefined, source: GateSource, secretNamespace: string) => {
    if (!list?.length) return;
    const have = checks.get(s) ?? [];
    for (const check of list) have.push({ check, source, secretNamespace });
    checks.set(s, have);
  };
  for (const s of path) {
    addChecks(s, spec.checks?.[s], SPEC, obj.metadata.namespace);
    if (spec.protectedStates?.includes(s)) addSource(protect, s, SPEC);
    raise(approvals, s, spec.requiredApprovals?.[s], SPEC);
    raise(soaks, s, spec.minSoakSeconds?.[s], SPEC);
  }
  for (const policy of [...policies].sort(byNamespaceAndName)) {
    if (!policyAppliesIn(policy, obj.metadata.namespace)) continue;
    const source: GateSource = { kind: 'GatePolicy', namespace: policy.metadata.namespace, name: policy.metadata.name };
    for (const rule of policy.spec?.rules ?? []) {
      if (!selectorMatches(rule.selector, obj.metadata.labels)) continue;
      for (const s of rule.states ?? []) {
        const i = path.indexOf(s);
        if (i < 0) continue;
        if (rule.protected) addSource(protect, s, source);
        raise(approvals, s, rule.requiredApprovals, source);
        if (i > 0) raise(soaks, path[i - 1]!, rule.minSoakSeconds, source);
        if (rule.serviceAccountApprovals === true) addSource(serviceAccounts, s, source);
        addChecks(s, rule.checks, source, policy.metadata.namespace);
      }
    }
  }
  return {
    protected: inPathOrder(protect, path, (sources) => sources),
    requiredApprovals: inPathOrder(approvals, path, (g) => ({ count: g.value, sources: g.sources })),
    minSoakSeconds: inPathOrder(soaks, path, (g) => ({ seconds: g.value, sources: g.sources })),
    serviceAccountApprovals: inPathOrder(serviceAccounts, path, (sources) => sources),
    checks: inPathOrder(checks, path, (list) => list),
  };
}

/**
 * `spec` with its gates replaced by the effective ones: for code that reads
 * gates from a Spec (state/transitions.ts), so that it enforces the policies
 * as if the spec asked for them.
 */
export function specWithGates(spec: Spec, gates: EffectiveGates): Spec {
  const out: Spec = { ...spec };
  delete out.protectedStates;
  delete out.requiredApprovals;
  delete out.minSoakSeconds;
  delete out.checks;
  if (gates.protected.size) out.protectedStates = [...gates.protected.keys()];
  if (gates.requiredApprovals.size) out.requiredApprovals = Object.fromEntries([...gates.requiredApprovals].map(([s, g]) => [s, g.count]));
  if (gates.minSoakSeconds.size) out.minSoakSeconds = Object.fromEntries([...gates.minSoakSeconds].map(([s, g]) => [s, g.seconds]));
  return out;
}

/** How describe-state and messages name a source: `spec`, or `GatePolicy custom-system/prod-gates`. */
export function formatGateSource(s: GateSource): string {
  return s.kind === 'spec' ? 'spec' : `GatePolicy ${s.namespace}/${s.name}`;
}

function addSource(m: Map<string, GateSource[]>, state: string, source: GateSource): void {
  const sources = m.get(state) ?? [];
  if (!sources.some((x) => sameSource(x, source))) sources.push(source);
  m.set(state, sources);
}

/** Keeps the highest value asked for `state` (only values above 0 are gates), and the sources asking for exactly that. */
function raise(m: Map<string, Strongest>, state: string, value: number | undefined, source: GateSource): void {
  if (value === undefined || !(value > 0)) return;
  const cur = m.get(state);
  if (!cur || value > cur.value) m.set(state, { value, sources: [source] });
  else if (value === cur.value && !cur.sources.some((x) => sameSource(x, source))) cur.sources.push(source);
}

function sameSource(a: GateSource, b: GateSource): boolean {
  return a.kind === b.kind && a.namespace === b.namespace && a.name === b.name;
}

function byNamespaceAndName(a: GatePolicy, b: GatePolicy): number {
  return compare(a.metadata.namespace, b.metadata.namespace) || compare(a.metadata.name, b.metadata.name);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function inPathOrder<V, W>(m: Map<string, V>, path: readonly string[], f: (v: V) => W): Map<string, W> {
  const out = new Map<string, W>();
  for (const s of path) {
    const v = m.get(s);
    if (v !== undefined) out.set(s, f(v));
  }
  return out;
}
