// What the bodies of promote, set-state and approve may hold, the reason's
// rules, and what a dry run is. The refusals are 400 for a body that is not
// JSON of the right shape, 422 naming the field otherwise.
import { GROUP, KIND } from '../../../../api/src/names.ts';
import type { TransitionRequest } from '../../state/transitions.ts';
import { newBadRequest, newInvalid } from '../../status/status-error.ts';

/** The kind Invalid errors name (kubectl prints `The CustomResource "x" is invalid`). */
export const KIND_REF = { group: GROUP, kind: KIND };

const MAX_REASON = 1024;

/** What a subresource's body takes: string fields, one true/false flag, and the fields it needs. */
export interface BodySpec<S extends string, F extends string> {
  strings: readonly S[];
  flag: F;
  required?: readonly S[];
}

/** The fields each action's body takes, and which of them it needs. */
const BODIES: Record<TransitionRequest['action'], BodySpec<'state' | 'reason' | 'from', 'override'>> = {
  promote: { strings: ['reason', 'from'], flag: 'override' },
  'set-state': { strings: ['state', 'reason', 'from'], flag: 'override', required: ['state'] },
};

/**
 * Control characters (C0, DEL, C1) and the bidirectional controls that can
 * reorder what a terminal shows: a reason is text for people, printed in
 * tables, and may not draw on their screen.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;

/** The 422 cause for a reason that is not printable text of at most MAX_REASON characters, if it is not. */
function reasonCause(reason: string): { field: string; reason: string; message: string } | undefined {
  if ([...reason].length > MAX_REASON) return { field: 'reason', reason: 'FieldValueInvalid', message: `Too long: may not be more than ${MAX_REASON} characters` };
  const bad = UNPRINTABLE.exec(reason);
  if (bad) {
    const code = `U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    return { field: 'reason', reason: 'FieldValueInvalid', message: `Invalid value: the reason must be printable text; it holds the control character ${code} at position ${bad.index}` };
  }
  return undefined;
}

/**
 * Reads a subresource's JSON body of `spec`'s fields (apiVersion and kind
 * ignored), refusing unknown fields, wrong types, missing required fields and
 * a reason that is no printable text with one 422 cause per field. The flag
 * is there only when true.
 */
export function parseBody<S extends string, F extends string>(body: unknown, name: string, spec: BodySpec<S, F>): { [K in S]?: string } & { [K in F]?: true } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw newBadRequest('the request body must be a JSON object');
  const allowed: readonly string[] = [...spec.strings, spec.flag];
  const causes: { field: string; reason: string; message: string }[] = [];
  const out: Record<string, string | true> = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    if (k === 'apiVersion' || k === 'kind') continue;
    if (!allowed.includes(k)) {
      causes.push({ field: k, reason: 'FieldValueForbidden', message: `Forbidden: unknown field; the body takes ${allowed.join(', ')}` });
    } else if (k === spec.flag) {
      if (v === true) out[k] = true;
      else if (v !== false) causes.push({ field: k, reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(v)}: must be true or false` });
    } else if (typeof v !== 'string') {
      causes.push({ field: k, reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(v)}: must be a string` });
    } else {
      out[k] = v;
    }
  }
  for (const r of spec.required ?? []) if (!out[r]) causes.push({ field: r, reason: 'FieldValueRequired', message: 'Required value' });
  const bad = typeof out['reason'] === 'string' ? reasonCause(out['reason']) : undefined;
  if (bad) causes.push(bad);
  if (causes.length) throw newInvalid(KIND_REF, name, causes);
  return out as { [K in S]?: string } & { [K in F]?: true };
}

/** Reads a state-change body (see parseBody). */
export function parseChangeBody(body: unknown, name: string, action: TransitionRequest['action']): TransitionRequest {
  return { action, ...parseBody(body, name, BODIES[action]) };
}

/** `dryRun=All` (the only value kube-apiserver knows); anything else is 400. */
export function dryRunOf(url: URL): boolean {
  const v = url.searchParams.getAll('dryRun');
  if (v.length === 0) return false;
  if (v.every((x) => x === 'All')) return true;
  throw newBadRequest(`dryRun: Unsupported value: ${JSON.stringify(v.find((x) => x !== 'All'))}: supported values: "All"`);
}
