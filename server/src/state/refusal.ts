// What a refused change says: the 422 causes of gates not met, and why a
// request cannot even be considered (a stale `from`, or no such move).

export interface TransitionCause {
  field: string;
  reason: 'FieldValueInvalid' | 'FieldValueNotSupported' | 'FieldValueRequired' | 'FieldValueForbidden';
  message: string;
}

/** Why a transition cannot even be considered: a stale `from`, or a target that is not a move. */
export type Refusal =
  | { kind: 'conflict'; current: string; lastChange?: { user: string; time: string } }
  | { kind: 'invalid'; causes: TransitionCause[] };
