// How a stored CRD object is served on custom.example.com: same metadata,
// spec, stored status, plus computed status fields.
import { GROUP_VERSION, KIND } from '../../../../api/src/names.ts';
import type { CustomResource, FreezeRef, Spec, Status, StoredObject } from '../../../../api/src/types.ts';
import { approversOf } from '../../state/approvals.ts';
import { verdictPasses, verdictsOfMove, type EffectiveCheck } from '../../state/check-gates.ts';
import type { GateSources } from '../../state/gate-sources.ts';
import { nextStateOf, positionOf, secondsInState, soakRemainingSeconds } from '../../state/position.ts';

/** Metadata the backend never serves: it belongs to the storage object's writers. */
const HIDDEN_METADATA = ['managedFields', 'selfLink'];

/** The gates of the move into `next`, for the computed status (only what applies). */
function nextGatesOf(obj: StoredObject, spec: Spec, next: string, frozen: FreezeRef[], serviceAccountsCount = false, checks: ReadonlyMap<string, readonly EffectiveCheck[]> = new Map()): Status['nextGates'] {
  const needed = spec.requiredApprovals?.[next] ?? 0;
  const pos = positionOf(obj.spec, obj.status, obj.metadata.creationTimestamp);
  const verdicts = verdictsOfMove(obj, checks, pos.state, next, pos.since);
  const given = needed > 0 || verdicts.length > 0 ? approversOf({ ...obj, spec }, next, '', serviceAccountsCount).length : 0;
  const g: NonNullable<Status['nextGates']> = {
    ...(spec.protectedStates?.includes(next) ? { protected: true } : {}),
    ...(needed > 0 ? { approvals: { needed, given } } : {}),
    ...(frozen.length ? { frozenBy: frozen.map((f) => `${f.namespace}/${f.name}`) } : {}),
    ...(verdicts.length ? { checks: { passed: verdicts.filter((v) => verdictPasses(v, given > 0)).length, total: verdicts.length } } : {}),
  };
  return Object.keys(g).length ? g : undefined;
}

/**
 * The object as custom.example.com serves it. With `gates`, the computed
 * fields count GatePolicies (soak, the next move's gates) and Freezes; the
 * spec is served as its authors wrote it.
 */
export function toCustomResource(obj: StoredObject, now: Date, gates?: GateSources): CustomResource {
  const { metadata, status } = obj;
  const effective = gates?.effective(obj);
  const spec = effective ? effective.spec : obj.spec;
  const meta = { ...metadata };
  for (const k of HIDDEN_METADATA) delete meta[k];
  const pos = positionOf(spec, status, metadata.creationTimestamp);
  const valid = pos.index >= 0;
  const next = nextStateOf(spec, pos);
  const inState = secondsInState(pos, now);
  const nextGates = next ? nextGatesOf(obj, spec, next, gates?.freezes(obj, next, now) ?? [], effective?.serviceAccountApprovals?.has(next), effective?.checks) : undefined;
  return {
    apiVersion: GROUP_VERSION,
    kind: KIND,
    metadata: meta,
    spec: obj.spec,
    status: {
      ...status,
      state: pos.state,
      ...(pos.since ? { stateSince: pos.since } : {}),
      ...(next ? { nextState: next } : {}),
      ...(inState !== undefined ? { secondsInState: inState } : {}),
      soakRemainingSeconds: valid ? soakRemainingSeconds(spec, pos, now) : 0,
      valid,
      ...(valid ? {} : { message: `state "${pos.state}" is not listed in spec.states; use set-state to move to one of: ${spec.states.join(', ')}` }),
      ...(nextGates ? { nextGates } : {}),
    },
  };
}
