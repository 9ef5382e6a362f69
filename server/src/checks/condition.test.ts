import { describe, expect, it } from 'vitest';
import { conditionSyntaxError, evaluateCondition } from './condition.ts';

describe("a check's CEL conditions", () => {
  it('evaluates over what the provider answered', () => {
    expect(evaluateCondition('result[0] < 0.01', { result: [0.005] })).toBe(true);
    expect(evaluateCondition('result[0] < 0.01', { result: [0.5] })).toBe(false);
    expect(evaluateCondition('size(result) == 0 || result.all(x, x < 1.0)', { result: [] })).toBe(true);
    expect(evaluateCondition('status == 200 && body.state == "approved"', { status: 200, body: { state: 'approved' } })).toBe(true);
  });

  it('what cannot be evaluated throws with CEL\'s words: an index past the end, a type that does not compare, an answer that is not true or false', () => {
    expect(() => evaluateCondition('result[0] < 0.01', { result: [] })).toThrow('index 0 out of bounds');
    expect(() => evaluateCondition('result[0] < "x"', { result: [1] })).toThrow(/no matching overload/);
    expect(() => evaluateCondition('result[0]', { result: [1] })).toThrow('the condition "result[0]" gave 1, not true or false');
  });

  it('comprehensions may not nest (a condition runs on the backend\'s event loop); chained ones may', () => {
    const nested = '[1,2,3].all(a, [1,2,3].all(b, a + b > 0))';
    expect(conditionSyntaxError(nested)).toMatch(/^comprehensions \(all, exists, exists_one, map, filter\) may not be nested/);
    expect(() => evaluateCondition(nested, {})).toThrow(/may not be nested/);
    expect(conditionSyntaxError('result.filter(x, x > 0.5).all(y, y < 1.0)')).toBeUndefined();
    expect(conditionSyntaxError('result.all(x, x < 1.0) && result.exists(x, x > 0.0)')).toBeUndefined();
    expect(conditionSyntaxError('result.map(x, x * 2.0).exists(y, y > 1.0)')).toBeUndefined();
    expect(conditionSyntaxError('result.all(x, [x].exists(y, y > 0.0))')).toMatch(/may not be nested/);
  });

  it('a syntax error is found when the check is written; a variable is not checked then', () => {
    expect(conditionSyntaxError('result[0] < 0.01')).toBeUndefined();
    expect(conditionSyntaxError('whatever.field > 1')).toBeUndefined();
    expect(conditionSyntaxError('result[0] <')).toMatch(/^<input>:1:/);
    expect(conditionSyntaxError('  ')).toBe('the condition is empty');
  });
});
