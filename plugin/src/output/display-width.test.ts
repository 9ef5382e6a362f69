import { describe, expect, it } from 'vitest';
import { displayWidth } from './display-width.ts';

describe('displayWidth', () => {
  it.each([
    { name: 'empty', s: '', want: 0 },
    { name: 'printable ASCII', s: 'checkout   dev', want: 14 },
    { name: 'arrows of a path', s: 'dev → [staging] → prod', want: 22 },
    { name: 'CJK', s: '日本語', want: 6 },
    { name: 'Hangul syllables', s: '한국어', want: 6 },
    { name: 'halfwidth katakana', s: 'ｱｲ', want: 2 },
    { name: 'fullwidth Latin', s: 'ＡＢ', want: 4 },
    { name: 'combining accent', s: 'e\u0301', want: 1 },
    { name: 'emoji', s: '😀', want: 2 },
    { name: 'emoji ZWJ sequence', s: '👨\u200d👩\u200d👧', want: 2 },
    { name: 'flag (two regional indicators)', s: '🇩🇪', want: 2 },
    { name: 'colour codes', s: '\x1b[1mcheckout\x1b[22m', want: 8 },
    { name: 'coloured non-ASCII', s: '\x1b[36mdev →\x1b[39m', want: 5 },
    { name: 'zero-width space and soft hyphen', s: 'a\u200bb\u00ad', want: 2 },
    { name: 'bidi override', s: 'x\u202ey', want: 2 },
    { name: 'an escaped control character', s: '\\x1b', want: 4 },
  ])('$name', ({ s, want }) => {
    expect(displayWidth(s)).toBe(want);
  });
});
