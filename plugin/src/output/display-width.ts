// How many terminal columns a string takes, for laying out tables and help
// text. Printable ASCII takes its length; anything else is counted code
// point by code point: East Asian Wide and Fullwidth characters (CJK, most
// emoji) take two columns, combining marks, format and control characters
// none, and a code point joined to the one before by U+200D (an emoji ZWJ
// sequence) none. Colour codes take none.
//
// string-width gets nearly the same numbers with ICU grapheme segmentation
// and a \p{RGI_Emoji} pattern; in a process that starts anew for every
// command those cost about 20 and 40 ms at first use, more than all the
// rest of `kubectl custom --help`. What this counts differently (a
// text-style symbol made emoji by U+FE0F, Hangul jamo sequences) terminals
// disagree on too.
import { stripVTControlCharacters } from 'node:util';
import { eastAsianWidth } from 'get-east-asian-width';

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}]$/u;
const ZWJ = 0x200d;

export function displayWidth(s: string): number {
  if (PRINTABLE_ASCII.test(s)) return s.length;
  const text = s.includes('\x1b') || s.includes('\x9b') ? stripVTControlCharacters(s) : s;
  let width = 0;
  let joined = false;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp === ZWJ) joined = true;
    else if (joined) joined = false;
    else if (!ZERO_WIDTH.test(ch)) width += eastAsianWidth(cp);
  }
  return width;
}
