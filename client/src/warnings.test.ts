import { describe, expect, it } from 'vitest';
import { parseWarnings } from './warnings.ts';

describe('parseWarnings', () => {
  it.each([
    { name: 'absent', v: undefined, want: [] },
    { name: 'one', v: '299 - "the policy is missing"', want: ['the policy is missing'] },
    { name: 'several header lines', v: ['299 - "a"', '299 - "b"'], want: ['a', 'b'] },
    { name: 'two in one line', v: '299 - "a", 299 - "b"', want: ['a', 'b'] },
    { name: 'escaped quotes and backslashes', v: '299 - "say \\"hi\\" \\\\ bye"', want: ['say "hi" \\ bye'] },
    { name: 'another code is ignored', v: '199 - "misc"', want: [] },
  ])('$name', ({ v, want }) => {
    expect(parseWarnings(v)).toEqual(want);
  });
});
