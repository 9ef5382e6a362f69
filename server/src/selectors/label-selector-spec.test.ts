import { describe, expect, it } from 'vitest';
import type { LabelSelectorSpec } from '../../../api/src/types.ts';
import { selectorMatches } from './label-selector-spec.ts';

describe('selectorMatches', () => {
  const labels = { team: 'payments', tier: 'web' };
  it.each<{ name: string; sel: LabelSelectorSpec | undefined; labels?: Record<string, string>; want: boolean }>([
    { name: 'no selector: everything', sel: undefined, want: true },
    { name: 'empty selector: everything', sel: {}, want: true },
    { name: 'matchLabels equal', sel: { matchLabels: { team: 'payments' } }, want: true },
    { name: 'matchLabels differ', sel: { matchLabels: { team: 'search' } }, want: false },
    { name: 'matchLabels absent label', sel: { matchLabels: { owner: 'x' } }, want: false },
    { name: 'In', sel: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }] }, want: true },
    { name: 'In, absent label', sel: { matchExpressions: [{ key: 'x', operator: 'In', values: ['a'] }] }, want: false },
    { name: 'NotIn', sel: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }] }, want: true },
    { name: 'NotIn, absent label holds', sel: { matchExpressions: [{ key: 'x', operator: 'NotIn', values: ['a'] }] }, want: true },
    { name: 'NotIn, present value', sel: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] }, want: false },
    { name: 'Exists', sel: { matchExpressions: [{ key: 'team', operator: 'Exists' }] }, want: true },
    { name: 'DoesNotExist', sel: { matchExpressions: [{ key: 'team', operator: 'DoesNotExist' }] }, want: false },
    { name: 'all must hold', sel: { matchLabels: { team: 'payments' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['db'] }] }, want: false },
    { name: 'no labels at all', sel: { matchExpressions: [{ key: 'team', operator: 'DoesNotExist' }] }, labels: {}, want: true },
    { name: 'a label named constructor', sel: { matchLabels: { constructor: 'x' } }, labels: {}, want: false },
  ])('$name', ({ sel, labels: ls, want }) => {
    expect(selectorMatches(sel, ls ?? labels)).toBe(want);
  });
});
