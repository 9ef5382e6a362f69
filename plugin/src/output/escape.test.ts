import { describe, expect, it } from 'vitest';
import { escapeTerminal, hasUnsafeCharacters } from './escape.ts';

describe('escapeTerminal', () => {
  it.each([
    { name: 'plain text is unchanged', s: 'tests green: release 1.2', want: 'tests green: release 1.2' },
    { name: 'non-ASCII letters and arrows are unchanged', s: 'Grüße → prod ✓ 日本', want: 'Grüße → prod ✓ 日本' },
    { name: 'ESC of a colour sequence', s: 'ok\x1b[31mred', want: 'ok\\x1b[31mred' },
    { name: 'ESC sequences that clear the screen and move the cursor', s: '\x1b[2J\x1b[1;1Hfake row', want: '\\x1b[2J\\x1b[1;1Hfake row' },
    { name: 'OSC window title ended by BEL', s: '\x1b]0;pwned\x07', want: '\\x1b]0;pwned\\x07' },
    { name: 'CR (overwrites the line)', s: 'alice\rmallory', want: 'alice\\rmallory' },
    { name: 'newline (draws a row)', s: 'one\ntwo', want: 'one\\ntwo' },
    { name: 'tab (breaks the columns)', s: 'a\tb', want: 'a\\tb' },
    { name: 'BEL', s: 'ding\x07', want: 'ding\\x07' },
    { name: 'NUL and other C0', s: '\x00\x01\x1f', want: '\\x00\\x01\\x1f' },
    { name: 'DEL', s: 'x\x7fy', want: 'x\\x7fy' },
    { name: 'C1 CSI (U+009B)', s: '\u009b31mred', want: '\\x9b31mred' },
    { name: 'the C1 range, both ends', s: '\u0080\u009f', want: '\\x80\\x9f' },
    { name: 'right-to-left override U+202E', s: 'user\u202eevil', want: 'user\\u202eevil' },
    { name: 'bidi embeddings and overrides U+202A–U+202E', s: '\u202a\u202b\u202c\u202d', want: '\\u202a\\u202b\\u202c\\u202d' },
    { name: 'bidi isolates U+2066–U+2069', s: '\u2066\u2067\u2068\u2069', want: '\\u2066\\u2067\\u2068\\u2069' },
    { name: 'neighbours of the bidi ranges are kept', s: '\u2029\u202f\u2065\u206a', want: '\u2029\u202f\u2065\u206a' },
    { name: 'no-break space (U+00A0, just past C1) is kept', s: 'a\u00a0b', want: 'a\u00a0b' },
    { name: 'backslashes are kept', s: 'C:\\dir \\x1b', want: 'C:\\dir \\x1b' },
    { name: 'empty', s: '', want: '' },
  ])('$name', ({ s, want }) => {
    expect(escapeTerminal(s)).toBe(want);
    // Escaping what is escaped changes nothing.
    expect(escapeTerminal(escapeTerminal(s))).toBe(want);
    expect(hasUnsafeCharacters(s)).toBe(want !== s);
    expect(hasUnsafeCharacters(escapeTerminal(s))).toBe(false);
  });
});
