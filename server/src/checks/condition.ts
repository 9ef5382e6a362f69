// A check's conditions: CEL (cel.dev), evaluated with @bufbuild/cel over what
// the provider answered. A condition that does not parse is refused when the
// check is written; one that fails at run time (an index past the end, a
// type that does not compare) makes the measurement an Error, never a pass.
import { isCelError, parse, run } from '@bufbuild/cel';

/** Why `expr` is not a CEL expression, or undefined when it parses. */
export function conditionSyntaxError(expr: string): string | undefined {
  if (!expr.trim()) return 'the condition is empty';
  try {
    parse(expr);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** Evaluates `expr` over `vars`: true or false, else throws with CEL's words (a non-boolean result is an error too). */
export function evaluateCondition(expr: string, vars: Record<string, unknown>): boolean {
  const out = run(expr, vars as Parameters<typeof run>[1]);
  // @bufbuild/cel returns an evaluation error (it throws only a syntax error).
  if (isCelError(out)) throw new Error(out.message);
  if (typeof out !== 'boolean') throw new Error(`the condition ${JSON.stringify(expr)} gave ${typeof out === 'bigint' ? `${out}` : JSON.stringify(out)}, not true or false`);
  return out;
}
