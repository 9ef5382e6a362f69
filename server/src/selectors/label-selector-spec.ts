// metav1.LabelSelector (matchLabels, matchExpressions), as Freezes and
// GatePolicies select objects, matched as metav1.LabelSelectorAsSelector
// makes it: every label and every expression must hold; an empty selector
// selects everything.
import type { LabelSelectorSpec } from '../../../api/src/types.ts';

export function selectorMatches(sel: LabelSelectorSpec | undefined, labels: Record<string, string> | undefined): boolean {
  const ls = labels ?? {};
  const has = (k: string) => Object.prototype.hasOwnProperty.call(ls, k);
  for (const [k, v] of Object.entries(sel?.matchLabels ?? {})) if (!has(k) || ls[k] !== v) return false;
  for (const e of sel?.matchExpressions ?? []) {
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has(e.key) || !values.includes(ls[e.key]!)) return false;
        break;
      case 'NotIn':
        if (has(e.key) && values.includes(ls[e.key]!)) return false;
        break;
      case 'Exists':
        if (!has(e.key)) return false;
        break;
      case 'DoesNotExist':
        if (has(e.key)) return false;
        break;
      default:
        // An operator the CRD schema would refuse: select nothing rather than everything.
        return false;
    }
  }
  return true;
}
