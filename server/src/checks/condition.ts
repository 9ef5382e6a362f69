// A check's conditions: CEL (cel.dev), evaluated with @bufbuild/cel over what
// the provider answered. A condition that does not parse is refused when the
// check is written; one that fails at run time (an index past the end, a
// type that does not compare) makes the measurement an Error, never a pass.
import { isCelError, parse, run } from '@bufbuild/cel';

/**
 * The deepest nesting of comprehensions (all, exists, exists_one, map,
 * filter) in a parsed expression: one inside another's loop multiplies the
 * work by the length of each list, and conditions run on the backend's
 * event loop, so a 1 KiB condition nesting four could stall it for seconds.
 * A comprehension over another's result (a chain, `result.filter(…).all(…)`)
 * is no nesting: its range is evaluated once.
 */
function comprehensionDepth(node: unknown, depth = 0): number {
  if (node === null || typeof node !== 'object') return depth;
  const kind = (node as { exprKind?: { case?: string; value?: Record<string, unknown> } }).exprKind;
  if (kind?.case === 'comprehensionExpr' && kind.value) {
    const c = kind.value;
    return Math.max(depth + 1, comprehensionDepth(c['iterRange'], depth), comprehensionDepth(c['accuInit'], depth), comprehensionDepth(c['loopCondition'], depth + 1), comprehensionDepth(c['loopStep'], depth + 1), comprehensionDepth(c['result'], depth));
  }
  let max = depth;
  for (const v of Object.values(node)) {
    if (Array.isArray(v)) for (const x of v) max = Math.max(max, comprehensionDepth(x, depth));
    else if (v && typeof v === 'object') max = Math.max(max, comprehensionDepth(v, depth));
  }
  return max;
}

/** Why `expr` cannot be a condition (not CEL, or comprehensions nested), or undefined when it can. */
export function conditionSyntaxError(expr: string): string | undefined {
  if (!expr.trim()) return 'the condition is empty';
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(expr);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  if (comprehensionDepth(parsed.expr) > 1) return 'comprehensions (all, exists, exists_one, map, filter) may not be nested: one inside another multiplies the work; chain them instead (result.filter(x, …).all(y, …))';
  return undefined;
}

/** What conditionSyntaxError said of recent expressions: evaluation refuses what admission would have (an object stored before the rule). */
const vetted = new Map<string, string | undefined>();

/** Evaluates `expr` over `vars`: true or false, else throws with CEL's words (a non-boolean result is an error too). */
export function evaluateCondition(expr: string, vars: Record<string, unknown>): boolean {
  let problem = vetted.get(expr);
  if (!vetted.has(expr)) {
    problem = conditionSyntaxError(expr);
    if (vetted.size >= 1000) vetted.delete(vetted.keys().next().value!);
    vetted.set(expr, problem);
  }
  if (problem) throw new Error(problem);
  const out = run(expr, vars as Parameters<typeof run>[1]);
  // @bufbuild/cel returns an evaluation error (it throws only a syntax error).
  if (isCelError(out)) throw new Error(out.message);
  if (typeof out !== 'boolean') throw new Error(`the condition ${JSON.stringify(expr)} gave ${typeof out === 'bigint' ? `${out}` : JSON.stringify(out)}, not true or false`);
  return out;
}
