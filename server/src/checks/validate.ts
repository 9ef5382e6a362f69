// What admission says of a spec's checks beyond the CRD's schema: each
// condition is CEL that parses, each query or URL uses only known
// placeholders, names are unique per state; and which Secrets they name
// (whoever writes a check that names a Secret must be allowed to read it:
// the check sends its value to the address the check names).
import type { CheckSpec, SecretKeyRef } from '../../../api/src/checks.ts';
import { canonicalJson } from '../../../api/src/history-chain.ts';
import type { Spec } from '../../../api/src/types.ts';
import { conditionSyntaxError } from './condition.ts';
import { unknownPlaceholders } from './template.ts';

/** Why a spec's checks cannot be measured as written, one line each; none when they can. */
export function checkProblems(spec: Pick<Spec, 'checks'>): string[] {
  const out: string[] = [];
  for (const [state, list] of Object.entries(spec.checks ?? {})) {
    const seen = new Set<string>();
    for (const [i, c] of (Array.isArray(list) ? list : []).entries()) {
      const at = `spec.checks[${JSON.stringify(state)}][${i}]`;
      if (seen.has(c.name)) out.push(`${at}.name: Duplicate value: ${JSON.stringify(c.name)}`);
      seen.add(c.name);
      for (const field of ['successCondition', 'failureCondition'] as const) {
        const expr = c[field];
        if (expr === undefined) continue;
        const err = conditionSyntaxError(expr);
        if (err) out.push(`${at}.${field}: Invalid value: ${JSON.stringify(expr)}: not a CEL expression: ${err}`);
      }
      const template = c.prometheus?.query ?? c.http?.url;
      const bad = template !== undefined ? unknownPlaceholders(template) : [];
      if (bad.length) out.push(`${at}.${c.prometheus ? 'prometheus.query' : 'http.url'}: Invalid value: unknown placeholder${bad.length > 1 ? 's' : ''} ${bad.map((b) => `{{${b}}}`).join(', ')}: use {{name}}, {{namespace}}, {{labels.KEY}}, {{from}} or {{to}}`);
    }
  }
  return out;
}

function refsOf(c: CheckSpec): SecretKeyRef[] {
  const p = c.prometheus ?? c.http;
  return [p?.caSecretRef, p?.tokenSecretRef].filter((r): r is SecretKeyRef => !!r);
}

/**
 * Secrets named by checks of `next` that `old` did not already name in the
 * very same check (same state, same definition): whoever adds or changes
 * such a check must be allowed to read them.
 */
export function newSecretNames(old: Pick<Spec, 'checks'> | undefined, next: Pick<Spec, 'checks'>): string[] {
  const kept = new Set<string>();
  for (const [state, list] of Object.entries(old?.checks ?? {})) for (const c of Array.isArray(list) ? list : []) kept.add(`${state}\u0000${canonicalJson(c)}`);
  const names = new Set<string>();
  for (const [state, list] of Object.entries(next.checks ?? {})) {
    for (const c of Array.isArray(list) ? list : []) {
      if (kept.has(`${state}\u0000${canonicalJson(c)}`)) continue;
      for (const r of refsOf(c)) names.add(r.name);
    }
  }
  return [...names].sort();
}
