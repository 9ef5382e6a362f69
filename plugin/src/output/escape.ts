// What the server sends ends up on someone's terminal: a user name, a
// reason, a state, a table cell or a Status message with control characters
// in it could move the cursor, clear the screen, recolour text, retitle the
// window or draw rows that are not there (kubectl had this bug:
// CVE-2021-25743), and bidirectional overrides can make text read backwards.
// Every value from the server goes through escapeTerminal before it is
// printed for people. -o json|yaml are data and stay exact: their encoders
// escape C0 controls but leave DEL, C1 and the bidi controls raw, so
// output/document-printer.ts writes those as \uNNNN escapes inside their
// (double-quoted) strings, which parse back to the same value.
//
// Backslashes are left as they are, so escaping twice changes nothing
// (printers can escape a cell and then colour an already escaped state),
// and a typed `\x1b` reads the same as an escaped ESC: harmless, since
// neither does anything to the terminal.

/** C0 controls (with TAB, CR and LF), DEL, C1 controls, and the bidi embeddings, overrides and isolates. */
// eslint-disable-next-line no-control-regex -- matching control characters is this module's job
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** What JSON.stringify and YAML leave raw: DEL, C1 and the bidi controls. */
const UNSAFE_IN_DATA = /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeOne(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.charCodeAt(0);
  // One byte's worth as \xNN (C0, DEL, C1), the rest as \uNNNN.
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** `s` with every character that could act on a terminal shown as an escape (`\x1b`, `\n`, `\u202e`). */
export function escapeTerminal(s: string): string {
  return s.replace(UNSAFE, escapeOne);
}

/** Whether `s` holds a character escapeTerminal would escape. */
export function hasUnsafeCharacters(s: string): boolean {
  return escapeTerminal(s) !== s;
}

/**
 * `text` (JSON, or YAML whose strings holding such characters are
 * double-quoted) with DEL, C1 and bidi controls written as `\uNNNN`: the
 * same data to a parser, nothing a terminal acts on.
 */
export function escapeInQuotedData(text: string): string {
  return text.replace(UNSAFE_IN_DATA, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Whether `s` holds a character escapeInQuotedData escapes. */
export function needsEscapeInData(s: string): boolean {
  return escapeInQuotedData(s) !== s;
}
