// Field selectors, parsed as k8s.io/apimachinery/pkg/fields.ParseSelector does
// and checked against the fields a resource supports the way kube-apiserver
// converts field labels for custom resources.

import { newBadRequest } from '../status/status-error.ts';

export interface FieldRequirement {
  readonly field: string;
  /** `==` is read as `=`. */
  readonly op: '=' | '!=';
  /** Unescaped. */
  readonly value: string;
}

export interface FieldSelector {
  /** True when every requirement holds; a missing field reads as the empty string. */
  matches(fields: Record<string, string>): boolean;
  /** True when the selector does not restrict anything. */
  readonly empty: boolean;
  /** Requirements in upstream's order (terms sorted as written). */
  readonly requirements: readonly FieldRequirement[];
  /** The value an `=` requirement on this field demands, if there is one. */
  requiresExactMatch(field: string): string | undefined;
  /** Canonical form, values escaped, e.g. `metadata.name=a\,b,spec.x!=y`. */
  toString(): string;
}

/**
 * Parses a field selector and checks every field against `supported`.
 * Syntax errors and unsupported fields throw a 400 BadRequest StatusError
 * with kube-apiserver's wording.
 */
export function parseFieldSelector(s: string, supported: readonly string[]): FieldSelector {
  const requirements = parseFieldRequirements(s);
  // Upstream transforms (and so rejects) terms in their sorted order: the first unsupported one is reported.
  for (const r of requirements) {
    if (!supported.includes(r.field)) throw newBadRequest(`field label not supported: ${r.field}`);
  }
  return new TermsSelector(requirements);
}

/**
 * Parses a field selector's syntax only, as fields.ParseSelector does, without
 * looking at which fields exist. Throws a 400 BadRequest StatusError on bad syntax.
 */
export function parseFieldRequirements(s: string): FieldRequirement[] {
  const result = parseTerms(s);
  if (typeof result === 'string') throw newBadRequest(result);
  return result;
}

/** The Go error text fields.ParseSelector would return, or undefined when the selector is valid. */
export function fieldSelectorError(s: string): string | undefined {
  const result = parseTerms(s);
  return typeof result === 'string' ? result : undefined;
}

/** Builds a selector from requirements already parsed (e.g. by parseFieldRequirements). */
export function fieldSelectorFrom(requirements: readonly FieldRequirement[]): FieldSelector {
  return new TermsSelector(requirements);
}

class TermsSelector implements FieldSelector {
  readonly requirements: readonly FieldRequirement[];

  constructor(requirements: readonly FieldRequirement[]) {
    this.requirements = requirements;
  }

  get empty(): boolean {
    return this.requirements.length === 0;
  }

  matches(fields: Record<string, string>): boolean {
    return this.requirements.every((r) => {
      const have = Object.hasOwn(fields, r.field) ? (fields[r.field] ?? '') : '';
      return r.op === '=' ? have === r.value : have !== r.value;
    });
  }

  requiresExactMatch(field: string): string | undefined {
    return this.requirements.find((r) => r.field === field && r.op === '=')?.value;
  }

  toString(): string {
    return this.requirements.map((r) => `${r.field}${r.op}${escapeFieldValue(r.value)}`).join(',');
  }
}

/** fields.EscapeValue: backslash-escapes `\`, `,` and `=`. */
export function escapeFieldValue(value: string): string {
  return value.replace(/[\\,=]/g, (c) => `\\${c}`);
}

/** Splits on unescaped commas; escapes stay in the terms. */
function splitTerms(s: string): string[] {
  if (s === '') return [];
  const terms: string[] = [];
  let start = 0;
  let escaped = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charAt(i);
    if (escaped) escaped = false;
    else if (c === '\\') escaped = true;
    else if (c === ',') {
      terms.push(s.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(s.slice(start));
  return terms;
}

/** Splits at the first operator; `!=` and `==` are tried before `=` at each position. The field part has no escaping. */
function splitTerm(term: string): { field: string; op: '=' | '!='; rest: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    if (term.startsWith('!=', i)) return { field: term.slice(0, i), op: '!=', rest: term.slice(i + 2) };
    if (term.startsWith('==', i)) return { field: term.slice(0, i), op: '=', rest: term.slice(i + 2) };
    if (term.startsWith('=', i)) return { field: term.slice(0, i), op: '=', rest: term.slice(i + 1) };
  }
  return undefined;
}

/** fields.UnescapeValue; returns the Go error text on failure. */
function unescapeValue(s: string): { value: string } | { error: string } {
  let value = '';
  let escaped = false;
  for (const c of s) {
    if (escaped) {
      if (c !== '\\' && c !== ',' && c !== '=') return { error: `invalid field selector: invalid escape sequence: \\${c}` };
      value += c;
      escaped = false;
    } else if (c === '\\') {
      escaped = true;
    } else if (c === ',' || c === '=') {
      // Upstream prints the rune with %v, i.e. as its code point number.
      return { error: `invalid field selector: unescaped character in value: ${c.codePointAt(0)}` };
    } else {
      value += c;
    }
  }
  if (escaped) return { error: 'invalid field selector: invalid escape sequence: \\' };
  return { value };
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function parseTerms(s: string): FieldRequirement[] | string {
  const terms = splitTerms(s).sort(compareBytes);
  const requirements: FieldRequirement[] = [];
  for (const term of terms) {
    if (term === '') continue;
    const split = splitTerm(term);
    if (!split) return `invalid selector: '${s}'; can't understand '${term}'`;
    const unescaped = unescapeValue(split.rest);
    if ('error' in unescaped) return unescaped.error;
    // A term with neither field nor value (`=`, `!=`) selects nothing in particular: upstream drops it.
    if (split.field === '' && unescaped.value === '') continue;
    requirements.push({ field: split.field, op: split.op, value: unescaped.value });
  }
  return requirements;
}
