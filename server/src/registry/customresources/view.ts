// How a stored CRD object is served on custom.example.com: same metadata,
// spec, stored status, plus computed status fields.
import { GROUP_VERSION, KIND } from '../../../../api/src/names.ts';
import type { CustomResource, StoredObject } from '../../../../api/src/types.ts';
import { nextStateOf, positionOf, secondsInState, soakRemainingSeconds } from '../../state/transitions.ts';

/** Metadata the backend never serves: it belongs to the storage object's writers. */
const HIDDEN_METADATA = ['managedFields', 'selfLink'];

export function toCustomResource(obj: StoredObject, now: Date): CustomResource {
  const { metadata, spec, status } = obj;
  const meta = { ...metadata };
  for (const k of HIDDEN_METADATA) delete meta[k];
  const pos = positionOf(spec, status, metadata.creationTimestamp);
  const valid = pos.index >= 0;
  const next = nextStateOf(spec, pos);
  const inState = secondsInState(pos, now);
  return {
    apiVersion: GROUP_VERSION,
    kind: KIND,
    metadata: meta,
    spec,
    status: {
      ...status,
      state: pos.state,
      ...(pos.since ? { stateSince: pos.since } : {}),
      ...(next ? { nextState: next } : {}),
      ...(inState !== undefined ? { secondsInState: inState } : {}),
      soakRemainingSeconds: valid ? soakRemainingSeconds(spec, pos, now) : 0,
      valid,
      ...(valid ? {} : { message: `state "${pos.state}" is not listed in spec.states; use set-state to move to one of: ${spec.states.join(', ')}` }),
    },
  };
}
